/**
 * `sup identity issue NAME --root ROOTFILE --out FILE [--role R]... [--label K=V]... [--can
 * admin,code] [--days N] [--not-before TIME]`: the short path: a new node key pair and its
 * certificate in one identity file, made on the root machine (copy it to the node).
 */
import { formatIdentityFile, issueIdentity, loadRootFile, writeIdentityText } from "../net/mod.ts";
import { EXIT_OK, parse, UsageError } from "./args.ts";
import { writeOut } from "./output.ts";
import { IDENTITY_USAGE } from "./identity.ts";
import { CERT_OPTIONS, certInput, certSummary, requireFiles } from "./identity-options.ts";

/** Runs `sup identity issue`. */
export function identityIssueCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, CERT_OPTIONS);
  const [name, extra] = positionals;
  if (name === undefined) throw new UsageError(`"sup identity issue" needs a node NAME\n${IDENTITY_USAGE}`);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"\n${IDENTITY_USAGE}`);
  const files = requireFiles(values, "issue");
  const input = { ...certInput(values), name };
  const root = loadRootFile(files.root);
  const id = issueIdentity(root, input, Date.now());
  writeIdentityText(files.out, formatIdentityFile(id));
  writeOut(`wrote identity ${files.out}: ${certSummary(id.signed.cert)}\n`);
  return EXIT_OK;
}
