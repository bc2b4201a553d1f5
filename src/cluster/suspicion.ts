/**
 * Lifeguard's dynamic suspicion: a suspicion starts at the maximum timeout and shrinks towards the
 * minimum as independent members confirm it, so a member suspected by one (perhaps unhealthy)
 * node gets time to refute, and one that many cannot reach is declared dead quickly.
 */
import { suspicionTimeoutMs } from "./config.ts";

/** One member's suspicion timer on this node. */
export class Suspicion {
  /** Members whose suspicion counted as a confirmation (never more than `expected`). */
  private readonly confirmers = new Set<string>();
  private deadlineMs: number;
  /** Set once this node probed the member one last time before the deadline. */
  lastChance = false;

  constructor(
    /** Who raised the suspicion this node first heard; it does not count as a confirmation. */
    readonly from: string,
    private startMs: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    /** Confirmations that bring the timeout down to minMs (Lifeguard's K). */
    private readonly expected: number,
  ) {
    this.deadlineMs = startMs + suspicionTimeoutMs(minMs, maxMs, 0, expected);
  }

  /** When the member is declared dead unless it refutes. */
  get deadline(): number {
    return this.deadlineMs;
  }

  /** Confirmations so far. */
  get confirmations(): number {
    return this.confirmers.size;
  }

  /** Counts `from`'s suspicion; true when it was a new, independent confirmation. */
  confirm(from: string): boolean {
    if (from === this.from || this.confirmers.has(from) || this.confirmers.size >= this.expected) return false;
    this.confirmers.add(from);
    this.deadlineMs = this.startMs + suspicionTimeoutMs(this.minMs, this.maxMs, this.confirmers.size, this.expected);
    return true;
  }

  /** Moves the start and deadline later by `ms` (time this node lost to a stall does not count). */
  postpone(ms: number): void {
    this.startMs += ms;
    this.deadlineMs += ms;
  }
}
