/**
 * The replication core's memory, bounded: what it knows of each peer (the entries it holds, the
 * certificates sent on the current connection, its last report, its page budget), the verified
 * entries waiting for a predecessor or a blob, and the blobs waiting for their entry.
 */
import type { EntriesMode } from "./replication-messages.ts";
import { PAGE_WINDOW_MS, PAGES_PER_WINDOW, PENDING_BLOB_BYTES_MAX, PENDING_ENTRIES_MAX, VECTOR_ORIGINS_MAX } from "./replication-limits.ts";
import type { VerifiedEntry } from "./replica.ts";

/** What this node knows of one peer. */
export class PeerState {
  connected = false;
  /** Origin → the highest sequence the peer is known to hold (from its digests, acks, and what this node sent it). */
  known = new Map<string, number>();
  /** Certificates sent on the current connection (the peer keeps them; a new connection starts over). */
  readonly certsSent = new Set<string>();
  stateHash: string | null = null;
  position: number | null = null;
  heardAt: number | null = null;
  private pages = 0;
  private windowStart = -Infinity;

  constructor(readonly name: string) {}

  /** Raises what the peer is known to hold of `origin`. */
  holds(origin: string, seq: number): void {
    if ((this.known.get(origin) ?? 0) < seq) this.known.set(origin, seq);
  }

  /** Takes one page from this peer's budget; false when it is spent for the current window. */
  takePage(now: number): boolean {
    if (now - this.windowStart >= PAGE_WINDOW_MS) {
      this.windowStart = now;
      this.pages = 0;
    }
    if (this.pages >= PAGES_PER_WINDOW) return false;
    this.pages++;
    return true;
  }
}

/** The peers a core tracks: connected ones always, others until room is needed. */
export class Peers {
  private readonly byName = new Map<string, PeerState>();
  private connectedList: PeerState[] | null = null;

  /** Marks a peer connected or not. */
  setConnected(p: PeerState, connected: boolean): void {
    if (p.connected === connected) return;
    p.connected = connected;
    this.connectedList = null;
  }

  /** The state of `name`, created if new (evicting a disconnected peer when full). */
  get(name: string): PeerState {
    let p = this.byName.get(name);
    if (p !== undefined) return p;
    if (this.byName.size >= VECTOR_ORIGINS_MAX) {
      for (const [n, q] of this.byName) {
        if (!q.connected) {
          this.byName.delete(n);
          break;
        }
      }
    }
    p = new PeerState(name);
    this.byName.set(name, p);
    return p;
  }

  find(name: string): PeerState | undefined {
    return this.byName.get(name);
  }

  /** Connected peers, in the order they were first seen (do not modify the array). */
  connected(): readonly PeerState[] {
    this.connectedList ??= [...this.byName.values()].filter((p) => p.connected);
    return this.connectedList;
  }

  all(): PeerState[] {
    return [...this.byName.values()];
  }
}

/** A verified entry waiting to be applied. */
export interface Pending {
  readonly v: VerifiedEntry;
  /** The peer it came from (asked for its blob or a gap before it). */
  readonly from: string;
  readonly mode: EntriesMode;
}

/** Verified entries waiting for their predecessors (entries of one origin apply in order) or their blob. */
export class PendingEntries {
  private readonly byOrigin = new Map<string, Map<number, Pending>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(origin: string, seq: number): boolean {
    return this.byOrigin.get(origin)?.has(seq) === true;
  }

  /** Holds an entry; false when PENDING_ENTRIES_MAX are held already. */
  add(p: Pending): boolean {
    const { origin, seq } = p.v.entry;
    let q = this.byOrigin.get(origin);
    if (q === undefined) {
      q = new Map();
      this.byOrigin.set(origin, q);
    }
    if (q.has(seq)) return true;
    if (this.count >= PENDING_ENTRIES_MAX) return false;
    q.set(seq, p);
    this.count++;
    return true;
  }

  get(origin: string, seq: number): Pending | undefined {
    return this.byOrigin.get(origin)?.get(seq);
  }

  delete(origin: string, seq: number): void {
    const q = this.byOrigin.get(origin);
    if (q?.delete(seq) === true) {
      this.count--;
      if (q.size === 0) this.byOrigin.delete(origin);
    }
  }

  /** Drops an origin's entries at or below `high` (applied another way). */
  dropThrough(origin: string, high: number): void {
    const q = this.byOrigin.get(origin);
    if (q === undefined) return;
    for (const seq of [...q.keys()]) if (seq <= high) this.delete(origin, seq);
  }

  /** The lowest waiting entry of an origin, or undefined. */
  lowest(origin: string): Pending | undefined {
    const q = this.byOrigin.get(origin);
    if (q === undefined) return undefined;
    let best: Pending | undefined;
    for (const p of q.values()) if (best === undefined || p.v.entry.seq < best.v.entry.seq) best = p;
    return best;
  }

  /** Origins with waiting entries. */
  origins(): string[] {
    return [...this.byOrigin.keys()];
  }

  /** Drops every waiting entry matching `pred` (a revoked certificate's). */
  dropWhere(pred: (p: Pending) => boolean): void {
    for (const [origin, q] of [...this.byOrigin]) for (const [seq, p] of [...q]) if (pred(p)) this.delete(origin, seq);
  }
}

/** Blobs received before their entry could be applied, bounded in bytes (oldest dropped first). */
export class BlobStash {
  private readonly blobs = new Map<string, Uint8Array>();
  private bytes = 0;

  has(hash: string): boolean {
    return this.blobs.has(hash);
  }

  get(hash: string): Uint8Array | undefined {
    return this.blobs.get(hash);
  }

  put(hash: string, b: Uint8Array): void {
    if (this.blobs.has(hash) || b.length > PENDING_BLOB_BYTES_MAX) return;
    while (this.bytes + b.length > PENDING_BLOB_BYTES_MAX) {
      const [oldest, ob] = this.blobs.entries().next().value as [string, Uint8Array];
      this.blobs.delete(oldest);
      this.bytes -= ob.length;
    }
    this.blobs.set(hash, b);
    this.bytes += b.length;
  }

  delete(hash: string): void {
    const b = this.blobs.get(hash);
    if (b === undefined) return;
    this.blobs.delete(hash);
    this.bytes -= b.length;
  }
}
