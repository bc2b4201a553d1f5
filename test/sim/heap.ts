/**
 * The simulator's event queue: a binary min-heap ordered by (time, insertion number), so events at
 * the same virtual time run in the order they were scheduled and every run of a seed is identical.
 */

interface Entry<T> {
  readonly at: number;
  readonly n: number;
  readonly item: T;
}

/** A min-heap of items by time, FIFO among equal times. */
export class EventHeap<T> {
  private readonly h: Entry<T>[] = [];
  private counter = 0;

  get size(): number {
    return this.h.length;
  }

  /** The earliest time queued, or Infinity. */
  peekTime(): number {
    return this.h.length > 0 ? this.h[0]!.at : Infinity;
  }

  push(at: number, item: T): void {
    const e: Entry<T> = { at, n: this.counter++, item };
    const h = this.h;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(e, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  /** Removes and returns the earliest entry (time and item). */
  pop(): { at: number; item: T } | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && less(h[r]!, h[l]!) ? r : l;
        if (!less(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return { at: top.at, item: top.item };
  }
}

function less<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.n < b.n);
}
