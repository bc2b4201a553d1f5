/**
 * Opening the SQLite database behind a store: the data directory, the connection settings that
 * make acknowledged writes durable, and the schema. Every failure becomes a StoreOpenError that
 * names the path; a half-opened connection is always closed.
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { openFailure, StoreOpenError } from "./errors.ts";
import { BUSY_TIMEOUT_MS } from "./limits.ts";
import { migrate, schemaVersionOf } from "./schema.ts";

/** The path that opens a private in-memory store (for tests and throwaway nodes). */
export const MEMORY_PATH = ":memory:";

/** Sets the connection up: a busy timeout, WAL, FULL sync, foreign keys. */
function configure(db: Database, path: string): void {
  // First, so that even the first read waits for another connection's lock instead of failing.
  db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // Before anything writes (switching to WAL rewrites the file header): refuse foreign files.
  schemaVersionOf(db, path);
  // WAL lets readers run during a write and keeps a crash mid-commit from touching committed data.
  const mode = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode = WAL").get()?.journal_mode;
  if (path !== MEMORY_PATH && mode !== "wal") {
    throw new StoreOpenError("store-open-failed", path, `SQLite cannot use WAL mode here (journal mode stays "${mode}")`);
  }
  // FULL: a commit returns only after the WAL is synced, so an acknowledged write survives a crash
  // or power loss (NORMAL in WAL mode may lose the last commits on power loss).
  db.run("PRAGMA synchronous = FULL");
  db.run("PRAGMA foreign_keys = ON");
}

/** Opens (creating if needed) the store database at `path` with its schema up to date. */
export function openDatabase(path: string): Database {
  if (path !== MEMORY_PATH) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (e) {
      throw new StoreOpenError("store-open-failed", path, `cannot create its directory: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  // SQLite says only "unable to open database file" for a directory in the database's place.
  if (path !== MEMORY_PATH && existsSync(path) && statSync(path).isDirectory()) throw new StoreOpenError("store-open-failed", path, "it is a directory, not a database file");
  let db: Database;
  try {
    db = new Database(path, { create: true, readwrite: true, strict: true });
  } catch (e) {
    throw openFailure(e, path);
  }
  try {
    configure(db, path);
    migrate(db, path);
    return db;
  } catch (e) {
    db.close();
    throw openFailure(e, path);
  }
}
