/**
 * Which peers are connected and which dials are pending or backing off. A core asks for a dial
 * only when it has something to send and no dial of that address is pending or in back-off (with
 * jitter, backoff.ts), so a dead or unreachable peer costs one connection attempt per back-off step.
 */
import { backoffMs } from "./backoff.ts";
import type { MembershipConfig } from "./config.ts";
import type { Random } from "./core.ts";
import { MEMBERS_MAX, SEEDS_MAX } from "./limits.ts";

interface Dial {
  failures: number;
  /** When the pending dial started, or null when none is pending. */
  pendingSince: number | null;
  /** No new dial before this. */
  retryAt: number;
}

/** Dials tracked at once: every member's address and every seed, with room to spare. */
const DIALS_TRACKED_MAX = MEMBERS_MAX + SEEDS_MAX;

/** Connection state for one core. */
export class Dialer {
  private readonly connectedPeers = new Set<string>();
  private readonly dials = new Map<string, Dial>();
  private nextExpiry = Infinity;

  constructor(
    private readonly config: MembershipConfig,
    private readonly random: Random,
    /** Emits the `connect` effect. */
    private readonly connect: (address: string, peer: string | null) => void,
  ) {}

  isConnected(peer: string): boolean {
    return this.connectedPeers.has(peer);
  }

  /**
   * True when a message to `peer` can go now or once a pending dial completes; dials `address`
   * when nothing is pending and back-off allows. False when the peer cannot be reached now.
   */
  reach(peer: string, address: string, now: number): boolean {
    if (this.connectedPeers.has(peer)) return true;
    if (address === "") return false;
    return this.dial(address, peer, now);
  }

  /** True when a dial of `address` would start now (none pending, no back-off). */
  canDial(address: string, now: number): boolean {
    const d = this.dials.get(address);
    return d === undefined || (d.pendingSince === null && now >= d.retryAt);
  }

  /** When a dial of `address` may start (Infinity while one is pending: its expiry wakes the core). */
  retryAt(address: string): number {
    const d = this.dials.get(address);
    return d === undefined ? 0 : d.pendingSince !== null ? Infinity : d.retryAt;
  }

  /** Dials `address` unless a dial is pending or backing off; true when one is pending afterwards. */
  dial(address: string, peer: string | null, now: number): boolean {
    let d = this.dials.get(address);
    if (d !== undefined && d.pendingSince !== null) return true;
    if (d !== undefined && now < d.retryAt) return false;
    if (d === undefined) {
      if (this.dials.size >= DIALS_TRACKED_MAX) this.prune(now);
      d = { failures: 0, pendingSince: null, retryAt: 0 };
      this.dials.set(address, d);
    }
    d.pendingSince = now;
    this.nextExpiry = Math.min(this.nextExpiry, now + this.config.dialTimeoutMs);
    this.connect(address, peer);
    return true;
  }

  onConnected(peer: string, dialed: string | null): void {
    this.connectedPeers.add(peer);
    if (dialed !== null) this.dials.delete(dialed);
  }

  onDisconnected(peer: string): void {
    this.connectedPeers.delete(peer);
  }

  /**
   * Forgets every back-off: something changed (a member thought dead is back, so a partition may
   * have healed), and addresses that failed before may answer now.
   */
  forgetFailures(): void {
    for (const d of this.dials.values()) {
      d.failures = 0;
      d.retryAt = 0;
    }
  }

  /** A dial failed: the next one waits out a jittered back-off. */
  onFailed(address: string, now: number): void {
    const d = this.dials.get(address);
    if (d === undefined) return;
    d.failures++;
    d.pendingSince = null;
    d.retryAt = now + backoffMs(d.failures, this.random, this.config.dialBackoff);
  }

  /** When the earliest pending dial times out. */
  nextDeadline(): number {
    return this.nextExpiry;
  }

  /** Dials that got no answer within the dial timeout count as failed. */
  expire(now: number): void {
    if (now < this.nextExpiry) return;
    let next = Infinity;
    for (const [address, d] of this.dials) {
      if (d.pendingSince === null) continue;
      const deadline = d.pendingSince + this.config.dialTimeoutMs;
      if (now >= deadline) this.onFailed(address, now);
      else next = Math.min(next, deadline);
    }
    this.nextExpiry = next;
  }

  /** Forgets dials that are neither pending nor backing off any more. */
  private prune(now: number): void {
    for (const [address, d] of this.dials) if (d.pendingSince === null && now >= d.retryAt) this.dials.delete(address);
    // Still full: the oldest entries go (Map order is insertion order), pending ones too; their
    // answers are then ignored, which costs nothing but an early redial.
    for (const address of this.dials.keys()) {
      if (this.dials.size < DIALS_TRACKED_MAX) break;
      this.dials.delete(address);
    }
  }
}
