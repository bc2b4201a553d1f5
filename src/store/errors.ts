/**
 * The store's expected failures. Each is a SupError with a stable code; messages name the action,
 * the quoted subject and, after a colon, what was wrong.
 */
import { SQLiteError } from "bun:sqlite";
import { SupError } from "../errors.ts";

/** The database at `path` could not be opened as a sup store. */
export class StoreOpenError extends SupError {
  constructor(
    code: "store-open-failed" | "store-corrupt" | "store-not-sup" | "store-schema-too-new",
    readonly path: string,
    detail: string,
  ) {
    super(code, `Cannot open store "${path}": ${detail}`);
  }
}

/** SQLite failed on an open store (disk full, I/O error, lock timeout, a corrupt page). */
export class StoreIoError extends SupError {
  constructor(
    code: "store-io" | "store-corrupt" | "store-closed",
    readonly path: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** A name, tenant, kind, meta, setting or version argument that the store refuses. */
export class StoreInputError extends SupError {
  constructor(
    code: "store-bad-name" | "store-bad-tenant" | "store-kind-mismatch" | "store-bad-meta" | "store-bad-setting" | "store-bad-argument",
    message: string,
  ) {
    super(code, message);
  }
}

/** A value over one of the limits in limits.ts. */
export class StoreLimitError extends SupError {
  constructor(
    action: string,
    /** What was too large: "source", "name", "meta", … */
    readonly what: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super("store-too-large", `${action}: ${what} is ${bytes} bytes, over the ${limit}-byte limit`);
  }
}

/** The code or version a call names does not exist. */
export class StoreNotFoundError extends SupError {
  constructor(message: string) {
    super("store-not-found", message);
  }
}

/** A rollback that has no version to go back to. */
export class NothingToRollBackError extends SupError {
  constructor(message: string) {
    super("store-nothing-to-roll-back", message);
  }
}

/** SQLite's result codes for a file that is not a database or is damaged. */
function isCorruption(e: SQLiteError): boolean {
  const code = e.code ?? "";
  return code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT");
}

/**
 * Turns an SQLite failure during `action` into a StoreIoError naming the database; SupErrors pass
 * through, and anything else is a bug and is rethrown as it is.
 */
export function storeFailure(e: unknown, path: string, action: string): unknown {
  if (!(e instanceof SQLiteError)) return e;
  const code = isCorruption(e) ? "store-corrupt" : "store-io";
  return new StoreIoError(code, path, `${action}: ${e.message} (store "${path}")`);
}

/** Turns a failure while opening `path` into a StoreOpenError; SupErrors and bugs pass through. */
export function openFailure(e: unknown, path: string): unknown {
  if (!(e instanceof SQLiteError)) return e;
  if (isCorruption(e)) return new StoreOpenError("store-corrupt", path, `the file is not an SQLite database or is damaged (${e.message})`);
  return new StoreOpenError("store-open-failed", path, e.message);
}
