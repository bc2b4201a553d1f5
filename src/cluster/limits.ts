/**
 * Every bound of the membership core, each with the reason for its value. Input from a peer over a
 * bound is refused (the whole message, with a `rejected` event naming the reason); nothing a peer
 * sends makes a node keep more than MEMBERS_MAX records of at most RECORD_BYTES_MAX each.
 */

/** Protocol version carried in every membership message; a message of another version is refused. */
export const MEMBERSHIP_PROTOCOL_VERSION = 1;

/**
 * Members one node keeps (every state counted). Far beyond the full-mesh size (docs/cluster.md), so
 * it never limits a real cluster, and it caps what a hostile member can make others allocate:
 * 4,096 × RECORD_BYTES_MAX is 20 MiB at the very worst, a few hundred KiB in practice.
 */
export const MEMBERS_MAX = 4096;

/** Longest member name in bytes: certificate names are host-like labels, not documents. */
export const NAME_BYTES_MAX = 64;

/** Longest certificate serial in bytes (a hex or decimal number as text). */
export const SERIAL_BYTES_MAX = 64;

/** Longest address (`host:port`, an IPv6 literal or a DNS name with a port fits). */
export const ADDRESS_BYTES_MAX = 256;

/** Roles per member and bytes per role: roles are a handful of words used in selectors. */
export const ROLES_MAX = 16;
export const ROLE_BYTES_MAX = 32;

/** Labels per member, and bytes per key and per value: a few placement facts (`region=eu`). */
export const LABELS_MAX = 32;
export const LABEL_KEY_BYTES_MAX = 64;
export const LABEL_VALUE_BYTES_MAX = 256;

/** Kernels in a member's kernel set, and bytes per kernel name (`name@version`). */
export const KERNELS_MAX = 128;
export const KERNEL_BYTES_MAX = 96;

/** Longest sup version string (`0.1.0+abcdef…` with a commit). */
export const VERSION_BYTES_MAX = 64;

/**
 * Largest codec encoding of one member's metadata. The field limits above allow more in theory;
 * this keeps every record small enough that a gossip message carries several and a sync page many.
 */
export const META_BYTES_MAX = 4096;

/** Largest encoding of one member record (name, incarnation, state, metadata, stats). */
export const RECORD_BYTES_MAX = META_BYTES_MAX + 256;

/**
 * Largest membership message a node sends, and the largest it accepts after decoding (the
 * backchannel's own frame limit comes first). Sync pages are cut to fit; 64 KiB keeps one message
 * from holding a connection's send queue for long.
 */
export const MESSAGE_BYTES_MAX = 64 * 1024;

/**
 * Gossip bytes piggybacked on one message: probes stay small (a few hundred bytes to a few KiB),
 * as in SWIM, while one message still carries several metadata updates.
 */
export const PIGGYBACK_BYTES_MAX = 4096;

/** Claims in one message's gossip list, read from a peer or sent. */
export const PIGGYBACK_CLAIMS_MAX = 64;

/** Digest entries per sync page: a name, an incarnation and a state each, so about 40 KiB at most. */
export const DIGEST_ENTRIES_MAX = 512;

/** Full records per sync-update message (each also fits RECORD_BYTES_MAX, and the whole message MESSAGE_BYTES_MAX). */
export const RECORDS_PER_MESSAGE_MAX = 256;

/** Names in one sync-want message. */
export const WANT_NAMES_MAX = DIGEST_ENTRIES_MAX;

/** Join addresses a node keeps trying: the peers in its store or its `--join` flags. */
export const SEEDS_MAX = 16;

/** Indirect probes this node runs for others at once; more ping-reqs are answered with a nack at once. */
export const RELAYS_MAX = 64;

/** Members waiting for an early probe (a lost connection); more wait for their round-robin turn. */
export const URGENT_PROBES_MAX = 16;

/**
 * Sync pages (digest or want) one peer may make this node answer per SYNC_WINDOW_MS. A full sync of
 * MEMBERS_MAX members takes 8 digest pages; 32 allows a few full syncs and caps the amplification
 * a hostile member gets from asking for full state in a loop.
 */
export const SYNC_PAGES_PER_WINDOW = 32;
export const SYNC_WINDOW_MS = 10_000;

/** Peers tracked for the sync rate limit at once (members plus a few joining nodes). */
export const SYNC_PEERS_TRACKED_MAX = MEMBERS_MAX;

/** Largest incarnation; a claim above it is refused, so refuting (incarnation + 1) stays exact. */
export const INCARNATION_MAX = Number.MAX_SAFE_INTEGER - 1;

/** Largest value of any load or log-position counter in member stats. */
export const STAT_MAX = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------
// The commands core (commands.ts): exec fan-out.

/** Protocol version carried in every commands message; a message of another version is refused. */
export const COMMANDS_PROTOCOL_VERSION = 1;

/**
 * Largest program an exec carries, in bytes of source text. The run message must fit
 * MESSAGE_BYTES_MAX with its header; a bigger program is stored as a module (`sup code put
 * mod:x`) and exec'd as a two-line program that imports it.
 */
export const EXEC_CODE_BYTES_MAX = 48 * 1024;

/**
 * Longest value text a node answers with (the value in SLP source form); a longer one is cut and
 * marked. It keeps the result message under MESSAGE_BYTES_MAX: exec is for answers, not bulk data.
 */
export const EXEC_VALUE_BYTES_MAX = 48 * 1024;

/** Longest error text in an answer: a message and a location, not a dump. */
export const EXEC_ERROR_BYTES_MAX = 4 * 1024;

/** Longest tenant name: a DNS label, as everywhere else. */
export const EXEC_TENANT_BYTES_MAX = 63;

/**
 * Longest deadline an exec may ask for. A node runs an exec'd program on its one thread for at most
 * its own ceiling (10 s); a minute covers that plus slow links, and bounds how long a request holds
 * its slot in the pending table.
 */
export const EXEC_TIMEOUT_MS_MAX = 60_000;

/**
 * Exec requests one core gathers at once. Each holds a table of its targets until its deadline; a
 * caller beyond this gets `busy` for every target at once instead of growing the table.
 */
export const EXEC_PENDING_MAX = 64;

/**
 * Time an answer needs to travel back, kept out of the program's own budget so a program that
 * spends its whole budget still answers before the deadline: a tenth of the timeout, at least
 * 10 ms (loopback) and at most 500 ms (a slow intercontinental link).
 */
export function execAnswerMarginMs(timeoutMs: number): number {
  return Math.min(500, Math.max(10, Math.floor(timeoutMs / 10)));
}
