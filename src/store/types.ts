/**
 * The records the store reads and writes. Plain readonly data: every value here is a copy of what
 * is committed, so a caller can keep it or send it anywhere without touching the database again.
 */
import type { Value } from "../lang/value.ts";

/** What a code name designates: an HTTP route, a background job, or a module other code imports. */
export type CodeKind = "route" | "job" | "module";

/** Every code kind, in a fixed order (for validation and listings). */
export const CODE_KINDS: readonly CodeKind[] = ["route", "job", "module"];

/** Per-version settings kept beside the code as a JSON object, e.g. `{ "budgetSteps": 10000 }`. */
export type CodeMeta = { readonly [key: string]: unknown };

/** One stored version of one name: the program's hash and source plus who wrote it, where and when. */
export interface CodeVersion {
  readonly tenant: string;
  readonly name: string;
  /** 1, 2, 3… per (tenant, name); never reused, never deleted. */
  readonly version: number;
  /** sha256 hex of the codec encoding of the program value. */
  readonly hash: string;
  readonly kind: CodeKind;
  readonly meta: CodeMeta;
  /** The program text as written. */
  readonly source: string;
  readonly author: string;
  /** Id of the node where the change was made. */
  readonly origin: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** The change-log sequence of the change that made this version. */
  readonly seq: number;
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
