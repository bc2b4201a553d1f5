/**
 * store/: a node's SQLite database (bun:sqlite, WAL). It holds code as content-addressed blobs with
 * numbered versions per (tenant, name), the change log that history, rollback and replication read,
 * the node's settings, the last runs of each job, and tenant kv data. The contract is docs/node.md.
 *
 * Invariants:
 * - A write is acknowledged (its call returns) only after its transaction committed with
 *   synchronous=FULL; a write that throws changed nothing.
 * - A code write is one transaction: blob, source, version, name pointer and change-log row.
 * - A blob's key is the sha256 of the program's canonical codec encoding, so the same program is
 *   stored once; versions are numbered 1, 2, 3… per name and are never deleted or renumbered.
 * - Change-log sequence numbers increase by one per change and are never reused.
 * - Every name and kv key lives in exactly one tenant.
 * - Bad input gets a SupError with a code before any transaction starts; SQLite failures become
 *   StoreIoError naming the database; a file that is not a sup store is refused, never modified.
 *
 * Imports only lang/ (codec, values), errors.ts and bun:sqlite; must not import node/, http/,
 * cli/ or kernel/.
 */
export { Store, DEFAULT_TENANT, DEFAULT_AUTHOR, LOCAL_ORIGIN } from "./store.ts";
export { MEMORY_PATH } from "./open.ts";
export { SCHEMA_VERSION } from "./schema.ts";
export { NothingToRollBackError, StoreInputError, StoreIoError, StoreLimitError, StoreNotFoundError, StoreOpenError } from "./errors.ts";
export { checkCodeWrite, kindOfCodeName, ROUTE_METHODS } from "./validate.ts";
export * from "./limits.ts";
export { CODE_KINDS, type Change, type ChangeOp, type CodeKind, type CodeMeta, type CodeVersion, type JobRun, type PutCodeInput, type StoreOptions, type VersionOp } from "./types.ts";
export { EntryLog, type Committed, type EntryEffect, type EntryRecord, type KernelStamp, type Revocation, type StoredEntry } from "./entry-log.ts";
export { compareStamps, HLC_ZERO, HybridClock, type Hlc } from "./hlc.ts";
export { refText, type VersionContent, type VersionRef } from "./writes.ts";
export { sha256Hex } from "./rows.ts";
