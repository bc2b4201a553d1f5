/**
 * `sup identity accept CERTFILE --key KEYFILE [--out FILE]`: on the node, joins its key (from
 * `sup identity request`) with the certificate the root signed into an identity file: by default
 * the key file itself is replaced, so the secret is never in two places.
 */
import { acceptCertificate, formatIdentityFile, parseCertificateFile, parseKeyFile, readIdentityText, writeIdentityText } from "../net/mod.ts";
import { EXIT_OK, parse, UsageError } from "./args.ts";
import { writeOut } from "./output.ts";
import { IDENTITY_USAGE } from "./identity.ts";
import { certSummary } from "./identity-options.ts";

/** Runs `sup identity accept`. */
export function identityAcceptCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, { key: { type: "string" }, out: { type: "string" } });
  const [certFile, extra] = positionals;
  if (certFile === undefined) throw new UsageError(`"sup identity accept" needs a certificate FILE\n${IDENTITY_USAGE}`);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"\n${IDENTITY_USAGE}`);
  if (values.key === undefined) throw new UsageError(`"sup identity accept" needs --key KEYFILE\n${IDENTITY_USAGE}`);
  const cert = parseCertificateFile(certFile, readIdentityText(certFile, false));
  const key = parseKeyFile(values.key, readIdentityText(values.key, true));
  const id = acceptCertificate(key, cert);
  const out = values.out ?? values.key;
  writeIdentityText(out, formatIdentityFile(id), out === values.key);
  writeOut(`wrote identity ${out}: ${certSummary(id.signed.cert)}\n`);
  return EXIT_OK;
}
