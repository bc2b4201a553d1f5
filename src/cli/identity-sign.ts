/**
 * `sup identity sign FILE.req --root ROOTFILE --out FILE [certificate options]`: on the root
 * machine, signs a node's request into a certificate file (public) for that node; the node's secret
 * never came here.
 */
import { formatCertificateFile, loadRootFile, parseRequestFile, readIdentityText, signRequest, writeIdentityText } from "../net/mod.ts";
import { EXIT_OK, parse, UsageError } from "./args.ts";
import { writeOut } from "./output.ts";
import { IDENTITY_USAGE } from "./identity.ts";
import { CERT_OPTIONS, certInput, certSummary, requireFiles } from "./identity-options.ts";

/** Runs `sup identity sign`. */
export function identitySignCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, CERT_OPTIONS);
  const [reqFile, extra] = positionals;
  if (reqFile === undefined) throw new UsageError(`"sup identity sign" needs a request FILE\n${IDENTITY_USAGE}`);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"\n${IDENTITY_USAGE}`);
  const files = requireFiles(values, "sign");
  const input = certInput(values);
  const request = parseRequestFile(reqFile, readIdentityText(reqFile, false));
  const root = loadRootFile(files.root);
  const cert = signRequest(root, request, input, Date.now());
  writeIdentityText(files.out, formatCertificateFile(cert));
  writeOut(`wrote certificate ${files.out}: ${certSummary(cert.signed.cert)}\n`);
  return EXIT_OK;
}
