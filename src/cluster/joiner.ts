/**
 * Joining through seeds: the addresses of `--join` or of the peers a node's store remembers. Seeds
 * are dialed (with the dialer's jittered back-off) until one answers a sync, and again whenever this
 * node has no live peer left (a long partition, a restart of the whole cluster).
 */
import type { Dialer } from "./dialer.ts";
import { SEEDS_MAX } from "./limits.ts";
import type { MemberTable } from "./member-table.ts";

/** The join state of one core. */
export class Joiner {
  private seeds: string[] = [];
  /** True once a seed (or anyone) answered with the member list. */
  joined = false;
  /** When each seed last connected: it gets the dial timeout to answer before it is dialed again. */
  private readonly connectedAt = new Map<string, number>();

  constructor(
    private readonly table: MemberTable,
    private readonly dialer: Dialer,
    private readonly answerWaitMs: number,
  ) {}

  /** Starts (or restarts) joining through `addresses` (at most SEEDS_MAX, duplicates dropped). */
  join(addresses: readonly string[]): void {
    this.seeds = [...new Set(addresses)].slice(0, SEEDS_MAX);
    this.connectedAt.clear();
    this.joined = false;
  }

  /** True while seeds should be dialed: the join is unanswered, or every other member is gone. */
  get active(): boolean {
    return this.seeds.length > 0 && (!this.joined || this.table.liveCount <= 1);
  }

  /** A connection to `dialed` came up; true when it is a seed that should now get this node's sync. */
  connected(dialed: string | null, now: number): boolean {
    if (dialed === null || !this.seeds.includes(dialed)) return false;
    this.connectedAt.set(dialed, now);
    return !this.joined;
  }

  /** A sync answer arrived from `peer`; true when it completed the join. */
  answered(): boolean {
    if (this.joined || this.seeds.length === 0 || this.table.liveCount <= 1) return false;
    this.joined = true;
    return true;
  }

  /** Dials the seeds that are due. */
  tick(now: number): void {
    if (!this.active) return;
    for (const address of this.seeds) if (now >= this.retryAt(address) && this.dialer.canDial(address, now)) this.dialer.dial(address, null, now);
  }

  /** When a seed is next due, or Infinity when not joining. */
  nextDeadline(): number {
    if (!this.active) return Infinity;
    let at = Infinity;
    for (const address of this.seeds) at = Math.min(at, Math.max(this.dialer.retryAt(address), this.retryAt(address)));
    return at;
  }

  private retryAt(address: string): number {
    return (this.connectedAt.get(address) ?? -Infinity) + this.answerWaitMs;
  }
}
