/**
 * Every bound of change-log replication, each with the reason for its value. An entry or message
 * from a peer over a bound is refused (counted as a rejection with the reason); nothing a peer
 * sends makes a node hold more than these in memory.
 */

/** Protocol version carried in every replication message; a message of another version is refused. */
export const REPLICATION_PROTOCOL_VERSION = 1;

/** A sha256 in lower-case hex: how certificates, blobs and entries are named. */
export const HASH_HEX = /^[0-9a-f]{64}$/;

/**
 * Largest encoded entry. An entry holds names, hashes and a version's meta (at most 16 KiB of JSON,
 * the store's limit), never code (code travels as a blob), so 32 KiB leaves room for every field
 * at its maximum.
 */
export const ENTRY_BYTES_MAX = 32 * 1024;

/** Largest blob (a program's source text): the store's SOURCE_BYTES_MAX. */
export const BLOB_BYTES_MAX = 256 * 1024;

/** Field limits inside an entry, the store's own (a longer field could never be applied). */
export const TENANT_BYTES_MAX = 63;
export const CODE_NAME_BYTES_MAX = 512;
export const META_BYTES_MAX = 16 * 1024;
export const AUTHOR_BYTES_MAX = 256;
export const KERNEL_NAME_BYTES_MAX = 96;
export const SETTING_KEY_BYTES_MAX = 256;
export const REASON_BYTES_MAX = 1024;

/** Largest encoded certificate with its root signature: a full certificate is ~5 KiB (net/limits.ts allows 16 KiB per handshake frame). */
export const CERT_BYTES_MAX = 16 * 1024;

/**
 * Largest replication message a node sends: one blob at its maximum plus a page of entries fits,
 * and the backchannel's frame (1 MiB) holds it with room to spare. A message read from a peer is
 * bounded by the frame first and its parts by the limits below.
 */
export const MESSAGE_BYTES_MAX = 512 * 1024;

/**
 * Bytes of entries, certificates and blobs a node packs into one page (catch-up answer, relay or
 * push batch) before it starts another. Below MESSAGE_BYTES_MAX so that one more entry with its
 * largest blob still fits a page that is nearly full.
 */
export const PAGE_BYTES_MAX = MESSAGE_BYTES_MAX - BLOB_BYTES_MAX - ENTRY_BYTES_MAX - CERT_BYTES_MAX;

/** Entries in one message: a page of a catch-up, or a burst of writes pushed in one turn. */
export const ENTRIES_PER_MESSAGE_MAX = 512;

/** Certificates in one message (each entry names one; a page rarely spans more than a few origins). */
export const CERTS_PER_MESSAGE_MAX = 64;

/** Blobs in one message, and hashes in one `want`. */
export const BLOBS_PER_MESSAGE_MAX = 256;

/** Receipts in one `ack` message (one per entry applied in a turn). */
export const ACKS_PER_MESSAGE_MAX = ENTRIES_PER_MESSAGE_MAX;

/**
 * Origins in a version vector (every node that ever wrote): MEMBERS_MAX, the most members a node
 * keeps. At ~80 bytes per origin the largest vector is ~320 KiB, within MESSAGE_BYTES_MAX.
 */
export const VECTOR_ORIGINS_MAX = 4096;

/**
 * Verified entries a node holds in memory waiting for a predecessor or a blob. A burst beyond it
 * is dropped and fetched again by catch-up; the bound keeps a peer from filling memory with
 * entries it never completes.
 */
export const PENDING_ENTRIES_MAX = 4096;

/** Bytes of received blobs held waiting for their entry (a few of the largest, many small ones). */
export const PENDING_BLOB_BYTES_MAX = 32 * 1024 * 1024;

/** Certificates a node keeps verified in memory (the rest are read from the store again when needed). */
export const CERT_CACHE_MAX = 4096;

/**
 * Catch-up pages (answers to digests and pulls) one peer may make this node send per
 * PAGE_WINDOW_MS. 256 pages of up to 512 entries each lets a new node fetch ~130,000 entries per
 * window, and caps what a member asking in a loop can make this node send.
 */
export const PAGES_PER_WINDOW = 256;
export const PAGE_WINDOW_MS = 10_000;

/**
 * How far ahead of this node's wall clock an entry's HLC may be. An entry stamped further ahead
 * would win every last-writer-wins comparison for that long; it is refused for now (not stored)
 * and accepted when it comes again once the clocks agree. Certificates allow the same skew.
 */
export const HLC_AHEAD_MS_MAX = 5 * 60 * 1000;

/** Allowance on a certificate's validity when checking an entry's HLC against it: net/'s CLOCK_SKEW_MS (Kerberos' 5 minutes). */
export const CERT_SKEW_MS = 5 * 60 * 1000;
