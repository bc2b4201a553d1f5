/** The replication core's timing, and why each default is what it is. */

/** Timing of the replication core. */
export interface ReplicationConfig {
  /** Vectors are exchanged with one random connected peer this often (±25%). */
  readonly syncIntervalMs: number;
  /** Connected peers an entry fresh from its origin is relayed to (as a `have`). */
  readonly relayFanout: number;
  /** A gap, blob or certificate asked for and not received is asked for again (of any holder) after this. */
  readonly retryMs: number;
  /**
   * An entry applied while its HLC is younger than this is relayed (once, by every node that
   * applies it): epidemic spread over whatever connections exist. Older entries are catch-up,
   * which anti-entropy carries.
   */
  readonly relayFreshMs: number;
}

/**
 * Defaults. One digest per second per node costs well under a kilobyte and bounds how long an
 * entry lost to its push and its relays waits; a relay fan-out of 3 reaches nodes the origin is not
 * connected to within a few hops (epidemic spread, ln N / ln 3 hops); 250 ms is many round trips on a LAN and still quick to recover
 * from a lost pull.
 */
export const DEFAULT_REPLICATION_CONFIG: ReplicationConfig = { syncIntervalMs: 1000, relayFanout: 3, retryMs: 250, relayFreshMs: 10_000 };
