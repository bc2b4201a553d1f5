/**
 * `sup identity request NAME --out FILE.req [--key FILE]`: on the node, makes its key pair and a
 * certificate request. The request (public) goes to the root machine for `sup identity sign`; the
 * key file (secret, default FILE.req with .key instead of .req) never leaves this machine and
 * becomes the identity with `sup identity accept`.
 */
import { formatKeyFile, formatRequestFile, makeRequest, writeIdentityText } from "../net/mod.ts";
import { EXIT_OK, parse, UsageError } from "./args.ts";
import { writeOut } from "./output.ts";
import { IDENTITY_USAGE } from "./identity.ts";

/** Runs `sup identity request`. */
export function identityRequestCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, { out: { type: "string" }, key: { type: "string" } });
  const [name, extra] = positionals;
  if (name === undefined) throw new UsageError(`"sup identity request" needs a node NAME\n${IDENTITY_USAGE}`);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"\n${IDENTITY_USAGE}`);
  if (values.out === undefined) throw new UsageError(`"sup identity request" needs --out FILE.req\n${IDENTITY_USAGE}`);
  const keyFile = values.key ?? (values.out.endsWith(".req") ? values.out.slice(0, -4) + ".key" : values.out + ".key");
  if (keyFile === values.out) throw new UsageError(`--key and --out name the same file "${keyFile}"\n${IDENTITY_USAGE}`);
  const { key, request } = makeRequest(name);
  writeIdentityText(keyFile, formatKeyFile(key));
  writeIdentityText(values.out, formatRequestFile(request));
  writeOut(`wrote request ${values.out} (send it to the root machine: sup identity sign ${values.out} --root ROOTFILE --out CERTFILE)\n`);
  writeOut(`wrote key ${keyFile} (secret: stays here; then: sup identity accept CERTFILE --key ${keyFile})\n`);
  return EXIT_OK;
}
