/**
 * The Store: a node's code, change log, settings, job runs and kv data in one SQLite database.
 * Every write is one transaction, committed with synchronous=FULL before the call returns; change
 * listeners run after the commit.
 */
import type { Database } from "bun:sqlite";
import { encode } from "../lang/codec.ts";
import { openFailure, StoreInputError, StoreIoError, StoreLimitError, storeFailure } from "./errors.ts";
import {
  AUTHOR_BYTES_MAX,
  KV_KEY_BYTES_MAX,
  KV_VALUE_BYTES_MAX,
  SETTING_JSON_BYTES_MAX,
  SETTING_KEY_BYTES_MAX,
  SOURCE_BYTES_MAX,
} from "./limits.ts";
import { openDatabase } from "./open.ts";
import { SCHEMA_VERSION_KEY } from "./schema.ts";
import { EntryLog, newestStamp } from "./entry-log.ts";
import { prepareEntryStatements } from "./entry-statements.ts";
import { HybridClock } from "./hlc.ts";
import { one, sha256Hex, toChange, toVersion } from "./rows.ts";
import { prepareStatements, type Statements } from "./statements.ts";
import type { Change, CodeKind, CodeVersion, JobRun, PutCodeInput, StoreOptions } from "./types.ts";
import { checkBytes, checkCodeName, checkInteger, checkTenant, metaJson, shown } from "./validate.ts";
import { appendVersion, contentOf, jobRunIn, nextNumberIn, removeIn, rollbackTarget, versionByRef, type VersionContent, type VersionRef, type WriteStamp } from "./writes.ts";

/** The tenant of code written without one. */
export const DEFAULT_TENANT = "default";
/** The origin recorded for changes made on this node when the caller gives none. */
export const LOCAL_ORIGIN = "local";
/** The author recorded for rollbacks and removals when the caller gives none. */
export const DEFAULT_AUTHOR = "sup";

/** A node's SQLite store (docs/node.md): content-addressed code versions, change log, settings. */
export class Store {
  private readonly st: Statements;
  private readonly now: () => number;
  private readonly listeners = new Set<{ readonly fn: (c: Change) => void }>();
  private lastSeq: number;
  private closed = false;
  private readonly txWrite: <T>(fn: () => T) => T;
  private readonly txJobRun: typeof jobRunIn;
  private readonly clock: HybridClock;
  /** The change-log entries replication reads and writes (docs/cluster.md). */
  readonly log: EntryLog;

  private constructor(
    private readonly db: Database,
    /** The database file (or ":memory:"). */
    readonly path: string,
    options: StoreOptions,
  ) {
    this.st = prepareStatements(db);
    this.now = options.now ?? Date.now;
    this.lastSeq = one(this.st.lastSeq.get()).seq;
    // IMMEDIATE: take the write lock at BEGIN, so a transaction never fails half-way with
    // SQLITE_BUSY when it upgrades from reading to writing while another connection writes.
    this.txWrite = db.transaction(<T>(fn: () => T): T => fn()).immediate as <T>(fn: () => T) => T;
    this.txJobRun = db.transaction(jobRunIn).immediate;
    const est = prepareEntryStatements(db);
    this.clock = new HybridClock(newestStamp(this.st, est));
    this.log = new EntryLog({
      db,
      st: this.st,
      est,
      clock: this.clock,
      now: this.now,
      guard: (action, fn) => this.guard(action, fn),
      publish: (c) => this.publish(c),
      relaxed: (write) => this.relaxed(write),
    });
  }

  /** Opens or creates the store at `path` (":memory:" for a private one); StoreOpenError on failure. */
  static open(path: string, options: StoreOptions = {}): Store {
    const db = openDatabase(path);
    try {
      return new Store(db, path, options);
    } catch (e) {
      // Preparing statements and reading the log are the first reads of most pages.
      db.close();
      throw openFailure(e, path);
    }
  }

  /** The latest change sequence this store knows: read at open, then bumped by each write made
   * through it (another connection's writes show in changesSince, not here). */
  get seq(): number {
    return this.lastSeq;
  }

  /** Stores a new version of a name: blob, version, name pointer and change in one transaction. */
  putCode(input: PutCodeInput): CodeVersion {
    const tenant = input.tenant ?? DEFAULT_TENANT;
    const origin = input.origin ?? LOCAL_ORIGIN;
    const action = `Cannot store code "${shown(input.name)}"`;
    checkTenant(action, tenant);
    checkCodeName(action, input.name, input.kind);
    checkBytes(action, "source", input.source, SOURCE_BYTES_MAX);
    checkBytes(action, "author", input.author, AUTHOR_BYTES_MAX);
    checkBytes(action, "origin", origin, AUTHOR_BYTES_MAX);
    const meta = metaJson(action, input.meta);
    const encoded = encode(input.program);
    const content: VersionContent = { hash: sha256Hex(encoded), sourceHash: sha256Hex(input.source), source: input.source, kind: input.kind, meta };
    const a = this.guard(action, () =>
      this.txWrite(() =>
        appendVersion(this.st, tenant, input.name, { number: nextNumberIn(this.st, tenant, input.name), op: "put", content, encoded }, input.stamp === undefined ? this.by(input.author, origin) : { author: input.author, origin, hlc: input.stamp, entrySeq: null }),
      ),
    );
    this.publish(a.change);
    return a.version;
  }

  /**
   * A version of a name: the current one when `version` is omitted; null when there is none. Of
   * versions sharing a number (written on two nodes at once) it gives the one with `origin`, or
   * without `origin` the newest.
   */
  getCode(tenant: string, name: string, version?: number, origin?: string): CodeVersion | null {
    const row = this.guard(`Cannot read code "${shown(name)}"`, () => {
      if (version === undefined) return this.st.current.get(tenant, name);
      if (origin !== undefined) return this.st.versionOf.get(tenant, name, version, origin);
      return this.st.versionsNumbered.get(tenant, name, version);
    });
    return row === null ? null : toVersion(row);
  }

  /** Every version of a name with this number: one, or several written on different nodes at once. */
  versionsNumbered(tenant: string, name: string, version: number): CodeVersion[] {
    return this.guard(`Cannot read code "${shown(name)}"`, () => this.st.versionsNumbered.all(tenant, name, version)).map(toVersion);
  }

  /** The current versions of all names, by tenant then name; optionally of one tenant or kind. */
  listCode(tenant?: string, kind?: CodeKind): CodeVersion[] {
    return this.guard("Cannot list code", () => this.st.listCurrent.all(tenant ?? null, kind ?? null)).map(toVersion);
  }

  /** Every version of a name in (HLC, origin) order, oldest first (also after removal); empty for an unknown name. */
  history(tenant: string, name: string): CodeVersion[] {
    return this.guard(`Cannot read the history of "${shown(name)}"`, () => this.st.history.all(tenant, name)).map(toVersion);
  }

  /**
   * The version a rollback would copy: `to` (a number, with its origin when several versions share
   * it), or without `to` the version before the current one, or, for removed code, the last one.
   * Throws StoreNotFoundError, NothingToRollBackError, or StoreInputError when `to` is ambiguous.
   */
  rollbackTarget(tenant: string, name: string, to?: number | VersionRef): CodeVersion {
    const action = `Cannot roll back "${shown(name)}"`;
    checkTenant(action, tenant);
    const ref = typeof to === "number" ? { number: to } : to;
    if (ref !== undefined) checkInteger(action, "version", ref.number, 1);
    return this.guard(action, () => rollbackTarget(this.st, tenant, name, ref));
  }

  /** One version by number (and origin when several share it); throws StoreNotFoundError or, when ambiguous, StoreInputError. */
  versionByRef(tenant: string, name: string, ref: VersionRef): CodeVersion {
    const action = `Cannot read code "${shown(name)}"`;
    checkInteger(action, "version", ref.number, 1);
    return this.guard(action, () => versionByRef(this.st, tenant, name, ref, action));
  }

  /**
   * Makes a new version that copies the program, kind and meta of version `to` (see rollbackTarget),
   * as a local write (no change-log entry; a node in a cluster writes through its replication).
   */
  rollback(tenant: string, name: string, to?: number | VersionRef, author: string = DEFAULT_AUTHOR, origin: string = LOCAL_ORIGIN): CodeVersion {
    const action = `Cannot roll back "${shown(name)}"`;
    checkTenant(action, tenant);
    checkBytes(action, "author", author, AUTHOR_BYTES_MAX);
    checkBytes(action, "origin", origin, AUTHOR_BYTES_MAX);
    const ref = typeof to === "number" ? { number: to } : to;
    if (ref !== undefined) checkInteger(action, "version", ref.number, 1);
    const a = this.guard(action, () =>
      this.txWrite(() => {
        const target = rollbackTarget(this.st, tenant, name, ref);
        return appendVersion(this.st, tenant, name, { number: nextNumberIn(this.st, tenant, name), op: "rollback", content: contentOf(target), encoded: null }, this.by(author, origin));
      }),
    );
    this.publish(a.change);
    return a.version;
  }

  /** Removes a name (its pointer becomes NULL) as a local write; its versions and history stay. */
  removeCode(tenant: string, name: string, author: string = DEFAULT_AUTHOR, origin: string = LOCAL_ORIGIN): void {
    const action = `Cannot remove "${shown(name)}"`;
    checkTenant(action, tenant);
    checkBytes(action, "author", author, AUTHOR_BYTES_MAX);
    checkBytes(action, "origin", origin, AUTHOR_BYTES_MAX);
    this.publish(this.guard(action, () => this.txWrite(() => removeIn(this.st, tenant, name, this.by(author, origin), true))).change);
  }

  /** The changes after sequence `seq`, oldest first; at most `limit` of them when given. */
  changesSince(seq: number, limit?: number): Change[] {
    const action = "Cannot read the change log";
    checkInteger(action, "sequence", seq, 0);
    if (limit !== undefined) checkInteger(action, "limit", limit, 0);
    // LIMIT -1 is SQLite's "no limit".
    return this.guard(action, () => this.st.changesSince.all(seq, limit ?? -1)).map(toChange);
  }

  /** Calls `listener` after each change committed through this store object; returns an unsubscribe. */
  onChange(listener: (c: Change) => void): () => void {
    // A fresh entry per call, so one function subscribed twice is called twice and unsubscribes once.
    const entry = { fn: listener };
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  /** The codec bytes of a stored program, by hash; null when absent. */
  getEncoded(hash: string): Uint8Array | null {
    return this.guard(`Cannot read blob "${shown(hash)}"`, () => this.st.blob.get(hash))?.encoded ?? null;
  }

  /** A setting's JSON value, unchecked against `T`; undefined when unset. */
  getSetting<T>(key: string): T | undefined {
    const row = this.guard(`Cannot read setting "${shown(key)}"`, () => this.st.getSetting.get(key));
    return row === null ? undefined : (JSON.parse(row.value) as T);
  }

  /** Saves a setting as JSON (the schema version is the store's own and cannot be set). */
  putSetting(key: string, value: unknown): void {
    const action = `Cannot save setting "${shown(key)}"`;
    this.checkSettingKey(action, key);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (e) {
      throw new StoreInputError("store-bad-setting", `${action}: the value is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    // JSON.stringify returns undefined for undefined, functions and symbols: nothing to store.
    if (json === undefined) throw new StoreInputError("store-bad-setting", `${action}: the value is not JSON (${typeof value})`);
    checkBytes(action, "value", json, SETTING_JSON_BYTES_MAX);
    const text = json;
    this.guard(action, () => this.st.putSetting.run(key, text));
  }

  /** Deletes a setting; false when it was not set. */
  deleteSetting(key: string): boolean {
    const action = `Cannot delete setting "${shown(key)}"`;
    this.checkSettingKey(action, key);
    return this.guard(action, () => this.st.deleteSetting.run(key)).changes > 0;
  }

  /** Records a finished run of a job, keeping only its JOB_RUNS_KEPT newest runs. */
  recordJobRun(tenant: string, name: string, run: JobRun): void {
    const action = `Cannot record a run of "${shown(name)}"`;
    checkTenant(action, tenant);
    checkCodeName(action, name, "job");
    if (!Number.isFinite(run.at) || !Number.isFinite(run.durationMs)) {
      throw new StoreInputError("store-bad-argument", `${action}: time ${run.at} or duration ${run.durationMs} is not a finite number`);
    }
    this.guard(action, () => this.txJobRun(this.st, tenant, name, run));
  }

  /** The recorded runs of a job, oldest first (at most JOB_RUNS_KEPT). */
  jobRuns(tenant: string, name: string): JobRun[] {
    const rows = this.guard(`Cannot read the runs of "${shown(name)}"`, () => this.st.jobRuns.all(tenant, name));
    return rows.map((r) => ({
      at: r.at,
      durationMs: r.durationMs,
      ok: r.ok === 1,
      ...(r.result === null ? {} : { result: r.result }),
      ...(r.error === null ? {} : { error: r.error }),
    }));
  }

  /** A tenant's kv value (codec bytes); null when absent. */
  kvGet(tenant: string, store: string, key: string): Uint8Array | null {
    return this.guard(`Cannot read kv key "${shown(key)}"`, () => this.st.kvGet.get(tenant, store, key))?.value ?? null;
  }

  /** Sets a tenant's kv value. */
  kvSet(tenant: string, store: string, key: string, value: Uint8Array): void {
    const action = `Cannot set kv key "${shown(key)}"`;
    this.checkKvKey(action, tenant, store, key);
    if (value.byteLength > KV_VALUE_BYTES_MAX) throw new StoreLimitError(action, "value", value.byteLength, KV_VALUE_BYTES_MAX);
    this.guard(action, () => this.relaxed(() => this.st.kvSet.run(tenant, store, key, value)));
  }

  /** Deletes a tenant's kv value; false when it was absent. */
  kvDelete(tenant: string, store: string, key: string): boolean {
    const action = `Cannot delete kv key "${shown(key)}"`;
    this.checkKvKey(action, tenant, store, key);
    return this.guard(action, () => this.relaxed(() => this.st.kvDelete.run(tenant, store, key))).changes > 0;
  }

  /**
   * Runs a kv write with synchronous=NORMAL: in WAL mode the commit then skips its fsync, so it
   * survives the process dying (the OS has the bytes) but not a power loss, as the original's disk
   * store behaves. An fsync per kv write would cap a handler that writes at a few thousand a second;
   * code writes keep FULL, and the next one syncs every earlier kv commit with it.
   */
  private relaxed<T>(write: () => T): T {
    if (this.db.inTransaction) return write();
    this.st.syncNormal.run();
    try {
      return write();
    } finally {
      this.st.syncFull.run();
    }
  }

  /** Runs SQLite's integrity and foreign-key checks; returns the problems found (none: empty). */
  checkIntegrity(): string[] {
    return this.guard("Cannot check the store", () => {
      const problems = this.db
        .query<{ integrity_check: string }, []>("PRAGMA integrity_check")
        .all()
        .map((r) => r.integrity_check)
        .filter((m) => m !== "ok");
      for (const fk of this.db.query<{ table: string; rowid: number | null; parent: string }, []>("PRAGMA foreign_key_check").all()) {
        problems.push(`row ${fk.rowid} of ${fk.table} refers to a missing row of ${fk.parent}`);
      }
      return problems;
    });
  }

  /** Closes the database; later calls fail with "store-closed". Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    // throwOnError: finalize the prepared statements now, so the file is really closed on return.
    try {
      this.db.close(true);
    } catch (e) {
      throw storeFailure(e, this.path, `Cannot close store "${this.path}"`);
    }
  }

  /** Runs `fn`, turning SQLite failures into StoreIoErrors that say what was being done. */
  private guard<T>(action: string, fn: () => T): T {
    if (this.closed) throw new StoreIoError("store-closed", this.path, `${action}: store "${this.path}" is closed`);
    try {
      return fn();
    } catch (e) {
      throw storeFailure(e, this.path, action);
    }
  }

  /** Records a committed change and tells the listeners; a listener's error reaches the writer. */
  private publish(change: Change): void {
    this.lastSeq = change.seq;
    this.log.codeChanged();
    let failure: { readonly error: unknown } | null = null;
    // Every listener runs even if one throws; the first error is rethrown after the others, so a
    // broken listener is not hidden, and the write (already durable) is reported as it stands.
    for (const entry of [...this.listeners]) {
      try {
        entry.fn(change);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== null) throw failure.error;
  }

  /** Who is making a local change now, with a fresh HLC stamp. */
  private by(author: string, origin: string): WriteStamp {
    return { author, origin, hlc: this.clock.tick(this.now()), entrySeq: null };
  }

  private checkSettingKey(action: string, key: string): void {
    checkBytes(action, "key", key, SETTING_KEY_BYTES_MAX);
    if (key === SCHEMA_VERSION_KEY) throw new StoreInputError("store-bad-setting", `${action}: it belongs to the store itself`);
  }

  private checkKvKey(action: string, tenant: string, store: string, key: string): void {
    checkTenant(action, tenant);
    checkBytes(action, "store name", store, KV_KEY_BYTES_MAX);
    checkBytes(action, "key", key, KV_KEY_BYTES_MAX);
  }
}
