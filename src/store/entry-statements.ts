/**
 * The SQL of the change-log entries and what they apply besides code: certificates, kernel stamps,
 * tenant settings and revocations. Prepared once per open database, beside statements.ts.
 */
import type { Database } from "bun:sqlite";

/** An entry row as selected. */
export interface EntryRow {
  origin: string;
  seq: number;
  hlcMs: number;
  hlcN: number;
  kind: string;
  target: string | null;
  hash: string;
  encoded: Uint8Array;
  signature: Uint8Array | null;
  cert: string | null;
  blob: string | null;
  receivedAt: number;
  result: string;
}

/** A revocation row as selected. */
export interface RevocationRow {
  serial: string;
  name: string;
  upTo: number;
  reason: string;
  hlcMs: number;
  hlcN: number;
  origin: string;
}

const ENTRY_COLUMNS = "origin, seq, hlc_ms AS hlcMs, hlc_n AS hlcN, kind, target, hash, encoded, signature, cert, blob, received_at AS receivedAt, result";

/** Prepares the entry statements on `db`. */
export function prepareEntryStatements(db: Database) {
  return {
    insertEntry: db.prepare<never, [string, number, number, number, string, string | null, string, Uint8Array, Uint8Array | null, string | null, string | null, number, string]>(
      `INSERT INTO entries (origin, seq, hlc_ms, hlc_n, kind, target, hash, encoded, signature, cert, blob, received_at, result)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    entry: db.prepare<EntryRow, [string, number]>(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE origin = ? AND seq = ?`),
    entriesFrom: db.prepare<EntryRow, [string, number, number]>(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE origin = ? AND seq >= ? ORDER BY seq LIMIT ?`),
    vector: db.prepare<{ origin: string; high: number }, []>("SELECT origin, max(seq) AS high FROM entries GROUP BY origin ORDER BY origin"),
    maxEntryHlc: db.prepare<{ ms: number; n: number }, []>("SELECT hlc_ms AS ms, hlc_n AS n FROM entries ORDER BY hlc_ms DESC, hlc_n DESC LIMIT 1"),
    entryCount: db.prepare<{ n: number }, []>("SELECT count(*) AS n FROM entries"),
    results: db.prepare<{ result: string; n: number }, []>("SELECT CASE WHEN result LIKE 'error:%' THEN 'error' ELSE result END AS result, count(*) AS n FROM entries GROUP BY 1"),
    insertCert: db.prepare<never, [string, string, string, Uint8Array]>("INSERT INTO certificates (hash, name, serial, encoded) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"),
    cert: db.prepare<{ encoded: Uint8Array }, [string]>("SELECT encoded FROM certificates WHERE hash = ?"),
    hasSource: db.prepare<{ one: number }, [string]>("SELECT 1 AS one FROM sources WHERE hash = ?"),
    kernelStamp: db.prepare<{ loaded: number; hlcMs: number; hlcN: number; origin: string }, [string]>(
      "SELECT loaded, hlc_ms AS hlcMs, hlc_n AS hlcN, origin FROM kernel_stamps WHERE kernel = ?",
    ),
    setKernelStamp: db.prepare<never, [string, number, number, number, string]>(
      `INSERT INTO kernel_stamps (kernel, loaded, hlc_ms, hlc_n, origin) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (kernel) DO UPDATE SET loaded = excluded.loaded, hlc_ms = excluded.hlc_ms, hlc_n = excluded.hlc_n, origin = excluded.origin`,
    ),
    tenantSetting: db.prepare<{ value: string; hlcMs: number; hlcN: number; origin: string }, [string, string]>(
      "SELECT value, hlc_ms AS hlcMs, hlc_n AS hlcN, origin FROM tenant_settings WHERE tenant = ? AND key = ?",
    ),
    setTenantSetting: db.prepare<never, [string, string, string, number, number, string]>(
      `INSERT INTO tenant_settings (tenant, key, value, hlc_ms, hlc_n, origin) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value, hlc_ms = excluded.hlc_ms, hlc_n = excluded.hlc_n, origin = excluded.origin`,
    ),
    revocations: db.prepare<RevocationRow, []>("SELECT serial, name, up_to AS upTo, reason, hlc_ms AS hlcMs, hlc_n AS hlcN, origin FROM revocations ORDER BY serial"),
    // A second revocation of the same certificate keeps the lower cutoff: the stricter one wins on
    // every node, whatever order the two arrive in.
    insertRevocation: db.prepare<never, [string, string, number, string, number, number, string]>(
      `INSERT INTO revocations (serial, name, up_to, reason, hlc_ms, hlc_n, origin) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (serial) DO UPDATE SET up_to = min(up_to, excluded.up_to)`,
    ),
    // The target of the entry that made a version (null: every node, or a version made without an entry).
    versionTarget: db.prepare<{ target: string | null }, [string, string, number, string]>(
      `SELECT e.target FROM versions v JOIN entries e ON e.origin = v.origin AND e.seq = v.entry_seq
       WHERE v.tenant = ? AND v.name = ? AND v.version = ? AND v.origin = ?`,
    ),
    // What the state hash covers: the current version of every name, in (tenant, name) order.
    currentCode: db.prepare<{ tenant: string; name: string; kind: string; sourceHash: string; meta: string }, []>(
      `SELECT n.tenant, n.name, v.kind, v.source_hash AS sourceHash, v.meta FROM names n
       JOIN versions v ON v.tenant = n.tenant AND v.name = n.name AND v.version = n.version AND v.origin = n.origin
       ORDER BY n.tenant, n.name`,
    ),
  };
}

/** The prepared entry statements of one open store. */
export type EntryStatements = ReturnType<typeof prepareEntryStatements>;
