/**
 * `sup identity root --out FILE`: makes a cluster root key (ed25519, tweetnacl) and prints the
 * cluster id on stdout. The file is the cluster's authority: it never needs to leave this machine.
 */
import { formatRootFile, makeRoot, writeIdentityText } from "../net/mod.ts";
import { EXIT_OK, parse, UsageError } from "./args.ts";
import { writeOut } from "./output.ts";
import { IDENTITY_USAGE } from "./identity.ts";

/** Runs `sup identity root`. */
export function identityRootCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, { out: { type: "string" } });
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"\n${IDENTITY_USAGE}`);
  if (values.out === undefined) throw new UsageError(`"sup identity root" needs --out FILE\n${IDENTITY_USAGE}`);
  const root = makeRoot();
  writeIdentityText(values.out, formatRootFile(root));
  process.stderr.write(`wrote cluster root key ${values.out} (secret: keep it offline, owner-only)\n`);
  writeOut(`${root.clusterId}\n`);
  return EXIT_OK;
}
