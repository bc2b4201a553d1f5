/**
 * What a replica asks its peers for, and asks again: gaps in an origin's entries (pulled from a
 * peer known to hold them), blobs an entry waits for, certificates an entry is signed with. Each
 * ask is remembered for `retryMs`; when it expires without an answer the next attempt goes to
 * whichever connected peer is known to have the thing (the one asked may have gone, or its answer
 * been lost). Bounded: one ask per origin, blob or certificate, at most as many as there are
 * origins and waiting entries.
 */
import type { PeerState } from "./replication-state.ts";

/** What the fetcher needs from its core. */
export interface FetchContext {
  readonly retryMs: number;
  now(): number;
  high(origin: string): number;
  /** Connected peers, in a stable order. */
  connected(): readonly PeerState[];
  random(): number;
  pull(to: string, origin: string, from: number): void;
  want(to: string, hashes: readonly string[]): void;
}

/** The gaps, blobs and certificates a replica is fetching. */
export class Fetcher {
  /** Origin → the highest sequence some peer is known to hold (above what this node holds). */
  private readonly behind = new Map<string, number>();
  /** What was asked, and when: `gap ORIGIN`, `blob HASH`, `cert HASH`. */
  private readonly asked = new Map<string, number>();

  constructor(private readonly cx: FetchContext) {}

  /** A peer holds `origin:seq`: when this node lacks it, it will be pulled. */
  noteHeld(origin: string, seq: number): void {
    if (seq > this.cx.high(origin) && seq > (this.behind.get(origin) ?? 0)) this.behind.set(origin, seq);
  }

  /**
   * The earliest time an ask expires (the core's timer), or Infinity. A gap no connected peer holds
   * needs no timer: news of a holder arrives as an input, and every input runs the fetcher.
   */
  nextRetryAt(): number {
    let at = Infinity;
    for (const t of this.asked.values()) at = Math.min(at, t + this.cx.retryMs);
    return at;
  }

  /** Forgets expired asks, then pulls every gap not being pulled, each from a peer known to hold it. */
  run(): void {
    const now = this.cx.now();
    for (const [k, at] of this.asked) if (now - at >= this.cx.retryMs) this.asked.delete(k);
    for (const [origin, target] of this.behind) {
      const high = this.cx.high(origin);
      if (high >= target) {
        this.behind.delete(origin);
        continue;
      }
      const key = `gap ${origin}`;
      if (this.asked.has(key)) continue;
      const holders = this.cx.connected().filter((p) => (p.known.get(origin) ?? 0) > high);
      if (holders.length === 0) continue;
      const to = holders[Math.floor(this.cx.random() * holders.length)]!;
      this.asked.set(key, now);
      this.cx.pull(to.name, origin, high + 1);
    }
  }

  /** A gap of `origin` will be filled without a pull (a peer is sending what this node lacks). */
  expect(origin: string): void {
    this.asked.set(`gap ${origin}`, this.cx.now());
  }

  /** The gap of an origin was filled (or nothing more is expected): a later gap is asked for at once. */
  filled(origin: string): void {
    this.asked.delete(`gap ${origin}`);
  }

  /** Asks for a blob or certificate (`kind`), of `preferred` when connected, else of a peer known to hold `origin:seq`. */
  fetch(kind: "blob" | "cert", hash: string, preferred: string, origin: string, seq: number): void {
    const key = `${kind} ${hash}`;
    if (this.asked.has(key)) return;
    const connected = this.cx.connected();
    let to = connected.find((p) => p.name === preferred);
    if (to === undefined) {
      const holders = connected.filter((p) => (p.known.get(origin) ?? 0) >= seq);
      to = holders[Math.floor(this.cx.random() * holders.length)];
    }
    if (to === undefined) return;
    this.asked.set(key, this.cx.now());
    this.cx.want(to.name, [hash]);
  }

  /** A blob or certificate arrived. */
  got(kind: "blob" | "cert", hash: string): void {
    this.asked.delete(`${kind} ${hash}`);
  }
}
