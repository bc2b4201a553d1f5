/**
 * Conversions between database rows and the store's records, and the small helpers they need.
 */
import type { ChangeRow, VersionRow } from "./statements.ts";
import type { Change, ChangeOp, CodeKind, CodeMeta, CodeVersion, VersionOp } from "./types.ts";
import { byteLength } from "./validate.ts";

/** The sha256 of bytes or of a string's UTF-8, as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

/** A query that always returns one row (an aggregate, a row a foreign key guarantees); none is a bug. */
export function one<T>(row: T | null): T {
  if (row === null) throw new Error("assertion failed: query returned no row");
  return row;
}

/** A version row as a CodeVersion. The kind and op CHECK constraints guarantee the casts. */
export function toVersion(r: VersionRow): CodeVersion {
  return {
    tenant: r.tenant,
    name: r.name,
    version: r.version,
    hash: r.hash,
    kind: r.kind as CodeKind,
    meta: JSON.parse(r.meta) as CodeMeta,
    source: r.source,
    author: r.author,
    origin: r.origin,
    createdAt: r.createdAt,
    seq: r.seq,
    hlc: { ms: r.hlcMs, n: r.hlcN },
    op: r.op as VersionOp,
  };
}

/** A change row as a Change. The op CHECK constraint guarantees the cast. */
export function toChange(r: ChangeRow): Change {
  return { seq: r.seq, tenant: r.tenant, name: r.name, op: r.op as ChangeOp, version: r.version, author: r.author, origin: r.origin, at: r.at };
}

/** Cuts text to at most `max` UTF-8 bytes, never inside a character, marking the cut with "…". */
export function cutText(text: string, max: number): string {
  if (text.length * 3 <= max || byteLength(text) <= max) return text;
  const ellipsisBytes = 3;
  const { read } = new TextEncoder().encodeInto(text, new Uint8Array(max - ellipsisBytes));
  return `${text.slice(0, read)}…`;
}
