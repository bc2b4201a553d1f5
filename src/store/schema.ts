/**
 * The store's tables and their migrations. The schema version lives in the `schema_version`
 * setting; `PRAGMA application_id` marks the file as a sup store, so another application's SQLite
 * file is refused instead of being migrated. Migrations only ever append: version N's SQL is never
 * edited once released, and opening runs every migration above the file's version in order.
 */
import type { Database } from "bun:sqlite";
import { StoreOpenError } from "./errors.ts";

/** The schema version this build writes. */
export const SCHEMA_VERSION = 2;

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
  {
    // Change-log replication (docs/cluster.md, "Change-log replication"). A version is named by
    // its number AND its origin: numbers are assigned where a version is written (one more than the
    // highest the writer knows), so two nodes writing at once may both make "version 3"; the pair
    // (number, origin) is the same on every node and never changes. The current version of a name
    // is decided by last-writer-wins on (HLC, origin), so every node holding the same writes has
    // the same current code whatever order they arrived in.
    version: 2,
    sql: `
      -- Certificates that signed entries, by the sha256 of their codec encoding (stored once).
      CREATE TABLE certificates (
        hash    TEXT NOT NULL PRIMARY KEY,
        name    TEXT NOT NULL,
        serial  TEXT NOT NULL,
        encoded BLOB NOT NULL                        -- codec encoding of (CERTIFICATE ROOT-SIGNATURE)
      );

      -- Every change-log entry this node holds, its own and every other origin's, applied or not.
      CREATE TABLE entries (
        origin      TEXT NOT NULL,                   -- certificate name (or node id when it has none)
        seq         INTEGER NOT NULL CHECK (seq >= 1), -- per origin: 1, 2, 3… with no gaps
        hlc_ms      INTEGER NOT NULL,                -- hybrid logical clock: physical part
        hlc_n       INTEGER NOT NULL,                -- and counter
        kind        TEXT NOT NULL,
        target      TEXT,                            -- selector text; NULL: every node
        hash        TEXT NOT NULL,                   -- sha256 hex of encoded
        encoded     BLOB NOT NULL,                   -- the entry's codec encoding: what was signed
        signature   BLOB,                            -- NULL: a local entry of a node without identity
        cert        TEXT REFERENCES certificates (hash),
        blob        TEXT,                            -- the source it needs (a code put), by hash
        received_at INTEGER NOT NULL,
        result      TEXT NOT NULL,                   -- applied | skipped | error: DETAIL
        PRIMARY KEY (origin, seq)
      );

      -- The highest version number of each name seen in any entry, applied here or not, so the
      -- next number a writer picks is above every number any origin used that it knows of.
      CREATE TABLE code_numbers (
        tenant TEXT NOT NULL,
        name   TEXT NOT NULL,
        high   INTEGER NOT NULL,
        PRIMARY KEY (tenant, name)
      ) WITHOUT ROWID;

      CREATE TABLE versions_v2 (
        tenant      TEXT NOT NULL,
        name        TEXT NOT NULL,
        version     INTEGER NOT NULL CHECK (version >= 1),
        origin      TEXT NOT NULL,
        hash        TEXT NOT NULL REFERENCES blobs (hash),
        source_hash TEXT NOT NULL REFERENCES sources (hash),
        kind        TEXT NOT NULL CHECK (kind IN ('route', 'job', 'module')),
        meta        TEXT NOT NULL,
        author      TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        seq         INTEGER NOT NULL UNIQUE REFERENCES changes (seq),
        hlc_ms      INTEGER NOT NULL,
        hlc_n       INTEGER NOT NULL,
        op          TEXT NOT NULL CHECK (op IN ('put', 'rollback', 'split')),
        entry_seq   INTEGER,                         -- the entry (origin, entry_seq) that made it
        PRIMARY KEY (tenant, name, version, origin)
      );
      -- Versions written before this migration are local: hlc = (created_at, version) keeps their order.
      INSERT INTO versions_v2
        SELECT v.tenant, v.name, v.version, v.origin, v.hash, v.source_hash, v.kind, v.meta, v.author, v.created_at, v.seq,
               v.created_at, v.version, CASE c.op WHEN 'rollback' THEN 'rollback' ELSE 'put' END, NULL
        FROM versions v JOIN changes c ON c.seq = v.seq;

      -- The current version of each name (NULL, NULL once removed) and the (HLC, origin) stamp of
      -- the write that decided it: a put or rm with a newer stamp takes the name, an older one only
      -- joins its history.
      CREATE TABLE names_v2 (
        tenant       TEXT NOT NULL,
        name         TEXT NOT NULL,
        version      INTEGER,
        origin       TEXT,
        stamp_ms     INTEGER NOT NULL,
        stamp_n      INTEGER NOT NULL,
        stamp_origin TEXT NOT NULL,
        PRIMARY KEY (tenant, name),
        FOREIGN KEY (tenant, name, version, origin) REFERENCES versions_v2 (tenant, name, version, origin)
      ) WITHOUT ROWID;
      INSERT INTO names_v2
        SELECT n.tenant, n.name, n.version, v.origin,
               coalesce(v.hlc_ms, c.at), coalesce(v.hlc_n, (SELECT max(version) FROM versions_v2 w WHERE w.tenant = n.tenant AND w.name = n.name) + 1),
               coalesce(v.origin, c.origin)
        FROM names n
        LEFT JOIN versions_v2 v ON v.tenant = n.tenant AND v.name = n.name AND v.version = n.version
        LEFT JOIN changes c ON c.seq = (SELECT max(seq) FROM changes d WHERE d.tenant = n.tenant AND d.name = n.name);

      DROP TABLE names;
      DROP TABLE versions;
      ALTER TABLE versions_v2 RENAME TO versions;
      ALTER TABLE names_v2 RENAME TO names;
      CREATE INDEX versions_by_hlc ON versions (tenant, name, hlc_ms, hlc_n, origin);
      INSERT INTO code_numbers SELECT tenant, name, max(version) FROM versions GROUP BY tenant, name;

      -- Per kernel, the newest load or unload aimed at this node (last writer wins on (HLC, origin)).
      CREATE TABLE kernel_stamps (
        kernel  TEXT NOT NULL PRIMARY KEY,
        loaded  INTEGER NOT NULL CHECK (loaded IN (0, 1)),
        hlc_ms  INTEGER NOT NULL,
        hlc_n   INTEGER NOT NULL,
        origin  TEXT NOT NULL
      ) WITHOUT ROWID;

      -- Tenant settings (key -> JSON), last writer wins on (HLC, origin).
      CREATE TABLE tenant_settings (
        tenant  TEXT NOT NULL,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        hlc_ms  INTEGER NOT NULL,
        hlc_n   INTEGER NOT NULL,
        origin  TEXT NOT NULL,
        PRIMARY KEY (tenant, key)
      ) WITHOUT ROWID;

      -- Revoked certificates: entries they signed with an origin sequence above up_to are refused.
      CREATE TABLE revocations (
        serial  TEXT NOT NULL PRIMARY KEY,
        name    TEXT NOT NULL,
        up_to   INTEGER NOT NULL,
        reason  TEXT NOT NULL,
        hlc_ms  INTEGER NOT NULL,
        hlc_n   INTEGER NOT NULL,
        origin  TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

/** The SQL of one migration (tests build stores of older versions with it). */
export function migrationSql(version: number): string {
  const m = MIGRATIONS.find((x) => x.version === version);
  if (m === undefined) throw new Error(`no migration ${version}`);
  return m.sql;
}

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
