/**
 * `sup identity root|issue|request|sign|accept|show`: cluster root keys and node identities (the
 * logic is in src/net/; one file per subcommand here). Files are text, written owner-only.
 */
import { UsageError } from "./args.ts";

export const IDENTITY_USAGE = `Usage: sup identity root --out FILE
       sup identity issue NAME --root ROOTFILE --out FILE [--role R]... [--label K=V]... [--can admin,code] [--days N] [--not-before TIME]
       sup identity request NAME --out FILE.req [--key FILE]
       sup identity sign FILE.req --root ROOTFILE --out FILE [--role R]... [--label K=V]... [--can admin,code] [--days N] [--not-before TIME]
       sup identity accept CERTFILE --key KEYFILE [--out FILE]
       sup identity show FILE [--json]`;

type Sub = (argv: string[]) => Promise<number> | number;
const SUBCOMMANDS: Record<string, () => Promise<Sub>> = {
  root: async () => (await import("./identity-root.ts")).identityRootCommand,
  issue: async () => (await import("./identity-issue.ts")).identityIssueCommand,
  request: async () => (await import("./identity-request.ts")).identityRequestCommand,
  sign: async () => (await import("./identity-sign.ts")).identitySignCommand,
  accept: async () => (await import("./identity-accept.ts")).identityAcceptCommand,
  show: async () => (await import("./identity-show.ts")).identityShowCommand,
};

/** Runs the `identity` subcommand. */
export async function identityCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined) throw new UsageError(`"sup identity" needs a subcommand\n${IDENTITY_USAGE}`);
  const load = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (load === undefined) throw new UsageError(`Unknown identity command "${sub}"\n${IDENTITY_USAGE}`);
  return (await load())(rest);
}
