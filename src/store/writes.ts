/**
 * The bodies of the store's write transactions. Each runs inside one IMMEDIATE transaction opened
 * by Store, so either every row it writes is committed or none is; inputs are already validated.
 */
import { NothingToRollBackError, StoreNotFoundError } from "./errors.ts";
import { JOB_RUN_TEXT_BYTES_MAX, JOB_RUNS_KEPT } from "./limits.ts";
import { cutText, one } from "./rows.ts";
import type { Statements } from "./statements.ts";
import type { Change, ChangeOp, CodeKind, CodeMeta, CodeVersion, JobRun } from "./types.ts";
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

/** Who made a change, where and when. */
export interface ChangeAuthor {
  readonly author: string;
  readonly origin: string;
  readonly at: number;
}

/** Appends the next version of a name: source, change-log row, version row, name pointer. */
function appendVersion(st: Statements, tenant: string, name: string, op: ChangeOp, c: VersionContent, by: ChangeAuthor): CodeVersion {
  st.insertSource.run(c.sourceHash, c.source);
  const version = one(st.lastVersion.get(tenant, name)).last + 1;
  const seq = Number(st.insertChange.run(tenant, name, op, version, by.author, by.origin, by.at).lastInsertRowid);
  st.insertVersion.run(tenant, name, version, c.hash, c.sourceHash, c.kind, c.meta, by.author, by.origin, by.at, seq);
  st.setPointer.run(tenant, name, version);
  const meta = JSON.parse(c.meta) as CodeMeta;
  return { tenant, name, version, hash: c.hash, kind: c.kind, meta, source: c.source, author: by.author, origin: by.origin, createdAt: by.at, seq };
}

/** Stores a program's blob (once per hash) and appends a version pointing at it. */
export function putIn(st: Statements, tenant: string, name: string, c: VersionContent, encoded: Uint8Array, by: ChangeAuthor): CodeVersion {
  st.insertBlob.run(c.hash, encoded);
  return appendVersion(st, tenant, name, "put", c, by);
}

/**
 * Appends a copy of version `to`. Without `to`: the version before the current one, or, for
 * removed code, the version that was removed (so a rollback undoes a removal).
 */
export function rollbackIn(st: Statements, tenant: string, name: string, to: number | undefined, by: ChangeAuthor): CodeVersion {
  const action = `Cannot roll back "${shown(name)}"`;
  const pointer = st.pointer.get(tenant, name);
  if (pointer === null) throw new StoreNotFoundError(`${action}: no code of that name in tenant "${tenant}"`);
  // Rollbacks append, so the current version, when there is one, is always the last.
  const last = one(st.lastVersion.get(tenant, name)).last;
  let target: number;
  if (to !== undefined) {
    if (to > last) throw new StoreNotFoundError(`${action}: there is no version ${to} (versions are 1 to ${last})`);
    if (to === pointer.version) throw new NothingToRollBackError(`${action} to version ${to}: it is the current version`);
    target = to;
  } else if (pointer.version === null) {
    target = last;
  } else if (pointer.version === 1) {
    throw new NothingToRollBackError(`${action}: there is no version before version 1`);
  } else {
    target = pointer.version - 1;
  }
  const row = one(st.versionContent.get(tenant, name, target));
  const source = one(st.sourceText.get(row.sourceHash)).text;
  // The kind CHECK constraint guarantees the cast.
  return appendVersion(st, tenant, name, "rollback", { ...row, kind: row.kind as CodeKind, source }, by);
}

/** Clears a name's pointer and logs the removal of its current version. */
export function removeIn(st: Statements, tenant: string, name: string, by: ChangeAuthor): Change {
  const pointer = st.pointer.get(tenant, name);
  if (pointer === null || pointer.version === null) {
    const why = pointer === null ? `no code of that name in tenant "${tenant}"` : "it is already removed";
    throw new StoreNotFoundError(`Cannot remove "${shown(name)}": ${why}`);
  }
  const seq = Number(st.insertChange.run(tenant, name, "rm", pointer.version, by.author, by.origin, by.at).lastInsertRowid);
  st.setPointer.run(tenant, name, null);
  return { seq, tenant, name, op: "rm", version: pointer.version, author: by.author, origin: by.origin, at: by.at };
}

/** Inserts a job run and drops the job's runs beyond the newest JOB_RUNS_KEPT. */
export function jobRunIn(st: Statements, tenant: string, name: string, run: JobRun): void {
  const result = run.result === undefined ? null : cutText(run.result, JOB_RUN_TEXT_BYTES_MAX);
  const error = run.error === undefined ? null : cutText(run.error, JOB_RUN_TEXT_BYTES_MAX);
  st.insertJobRun.run(tenant, name, run.at, run.durationMs, run.ok ? 1 : 0, result, error);
  st.trimJobRuns.run(tenant, name, JOB_RUNS_KEPT);
}
