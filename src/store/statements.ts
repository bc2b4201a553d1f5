/**
 * Every SQL statement the store runs, prepared once per open database. Held here rather than in
 * Database.query's cache, which keeps only 20 statements and would evict some of these.
 */
import type { Database } from "bun:sqlite";

/** A version row as selected, before meta is parsed. */
export interface VersionRow {
  tenant: string;
  name: string;
  version: number;
  hash: string;
  kind: string;
  meta: string;
  source: string;
  author: string;
  origin: string;
  createdAt: number;
  seq: number;
  hlcMs: number;
  hlcN: number;
  op: string;
}

/** A name's pointer and the stamp of the write that set it. */
export interface PointerRow {
  version: number | null;
  origin: string | null;
  stampMs: number;
  stampN: number;
  stampOrigin: string;
}

/** A change-log row as selected. */
export interface ChangeRow {
  seq: number;
  tenant: string;
  name: string;
  op: string;
  version: number;
  author: string;
  origin: string;
  at: number;
}

/** A job-run row as selected. */
export interface JobRunRow {
  at: number;
  durationMs: number;
  ok: number;
  result: string | null;
  error: string | null;
}

// The source comes from a scalar subquery and the current version from another: measured on
// bun:sqlite, a point lookup written as a join costs 3 to 4 times as much as these.
const VERSION_COLUMNS = `v.tenant, v.name, v.version, v.hash, v.kind, v.meta,
  (SELECT text FROM sources WHERE hash = v.source_hash) AS source,
  v.author, v.origin, v.created_at AS createdAt, v.seq, v.hlc_ms AS hlcMs, v.hlc_n AS hlcN, v.op`;
/** History order: the order last-writer-wins decides in, the same on every node. */
const HLC_ORDER = "v.hlc_ms, v.hlc_n, v.origin";
const CHANGE_COLUMNS = "seq, tenant, name, op, version, author, origin, at";

/** Prepares the store's statements on `db`. */
export function prepareStatements(db: Database) {
  return {
    current: db.prepare<VersionRow, [string, string]>(
      `SELECT ${VERSION_COLUMNS} FROM versions v
       JOIN names n ON n.tenant = v.tenant AND n.name = v.name AND n.version = v.version AND n.origin = v.origin
       WHERE v.tenant = ?1 AND v.name = ?2`,
    ),
    // ?1 and ?2 may be NULL to mean "any tenant" and "any kind"; the names table is small.
    listCurrent: db.prepare<VersionRow, [string | null, string | null]>(
      `SELECT ${VERSION_COLUMNS} FROM names n JOIN versions v ON v.tenant = n.tenant AND v.name = n.name AND v.version = n.version AND v.origin = n.origin
       WHERE (?1 IS NULL OR n.tenant = ?1) AND (?2 IS NULL OR v.kind = ?2) ORDER BY n.tenant, n.name`,
    ),
    // Versions sharing a number (written at once on two nodes) come newest first.
    versionsNumbered: db.prepare<VersionRow, [string, string, number]>(
      `SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.tenant = ? AND v.name = ? AND v.version = ? ORDER BY v.hlc_ms DESC, v.hlc_n DESC, v.origin DESC`,
    ),
    versionOf: db.prepare<VersionRow, [string, string, number, string]>(
      `SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.tenant = ? AND v.name = ? AND v.version = ? AND v.origin = ?`,
    ),
    history: db.prepare<VersionRow, [string, string]>(`SELECT ${VERSION_COLUMNS} FROM versions v WHERE v.tenant = ? AND v.name = ? ORDER BY ${HLC_ORDER}`),
    pointer: db.prepare<PointerRow, [string, string]>(
      "SELECT version, origin, stamp_ms AS stampMs, stamp_n AS stampN, stamp_origin AS stampOrigin FROM names WHERE tenant = ? AND name = ?",
    ),
    highNumber: db.prepare<{ high: number }, [string, string]>("SELECT coalesce((SELECT high FROM code_numbers WHERE tenant = ? AND name = ?), 0) AS high"),
    bumpNumber: db.prepare<never, [string, string, number]>(
      "INSERT INTO code_numbers (tenant, name, high) VALUES (?, ?, ?) ON CONFLICT (tenant, name) DO UPDATE SET high = max(high, excluded.high)",
    ),
    sourceText: db.prepare<{ text: string }, [string]>("SELECT text FROM sources WHERE hash = ?"),
    insertBlob: db.prepare<never, [string, Uint8Array]>("INSERT INTO blobs (hash, encoded) VALUES (?, ?) ON CONFLICT DO NOTHING"),
    insertSource: db.prepare<never, [string, string]>("INSERT INTO sources (hash, text) VALUES (?, ?) ON CONFLICT DO NOTHING"),
    blob: db.prepare<{ encoded: Uint8Array }, [string]>("SELECT encoded FROM blobs WHERE hash = ?"),
    insertChange: db.prepare<never, [string, string, string, number, string, string, number]>(
      "INSERT INTO changes (tenant, name, op, version, author, origin, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    insertVersion: db.prepare<never, [string, string, number, string, string, string, string, string, string, number, number, number, number, string, number | null]>(
      `INSERT INTO versions (tenant, name, version, hash, source_hash, kind, meta, author, origin, created_at, seq, hlc_ms, hlc_n, op, entry_seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    hasVersion: db.prepare<{ one: number }, [string, string, number, string]>("SELECT 1 AS one FROM versions WHERE tenant = ? AND name = ? AND version = ? AND origin = ?"),
    setPointer: db.prepare<never, [string, string, number | null, string | null, number, number, string]>(
      `INSERT INTO names (tenant, name, version, origin, stamp_ms, stamp_n, stamp_origin) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, name) DO UPDATE SET version = excluded.version, origin = excluded.origin,
         stamp_ms = excluded.stamp_ms, stamp_n = excluded.stamp_n, stamp_origin = excluded.stamp_origin`,
    ),
    maxStamp: db.prepare<{ ms: number; n: number }, []>("SELECT stamp_ms AS ms, stamp_n AS n FROM names ORDER BY stamp_ms DESC, stamp_n DESC LIMIT 1"),
    changesSince: db.prepare<ChangeRow, [number, number]>(`SELECT ${CHANGE_COLUMNS} FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`),
    lastSeq: db.prepare<{ seq: number }, []>("SELECT coalesce(max(seq), 0) AS seq FROM changes"),
    getSetting: db.prepare<{ value: string }, [string]>("SELECT value FROM settings WHERE key = ?"),
    putSetting: db.prepare<never, [string, string]>("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    deleteSetting: db.prepare<never, [string]>("DELETE FROM settings WHERE key = ?"),
    insertJobRun: db.prepare<never, [string, string, number, number, number, string | null, string | null]>(
      "INSERT INTO job_runs (tenant, name, at, duration_ms, ok, result, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ),
    // Keeps the newest ?3 runs of one job: everything older than the ?3-th newest id goes.
    trimJobRuns: db.prepare<never, [string, string, number]>(
      `DELETE FROM job_runs WHERE tenant = ?1 AND name = ?2 AND id <
         (SELECT min(id) FROM (SELECT id FROM job_runs WHERE tenant = ?1 AND name = ?2 ORDER BY id DESC LIMIT ?3))`,
    ),
    jobRuns: db.prepare<JobRunRow, [string, string]>(
      "SELECT at, duration_ms AS durationMs, ok, result, error FROM job_runs WHERE tenant = ? AND name = ? ORDER BY id",
    ),
    kvGet: db.prepare<{ value: Uint8Array }, [string, string, string]>("SELECT value FROM kv WHERE tenant = ? AND store = ? AND key = ?"),
    kvSet: db.prepare<never, [string, string, string, Uint8Array]>(
      "INSERT INTO kv (tenant, store, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (tenant, store, key) DO UPDATE SET value = excluded.value",
    ),
    kvDelete: db.prepare<never, [string, string, string]>("DELETE FROM kv WHERE tenant = ? AND store = ? AND key = ?"),
    // Prepared: a kv write switches the sync mode around itself (Store.relaxed), twice per write.
    syncNormal: db.prepare<never, []>("PRAGMA synchronous = NORMAL"),
    syncFull: db.prepare<never, []>("PRAGMA synchronous = FULL"),
  };
}

/** The prepared statements of one open store. */
export type Statements = ReturnType<typeof prepareStatements>;
