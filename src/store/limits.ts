/**
 * Every limit of the store, in one place, each with the reason for its value. Writes over a limit
 * are refused with a StoreLimitError; nothing is cut silently except job-run text (see below).
 */

/** Largest program source: far beyond any handwritten route or job, and it bounds what one write
 * adds to the change log that every replica will copy. */
export const SOURCE_BYTES_MAX = 256 * 1024;

/** Longest code name: a method and path fit easily, and names are keys in every index and log row. */
export const NAME_BYTES_MAX = 512;

/** Largest meta object as JSON: meta holds a few numbers (budgets, an interval), not data. */
export const META_JSON_BYTES_MAX = 16 * 1024;

/** Longest author or origin: an identity or a node id, never a document. */
export const AUTHOR_BYTES_MAX = 256;

/** Tenant names: DNS-label-like, so a tenant can be selected by host name; at most 63 bytes. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Runs kept per job: enough to see a pattern of failures; the table never grows with uptime. */
export const JOB_RUNS_KEPT = 20;

/** Longest result or error text kept per job run. Longer text is cut rather than refused, because
 * the record is a summary and a finished run must always be recordable. */
export const JOB_RUN_TEXT_BYTES_MAX = 4096;

/** Longest settings key: keys are names chosen by sup's own code, not data. */
export const SETTING_KEY_BYTES_MAX = 256;

/** Largest settings value as JSON: settings are a node's configuration (kernel set, ids), and the
 * whole table is read at start-up. */
export const SETTING_JSON_BYTES_MAX = 64 * 1024;

/** Longest kv store name and kv key: they are index keys, so they stay small. */
export const KV_KEY_BYTES_MAX = 1024;

/** Largest kv value (codec bytes): big enough for a document, small enough that one value never
 * dominates a page cache or a replication frame. */
export const KV_VALUE_BYTES_MAX = 1024 * 1024;

/** How long a write waits for another connection's lock: far longer than any store transaction,
 * short enough that a stuck writer surfaces as an error instead of a hang. */
export const BUSY_TIMEOUT_MS = 5000;
