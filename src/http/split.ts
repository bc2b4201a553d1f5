/**
 * Weighted splits of a route between versions, for gradual rollouts: the current version's meta
 * carries `split: [{version, weight}, …]`, and each request runs one arm chosen with probability
 * weight / total. With `sticky: true` the choice is a hash of a client key (the client's IP, or
 * `stickyKey: "header:<name>"` / `"cookie:<name>"`), so one client keeps seeing one version.
 */
import { SPLIT_ARMS_MAX } from "./limits.ts";

/** One version of a split and its share. */
export interface SplitArm {
  readonly version: number;
  /** The node that wrote that version: versions written on two nodes at once share a number. */
  readonly origin?: string;
  readonly weight: number;
}

/** How a split arm names its version, as a map key: `3` or `3@web-2`. */
export function armKey(version: number, origin: string | undefined): string {
  return origin === undefined ? String(version) : `${version}@${origin}`;
}

/** Where a sticky split takes its client key from. */
export type StickySource = { readonly kind: "ip" } | { readonly kind: "header"; readonly name: string } | { readonly kind: "cookie"; readonly name: string };

/** A route's split as read from its meta. */
export interface SplitRule {
  readonly arms: readonly SplitArm[];
  readonly total: number;
  /** Null when each request is drawn at random. */
  readonly sticky: StickySource | null;
}

/** What a sticky split may key on. */
export interface ClientInfo {
  readonly ip: string;
  /** A request header by lower-case name, or null. */
  header(name: string): string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Reads `split`, `sticky` and `stickyKey` from route meta; null when there is no usable split.
 * Arms with a non-positive or non-finite weight or a non-integer version are dropped; at most
 * SPLIT_ARMS_MAX arms are kept. Returns the problem as a string when the meta is malformed.
 */
export function parseSplit(meta: Readonly<Record<string, unknown>>): SplitRule | null | string {
  const raw = meta["split"];
  if (raw === undefined) return null;
  if (!Array.isArray(raw)) return "split must be a list of {version, weight}";
  const arms: SplitArm[] = [];
  for (const a of raw.slice(0, SPLIT_ARMS_MAX)) {
    if (!isRecord(a)) return "split must be a list of {version, weight}";
    const { version, weight, origin } = a;
    if (typeof version !== "number" || !Number.isInteger(version) || version < 1) return `split version ${JSON.stringify(version)} is not a version number`;
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) return `split weight ${JSON.stringify(weight)} is not a non-negative number`;
    if (origin !== undefined && typeof origin !== "string") return `split origin ${JSON.stringify(origin)} is not a node name`;
    if (weight > 0) arms.push(origin === undefined ? { version, weight } : { version, origin, weight });
  }
  const total = arms.reduce((t, a) => t + a.weight, 0);
  if (arms.length === 0) return null;
  let sticky: StickySource | null = null;
  if (meta["sticky"] === true) {
    const key = meta["stickyKey"];
    if (key === undefined || key === "ip") sticky = { kind: "ip" };
    else if (typeof key === "string" && /^(header|cookie):.+/.test(key)) {
      const colon = key.indexOf(":");
      const name = key.slice(colon + 1);
      sticky = key.startsWith("header") ? { kind: "header", name: name.toLowerCase() } : { kind: "cookie", name };
    } else return `stickyKey ${JSON.stringify(key)} is not "ip", "header:<name>" or "cookie:<name>"`;
  }
  return { arms, total, sticky };
}

/** The arm a roll in [0, 1) falls into. */
export function pickArm(rule: SplitRule, roll: number): SplitArm {
  let x = roll * rule.total;
  for (const a of rule.arms) {
    if (x < a.weight) return a;
    x -= a.weight;
  }
  // Rounding can leave x a hair above the last boundary; it belongs to the last arm.
  return rule.arms[rule.arms.length - 1]!;
}

/** A value of a cookie in a Cookie header, or null. */
export function cookieValue(header: string | null, name: string): string | null {
  if (header === null) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The client key of a sticky split (empty when the header or cookie is absent). */
export function stickyKey(source: StickySource, client: ClientInfo): string {
  if (source.kind === "ip") return client.ip;
  if (source.kind === "header") return client.header(source.name) ?? "";
  return cookieValue(client.header("cookie"), source.name) ?? "";
}

/**
 * A deterministic roll in [0, 1) for a key: FNV-1a over the UTF-16 units, then a murmur3 finaliser
 * so that keys differing in one character (consecutive IPs) spread over the whole range. The salt
 * (the route) makes different routes split the same client independently.
 */
export function stickyRoll(key: string, salt: string): number {
  let h = 0x811c9dc5;
  const s = salt + "\0" + key;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}
