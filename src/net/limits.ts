/**
 * Every limit of identity files and the backchannel, in one place, each with the reason for its
 * value. docs/cluster.md lists them; every one is tested at its maximum and one past it. The
 * Backchannel takes a `limits` option so tests can lower the time and count limits; production
 * code uses these defaults.
 */

/** Largest identity, root, request or certificate file read: a few hundred bytes are normal. */
export const IDENTITY_FILE_BYTES_MAX = 16 * 1024;

/** Longest node name: a DNS label, so a name can become a host name. */
export const NODE_NAME_CHARS_MAX = 63;

/** Most roles, labels or permissions a certificate carries: keeps certificates (and handshakes) small. */
export const CERT_LIST_ITEMS_MAX = 32;

/** Longest role, label key or label value. */
export const CERT_WORD_CHARS_MAX = 63;

/** Longest validity `sup identity issue --days` grants: ten years; a root is replaced sooner. */
export const CERT_DAYS_MAX = 3650;

/** Validity of a certificate when `--days` is not given. */
export const CERT_DAYS_DEFAULT = 365;

/**
 * How far apart two nodes' clocks may be when one checks the other's certificate validity: a
 * certificate is accepted from `notBefore - skew` to `notAfter + skew`. Five minutes is Kerberos'
 * allowance; NTP keeps real machines far closer.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Time from accepting (or dialing) a connection to a finished handshake. Loopback takes about a
 * millisecond and a transcontinental link a few hundred; a peer slower than this is broken or
 * hostile (slow-loris), and an unauthenticated socket must not live long.
 */
export const HANDSHAKE_MS_MAX = 5_000;

/**
 * Unauthenticated connections held at once by a listener: each costs a socket and a handshake
 * buffer, so a flood of connects cannot exhaust file descriptors or memory.
 */
export const PENDING_CONNECTIONS_MAX = 256;

/**
 * Unauthenticated connections from one source address at once: a single misbehaving host cannot
 * take all of PENDING_CONNECTIONS_MAX; a real peer has one or two handshakes in flight.
 */
export const PENDING_PER_ADDRESS_MAX = 8;

/**
 * Largest handshake message (one frame before encryption starts). A certificate with every list
 * full is about 5 KiB; anything bigger before authentication is refused unread.
 */
export const HANDSHAKE_FRAME_BYTES_MAX = 16 * 1024;

/**
 * Largest encrypted frame body (ciphertext and tag). Code sources are at most 256 KiB, so 1 MiB
 * holds any single code entry with its encoded program; larger transfers are chunked by the layer
 * above. It is also the receive buffer a connection may need at most.
 */
export const FRAME_BYTES_MAX = 1024 * 1024;

/**
 * Bytes a peer's send queue may hold: messages not sealed yet (4 + encoded length each) and
 * frames not yet taken by the socket. Past it `send` refuses and the caller waits for `drained`:
 * a slow peer costs at most this much memory. 4 MiB keeps 64 messages of 64 KiB in flight,
 * enough to fill a fast link.
 */
export const SEND_QUEUE_BYTES_MAX = 4 * 1024 * 1024;

/** A full queue counts as drained again below this, so callers wake up with room for real work. */
export const SEND_QUEUE_BYTES_LOW = SEND_QUEUE_BYTES_MAX / 2;

/**
 * Frames sent under one key before the dialing side starts a rekey. AES-GCM with counter nonces
 * is safe far beyond this; the bound keeps the data under any one key small (WireGuard's role).
 */
export const REKEY_AFTER_FRAMES = 1 << 24;

/** Time under one key before the dialing side starts a rekey: WireGuard rekeys every two minutes. */
export const REKEY_AFTER_MS = 2 * 60_000;

/**
 * Frames a receiver accepts under one key before it closes the connection: the peer that should
 * have rekeyed at REKEY_AFTER_FRAMES gets this margin for a rekey already in flight.
 */
export const FRAMES_PER_KEY_MAX = REKEY_AFTER_FRAMES + (1 << 20);

/**
 * How often open connections are checked again for an expired or revoked certificate: a
 * certificate that runs out while connected is dropped within this time.
 */
export const CERT_RECHECK_MS = 60_000;

/**
 * Client connections (operators' CLIs, other nodes' exec workers) a node holds at once. A worker
 * keeps at most one per target and closes it when idle, so a cluster of a couple of hundred nodes
 * all calling (cluster/exec) stays below it; each costs a socket and ~15 KiB, like a member's.
 */
export const CLIENT_CONNECTIONS_MAX = 256;
