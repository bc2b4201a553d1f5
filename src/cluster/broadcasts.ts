/**
 * The gossip queue: claims waiting to be piggybacked, each sent a bounded number of times. At most
 * one claim per member is queued (a newer claim replaces the older), so the queue never holds more
 * than the member table. Claims sent fewer times go first, so news spreads before repeats.
 */
import { encodeView } from "../lang/codec.ts";
import type { List } from "../lang/value.ts";

interface Broadcast {
  readonly name: string;
  readonly value: List;
  readonly bytes: number;
  transmits: number;
}

/** The encoded size of a value inside a message (without the codec's 2-byte envelope). */
export function valueBytes(v: List): number {
  return encodeView(v).length - 2;
}

/** Claims to piggyback, by member name, ordered by how often each was sent. */
export class BroadcastQueue {
  private readonly byName = new Map<string, Broadcast>();
  /** buckets[t]: the claims sent t times, oldest first. */
  private readonly buckets: Set<Broadcast>[] = [];

  /** Claims queued. */
  get size(): number {
    return this.byName.size;
  }

  /** Queues a claim about `name`, replacing any older claim about it. */
  enqueue(name: string, value: List): void {
    this.remove(name);
    const b: Broadcast = { name, value, bytes: valueBytes(value), transmits: 0 };
    this.byName.set(name, b);
    this.bucket(0).add(b);
  }

  /** Drops the queued claim about `name`, if any. */
  remove(name: string): void {
    const old = this.byName.get(name);
    if (old === undefined) return;
    this.byName.delete(name);
    this.buckets[old.transmits]?.delete(old);
  }

  /**
   * Takes claims for one message: least-sent first, within `budgetBytes` and `maxItems`. Each taken
   * claim counts one transmission and leaves the queue once it reached `limit`.
   */
  take(budgetBytes: number, maxItems: number, limit: number): List[] {
    const out: List[] = [];
    if (this.byName.size === 0) return out;
    const taken: Broadcast[] = [];
    let left = budgetBytes;
    for (let t = 0; t < this.buckets.length && out.length < maxItems && left > 0; t++) {
      const bucket = this.buckets[t]!;
      for (const b of bucket) {
        if (t >= limit) {
          // The limit shrank (fewer members) since this claim was queued: it has been sent enough.
          bucket.delete(b);
          this.byName.delete(b.name);
          continue;
        }
        if (b.bytes > left) continue;
        out.push(b.value);
        taken.push(b);
        left -= b.bytes;
        if (out.length >= maxItems) break;
      }
    }
    for (const b of taken) {
      this.buckets[b.transmits]!.delete(b);
      b.transmits++;
      if (b.transmits >= limit) this.byName.delete(b.name);
      else this.bucket(b.transmits).add(b);
    }
    return out;
  }

  private bucket(t: number): Set<Broadcast> {
    while (this.buckets.length <= t) this.buckets.push(new Set());
    return this.buckets[t]!;
  }
}
