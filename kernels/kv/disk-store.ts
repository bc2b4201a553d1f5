/**
 * The persistent `kv` store: the canonical codec encoding of each value in an SQLite database
 * `<dir>/kv.sqlite` (WAL journal, table `kv`: key TEXT PRIMARY KEY → value BLOB).
 *
 * Writes are group-committed: the first write opens a transaction that is committed as soon as the
 * current synchronous job ends (a microtask), after BATCH_WRITES_MAX writes, when a batch is older
 * than BATCH_AGE_MS_MAX, when the store closes, and when the process exits (the `exit` event, which
 * fires on `process.exit` and on uncaught errors). So a value acknowledged by `set` survives the
 * process ending normally, while 15,000 sets cost a handful of commits instead of 15,000. A crash
 * or a kill signal can lose the open batch, as can a backend failure (disk full) that makes SQLite
 * roll it back.
 *
 * One connection per database file is shared by every kernel instance in the process, so runtimes
 * that open the same store see each other's uncommitted writes and never wait on each other's lock.
 */
import { Database, type Statement } from "bun:sqlite";
import { mkdirSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { decodeValue, encodeValue, log, type KvStore, type StoreRead, type Value } from "sup/kernel";

/** File name of the database inside a disk store's directory. */
export const DISK_STORE_FILE = "kv.sqlite";

/** Writes per transaction at most: bounds what a crash can lose and how long the write lock is held. */
export const BATCH_WRITES_MAX = 1000;

/** Age of an open batch after which the next write commits it, so a steady writer still commits often. */
export const BATCH_AGE_MS_MAX = 100;

/** The clock batches are aged by; tests replace `nowMs` to make batch boundaries deterministic. */
export const batchClock = { nowMs: (): number => performance.now() };

/** How long a write waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 5000;

/** An open database file with its prepared statements and write batch. */
class Connection {
  readonly qGet: Statement;
  readonly qSet: Statement;
  readonly qSetNx: Statement;
  readonly qDel: Statement;
  readonly qCas: Statement;
  users = 0;
  private closed = false;
  private batchWrites = 0;
  private batchStartMs = 0;
  private readonly commitLater = () => this.commit();

  constructor(readonly db: Database) {
    db.exec("PRAGMA journal_mode=WAL");
    // With WAL, NORMAL syncs only at checkpoints: commits survive a process exit, not a power loss.
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec(`PRAGMA busy_timeout=${BUSY_TIMEOUT_MS}`);
    db.exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL) WITHOUT ROWID");
    this.qGet = db.prepare("SELECT value FROM kv WHERE key = ?1");
    this.qSet = db.prepare("INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    this.qSetNx = db.prepare("INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING");
    this.qDel = db.prepare("DELETE FROM kv WHERE key = ?1");
    this.qCas = db.prepare("UPDATE kv SET value = ?3 WHERE key = ?1 AND value = ?2");
  }

  /** Runs one write statement inside the current batch → rows changed. */
  write(q: Statement, ...params: (string | Uint8Array)[]): number {
    if (!this.db.inTransaction) {
      this.db.exec("BEGIN IMMEDIATE");
      this.batchWrites = 0;
      this.batchStartMs = batchClock.nowMs();
      queueMicrotask(this.commitLater);
    }
    const changes = q.run(...params).changes;
    this.batchWrites++;
    if (this.batchWrites >= BATCH_WRITES_MAX || batchClock.nowMs() - this.batchStartMs >= BATCH_AGE_MS_MAX) this.commit();
    return changes;
  }

  /** Commits the open batch, if any. Runs from microtasks and the exit hook, so it never throws. */
  commit(): void {
    // A batch's microtask can run after the store closed (close committed it already).
    if (this.closed || !this.db.inTransaction) return;
    try {
      this.db.exec("COMMIT");
    } catch (e) {
      log("error", "kv disk store lost a batch of writes", { file: this.db.filename, error: String(e) });
      try {
        this.db.exec("ROLLBACK");
      } catch {
        // Already rolled back by SQLite.
      }
    }
  }

  close(): void {
    this.commit();
    this.closed = true;
    for (const q of [this.qGet, this.qSet, this.qSetNx, this.qDel, this.qCas]) q.finalize();
    this.db.close();
  }
}

/** Open connections by the real path of their directory. */
const connections = new Map<string, Connection>();
let exitHookInstalled = false;

function commitAll(): void {
  for (const c of connections.values()) c.commit();
}

/** Opens (or shares) the connection for a store directory; throws when it cannot be used. */
function acquire(dir: string): { readonly c: Connection; readonly real: string } {
  mkdirSync(dir, { recursive: true });
  const real = realpathSync(dir);
  let c = connections.get(real);
  if (c === undefined) {
    const db = new Database(join(real, DISK_STORE_FILE), { create: true, strict: true });
    try {
      c = new Connection(db);
    } catch (e) {
      db.close();
      throw e;
    }
    connections.set(real, c);
    if (!exitHookInstalled) {
      process.on("exit", commitAll);
      exitHookInstalled = true;
    }
  }
  c.users++;
  return { c, real };
}

/** A disk store as one kernel instance sees it. */
export class DiskStore implements KvStore {
  private readonly c: Connection;
  private readonly real: string;
  private closed = false;

  /** Opens or creates the store in directory dir (created with its parents). */
  constructor(dir: string) {
    ({ c: this.c, real: this.real } = acquire(dir));
  }

  get(key: string): StoreRead {
    const rows = this.c.qGet.values(key);
    if (rows.length === 0) return { kind: "missing" };
    const blob = rows[0]![0];
    // Anything but a blob was not written by this store (e.g. a hand-edited database).
    if (!(blob instanceof Uint8Array)) return { kind: "corrupt" };
    const r = decodeValue(blob);
    return r.ok ? { kind: "value", value: r.value } : { kind: "corrupt" };
  }
  set(key: string, v: Value): boolean {
    return this.c.write(this.c.qSet, key, encodeValue(v)) === 1;
  }
  setIfAbsent(key: string, v: Value): boolean {
    return this.c.write(this.c.qSetNx, key, encodeValue(v)) === 1;
  }
  delete(key: string): boolean {
    // The original's disk store (RocksDB) treats deleting a missing key as success.
    this.c.write(this.c.qDel, key);
    return true;
  }
  compareAndSwap(key: string, expected: Value, next: Value): boolean {
    // Canonical encodings are equal exactly when the values are structurally equal (an aberrant
    // literal keeps only its inner object in the encoding, so there it compares by contents).
    return this.c.write(this.c.qCas, key, encodeValue(expected), encodeValue(next)) === 1;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (--this.c.users > 0) {
      this.c.commit();
      return;
    }
    connections.delete(this.real);
    this.c.close();
  }
}
