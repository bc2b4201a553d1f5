/**
 * The membership core's timing parameters and the quantities derived from cluster size. The
 * defaults are chosen for the targets (docs/cluster.md, "Membership and failure
 * detection", works the numbers): a killed node is dead on every member of a small cluster in about
 * 3 s (5 s at worst), and a node that stalls for a second is never declared dead.
 */
import type { BackoffPolicy } from "./backoff.ts";

/** Timing of the membership protocol; every field has a default (DEFAULT_MEMBERSHIP_CONFIG). */
export interface MembershipConfig {
  /** One probe round: a healthy node pings one member per interval (scaled by its health score). */
  readonly probeIntervalMs: number;
  /** Wait for a direct ack before asking helpers to probe indirectly (scaled by the health score). */
  readonly probeTimeoutMs: number;
  /** Helpers asked to probe a member that did not answer (SWIM's k). */
  readonly indirectChecks: number;
  /** Highest local health score (Lifeguard's LHM saturation); timeouts grow up to (1 + this)×. */
  readonly healthScoreMax: number;
  /** Minimum suspicion timeout for a cluster of up to 10 members; it grows with log10(N) above. */
  readonly suspicionBaseMs: number;
  /** Suspicion without any confirmation lasts this many times the minimum (Lifeguard's β). */
  readonly suspicionMaxFactor: number;
  /** Independent confirmations that bring a suspicion down to the minimum (Lifeguard's K). */
  readonly suspicionConfirmations: number;
  /** Gossip round: queued updates go to `gossipFanout` random members this often. */
  readonly gossipIntervalMs: number;
  readonly gossipFanout: number;
  /** Each update is sent retransmitMult × ceil(log10(N + 1)) times by each node that has it. */
  readonly retransmitMult: number;
  /** Full-state sync (digest push-pull) with one random member, every this many ms (scaled above 32 members). */
  readonly syncIntervalMs: number;
  /** Dead members still get gossip this long, so one that is only slow hears it and refutes. */
  readonly gossipToDeadMs: number;
  /** One dead (not left) member is dialed this often, so a healed partition merges again. */
  readonly deadRetryIntervalMs: number;
  /** Dead and left members are forgotten this long after they went so. */
  readonly deadRetentionMs: number;
  /** A dial with no answer by then counts as failed. */
  readonly dialTimeoutMs: number;
  /** Back-off between dials of one address, and between join attempts. */
  readonly dialBackoff: BackoffPolicy;
  /**
   * A step that arrives this much later than the timer the core asked for means this node was
   * stalled (SIGSTOP, a blocked event loop, CPU starvation): the lost time does not count against
   * peers, and the health score rises.
   */
  readonly stallToleranceMs: number;
}

/** The defaults; docs/cluster.md gives the reason for each number. */
export const DEFAULT_MEMBERSHIP_CONFIG: MembershipConfig = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 400,
  indirectChecks: 3,
  healthScoreMax: 8,
  suspicionBaseMs: 2000,
  suspicionMaxFactor: 3,
  suspicionConfirmations: 3,
  gossipIntervalMs: 200,
  gossipFanout: 3,
  retransmitMult: 4,
  syncIntervalMs: 30_000,
  gossipToDeadMs: 30_000,
  deadRetryIntervalMs: 2000,
  deadRetentionMs: 3_600_000,
  dialTimeoutMs: 5000,
  dialBackoff: { baseMs: 250, capMs: 30_000 },
  stallToleranceMs: 500,
};

/** log10(N) but at least 1: small clusters share the floor, bigger ones grow slowly. */
function sizeScale(members: number): number {
  return Math.max(1, Math.log10(Math.max(1, members)));
}

/** Minimum and maximum suspicion timeouts for a cluster of `members` (Lifeguard's Min and Max). */
export function suspicionTimeouts(config: MembershipConfig, members: number): { minMs: number; maxMs: number } {
  const minMs = config.suspicionBaseMs * sizeScale(members);
  return { minMs, maxMs: minMs * config.suspicionMaxFactor };
}

/**
 * The suspicion timeout after `confirmations` independent suspicions out of `expected`: from the
 * maximum down to the minimum, logarithmically (Lifeguard §4.2), so the first confirmations count most.
 */
export function suspicionTimeoutMs(minMs: number, maxMs: number, confirmations: number, expected: number): number {
  if (expected < 1) return minMs;
  const frac = Math.log(Math.min(confirmations, expected) + 1) / Math.log(expected + 1);
  return Math.max(minMs, maxMs - (maxMs - minMs) * frac);
}

/** How many times each node sends each update: enough for an epidemic to reach all N with high probability. */
export function retransmitLimit(config: MembershipConfig, members: number): number {
  return config.retransmitMult * Math.max(1, Math.ceil(Math.log10(members + 1)));
}

/** The sync interval for `members`: doubled for each doubling beyond 32, so total sync traffic grows slowly. */
export function syncIntervalMs(config: MembershipConfig, members: number): number {
  const over = Math.log2(Math.max(1, members)) - 5;
  return config.syncIntervalMs * (over > 0 ? Math.ceil(over) + 1 : 1);
}

/**
 * A bound on the time from a member's crash to every member marking it dead, when no partition
 * separates the survivors: a wait for some member to probe it, one probe round, the longest
 * suspicion, and dissemination of the verdict. The simulator checks every death against it. The
 * first term is probabilistic: probes of one member arrive about once per interval from random
 * members (SWIM's expected first detection is e/(e-1) intervals), so five intervals are missed with
 * probability about e^-5 when no lost connection prompts an early probe.
 */
export function detectionBoundMs(config: MembershipConfig, members: number): number {
  const { maxMs } = suspicionTimeouts(config, members);
  const firstProbe = config.probeIntervalMs * 5;
  const dissemination = config.gossipIntervalMs * (2 + 2 * Math.ceil(Math.log2(members + 1)));
  return firstProbe + config.probeIntervalMs + maxMs + dissemination;
}
