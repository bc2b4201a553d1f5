/**
 * The five identity file kinds, read and written as text (text-file.ts):
 *
 * - `sup-root`: the cluster root key pair (secret; never leaves the root machine).
 * - `sup-identity`: a node's certificate, the root public key, and the node's secret key.
 * - `sup-key`: a node key pair waiting for its certificate (secret; `sup identity request`).
 * - `sup-request`: a node's name and public key, signed by that key (public; sent to the root).
 * - `sup-certificate`: a certificate and the root public key (public; back from `sup identity sign`).
 *
 * Parsing checks structure (every field present once, well-formed, canonical) and names the file
 * and field on any problem; `identityProblems` then checks signatures and consistency, so `sup
 * identity show` can print a file whose signature fails instead of refusing to read it.
 */
import { IdentityFileError } from "./errors.ts";
import { certBytes, certProblem, clusterIdOf, PERMISSIONS, type Certificate, type Permission, type SignedCertificate } from "./certificate.ts";
import { PUBLIC_KEY_BYTES, reference, SEED_BYTES, SIGNATURE_BYTES } from "./keys.ts";
import { formatFields, parseFields, readIdentityText } from "./text-file.ts";
import { encode } from "../lang/codec.ts";
import { latin1FromBytes, List, str, sym, T_PAREN } from "../lang/value.ts";

export const ROOT_KIND = "sup-root";
export const IDENTITY_KIND = "sup-identity";
export const KEY_KIND = "sup-key";
export const REQUEST_KIND = "sup-request";
export const CERTIFICATE_KIND = "sup-certificate";

/** The cluster root key pair. */
export interface RootKey {
  readonly clusterId: string;
  readonly publicKey: Uint8Array;
  readonly seed: Uint8Array;
}

/** A node key pair without a certificate yet. */
export interface PendingKey {
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly seed: Uint8Array;
}

/** A certificate request: name and public key, with a signature by that key (proof of possession). */
export interface CertRequest {
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly proof: Uint8Array;
}

/** A signed certificate and the root public key it chains to. */
export interface CertificateData {
  readonly signed: SignedCertificate;
  readonly rootKey: Uint8Array;
}

/** A node identity: certificate, root public key, and the node's secret seed. */
export interface IdentityData extends CertificateData {
  readonly seed: Uint8Array;
}

const CERT_FIELDS = ["name", "cluster", "roles", "labels", "can", "not-before", "not-after", "serial", "public-key", "root-key", "signature"] as const;

// ---------------------------------------------------------------------------------------------
// Field codecs

function fieldError(file: string, field: string, what: string): IdentityFileError {
  return new IdentityFileError(file, `Cannot read "${file}": field "${field}" ${what}`);
}

/** Strict base64 of exactly `bytes` bytes (Buffer's decoder alone would skip bad characters). */
function b64(file: string, field: string, text: string, bytes: number): Uint8Array {
  const out = Buffer.from(text, "base64");
  if (out.length !== bytes || out.toString("base64") !== text) throw fieldError(file, field, `must be ${bytes} bytes in base64`);
  return new Uint8Array(out);
}

function toB64(b: Uint8Array): string {
  return Buffer.from(b).toString("base64");
}

/** An ISO-8601 UTC time with milliseconds, exactly as toISOString writes it. */
function date(file: string, field: string, text: string): number {
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== text) throw fieldError(file, field, `must be a UTC time like 2030-01-31T12:00:00.000Z, found "${text}"`);
  return ms;
}

/** A comma-separated list (empty text: none). */
function list(text: string): string[] {
  return text === "" ? [] : text.split(",");
}

function certFields(c: Certificate): [string, string][] {
  return [
    ["name", c.name],
    ["cluster", c.clusterId],
    ["roles", c.roles.join(",")],
    ["labels", c.labels.map(([k, v]) => `${k}=${v}`).join(",")],
    ["can", c.can.join(",")],
    ["not-before", new Date(c.notBefore).toISOString()],
    ["not-after", new Date(c.notAfter).toISOString()],
    ["serial", c.serial],
    ["public-key", toB64(c.publicKey)],
  ];
}

function readCertFields(file: string, f: Map<string, string>): CertificateData {
  const labels: [string, string][] = [];
  for (const item of list(f.get("labels")!)) {
    const eq = item.indexOf("=");
    if (eq < 0) throw fieldError(file, "labels", `must be KEY=VALUE pairs separated by commas, found "${item}"`);
    labels.push([item.slice(0, eq), item.slice(eq + 1)]);
  }
  const can = list(f.get("can")!);
  for (const p of can) if (!(PERMISSIONS as readonly string[]).includes(p)) throw fieldError(file, "can", `has unknown permission "${p}" (known: ${PERMISSIONS.join(", ")})`);
  const cert: Certificate = {
    name: f.get("name")!,
    clusterId: f.get("cluster")!,
    roles: list(f.get("roles")!),
    labels,
    can: can as Permission[],
    notBefore: date(file, "not-before", f.get("not-before")!),
    notAfter: date(file, "not-after", f.get("not-after")!),
    serial: f.get("serial")!,
    publicKey: b64(file, "public-key", f.get("public-key")!, PUBLIC_KEY_BYTES),
  };
  const problem = certProblem(cert);
  if (problem !== null) {
    const colon = problem.indexOf(": ");
    throw fieldError(file, problem.slice(0, colon), problem.slice(colon + 2));
  }
  return {
    signed: { cert, signature: b64(file, "signature", f.get("signature")!, SIGNATURE_BYTES) },
    rootKey: b64(file, "root-key", f.get("root-key")!, PUBLIC_KEY_BYTES),
  };
}

// ---------------------------------------------------------------------------------------------
// The kinds

/** Parses a root key file; the public key must be the seed's. */
export function parseRootFile(file: string, text: string): RootKey {
  const f = parseFields(file, text, ROOT_KIND, ["cluster", "public-key", "secret-key"]);
  const publicKey = b64(file, "public-key", f.get("public-key")!, PUBLIC_KEY_BYTES);
  const seed = b64(file, "secret-key", f.get("secret-key")!, SEED_BYTES);
  if (!Buffer.from(reference.publicKeyOf(seed)).equals(publicKey)) throw fieldError(file, "secret-key", "does not belong to public-key: the file was altered");
  const clusterId = clusterIdOf(publicKey);
  if (f.get("cluster") !== clusterId) throw fieldError(file, "cluster", `does not match public-key (expected ${clusterId})`);
  return { clusterId, publicKey, seed };
}

/** The text of a root key file. */
export function formatRootFile(root: RootKey): string {
  return formatFields(
    [`sup cluster root key of cluster ${root.clusterId}. SECRET: whoever holds it can admit nodes.`, "Keep it offline and owner-only (chmod 600)."],
    ROOT_KIND,
    [
      ["cluster", root.clusterId],
      ["public-key", toB64(root.publicKey)],
      ["secret-key", toB64(root.seed)],
    ],
  );
}

/** Parses a node identity file (structure only; see identityProblems). */
export function parseIdentityFile(file: string, text: string): IdentityData {
  const f = parseFields(file, text, IDENTITY_KIND, [...CERT_FIELDS, "secret-key"]);
  return { ...readCertFields(file, f), seed: b64(file, "secret-key", f.get("secret-key")!, SEED_BYTES) };
}

/** The text of a node identity file. */
export function formatIdentityFile(id: IdentityData): string {
  const c = id.signed.cert;
  return formatFields(
    [`sup node identity "${c.name}" of cluster ${c.clusterId}. SECRET: keep it owner-only (chmod 600).`, "Inspect it with: sup identity show FILE"],
    IDENTITY_KIND,
    [...certFields(c), ["root-key", toB64(id.rootKey)], ["signature", toB64(id.signed.signature)], ["secret-key", toB64(id.seed)]],
  );
}

/** Parses a certificate file (structure only; see identityProblems). */
export function parseCertificateFile(file: string, text: string): CertificateData {
  return readCertFields(file, parseFields(file, text, CERTIFICATE_KIND, CERT_FIELDS));
}

/** The text of a certificate file. */
export function formatCertificateFile(cd: CertificateData): string {
  const c = cd.signed.cert;
  return formatFields(
    [`sup certificate of node "${c.name}" in cluster ${c.clusterId} (public).`, "Install it on the node with: sup identity accept FILE --key KEYFILE"],
    CERTIFICATE_KIND,
    [...certFields(c), ["root-key", toB64(cd.rootKey)], ["signature", toB64(cd.signed.signature)]],
  );
}

/** Parses a pending node key file. */
export function parseKeyFile(file: string, text: string): PendingKey {
  const f = parseFields(file, text, KEY_KIND, ["name", "public-key", "secret-key"]);
  const publicKey = b64(file, "public-key", f.get("public-key")!, PUBLIC_KEY_BYTES);
  const seed = b64(file, "secret-key", f.get("secret-key")!, SEED_BYTES);
  if (!Buffer.from(reference.publicKeyOf(seed)).equals(publicKey)) throw fieldError(file, "secret-key", "does not belong to public-key: the file was altered");
  return { name: f.get("name")!, publicKey, seed };
}

/** The text of a pending node key file. */
export function formatKeyFile(k: PendingKey): string {
  return formatFields(
    [`sup node key of "${k.name}", waiting for its certificate. SECRET: keep it owner-only (chmod 600).`, "Once signed: sup identity accept CERTFILE --key THIS-FILE"],
    KEY_KIND,
    [
      ["name", k.name],
      ["public-key", toB64(k.publicKey)],
      ["secret-key", toB64(k.seed)],
    ],
  );
}

/** The bytes a request's proof signs: the codec encoding of `(sup-request 1 name key)`. */
export function requestBytes(name: string, publicKey: Uint8Array): Uint8Array {
  return encode(new List(T_PAREN, [sym(REQUEST_KIND), 1, str(name), str(latin1FromBytes(publicKey))]));
}

/** Parses a certificate request; its proof must verify under its own public key. */
export function parseRequestFile(file: string, text: string): CertRequest {
  const f = parseFields(file, text, REQUEST_KIND, ["name", "public-key", "proof"]);
  const publicKey = b64(file, "public-key", f.get("public-key")!, PUBLIC_KEY_BYTES);
  const proof = b64(file, "proof", f.get("proof")!, SIGNATURE_BYTES);
  const name = f.get("name")!;
  if (!reference.verify(publicKey, requestBytes(name, publicKey), proof)) throw fieldError(file, "proof", "does not verify: the request was altered");
  return { name, publicKey, proof };
}

/** The text of a certificate request. */
export function formatRequestFile(r: CertRequest): string {
  return formatFields(
    [`sup certificate request of node "${r.name}" (public: no secret in it).`, "On the root machine: sup identity sign THIS-FILE --root ROOTFILE --out CERTFILE"],
    REQUEST_KIND,
    [
      ["name", r.name],
      ["public-key", toB64(r.publicKey)],
      ["proof", toB64(r.proof)],
    ],
  );
}

/**
 * What is wrong with a certificate (and the secret key, when given) beyond structure: the root
 * signature, the cluster id against the root key, the secret against the public key. Empty: none.
 * Each problem names its field. Uses the reference ed25519 (a cold path: once per file).
 */
export function identityProblems(cd: CertificateData, seed?: Uint8Array): { field: string; problem: string }[] {
  const out: { field: string; problem: string }[] = [];
  const cert = cd.signed.cert;
  const expected = clusterIdOf(cd.rootKey);
  if (cert.clusterId !== expected) out.push({ field: "cluster", problem: `does not match root-key (whose cluster id is ${expected})` });
  if (!reference.verify(cd.rootKey, certBytes(cert), cd.signed.signature)) {
    out.push({ field: "signature", problem: "does not verify against root-key: the certificate was altered or signed by another root" });
  }
  if (seed !== undefined && !Buffer.from(reference.publicKeyOf(seed)).equals(cert.publicKey)) {
    out.push({ field: "secret-key", problem: "does not belong to public-key" });
  }
  return out;
}

/** Reads and fully checks a node identity file (permissions, structure, signature, key pair). */
export function loadIdentityFile(file: string): IdentityData {
  const data = parseIdentityFile(file, readIdentityText(file, true));
  const problems = identityProblems(data, data.seed);
  if (problems.length > 0) throw fieldError(file, problems[0]!.field, problems[0]!.problem);
  return data;
}

/** Reads a root key file (permissions and structure). */
export function loadRootFile(file: string): RootKey {
  return parseRootFile(file, readIdentityText(file, true));
}

/** The kind a file's header names (`sup-identity`, …), or null when it has no header line. */
export function fileKindOf(text: string): string | null {
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    return /^(sup-[a-z]+) /.exec(line)?.[1] ?? null;
  }
  return null;
}

/** True for the kinds whose file holds a secret key. */
export function isSecretKind(kind: string): boolean {
  return kind === ROOT_KIND || kind === IDENTITY_KIND || kind === KEY_KIND;
}
