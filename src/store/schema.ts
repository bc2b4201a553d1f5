/**
 * The store's tables and their migrations. The schema version lives in the `schema_version`
 * setting; `PRAGMA application_id` marks the file as a sup store, so another application's SQLite
 * file is refused instead of being migrated. Migrations only ever append: version N's SQL is never
 * edited once released, and opening runs every migration above the file's version in order.
 */
import type { Database } from "bun:sqlite";
import { StoreOpenError } from "./errors.ts";

/** The schema version this build writes. */
export const SCHEMA_VERSION = 1;

/** `PRAGMA application_id` of a sup store: the bytes "sup1" (0x73757031). */
export const APPLICATION_ID = 0x73757031;

/** The settings key holding the schema version. */
export const SCHEMA_VERSION_KEY = "schema_version";

/** One step of the schema: the SQL that takes a store from `version - 1` to `version`. */
interface Migration {
  readonly version: number;
  readonly sql: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE settings (
        key   TEXT NOT NULL PRIMARY KEY,
        value TEXT NOT NULL                          -- JSON
      ) WITHOUT ROWID;

      -- Program values by content: the same program is stored once, whatever its name or version.
      -- Rowid tables (not WITHOUT ROWID) for blobs and sources, because their rows can be large.
      CREATE TABLE blobs (
        hash    TEXT NOT NULL PRIMARY KEY,           -- sha256 hex of encoded
        encoded BLOB NOT NULL                        -- codec encoding (docs/codec.md)
      );

      -- Source texts by content. Kept apart from blobs because two sources can parse to the same
      -- program (they differ in comments or spacing), and each version shows the text it was given.
      CREATE TABLE sources (
        hash TEXT NOT NULL PRIMARY KEY,              -- sha256 hex of the UTF-8 text
        text TEXT NOT NULL
      );

      -- The change log. AUTOINCREMENT so a sequence number is never reused, even if the newest
      -- rows were ever deleted: replicas and caches may hold on to any seq they have seen.
      CREATE TABLE changes (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant  TEXT NOT NULL,
        name    TEXT NOT NULL,
        op      TEXT NOT NULL CHECK (op IN ('put', 'rollback', 'rm')),
        version INTEGER NOT NULL,
        author  TEXT NOT NULL,
        origin  TEXT NOT NULL,
        at      INTEGER NOT NULL
      );

      CREATE TABLE versions (
        tenant      TEXT NOT NULL,
        name        TEXT NOT NULL,
        version     INTEGER NOT NULL CHECK (version >= 1),
        hash        TEXT NOT NULL REFERENCES blobs (hash),
        source_hash TEXT NOT NULL REFERENCES sources (hash),
        kind        TEXT NOT NULL CHECK (kind IN ('route', 'job', 'module')),
        meta        TEXT NOT NULL,                   -- JSON object
        author      TEXT NOT NULL,
        origin      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        seq         INTEGER NOT NULL UNIQUE REFERENCES changes (seq),
        PRIMARY KEY (tenant, name, version)
      );

      -- The current version of each name; NULL once removed (its versions stay).
      CREATE TABLE names (
        tenant  TEXT NOT NULL,
        name    TEXT NOT NULL,
        version INTEGER,
        PRIMARY KEY (tenant, name),
        FOREIGN KEY (tenant, name, version) REFERENCES versions (tenant, name, version)
      ) WITHOUT ROWID;

      CREATE TABLE job_runs (
        id          INTEGER PRIMARY KEY,
        tenant      TEXT NOT NULL,
        name        TEXT NOT NULL,
        at          INTEGER NOT NULL,
        duration_ms REAL NOT NULL,
        ok          INTEGER NOT NULL CHECK (ok IN (0, 1)),
        result      TEXT,
        error       TEXT
      );
      CREATE INDEX job_runs_by_job ON job_runs (tenant, name, id);

      -- Tenant key-value data: (tenant, store, key) -> codec bytes.
      CREATE TABLE kv (
        tenant TEXT NOT NULL,
        store  TEXT NOT NULL,
        key    TEXT NOT NULL,
        value  BLOB NOT NULL,
        PRIMARY KEY (tenant, store, key)
      );
    `,
  },
];

/**
 * The schema version of an open database: 0 for a new, empty file. Throws StoreOpenError for
 * another application's file. Only reads, so a foreign file is refused before anything writes.
 */
export function schemaVersionOf(db: Database, path: string): number {
  const appId = db.query<{ application_id: number }, []>("PRAGMA application_id").get()?.application_id ?? 0;
  if (appId !== APPLICATION_ID) {
    const tables = db.query<{ n: number }, []>("SELECT count(*) AS n FROM sqlite_schema").get()?.n ?? 0;
    if (appId === 0 && tables === 0) return 0;
    throw new StoreOpenError("store-not-sup", path, `the file is an SQLite database of another application (application_id ${appId}, ${tables} schema objects)`);
  }
  const row = db.query<{ value: string }, [string]>("SELECT value FROM settings WHERE key = ?").get(SCHEMA_VERSION_KEY);
  let version: unknown;
  try {
    version = row === null ? undefined : JSON.parse(row.value);
  } catch {
    version = undefined; // Reported below with the text that failed to parse.
  }
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    throw new StoreOpenError("store-corrupt", path, `the schema version setting is missing or invalid (${row?.value ?? "absent"})`);
  }
  return version;
}

/** Creates or upgrades the schema of `db` to SCHEMA_VERSION; throws StoreOpenError when it cannot. */
export function migrate(db: Database, path: string): void {
  if (schemaVersionOf(db, path) === SCHEMA_VERSION) return;
  // Re-read the version under the write lock: another process may have migrated meanwhile.
  db.transaction(() => {
    const from = schemaVersionOf(db, path);
    if (from > SCHEMA_VERSION) {
      throw new StoreOpenError("store-schema-too-new", path, `its schema version ${from} is newer than this sup's (${SCHEMA_VERSION}); upgrade sup`);
    }
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      db.run(m.sql);
      db.run("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [SCHEMA_VERSION_KEY, String(m.version)]);
    }
    db.run(`PRAGMA application_id = ${APPLICATION_ID}`);
  }).immediate();
}
