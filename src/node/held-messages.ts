/**
 * Messages the core host holds for peers whose dial is pending, bounded per peer and in all, with
 * waiters for the moment none is held any more (a leaving node's bounded flush).
 */

/**
 * Messages held for one peer while its dial is pending: the simulator's figure, enough for a probe,
 * its gossip and a sync page; more means the peer is not coming soon and the cores will resend.
 */
export const HELD_PER_PEER_MAX = 64;

/** Messages held for all peers together: bounds memory when many dials hang at once. */
export const HELD_TOTAL_MAX = 4096;

/** See the file comment; `T` is what is held per message. */
export class HeldMessages<T> {
  private readonly byPeer = new Map<string, T[]>();
  private count = 0;
  private emptyWaiters: (() => void)[] = [];

  /** Messages held now. */
  get total(): number {
    return this.count;
  }

  /** Holds `item` for `peer`; false (nothing held) when either bound is reached. */
  hold(peer: string, item: T): boolean {
    let queue = this.byPeer.get(peer);
    if ((queue?.length ?? 0) >= HELD_PER_PEER_MAX || this.count >= HELD_TOTAL_MAX) return false;
    if (queue === undefined) this.byPeer.set(peer, (queue = []));
    queue.push(item);
    this.count++;
    return true;
  }

  /** Removes and returns what is held for `peer`, in order. */
  take(peer: string): T[] {
    const queue = this.byPeer.get(peer);
    if (queue === undefined) return [];
    this.byPeer.delete(peer);
    this.count -= queue.length;
    if (this.count === 0) this.wake();
    return queue;
  }

  /** Drops everything. */
  clear(): void {
    this.byPeer.clear();
    this.count = 0;
    this.wake();
  }

  /** Resolves when nothing is held (at once if nothing is). */
  empty(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.emptyWaiters;
    this.emptyWaiters = [];
    for (const w of waiters) w();
  }
}
