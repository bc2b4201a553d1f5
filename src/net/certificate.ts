/**
 * Certificates: what the cluster root says about a node (name, key, roles, labels, permissions,
 * validity, serial), as an SLP value with one canonical codec encoding, which is what the root
 * signs. The same value travels in handshakes. A certificate from the wire is checked field by
 * field; one that does not have exactly this shape is refused, never half-read.
 */
import { encode } from "../lang/codec.ts";
import { bytesFromLatin1, latin1FromBytes, List, str, Str, sym, T_BRACE, T_BRACKET, T_PAREN, type Value } from "../lang/value.ts";
import { CERT_LIST_ITEMS_MAX, CERT_WORD_CHARS_MAX, CLOCK_SKEW_MS, NODE_NAME_CHARS_MAX } from "./limits.ts";
import { PUBLIC_KEY_BYTES, sha256 } from "./keys.ts";

/** What an identity may do beyond being a member: issue commands and revocations, originate code. */
export const PERMISSIONS = ["admin", "code"] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The certificate layout version this code writes and reads. */
export const CERT_VERSION = 1;

const CERT_TAG = sym("sup-certificate");

/** A node certificate (signed by the cluster root: see SignedCertificate). */
export interface Certificate {
  readonly name: string;
  /** The node's ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The cluster id: the fingerprint of the root public key that signs this certificate. */
  readonly clusterId: string;
  /** Sorted, without duplicates. */
  readonly roles: readonly string[];
  /** Sorted by key. */
  readonly labels: readonly (readonly [string, string])[];
  /** Sorted, without duplicates. */
  readonly can: readonly Permission[];
  /** Validity, epoch milliseconds, both inclusive. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** 32 hex digits, random per certificate: names one issuance (revocations will name it). */
  readonly serial: string;
}

/** A certificate and the root's ed25519 signature over its canonical encoding. */
export interface SignedCertificate {
  readonly cert: Certificate;
  readonly signature: Uint8Array;
}

const NAME_RE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const WORD_RE = /^[A-Za-z0-9._-]+$/;
const SERIAL_RE = /^[0-9a-f]{32}$/;
const CLUSTER_ID_RE = /^[0-9a-f]{4}(?:-[0-9a-f]{4}){3}$/;

/** The cluster id of a root public key: the first 8 bytes of its SHA-256, as four groups of hex. */
export function clusterIdOf(rootPublicKey: Uint8Array): string {
  const hex = Buffer.from(sha256(rootPublicKey).subarray(0, 8)).toString("hex");
  return hex.match(/.{4}/g)!.join("-");
}

/** Why a node name is not valid, or null when it is. */
export function nameProblem(name: string): string | null {
  if (name.length === 0 || name.length > NODE_NAME_CHARS_MAX) return `must be 1 to ${NODE_NAME_CHARS_MAX} characters`;
  if (!NAME_RE.test(name)) return "must be lowercase letters, digits and inner hyphens (a DNS label)";
  return null;
}

/** Why a role, label key or label value is not valid, or null when it is. */
export function wordProblem(word: string): string | null {
  if (word.length === 0 || word.length > CERT_WORD_CHARS_MAX) return `must be 1 to ${CERT_WORD_CHARS_MAX} characters`;
  if (!WORD_RE.test(word)) return "may hold only letters, digits, '.', '_' and '-'";
  return null;
}

/** Why a certificate's fields are not valid (naming the field), or null when they are. */
export function certProblem(c: Certificate): string | null {
  const name = nameProblem(c.name);
  if (name !== null) return `name: ${name}`;
  if (c.publicKey.length !== PUBLIC_KEY_BYTES) return `public-key: must be ${PUBLIC_KEY_BYTES} bytes`;
  if (!CLUSTER_ID_RE.test(c.clusterId)) return "cluster: must be four groups of four hex digits";
  for (const [field, list] of [
    ["roles", c.roles],
    ["labels", c.labels],
    ["can", c.can],
  ] as const) {
    if (list.length > CERT_LIST_ITEMS_MAX) return `${field}: more than ${CERT_LIST_ITEMS_MAX} items`;
  }
  for (const r of c.roles) {
    const p = wordProblem(r);
    if (p !== null) return `roles: "${r}" ${p}`;
  }
  if (!strictlySorted(c.roles)) return "roles: must be sorted without duplicates";
  for (const [k, v] of c.labels) {
    const p = wordProblem(k) ?? wordProblem(v);
    if (p !== null) return `labels: "${k}=${v}" ${p}`;
  }
  if (!strictlySorted(c.labels.map(([k]) => k))) return "labels: keys must be sorted without duplicates";
  for (const p of c.can) if (!(PERMISSIONS as readonly string[]).includes(p)) return `can: unknown permission "${p}" (known: ${PERMISSIONS.join(", ")})`;
  if (!strictlySorted(c.can)) return "can: must be sorted without duplicates";
  if (!Number.isSafeInteger(c.notBefore) || !Number.isSafeInteger(c.notAfter)) return "validity: not-before and not-after must be integers";
  if (c.notAfter < c.notBefore) return "validity: not-after is before not-before";
  if (!SERIAL_RE.test(c.serial)) return "serial: must be 32 hex digits";
  return null;
}

function strictlySorted(xs: readonly string[]): boolean {
  for (let i = 1; i < xs.length; i++) if (!(xs[i - 1]! < xs[i]!)) return false;
  return true;
}

/** The certificate as its canonical SLP value: `(sup-certificate 1 name key cluster [roles] {labels} [can] nb na serial)`. */
export function certValue(c: Certificate): Value {
  return new List(T_PAREN, [
    CERT_TAG,
    CERT_VERSION,
    str(c.name),
    str(latin1FromBytes(c.publicKey)),
    str(c.clusterId),
    new List(T_BRACKET, c.roles.map(str)),
    new List(
      T_BRACE,
      c.labels.map(([k, v]) => new List(T_PAREN, [str(k), str(v)])),
    ),
    new List(T_BRACKET, c.can.map(str)),
    c.notBefore,
    c.notAfter,
    str(c.serial),
  ]);
}

/** The bytes the root signs: the codec encoding of certValue (canonical: one encoding per value). */
export function certBytes(c: Certificate): Uint8Array {
  return encode(certValue(c));
}

/** Reads a certificate value; returns the problem (naming the field) when it is not one. */
export function certFromValue(v: Value): Certificate | string {
  if (!(v instanceof List) || v.t !== T_PAREN || v.items.length !== 11) return "not a certificate value";
  const [tag, version, name, key, cluster, roles, labels, can, nb, na, serial] = v.items;
  if (tag !== CERT_TAG) return "not a certificate value";
  if (version !== CERT_VERSION) return `version: unsupported certificate version ${typeof version === "number" ? version : "?"}`;
  const strings = (x: Value | undefined, kind: number): string[] | null =>
    x instanceof List && x.t === kind && x.items.every((i) => i instanceof Str) ? x.items.map((i) => (i as Str).s) : null;
  if (!(name instanceof Str)) return "name: not a string";
  if (!(key instanceof Str)) return "public-key: not a string";
  if (!(cluster instanceof Str)) return "cluster: not a string";
  const roleList = strings(roles, T_BRACKET);
  if (roleList === null) return "roles: not a list of strings";
  if (!(labels instanceof List) || labels.t !== T_BRACE) return "labels: not a brace list";
  const labelPairs: [string, string][] = [];
  for (const p of labels.items) {
    const kv = strings(p, T_PAREN);
    if (kv === null || kv.length !== 2) return "labels: not a list of (key value) pairs";
    labelPairs.push([kv[0]!, kv[1]!]);
  }
  const canList = strings(can, T_BRACKET);
  if (canList === null) return "can: not a list of strings";
  if (typeof nb !== "number" || typeof na !== "number") return "validity: not integers";
  if (!(serial instanceof Str)) return "serial: not a string";
  const cert: Certificate = {
    name: name.s,
    publicKey: bytesFromLatin1(key.s),
    clusterId: cluster.s,
    roles: roleList,
    labels: labelPairs,
    can: canList as Permission[],
    notBefore: nb,
    notAfter: na,
    serial: serial.s,
  };
  return certProblem(cert) ?? cert;
}

/** Where a moment falls against a certificate's validity, with CLOCK_SKEW_MS of allowance either side. */
export function validityAt(c: Certificate, nowMs: number, skewMs = CLOCK_SKEW_MS): "valid" | "not-yet-valid" | "expired" {
  if (nowMs < c.notBefore - skewMs) return "not-yet-valid";
  if (nowMs > c.notAfter + skewMs) return "expired";
  return "valid";
}

/** Sorts and de-duplicates a list of words (roles, permissions) into certificate order. */
export function canonicalList<T extends string>(xs: readonly T[]): T[] {
  return [...new Set(xs)].sort();
}
