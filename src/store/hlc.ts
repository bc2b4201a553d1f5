/**
 * The hybrid logical clock (Kulkarni et al. 2014) that stamps every change: a physical part (epoch
 * milliseconds, the largest wall time seen) and a counter that orders changes within the same
 * millisecond. A stamp made after seeing another is always greater than it, whatever the wall
 * clocks say, so last-writer-wins on (HLC, origin) never lets an older write beat one that
 * followed it. The store keeps the clock: it starts from the newest stamp it holds, so a restart
 * (or a wall clock that jumped back) never issues a stamp below one already written.
 */

/** One stamp. */
export interface Hlc {
  readonly ms: number;
  readonly n: number;
}

/** The stamp below every other: what seeded code (the welcome route) carries, so any write beats it. */
export const HLC_ZERO: Hlc = { ms: 0, n: 0 };

/** Orders two stamps; origins (certificate names or node ids) break ties, compared as strings. */
export function compareStamps(a: Hlc, aOrigin: string, b: Hlc, bOrigin: string): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.n !== b.n) return a.n < b.n ? -1 : 1;
  return aOrigin < bOrigin ? -1 : aOrigin > bOrigin ? 1 : 0;
}

/** A clock that only moves forward. */
export class HybridClock {
  private last: Hlc;

  constructor(start: Hlc = HLC_ZERO) {
    this.last = start;
  }

  /** The newest stamp issued or seen. */
  get current(): Hlc {
    return this.last;
  }

  /** A new stamp for a change made now (`wallMs`: this node's wall clock), above every stamp seen. */
  tick(wallMs: number): Hlc {
    const ms = Math.max(Math.floor(wallMs), this.last.ms);
    this.last = ms === this.last.ms ? { ms, n: this.last.n + 1 } : { ms, n: 0 };
    return this.last;
  }

  /** Takes in a stamp made elsewhere, so the next tick is above it. */
  observe(stamp: Hlc): void {
    if (compareStamps(stamp, "", this.last, "") > 0) this.last = stamp;
  }
}
