/**
 * Identity operations (the `sup identity` subcommands call these) and NodeIdentity, the loaded
 * identity a node runs with: it signs with the node key and checks peers' certificates against the
 * cluster root on the fast path (node:crypto), which keys.test.ts proves agrees with tweetnacl.
 */
import type { KeyObject } from "node:crypto";
import { IdentityInputError, type RefusalReason } from "./errors.ts";
import { canonicalList, certBytes, certProblem, clusterIdOf, nameProblem, validityAt, wordProblem, type Certificate, type Permission, type SignedCertificate } from "./certificate.ts";
import type { CertificateData, CertRequest, IdentityData, PendingKey, RootKey } from "./identity-files.ts";
import { identityProblems, requestBytes } from "./identity-files.ts";
import { randomBytes, reference, signFast, signingKey, verifyFast, verifyingKey } from "./keys.ts";
import { CERT_DAYS_DEFAULT, CERT_DAYS_MAX } from "./limits.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Makes a new cluster root key pair (tweetnacl). */
export function makeRoot(): RootKey {
  const { seed, publicKey } = reference.signingKeyPair();
  return { clusterId: clusterIdOf(publicKey), publicKey, seed };
}

/** What the root states about a node, as given on the command line. */
export interface IssueInput {
  readonly name: string;
  readonly roles?: readonly string[];
  readonly labels?: readonly (readonly [string, string])[];
  readonly can?: readonly string[];
  /** Validity in days from notBefore (default CERT_DAYS_DEFAULT, at most CERT_DAYS_MAX). */
  readonly days?: number;
  /** Start of validity, epoch ms (default: now). */
  readonly notBefore?: number;
}

/** Builds a certificate for `publicKey`, checking every input; throws IdentityInputError naming it. */
export function buildCertificate(root: RootKey, publicKey: Uint8Array, input: IssueInput, nowMs: number): Certificate {
  const nameIssue = nameProblem(input.name);
  if (nameIssue !== null) throw new IdentityInputError(`Invalid node name "${input.name}": it ${nameIssue}`);
  for (const r of input.roles ?? []) {
    const p = wordProblem(r);
    if (p !== null) throw new IdentityInputError(`Invalid role "${r}": it ${p}`);
  }
  const labels = new Map<string, string>();
  for (const [k, v] of input.labels ?? []) {
    const p = wordProblem(k) ?? wordProblem(v);
    if (p !== null) throw new IdentityInputError(`Invalid label "${k}=${v}": each side ${p}`);
    if (labels.has(k)) throw new IdentityInputError(`Label "${k}" is given twice`);
    labels.set(k, v);
  }
  for (const c of input.can ?? []) {
    if (c !== "admin" && c !== "code") throw new IdentityInputError(`Unknown permission "${c}": known permissions are admin, code`);
  }
  const days = input.days ?? CERT_DAYS_DEFAULT;
  if (!Number.isSafeInteger(days) || days < 1 || days > CERT_DAYS_MAX) throw new IdentityInputError(`Invalid --days ${days}: expected 1 to ${CERT_DAYS_MAX}`);
  const notBefore = input.notBefore ?? nowMs;
  const cert: Certificate = {
    name: input.name,
    publicKey,
    clusterId: root.clusterId,
    roles: canonicalList(input.roles ?? []),
    labels: [...labels].sort(([a], [b]) => (a < b ? -1 : 1)),
    can: canonicalList((input.can ?? []) as Permission[]),
    notBefore,
    notAfter: notBefore + days * DAY_MS,
    serial: Buffer.from(randomBytes(16)).toString("hex"),
  };
  const problem = certProblem(cert);
  if (problem !== null) throw new IdentityInputError(`Cannot issue a certificate: ${problem}`);
  return cert;
}

/** The root's signature over a certificate (tweetnacl: issuing is a cold path). */
export function signCertificate(root: RootKey, cert: Certificate): SignedCertificate {
  return { cert, signature: reference.sign(root.seed, certBytes(cert)) };
}

/** Issues a node identity in one step: a new node key pair and its certificate (the short path). */
export function issueIdentity(root: RootKey, input: IssueInput, nowMs: number): IdentityData {
  const { seed, publicKey } = reference.signingKeyPair();
  return { signed: signCertificate(root, buildCertificate(root, publicKey, input, nowMs)), rootKey: root.publicKey, seed };
}

/** Makes a node key pair and a request for its certificate (the node's secret stays with it). */
export function makeRequest(name: string): { key: PendingKey; request: CertRequest } {
  const p = nameProblem(name);
  if (p !== null) throw new IdentityInputError(`Invalid node name "${name}": it ${p}`);
  const { seed, publicKey } = reference.signingKeyPair();
  return { key: { name, publicKey, seed }, request: { name, publicKey, proof: reference.sign(seed, requestBytes(name, publicKey)) } };
}

/** Signs a request (its proof was checked when it was read) into a certificate. */
export function signRequest(root: RootKey, request: CertRequest, input: Omit<IssueInput, "name">, nowMs: number): CertificateData {
  return { signed: signCertificate(root, buildCertificate(root, request.publicKey, { ...input, name: request.name }, nowMs)), rootKey: root.publicKey };
}

/** Joins a pending key with the certificate signed for it into a node identity. */
export function acceptCertificate(key: PendingKey, cd: CertificateData): IdentityData {
  const cert = cd.signed.cert;
  if (!Buffer.from(cert.publicKey).equals(key.publicKey)) throw new IdentityInputError(`Cannot accept the certificate: it is for another key (certificate of "${cert.name}", key of "${key.name}")`);
  const problems = identityProblems(cd, key.seed);
  if (problems.length > 0) throw new IdentityInputError(`Cannot accept the certificate: field "${problems[0]!.field}" ${problems[0]!.problem}`);
  return { ...cd, seed: key.seed };
}

/** The outcome of checking a peer's certificate: accepted, or the reason and a detail for the log. */
export type CertCheck = { ok: true } | { ok: false; reason: RefusalReason; detail: string };

/** The identity a node runs with: signs as the node, checks peers against the cluster root. */
export class NodeIdentity {
  readonly name: string;
  readonly clusterId: string;
  readonly cert: Certificate;
  readonly signed: SignedCertificate;
  readonly rootKey: Uint8Array;
  private readonly key: KeyObject;
  private readonly root: KeyObject;

  constructor(data: IdentityData) {
    this.signed = data.signed;
    this.cert = data.signed.cert;
    this.name = this.cert.name;
    this.clusterId = this.cert.clusterId;
    this.rootKey = data.rootKey;
    this.key = signingKey(data.seed);
    this.root = verifyingKey(data.rootKey);
  }

  /** Signs arbitrary bytes with the node key (node:crypto; identical to tweetnacl's signature). */
  sign(bytes: Uint8Array): Uint8Array {
    return signFast(this.key, bytes);
  }

  /** Checks a peer's certificate: same cluster, signed by our root, valid at `nowMs` (with skew). */
  checkPeer(sc: SignedCertificate, nowMs: number, skewMs?: number): CertCheck {
    const c = sc.cert;
    if (c.clusterId !== this.clusterId) return { ok: false, reason: "wrong-cluster", detail: `certificate of "${c.name}" is for cluster ${c.clusterId}, this is ${this.clusterId}` };
    if (!verifyFast(this.root, certBytes(c), sc.signature)) return { ok: false, reason: "bad-certificate", detail: `certificate of "${c.name}" is not signed by this cluster's root` };
    const v = validityAt(c, nowMs, skewMs);
    if (v === "expired") return { ok: false, reason: "cert-expired", detail: `certificate of "${c.name}" expired at ${new Date(c.notAfter).toISOString()}` };
    if (v === "not-yet-valid") return { ok: false, reason: "cert-not-yet-valid", detail: `certificate of "${c.name}" is valid from ${new Date(c.notBefore).toISOString()}` };
    return { ok: true };
  }
}

/** Verifies a signature by the node a certificate names, over arbitrary bytes (node:crypto). */
export function verifyBy(cert: Certificate, bytes: Uint8Array, signature: Uint8Array): boolean {
  return verifyFast(verifyingKey(cert.publicKey), bytes, signature);
}

/** True when a certificate grants a permission. */
export function can(cert: Certificate, permission: Permission): boolean {
  return cert.can.includes(permission);
}
