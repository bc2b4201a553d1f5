/**
 * `sup identity show FILE [--json]`: what any identity file holds, without its secret, and whether
 * its certificate verifies against the root key in it (and until when it is valid). Exits 1 when
 * it does not verify.
 */
import { readFileSync } from "node:fs";
import {
  CERTIFICATE_KIND,
  fileKindOf,
  IDENTITY_KIND,
  identityProblems,
  IdentityFileError,
  isSecretKind,
  KEY_KIND,
  parseCertificateFile,
  parseIdentityFile,
  parseKeyFile,
  parseRequestFile,
  parseRootFile,
  readIdentityText,
  REQUEST_KIND,
  ROOT_KIND,
  validityAt,
  type CertificateData,
} from "../net/mod.ts";
import { EXIT_FAILURE, EXIT_OK, parse, UsageError } from "./args.ts";
import { writeOut } from "./output.ts";
import { IDENTITY_USAGE } from "./identity.ts";

const b64 = (b: Uint8Array) => Buffer.from(b).toString("base64");
const iso = (ms: number) => new Date(ms).toISOString();

/** Runs `sup identity show`. */
export function identityShowCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, { json: { type: "boolean" } });
  const [file, extra] = positionals;
  if (file === undefined) throw new UsageError(`"sup identity show" needs a FILE\n${IDENTITY_USAGE}`);
  if (extra !== undefined) throw new UsageError(`Unexpected argument "${extra}"\n${IDENTITY_USAGE}`);
  // The header decides whether the file is secret, so peek at it before the checked read.
  let peek = "";
  try {
    peek = readFileSync(file, "utf8").slice(0, 4096);
  } catch {
    // readIdentityText below reports the failure with the file's name.
  }
  const kind = fileKindOf(peek);
  const text = readIdentityText(file, kind === null || isSecretKind(kind));
  const shown = describe(file, text, kind);
  if (values.json) writeOut(JSON.stringify(shown, null, 2) + "\n");
  else writeOut(render(shown));
  return shown.verifies === false ? EXIT_FAILURE : EXIT_OK;
}

type Shown = Record<string, unknown> & { file: string; kind: string; verifies?: boolean; problems?: string[] };

function describe(file: string, text: string, kind: string | null): Shown {
  switch (kind) {
    case ROOT_KIND: {
      const r = parseRootFile(file, text);
      return { file, kind: "root", clusterId: r.clusterId, publicKey: b64(r.publicKey) };
    }
    case IDENTITY_KIND: {
      const id = parseIdentityFile(file, text);
      return { file, kind: "identity", ...certShown(id, id.seed) };
    }
    case CERTIFICATE_KIND:
      return { file, kind: "certificate", ...certShown(parseCertificateFile(file, text)) };
    case KEY_KIND: {
      const k = parseKeyFile(file, text);
      return { file, kind: "key", name: k.name, publicKey: b64(k.publicKey), certificate: "none yet: sup identity accept CERTFILE --key THIS-FILE" };
    }
    case REQUEST_KIND: {
      const r = parseRequestFile(file, text);
      return { file, kind: "request", name: r.name, publicKey: b64(r.publicKey), verifies: true };
    }
    default:
      throw new IdentityFileError(file, `Cannot read "${file}": not a sup identity file (expected a header line such as "sup-identity 1")`);
  }
}

function certShown(cd: CertificateData, seed?: Uint8Array): Record<string, unknown> & { verifies: boolean; problems: string[] } {
  const c = cd.signed.cert;
  const problems = identityProblems(cd, seed).map((p) => `field "${p.field}" ${p.problem}`);
  return {
    name: c.name,
    clusterId: c.clusterId,
    roles: c.roles,
    labels: Object.fromEntries(c.labels),
    can: c.can,
    notBefore: iso(c.notBefore),
    notAfter: iso(c.notAfter),
    serial: c.serial,
    publicKey: b64(c.publicKey),
    rootKey: b64(cd.rootKey),
    verifies: problems.length === 0,
    validity: validityAt(c, Date.now(), 0),
    problems,
  };
}

function render(s: Shown): string {
  const lines: string[] = [];
  const row = (k: string, v: unknown) => lines.push(`${k.padEnd(12)}${Array.isArray(v) ? v.join(",") || "-" : typeof v === "object" && v !== null ? Object.entries(v).map(([a, b]) => `${a}=${b}`).join(",") || "-" : String(v)}`);
  const order = ["file", "kind", "name", "clusterId", "roles", "labels", "can", "notBefore", "notAfter", "serial", "publicKey", "rootKey", "certificate"];
  const labels: Record<string, string> = { clusterId: "cluster", notBefore: "not-before", notAfter: "not-after", publicKey: "public-key", rootKey: "root-key" };
  for (const k of order) if (s[k] !== undefined) row(labels[k] ?? k, s[k]);
  if (s.kind === "identity" || s.kind === "certificate") {
    if (s.verifies) {
      const v = s.validity === "valid" ? `valid until ${s.notAfter}` : s.validity === "expired" ? `EXPIRED since ${s.notAfter}` : `not valid before ${s.notBefore}`;
      lines.push(`verifies    yes: signed by the root of cluster ${s.clusterId}; ${v}`);
    } else lines.push(`verifies    NO: ${s.problems!.join("; ")}`);
  }
  if (s.kind === "request") lines.push("verifies    yes: the proof is signed by the requested key");
  return lines.join("\n") + "\n";
}
