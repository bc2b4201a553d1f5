/**
 * Receipts (`sup code put … --wait`): every member that applies an entry acks it to its origin;
 * the origin keeps, per entry it made, who applied it and how long after the commit, and answers a
 * wait when the targeted live members (all, or N counting itself) have it, or when its timeout
 * passes. A member that is not alive is reported down and not waited for; a live one that has not
 * answered by the timeout is reported lagging.
 */

/** How many must have applied an entry for a wait to end: every targeted live member, or N nodes (this one included). */
export type WaitFor = "all" | number;

/** One member's answer to a wait. */
export interface NodeReceipt {
  readonly node: string;
  /** `applied`, `skipped` (the target does not select it), `error` (applying failed there), `down`, `lagging`. */
  readonly state: "applied" | "skipped" | "error" | "down" | "lagging";
  /** Milliseconds from the commit to its receipt arriving here; null without one. */
  readonly ms: number | null;
  /** The apply error, when there was one. */
  readonly detail?: string;
}

/** The outcome of a wait. */
export interface ReceiptReport {
  /** True when the wait's condition held before the timeout. */
  readonly complete: boolean;
  readonly receipts: readonly NodeReceipt[];
}

/**
 * Entries whose receipts are kept: a `--wait` asks about the entry it just made, so the last few
 * thousand are plenty, and the book never grows with uptime.
 */
export const RECEIPTS_KEPT = 4096;

interface Book {
  readonly at: number;
  readonly got: Map<string, { readonly result: string; readonly at: number }>;
}

interface Waiter {
  readonly check: () => boolean;
  readonly done: () => void;
}

/** The receipts of this node's recent entries. */
export class ReceiptBook {
  private readonly books = new Map<number, Book>();
  private readonly waiters = new Map<number, Set<Waiter>>();

  /** Entry `seq` of this node was committed at `at` (monotonic ms). */
  committed(seq: number, at: number): void {
    this.books.set(seq, { at, got: new Map() });
    if (this.books.size > RECEIPTS_KEPT) this.books.delete(this.books.keys().next().value as number);
  }

  /** A peer applied entry `seq`. */
  receipt(peer: string, seq: number, result: string, at: number): void {
    const b = this.books.get(seq);
    if (b === undefined || b.got.has(peer)) return;
    b.got.set(peer, { result, at });
    for (const w of [...(this.waiters.get(seq) ?? [])]) if (w.check()) w.done();
  }

  /**
   * Waits for entry `seq` (committed at `at` by `self`, with `selfResult` there): `members` are the
   * members the entry's target selects, this node included, each alive or not.
   */
  wait(seq: number, at: number, self: string, wait: WaitFor, members: readonly { readonly name: string; readonly alive: boolean }[], timeoutMs: number, now: () => number, selfResult = "applied"): Promise<ReceiptReport> {
    const book = this.books.get(seq) ?? { at, got: new Map() };
    const stateOf = (result: string) => (result === "applied" ? "applied" : result === "skipped" ? "skipped" : "error");
    const live = members.filter((m) => m.alive && m.name !== self);
    const selfTargeted = members.some((m) => m.name === self);
    const report = (complete: boolean): ReceiptReport => ({
      complete,
      receipts: members.map((m): NodeReceipt => {
        // This node applied it when it committed it (a kernel that did not load here is its error).
        if (m.name === self) return { node: m.name, state: stateOf(selfResult), ms: 0, ...(stateOf(selfResult) === "error" ? { detail: selfResult.replace(/^error: /, "") } : {}) };
        const r = book.got.get(m.name);
        if (r !== undefined) {
          const state = stateOf(r.result);
          return { node: m.name, state, ms: Math.round((r.at - book.at) * 10) / 10, ...(state === "error" ? { detail: r.result.replace(/^error: /, "") } : {}) };
        }
        return { node: m.name, state: m.alive ? "lagging" : "down", ms: null };
      }),
    });
    const check = () => {
      if (wait === "all") return live.every((m) => book.got.has(m.name));
      const have = (selfTargeted ? 1 : 0) + live.filter((m) => book.got.has(m.name)).length;
      return have >= wait;
    };
    if (check()) return Promise.resolve(report(true));
    return new Promise((resolve) => {
      let set = this.waiters.get(seq);
      if (set === undefined) this.waiters.set(seq, (set = new Set()));
      const waiters = set;
      const finish = (complete: boolean) => {
        clearTimeout(timer);
        waiters.delete(w);
        if (waiters.size === 0) this.waiters.delete(seq);
        resolve(report(complete));
      };
      const w: Waiter = { check, done: () => finish(true) };
      waiters.add(w);
      const timer = setTimeout(() => finish(check()), Math.max(0, timeoutMs - (now() - at)));
    });
  }
}
