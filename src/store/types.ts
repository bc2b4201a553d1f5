/**
 * The records the store reads and writes. Plain readonly data: every value here is a copy of what
 * is committed, so a caller can keep it or send it anywhere without touching the database again.
 */
import type { Value } from "../lang/value.ts";
import type { Hlc } from "./hlc.ts";

/** What a code name designates: an HTTP route, a background job, or a module other code imports. */
export type CodeKind = "route" | "job" | "module";

/** Every code kind, in a fixed order (for validation and listings). */
export const CODE_KINDS: readonly CodeKind[] = ["route", "job", "module"];

/** Per-version settings kept beside the code as a JSON object, e.g. `{ "budgetSteps": 10000 }`. */
export type CodeMeta = { readonly [key: string]: unknown };

/** How a version was made: a new program, a copy of an earlier version, or a split of the current one. */
export type VersionOp = "put" | "rollback" | "split";

/** One stored version of one name: the program's hash and source plus who wrote it, where and when. */
export interface CodeVersion {
  readonly tenant: string;
  readonly name: string;
  /**
   * 1, 2, 3… per (tenant, name): one more than the highest number the writing node knew. Two nodes
   * writing at once can both make the same number; (version, origin) names a version everywhere.
   */
  readonly version: number;
  /** sha256 hex of the codec encoding of the program value. */
  readonly hash: string;
  readonly kind: CodeKind;
  readonly meta: CodeMeta;
  /** The program text as written. */
  readonly source: string;
  readonly author: string;
  /** The node where the change was made: its certificate name, or its node id when it has none. */
  readonly origin: string;
  /** Milliseconds since the epoch (the physical part of `hlc`: the origin's clock). */
  readonly createdAt: number;
  /** This store's change-log sequence of the change that made this version (local to the node). */
  readonly seq: number;
  /** The hybrid logical clock stamp of the write: history order and last-writer-wins use it. */
  readonly hlc: Hlc;
  readonly op: VersionOp;
}

/** What putCode stores; the caller has already parsed and checked `program` from `source`. */
export interface PutCodeInput {
  /** Defaults to "default". */
  readonly tenant?: string;
  readonly name: string;
  readonly kind: CodeKind;
  readonly source: string;
  readonly program: Value;
  /** Defaults to `{}`. */
  readonly meta?: CodeMeta;
  readonly author: string;
  /** Defaults to the store's local origin. */
  readonly origin?: string;
  /**
   * The HLC stamp to write with instead of a fresh one: seeded code (the welcome route) is written
   * at HLC_ZERO, below every real write, so code any node writes under the same name wins.
   */
  readonly stamp?: Hlc;
}

/** What a change did to a name: a new version, a new version copied from an old one, or removal. */
export type ChangeOp = "put" | "rollback" | "rm";

/** One entry of the change log; history, rollback and replication all read it. */
export interface Change {
  /** Position in the log: 1, 2, 3… with no gaps and no reuse. */
  readonly seq: number;
  readonly tenant: string;
  readonly name: string;
  readonly op: ChangeOp;
  /** The version made (`put`, `rollback`) or removed (`rm`). */
  readonly version: number;
  readonly author: string;
  readonly origin: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** One run of a background job, as recorded after it finished. */
export interface JobRun {
  /** Start time, milliseconds since the epoch. */
  readonly at: number;
  readonly durationMs: number;
  readonly ok: boolean;
  /** The printed value of a successful run (cut to JOB_RUN_TEXT_BYTES_MAX). */
  readonly result?: string;
  /** What went wrong in a failed run (cut to JOB_RUN_TEXT_BYTES_MAX). */
  readonly error?: string;
}

/** How to open a store. */
export interface StoreOptions {
  /** The clock for `createdAt` and `at`; tests pass a fake one. Defaults to Date.now. */
  readonly now?: () => number;
}
