/**
 * The bodies of the store's code writes. Each runs inside one IMMEDIATE transaction opened by Store,
 * so either every row it writes is committed or none is; inputs are already validated.
 *
 * A version is named by (number, origin). The current version of a name is decided by
 * last-writer-wins on the (HLC, origin) stamp of the puts and removals it received: a newer stamp
 * takes the name, an older one only joins its history. So the order writes arrive in never
 * matters: every store holding the same writes has the same current versions.
 */
import { NothingToRollBackError, StoreInputError, StoreNotFoundError } from "./errors.ts";
import { compareStamps, type Hlc } from "./hlc.ts";
import { JOB_RUN_TEXT_BYTES_MAX, JOB_RUNS_KEPT } from "./limits.ts";
import { cutText, one, sha256Hex, toVersion } from "./rows.ts";
import type { Statements } from "./statements.ts";
import type { Change, CodeKind, CodeMeta, CodeVersion, JobRun, VersionOp } from "./types.ts";
import { shown } from "./validate.ts";

/** The content of a version: everything a rollback copies. */
export interface VersionContent {
  readonly hash: string;
  readonly sourceHash: string;
  readonly source: string;
  readonly kind: CodeKind;
  /** JSON text. */
  readonly meta: string;
}

/** Who made a change, where and when: its last-writer-wins stamp. */
export interface WriteStamp {
  readonly author: string;
  readonly origin: string;
  readonly hlc: Hlc;
  /** The origin's sequence number of the entry that carried the change; null for a local write. */
  readonly entrySeq: number | null;
}

/** A version to append. */
export interface NewVersion {
  readonly number: number;
  readonly op: VersionOp;
  readonly content: VersionContent;
  /** The program's codec bytes, stored under content.hash (once per hash); null when already stored. */
  readonly encoded: Uint8Array | null;
}

/** What appending a version did. */
export interface Appended {
  readonly version: CodeVersion;
  readonly change: Change;
  /** True when it became the current version (its stamp is the newest the name has seen). */
  readonly current: boolean;
}

/** The next version number of a name: one above every number any writer used that this store knows. */
export function nextNumberIn(st: Statements, tenant: string, name: string): number {
  return one(st.highNumber.get(tenant, name)).high + 1;
}

/** Points a name at a version (or at nothing) if `by` is newer than the write that set it; true when it did. */
function takePointer(st: Statements, tenant: string, name: string, version: number | null, origin: string | null, by: WriteStamp): boolean {
  const p = st.pointer.get(tenant, name);
  if (p !== null && compareStamps({ ms: p.stampMs, n: p.stampN }, p.stampOrigin, by.hlc, by.origin) >= 0) return false;
  st.setPointer.run(tenant, name, version, origin, by.hlc.ms, by.hlc.n, by.origin);
  return true;
}

/** Appends a version: blob, source, change-log row, version row, number, and the pointer if it is newest. */
export function appendVersion(st: Statements, tenant: string, name: string, v: NewVersion, by: WriteStamp): Appended {
  if (st.hasVersion.get(tenant, name, v.number, by.origin) !== null) {
    throw new StoreInputError("store-bad-argument", `Cannot store code "${shown(name)}": version ${v.number} from "${by.origin}" exists already`);
  }
  if (v.encoded !== null) st.insertBlob.run(v.content.hash, v.encoded);
  st.insertSource.run(v.content.sourceHash, v.content.source);
  const op = v.op === "rollback" ? "rollback" : "put";
  const seq = Number(st.insertChange.run(tenant, name, op, v.number, by.author, by.origin, by.hlc.ms).lastInsertRowid);
  const c = v.content;
  st.insertVersion.run(tenant, name, v.number, c.hash, c.sourceHash, c.kind, c.meta, by.author, by.origin, by.hlc.ms, seq, by.hlc.ms, by.hlc.n, v.op, by.entrySeq);
  st.bumpNumber.run(tenant, name, v.number);
  const current = takePointer(st, tenant, name, v.number, by.origin, by);
  const version: CodeVersion = { tenant, name, version: v.number, hash: c.hash, kind: c.kind, meta: JSON.parse(c.meta) as CodeMeta, source: c.source, author: by.author, origin: by.origin, createdAt: by.hlc.ms, seq, hlc: by.hlc, op: v.op };
  return { version, change: { seq, tenant, name, op, version: v.number, author: by.author, origin: by.origin, at: by.hlc.ms }, current };
}

/** A version named by its number, and by its origin when several versions share the number. */
export interface VersionRef {
  readonly number: number;
  readonly origin?: string;
}

/** The text of a version's name for messages: `3`, or `3@web-2` when the origin is given. */
export function refText(ref: VersionRef): string {
  return ref.origin === undefined ? String(ref.number) : `${ref.number}@${ref.origin}`;
}

/** One version of a name by reference; throws StoreNotFoundError (or StoreInputError when ambiguous). */
export function versionByRef(st: Statements, tenant: string, name: string, ref: VersionRef, action: string): CodeVersion {
  const rows = st.versionsNumbered.all(tenant, name, ref.number).filter((r) => ref.origin === undefined || r.origin === ref.origin);
  if (rows.length === 0) {
    const high = one(st.highNumber.get(tenant, name)).high;
    throw new StoreNotFoundError(`${action}: there is no version ${refText(ref)} (versions are 1 to ${high})`);
  }
  if (rows.length > 1) {
    throw new StoreInputError("store-bad-argument", `${action}: version ${ref.number} is ambiguous, it was written on ${rows.length} nodes at once: name one of ${rows.map((r) => `${r.version}@${r.origin}`).join(", ")}`);
  }
  return toVersion(rows[0]!);
}

/**
 * The version a rollback copies. With `to`: that version. Without: the version before the current
 * one in history order, or, for removed code, the last version (so a rollback undoes a removal).
 */
export function rollbackTarget(st: Statements, tenant: string, name: string, to: VersionRef | undefined): CodeVersion {
  const action = `Cannot roll back "${shown(name)}"`;
  const pointer = st.pointer.get(tenant, name);
  const history = st.history.all(tenant, name);
  if (pointer === null || history.length === 0) throw new StoreNotFoundError(`${action}: no code of that name in tenant "${tenant}"`);
  if (to !== undefined) {
    const target = versionByRef(st, tenant, name, to, action);
    if (target.version === pointer.version && target.origin === pointer.origin) throw new NothingToRollBackError(`${action} to version ${refText(to)}: it is the current version`);
    return target;
  }
  if (pointer.version === null) return toVersion(history[history.length - 1]!);
  const i = history.findIndex((r) => r.version === pointer.version && r.origin === pointer.origin);
  if (i <= 0) throw new NothingToRollBackError(`${action}: there is no version before version ${pointer.version}`);
  return toVersion(history[i - 1]!);
}

/** The content of a stored version, as a new version would copy it. */
export function contentOf(v: CodeVersion): VersionContent {
  return { hash: v.hash, sourceHash: sha256Hex(v.source), source: v.source, kind: v.kind, meta: JSON.stringify(v.meta) };
}

/**
 * Removes a name if `by` is newer than the write that set it. `strict` (a local `sup code rm`)
 * refuses when there is nothing current to remove; a replicated removal is applied whatever this
 * store holds, so a removal that arrives before the put it follows still wins over it.
 */
export function removeIn(st: Statements, tenant: string, name: string, by: WriteStamp, strict: boolean): { change: Change; current: boolean } {
  const pointer = st.pointer.get(tenant, name);
  if (strict && (pointer === null || pointer.version === null)) {
    const why = pointer === null ? `no code of that name in tenant "${tenant}"` : "it is already removed";
    throw new StoreNotFoundError(`Cannot remove "${shown(name)}": ${why}`);
  }
  const version = pointer?.version ?? 0;
  const seq = Number(st.insertChange.run(tenant, name, "rm", version, by.author, by.origin, by.hlc.ms).lastInsertRowid);
  const current = takePointer(st, tenant, name, null, null, by);
  return { change: { seq, tenant, name, op: "rm", version, author: by.author, origin: by.origin, at: by.hlc.ms }, current };
}

/** Inserts a job run and drops the job's runs beyond the newest JOB_RUNS_KEPT. */
export function jobRunIn(st: Statements, tenant: string, name: string, run: JobRun): void {
  const result = run.result === undefined ? null : cutText(run.result, JOB_RUN_TEXT_BYTES_MAX);
  const error = run.error === undefined ? null : cutText(run.error, JOB_RUN_TEXT_BYTES_MAX);
  st.insertJobRun.run(tenant, name, run.at, run.durationMs, run.ok ? 1 : 0, result, error);
  st.trimJobRuns.run(tenant, name, JOB_RUNS_KEPT);
}
