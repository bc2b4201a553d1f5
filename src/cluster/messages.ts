/**
 * Membership messages as SLP values (the backchannel codec-encodes them), and their decoding from
 * untrusted peers: every field is type- and range-checked against limits.ts, nothing throws, and a
 * bad message is refused whole with a reason. Wire forms (docs/cluster.md has the table):
 *
 *   message  (member VERSION KIND STATS (CLAIM…) FIELD…)
 *   STATS    (INFLIGHT LAG-MS CPU-PERMILLE LOG-POSITION SEQ)
 *   CLAIM    (alive NAME INC META) | (suspect NAME INC FROM) | (dead NAME INC FROM) | (left NAME INC)
 *   META     (SERIAL (ROLE…) ((KEY VALUE)…) BACKCHANNEL HTTP (KERNEL…) VERSION)
 *   RECORD   (NAME INC STATE META STATS)        DIGEST (NAME INC STATE)
 *
 * Lists may carry extra trailing fields, which are ignored: a later minor revision can add fields
 * without a new protocol version.
 */
import { isList, List, Str, Sym, sym, T_PAREN, type Value } from "../lang/value.ts";
import {
  ADDRESS_BYTES_MAX,
  DIGEST_ENTRIES_MAX,
  INCARNATION_MAX,
  KERNEL_BYTES_MAX,
  KERNELS_MAX,
  LABEL_KEY_BYTES_MAX,
  LABEL_VALUE_BYTES_MAX,
  LABELS_MAX,
  MEMBERSHIP_PROTOCOL_VERSION,
  NAME_BYTES_MAX,
  PIGGYBACK_CLAIMS_MAX,
  RECORDS_PER_MESSAGE_MAX,
  ROLE_BYTES_MAX,
  ROLES_MAX,
  SERIAL_BYTES_MAX,
  STAT_MAX,
  VERSION_BYTES_MAX,
  WANT_NAMES_MAX,
} from "./limits.ts";
import type { MemberMeta, MemberState, MemberStats } from "./member.ts";

/** The channel symbol of membership messages. */
export const MEMBER_CHANNEL = sym("member");

/** A statement about one member, spread by gossip. */
export type Claim =
  | { readonly kind: "alive"; readonly name: string; readonly incarnation: number; readonly meta: MemberMeta }
  | { readonly kind: "suspect" | "dead"; readonly name: string; readonly incarnation: number; readonly from: string }
  | { readonly kind: "left"; readonly name: string; readonly incarnation: number };

/** A member's full record, as sync sends it. */
export interface MemberRecord {
  readonly name: string;
  readonly incarnation: number;
  readonly state: MemberState;
  readonly meta: MemberMeta;
  readonly stats: MemberStats;
}

/** One line of a sync digest. */
export interface DigestEntry {
  readonly name: string;
  readonly incarnation: number;
  readonly state: MemberState;
}

/** The kind-specific part of a membership message. */
export type MessageBody =
  | { readonly kind: "ping" | "ack" | "nack"; readonly seq: number }
  | { readonly kind: "ping-req"; readonly seq: number; readonly target: string }
  | { readonly kind: "gossip" }
  | { readonly kind: "sync-digest"; readonly lo: string | null; readonly hi: string | null; readonly entries: readonly DigestEntry[] }
  | { readonly kind: "sync-update"; readonly records: readonly MemberRecord[] }
  | { readonly kind: "sync-want"; readonly names: readonly string[] };

/** A decoded membership message: the sender's stats, piggybacked claims, and the body. */
export type MembershipMessage = MessageBody & { readonly stats: MemberStats; readonly claims: readonly Claim[] };

export type DecodeOutcome = { readonly ok: true; readonly message: MembershipMessage } | { readonly ok: false; readonly reason: string };

const KINDS = ["ping", "ack", "nack", "ping-req", "gossip", "sync-digest", "sync-update", "sync-want"] as const;
const KIND_SYMS = new Map<Sym, MessageBody["kind"]>(KINDS.map((k) => [sym(k), k]));
const STATES: readonly MemberState[] = ["alive", "suspect", "dead", "left"];
const STATE_SYMS = new Map<Sym, MemberState>(STATES.map((s) => [sym(s), s]));
const CLAIM_KINDS = new Map<Sym, Claim["kind"]>((["alive", "suspect", "dead", "left"] as const).map((k) => [sym(k), k]));
/** The symbols of kinds and states, interned once (encoding runs per message). */
const SYM_OF: Readonly<Record<string, Sym>> = Object.fromEntries([...KINDS, ...STATES].map((k) => [k, sym(k)]));

// ---------------------------------------------------------------------------------------------
// Encoding

const p = (items: Value[]): List => new List(T_PAREN, items);
const strs = (xs: readonly string[]): List => p(xs.map((x) => new Str(x)));
const orNone = (s: string | null): Value => (s === null ? p([]) : p([new Str(s)]));

/** The wire form of metadata. */
export function metaValue(m: MemberMeta): List {
  const labels = p(m.labels.map(([k, v]) => p([new Str(k), new Str(v)])));
  return p([new Str(m.serial), strs(m.roles), labels, new Str(m.backchannel), new Str(m.http), strs(m.kernels), new Str(m.version)]);
}

/** The wire form of stats. */
export function statsValue(s: MemberStats): List {
  return p([s.inflight, s.lagMs, s.cpuPermille, s.logPosition, s.seq]);
}

/** The wire form of a claim. */
export function claimValue(c: Claim): List {
  const head = [SYM_OF[c.kind]!, new Str(c.name), c.incarnation];
  if (c.kind === "alive") return p([...head, metaValue(c.meta)]);
  if (c.kind === "left") return p(head);
  return p([...head, new Str(c.from)]);
}

/** The wire form of a record. */
export function recordValue(r: MemberRecord): List {
  return p([new Str(r.name), r.incarnation, SYM_OF[r.state]!, metaValue(r.meta), statsValue(r.stats)]);
}

/**
 * An upper bound on a digest entry's encoded size without encoding it: list header (2), string
 * tag and length (1 + 1) and name, incarnation (1 + up to 9), state symbol (1 + 1 + 7).
 */
export function digestBytesMax(name: string): number {
  return name.length + 23;
}

/** The wire form of a digest entry. */
export function digestValue(d: DigestEntry): List {
  return p([new Str(d.name), d.incarnation, SYM_OF[d.state]!]);
}

/** Builds a message from parts already in wire form (claims, records and entries are encoded once). */
export function messageValue(kind: MessageBody["kind"], stats: List, claims: readonly List[], fields: readonly Value[]): List {
  return p([MEMBER_CHANNEL, MEMBERSHIP_PROTOCOL_VERSION, SYM_OF[kind]!, stats, p([...claims]), ...fields]);
}

/** The body fields of a sync-digest page. */
export function digestFields(lo: string | null, hi: string | null, entries: readonly List[]): Value[] {
  return [orNone(lo), orNone(hi), p([...entries])];
}

// ---------------------------------------------------------------------------------------------
// Decoding: a private exception carries the reason to decodeMessage, which never throws.

class Bad {
  constructor(readonly reason: string) {}
}

function list(v: Value | undefined, what: string, min: number, max: number): readonly Value[] {
  if (v === undefined || !isList(v) || v.t !== T_PAREN) throw new Bad(`${what} is not a list`);
  if (v.items.length < min) throw new Bad(`${what} has ${v.items.length} items, fewer than ${min}`);
  if (v.items.length > max) throw new Bad(`${what} has ${v.items.length} items, more than ${max}`);
  return v.items;
}

function text(v: Value | undefined, what: string, maxBytes: number): string {
  if (!(v instanceof Str)) throw new Bad(`${what} is not a string`);
  if (v.s.length > maxBytes) throw new Bad(`${what} is ${v.s.length} bytes, more than ${maxBytes}`);
  return v.s;
}

/** Names are non-empty printable ASCII without spaces, like certificate names. */
const NAME_PATTERN = /^[\x21-\x7e]+$/;

function name(v: Value | undefined, what: string): string {
  const s = text(v, what, NAME_BYTES_MAX);
  if (!NAME_PATTERN.test(s)) throw new Bad(`${what} ${JSON.stringify(s)} is not a member name`);
  return s;
}

function count(v: Value | undefined, what: string, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) throw new Bad(`${what} is not an integer in 0..${max}`);
  return v;
}

function oneOf<T>(v: Value | undefined, table: ReadonlyMap<Sym, T>, what: string): T {
  const found = v instanceof Sym ? table.get(v) : undefined;
  if (found === undefined) throw new Bad(`${what} is not one of ${[...table.keys()].map((s) => s.name).join(", ")}`);
  return found;
}

function texts(v: Value | undefined, what: string, max: number, bytes: number): string[] {
  return list(v, what, 0, max).map((x) => text(x, `${what} item`, bytes));
}

/** Reads metadata from its wire form. */
export function readMeta(v: Value | undefined): MemberMeta {
  const f = list(v, "meta", 7, 64);
  const labels = list(f[2], "labels", 0, LABELS_MAX).map((l) => {
    const kv = list(l, "label", 2, 2);
    return [text(kv[0], "label key", LABEL_KEY_BYTES_MAX), text(kv[1], "label value", LABEL_VALUE_BYTES_MAX)] as const;
  });
  for (let i = 1; i < labels.length; i++) if (!(labels[i - 1]![0] < labels[i]![0])) throw new Bad("labels are not sorted by unique key");
  return {
    serial: text(f[0], "serial", SERIAL_BYTES_MAX),
    roles: texts(f[1], "roles", ROLES_MAX, ROLE_BYTES_MAX),
    labels,
    backchannel: text(f[3], "backchannel address", ADDRESS_BYTES_MAX),
    http: text(f[4], "http address", ADDRESS_BYTES_MAX),
    kernels: texts(f[5], "kernels", KERNELS_MAX, KERNEL_BYTES_MAX),
    version: text(f[6], "version", VERSION_BYTES_MAX),
  };
}

function readStats(v: Value | undefined): MemberStats {
  const f = list(v, "stats", 5, 64);
  return {
    inflight: count(f[0], "inflight", STAT_MAX),
    lagMs: count(f[1], "lag", STAT_MAX),
    cpuPermille: count(f[2], "cpu", STAT_MAX),
    logPosition: count(f[3], "log position", STAT_MAX),
    seq: count(f[4], "stats seq", STAT_MAX),
  };
}

function readClaim(v: Value): Claim {
  const f = list(v, "claim", 3, 64);
  const kind = oneOf(f[0], CLAIM_KINDS, "claim kind");
  const n = name(f[1], "claim name");
  const incarnation = count(f[2], "incarnation", INCARNATION_MAX);
  if (kind === "alive") return { kind, name: n, incarnation, meta: readMeta(f[3]) };
  if (kind === "left") return { kind, name: n, incarnation };
  return { kind, name: n, incarnation, from: name(f[3], "claim source") };
}

function readRecord(v: Value): MemberRecord {
  const f = list(v, "record", 5, 64);
  return {
    name: name(f[0], "record name"),
    incarnation: count(f[1], "incarnation", INCARNATION_MAX),
    state: oneOf(f[2], STATE_SYMS, "record state"),
    meta: readMeta(f[3]),
    stats: readStats(f[4]),
  };
}

function readDigest(v: Value): DigestEntry {
  const f = list(v, "digest entry", 3, 64);
  return { name: name(f[0], "digest name"), incarnation: count(f[1], "incarnation", INCARNATION_MAX), state: oneOf(f[2], STATE_SYMS, "digest state") };
}

function readBound(v: Value | undefined, what: string): string | null {
  const f = list(v, what, 0, 1);
  return f.length === 0 ? null : name(f[0], what);
}

function readBody(kind: MessageBody["kind"], f: readonly Value[]): MessageBody {
  switch (kind) {
    case "ping":
    case "ack":
    case "nack":
      return { kind, seq: count(f[5], "seq", STAT_MAX) };
    case "ping-req":
      return { kind, seq: count(f[5], "seq", STAT_MAX), target: name(f[6], "target") };
    case "gossip":
      return { kind };
    case "sync-digest":
      return { kind, lo: readBound(f[5], "digest low bound"), hi: readBound(f[6], "digest high bound"), entries: list(f[7], "digest", 0, DIGEST_ENTRIES_MAX).map(readDigest) };
    case "sync-update":
      return { kind, records: list(f[5], "records", 0, RECORDS_PER_MESSAGE_MAX).map(readRecord) };
    case "sync-want":
      return { kind, names: list(f[5], "wanted names", 0, WANT_NAMES_MAX).map((x) => name(x, "wanted name")) };
  }
}

/** Decodes a membership message from an untrusted peer; never throws. */
export function decodeMessage(v: Value): DecodeOutcome {
  try {
    const f = list(v, "message", 5, 64);
    if (f[0] !== MEMBER_CHANNEL) throw new Bad("message is not on the member channel");
    if (f[1] !== MEMBERSHIP_PROTOCOL_VERSION) throw new Bad(`protocol version ${typeof f[1] === "number" ? f[1] : "?"} is not ${MEMBERSHIP_PROTOCOL_VERSION}`);
    const kind = oneOf(f[2], KIND_SYMS, "message kind");
    const stats = readStats(f[3]);
    const claims = list(f[4], "claims", 0, PIGGYBACK_CLAIMS_MAX).map(readClaim);
    return { ok: true, message: { ...readBody(kind, f), stats, claims } };
  } catch (e) {
    if (e instanceof Bad) return { ok: false, reason: e.reason };
    throw e; // A bug, not bad input.
  }
}

/** Checks metadata this node is given for itself; returns the first problem, or null. */
export function metaProblem(meta: MemberMeta): string | null {
  try {
    readMeta(metaValue(meta));
    return null;
  } catch (e) {
    if (e instanceof Bad) return e.reason;
    throw e;
  }
}

/** True when `s` is acceptable as a member name. */
export function isMemberName(s: string): boolean {
  return s.length > 0 && s.length <= NAME_BYTES_MAX && NAME_PATTERN.test(s);
}
