/**
 * Replication messages as SLP values (the backchannel codec-encodes them) and their decoding from
 * peers: every field type- and range-checked, nothing throws, a bad message is refused whole with a
 * reason. Wire forms (protocol version 1; docs/cluster.md has the table):
 *
 *   (repl 1 entries MODE MORE (CERT…) ((ENTRY SIG)…) ((HASH BLOB)…))   MODE push|page, MORE 0|1
 *   (repl 1 digest POSITION STATE-HASH REPLY ((ORIGIN HIGH)…))        REPLY 0|1
 *   (repl 1 pull ORIGIN FROM)
 *   (repl 1 want (HASH…))
 *   (repl 1 ack ((ORIGIN SEQ RESULT)…))
 *   (repl 1 have ((ORIGIN SEQ)…))                                     a relay: "I hold these"
 *
 * CERT, ENTRY, SIG and BLOB are byte strings: a certificate's and an entry's codec encodings (what
 * their signatures cover, so they are checked as received, never re-encoded), a signature, a
 * source text. Lists may carry extra trailing fields, which are ignored.
 */
import { isList, List, Str, Sym, sym, T_PAREN, type Value } from "../lang/value.ts";
import { bytesValue, valueBytesOf } from "./entry.ts";
import { NAME_BYTES_MAX } from "./limits.ts";
import {
  ACKS_PER_MESSAGE_MAX,
  BLOB_BYTES_MAX,
  BLOBS_PER_MESSAGE_MAX,
  CERT_BYTES_MAX,
  CERTS_PER_MESSAGE_MAX,
  ENTRIES_PER_MESSAGE_MAX,
  ENTRY_BYTES_MAX,
  HASH_HEX,
  REASON_BYTES_MAX,
  REPLICATION_PROTOCOL_VERSION,
  VECTOR_ORIGINS_MAX,
} from "./replication-limits.ts";

/** The channel symbol of replication messages. */
export const REPL_CHANNEL = sym("repl");

/** Why entries are sent: the origin's push of a new entry, or a page (a catch-up, a pull, a want). */
export type EntriesMode = "push" | "page";

/** A decoded replication message. */
export type ReplMessage =
  | {
      readonly kind: "entries";
      readonly mode: EntriesMode;
      readonly more: boolean;
      readonly certs: readonly Uint8Array[];
      readonly entries: readonly { readonly bytes: Uint8Array; readonly signature: Uint8Array }[];
      readonly blobs: readonly { readonly hash: string; readonly bytes: Uint8Array }[];
    }
  | { readonly kind: "digest"; readonly position: number; readonly stateHash: string; readonly reply: boolean; readonly vector: readonly { readonly origin: string; readonly high: number }[] }
  | { readonly kind: "pull"; readonly origin: string; readonly from: number }
  | { readonly kind: "want"; readonly hashes: readonly string[] }
  | { readonly kind: "ack"; readonly acks: readonly { readonly origin: string; readonly seq: number; readonly result: string }[] }
  | { readonly kind: "have"; readonly entries: readonly { readonly origin: string; readonly seq: number }[] };

const p = (items: readonly Value[]) => new List(T_PAREN, items);
const head = (kind: string) => [REPL_CHANNEL, REPLICATION_PROTOCOL_VERSION, sym(kind)] as const;

/** An `entries` message. */
export function entriesMessage(
  mode: EntriesMode,
  more: boolean,
  certs: readonly Uint8Array[],
  entries: readonly { readonly bytes: Uint8Array; readonly signature: Uint8Array }[],
  blobs: readonly { readonly hash: string; readonly bytes: Uint8Array }[],
): List {
  return p([
    ...head("entries"),
    sym(mode),
    more ? 1 : 0,
    p(certs.map(bytesValue)),
    p(entries.map((e) => p([bytesValue(e.bytes), bytesValue(e.signature)]))),
    p(blobs.map((b) => p([new Str(b.hash), bytesValue(b.bytes)]))),
  ]);
}

/** A `digest` message: this node's version vector, entry count and state hash. */
export function digestMessage(position: number, stateHash: string, reply: boolean, vector: readonly { readonly origin: string; readonly high: number }[]): List {
  return p([...head("digest"), position, new Str(stateHash), reply ? 1 : 0, p(vector.map((v) => p([new Str(v.origin), v.high])))]);
}

export function pullMessage(origin: string, from: number): List {
  return p([...head("pull"), new Str(origin), from]);
}

export function wantMessage(hashes: readonly string[]): List {
  return p([...head("want"), p(hashes.map((h) => new Str(h)))]);
}

export function ackMessage(acks: readonly { readonly origin: string; readonly seq: number; readonly result: string }[]): List {
  return p([...head("ack"), p(acks.map((a) => p([new Str(a.origin), a.seq, new Str(a.result.slice(0, REASON_BYTES_MAX))])))]);
}

/** A `have` message: entries the sender holds (a relay: the receiver pulls what it lacks). */
export function haveMessage(entries: readonly { readonly origin: string; readonly seq: number }[]): List {
  return p([...head("have"), p(entries.map((e) => p([new Str(e.origin), e.seq])))]);
}

type Out = { readonly ok: true; readonly message: ReplMessage } | { readonly ok: false; readonly reason: string };
const bad = (reason: string): Out => ({ ok: false, reason });

function list(v: Value | undefined, what: string, max: number): readonly Value[] | string {
  if (v === undefined || !isList(v)) return `${what} is not a list`;
  if (v.items.length > max) return `${what} has ${v.items.length} items, at most ${max}`;
  return v.items;
}

const isCount = (v: Value | undefined, min = 0): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= min;
const isName = (v: Value | undefined): v is Str => v instanceof Str && v.s.length >= 1 && v.s.length <= NAME_BYTES_MAX;
const isHash = (v: Value | undefined): v is Str => v instanceof Str && HASH_HEX.test(v.s);

function bytesOf(v: Value | undefined, max: number): Uint8Array | null {
  const b = valueBytesOf(v);
  return b !== null && b.length <= max ? b : null;
}

/** Reads a replication message from a peer (its head already routed here). */
export function decodeReplMessage(v: Value): Out {
  if (!isList(v) || v.items[0] !== REPL_CHANNEL) return bad("not a replication message");
  const f = v.items;
  if (f[1] !== REPLICATION_PROTOCOL_VERSION) return bad(`protocol version ${typeof f[1] === "number" ? f[1] : "?"} is not ${REPLICATION_PROTOCOL_VERSION}`);
  const kind = f[2] instanceof Sym ? f[2].name : "";
  switch (kind) {
    case "entries": {
      const mode = f[3] instanceof Sym ? f[3].name : "";
      if (mode !== "push" && mode !== "page") return bad("entries mode is not push or page");
      if (f[4] !== 0 && f[4] !== 1) return bad("entries more flag is not 0 or 1");
      const certs = list(f[5], "certificates", CERTS_PER_MESSAGE_MAX);
      const entries = list(f[6], "entries", ENTRIES_PER_MESSAGE_MAX);
      const blobs = list(f[7], "blobs", BLOBS_PER_MESSAGE_MAX);
      for (const x of [certs, entries, blobs]) if (typeof x === "string") return bad(x);
      const outCerts: Uint8Array[] = [];
      for (const c of certs as Value[]) {
        const b = bytesOf(c, CERT_BYTES_MAX);
        if (b === null) return bad(`a certificate is not a string of at most ${CERT_BYTES_MAX} bytes`);
        outCerts.push(b);
      }
      const outEntries: { bytes: Uint8Array; signature: Uint8Array }[] = [];
      for (const e of entries as Value[]) {
        if (!isList(e) || e.items.length < 2) return bad("an entry is not (BYTES SIGNATURE)");
        const bytes = bytesOf(e.items[0], ENTRY_BYTES_MAX);
        const signature = bytesOf(e.items[1], 64);
        if (bytes === null || signature === null) return bad(`an entry is not a string of at most ${ENTRY_BYTES_MAX} bytes with a signature`);
        outEntries.push({ bytes, signature });
      }
      const outBlobs: { hash: string; bytes: Uint8Array }[] = [];
      for (const b of blobs as Value[]) {
        if (!isList(b) || b.items.length < 2 || !isHash(b.items[0])) return bad("a blob is not (HASH BYTES)");
        const bytes = bytesOf(b.items[1], BLOB_BYTES_MAX);
        if (bytes === null) return bad(`a blob is over ${BLOB_BYTES_MAX} bytes`);
        outBlobs.push({ hash: (b.items[0] as Str).s, bytes });
      }
      return { ok: true, message: { kind, mode, more: f[4] === 1, certs: outCerts, entries: outEntries, blobs: outBlobs } };
    }
    case "digest": {
      if (!isCount(f[3]) || !(f[4] instanceof Str) || f[4].s.length > 64 || (f[5] !== 0 && f[5] !== 1)) return bad("digest header is not POSITION STATE-HASH REPLY");
      const items = list(f[6], "vector", VECTOR_ORIGINS_MAX);
      if (typeof items === "string") return bad(items);
      const vector: { origin: string; high: number }[] = [];
      for (const it of items) {
        if (!isList(it) || !isName(it.items[0]) || !isCount(it.items[1], 1)) return bad("a vector item is not (ORIGIN HIGH)");
        vector.push({ origin: (it.items[0] as Str).s, high: it.items[1] as number });
      }
      return { ok: true, message: { kind, position: f[3], stateHash: f[4].s, reply: f[5] === 1, vector } };
    }
    case "pull":
      if (!isName(f[3]) || !isCount(f[4], 1)) return bad("pull is not ORIGIN FROM");
      return { ok: true, message: { kind, origin: f[3].s, from: f[4] } };
    case "want": {
      const items = list(f[3], "wanted blobs", BLOBS_PER_MESSAGE_MAX);
      if (typeof items === "string") return bad(items);
      if (!items.every(isHash)) return bad("a wanted blob is not a hash");
      return { ok: true, message: { kind, hashes: items.map((h) => (h as Str).s) } };
    }
    case "ack": {
      const items = list(f[3], "acks", ACKS_PER_MESSAGE_MAX);
      if (typeof items === "string") return bad(items);
      const acks: { origin: string; seq: number; result: string }[] = [];
      for (const it of items) {
        if (!isList(it) || !isName(it.items[0]) || !isCount(it.items[1], 1) || !(it.items[2] instanceof Str) || it.items[2].s.length > REASON_BYTES_MAX) return bad("an ack is not (ORIGIN SEQ RESULT)");
        acks.push({ origin: (it.items[0] as Str).s, seq: it.items[1] as number, result: (it.items[2] as Str).s });
      }
      return { ok: true, message: { kind, acks } };
    }
    case "have": {
      const items = list(f[3], "held entries", ACKS_PER_MESSAGE_MAX);
      if (typeof items === "string") return bad(items);
      const entries: { origin: string; seq: number }[] = [];
      for (const it of items) {
        if (!isList(it) || !isName(it.items[0]) || !isCount(it.items[1], 1)) return bad("a held entry is not (ORIGIN SEQ)");
        entries.push({ origin: (it.items[0] as Str).s, seq: it.items[1] as number });
      }
      return { ok: true, message: { kind, entries } };
    }
    default:
      return bad(`unknown replication message kind "${kind.slice(0, 40)}"`);
  }
}
