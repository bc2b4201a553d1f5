/**
 * A node's side of change-log replication (docs/cluster.md): every change the node makes goes
 * through `write`, which commits it as an entry (durable before it returns) and, in a cluster,
 * hands it to the replication core to push; receipts from peers are gathered for `--wait`. A node
 * without identity commits unsigned local entries and nothing leaves it (it works alone as
 * before). What entries do to the node (kernel loads, revocations) comes in through ApplyHooks.
 */
import { commitLocal, type EntryBody, type PeerReplica, type ReplicaLog, type ReplicationEvent, type ReplicationRequest, type Selector, type SelectorSubject } from "../cluster/mod.ts";
import { SupError } from "../errors.ts";
import type { Committed, Store } from "../store/mod.ts";
import { ReceiptBook, type ReceiptReport, type WaitFor } from "./receipts.ts";
import { NO_IDENTITY } from "./replica-crypto.ts";
import { StoreReplicaLog, type ApplyHooks } from "./replica-log.ts";
import type { EntryCrypto } from "../cluster/mod.ts";

/**
 * A write this node may not make: its identity lacks the permission (code `permission`; the
 * message names it), or the entry is one every peer would refuse (code `invalid-entry`, e.g. a
 * field over its limit; the message names the field).
 */
export class WriteRefusedError extends SupError {
  constructor(
    action: string,
    /** Why, e.g. `this node's identity "web-1" lacks the "code" permission (its certificate grants: none)`. */
    readonly reason: string,
    cause: "permission" | "invalid" = "permission",
  ) {
    super(cause === "permission" ? "permission" : "invalid-entry", `${action}: ${reason}`);
  }
}

/** What a committed write gives back. */
export interface WriteResult {
  readonly origin: string;
  readonly seq: number;
  /** `applied`, `skipped` (the target is other nodes) or `error: …`. */
  readonly result: string;
  /** What the store did (the version a code put made). */
  readonly committed: Committed;
  readonly target: Selector | null;
  /** Monotonic time of the commit (receipts' latencies count from it). */
  readonly at: number;
}

/** How a write is made. */
export interface WriteOptions {
  readonly author: string;
  readonly target?: Selector | null;
  /** The blob a code put needs (its source), when the node has it in hand. */
  readonly blob?: Uint8Array | null;
  /** How a refusal starts (default `Cannot write`), e.g. `Cannot revoke "web-2"`. */
  readonly action?: string;
}

/** The replication core as the node drives it (the core host's handle). */
export interface ReplicationHandle {
  request(r: ReplicationRequest): void;
  subscribe(listener: (e: ReplicationEvent) => void): () => void;
  peerReplicas(): PeerReplica[];
}

/** A node's replication. */
export class NodeReplication {
  readonly log: ReplicaLog;
  readonly receipts = new ReceiptBook();
  private handle: ReplicationHandle | null = null;
  private captured: ReplicationEvent | null = null;
  /** Entries refused and applied, by reason or result, for metrics. */
  readonly counts = { rejected: new Map<string, number>(), applied: new Map<string, number>(), duplicates: 0 };

  constructor(
    private readonly store: Store,
    /** The origin name: the certificate's name, or the node id without identity. */
    readonly origin: string,
    private readonly subject: SelectorSubject,
    private readonly crypto: EntryCrypto,
    hooks: ApplyHooks,
    private readonly clock: { wall(): number; now(): number } = { wall: () => Date.now(), now: () => performance.now() },
    localOrigins: ReadonlySet<string> = new Set(),
  ) {
    this.log = new StoreReplicaLog(store, localOrigins, hooks);
  }

  /** A node without identity: unsigned local entries. */
  static alone(store: Store, nodeId: string, hooks: ApplyHooks): NodeReplication {
    return new NodeReplication(store, nodeId, { name: nodeId, roles: [], labels: [] }, NO_IDENTITY, hooks);
  }

  /** True when the node is in a cluster (its writes travel). */
  get clustered(): boolean {
    return this.handle !== null;
  }

  /** Connects the node to its replication core (hosted over the backchannel). */
  attach(handle: ReplicationHandle): void {
    this.handle = handle;
    handle.subscribe((e) => this.onEvent(e));
  }

  /** The node's own events and the core's: receipts, counts. */
  private onEvent(e: ReplicationEvent): void {
    switch (e.type) {
      case "committed":
      case "write-refused":
        this.captured = e;
        return;
      case "receipt":
        this.receipts.receipt(e.peer, e.seq, e.result, this.clock.now());
        return;
      case "applied":
        this.counts.applied.set(e.result.startsWith("error") ? "error" : e.result, (this.counts.applied.get(e.result.startsWith("error") ? "error" : e.result) ?? 0) + 1);
        return;
      case "rejected":
        this.counts.rejected.set(e.reason, (this.counts.rejected.get(e.reason) ?? 0) + 1);
        return;
      case "duplicate":
        this.counts.duplicates++;
        return;
    }
  }

  /**
   * Commits a change made on this node (signed when it has an identity) and, in a cluster, pushes
   * it. Durable when it returns. Throws WriteRefusedError when the node's identity lacks the
   * permission the change needs.
   */
  write(body: EntryBody, options: WriteOptions): WriteResult {
    const req: ReplicationRequest = { type: "write", body, target: options.target ?? null, author: options.author, blob: options.blob ?? null };
    let event: ReplicationEvent | null;
    if (this.handle === null) {
      const c = commitLocal({ log: this.log, crypto: this.crypto, name: this.origin, subject: this.subject }, this.clock.wall(), req);
      event = "refused" in c ? { type: "write-refused", reason: c.refused, cause: c.cause } : { type: "committed", entry: c.v.entry, result: c.result, detail: c.detail };
    } else {
      this.captured = null;
      this.handle.request(req);
      // The core answers synchronously through onEvent (unless the host is mid-step: null).
      event = this.captured as ReplicationEvent | null;
      this.captured = null;
    }
    if (event === null) throw new SupError("replication-busy", "Cannot write now: the replication core is busy with another input; try again");
    if (event.type === "write-refused") throw new WriteRefusedError(options.action ?? "Cannot write", event.reason, event.cause);
    if (event.type !== "committed") throw new Error("replication bug: a write answered with " + event.type);
    const at = this.clock.now();
    this.receipts.committed(event.entry.seq, at);
    return { origin: event.entry.origin, seq: event.entry.seq, result: event.result, committed: event.detail as Committed, target: event.entry.target, at };
  }

  /**
   * Waits until the members `targets` (alive ones selected by the write's target; `down` the others)
   * have applied entry `seq`, or `timeoutMs` passes. See receipts.ts.
   */
  waitFor(w: WriteResult, wait: WaitFor, members: readonly { readonly name: string; readonly alive: boolean }[], timeoutMs: number): Promise<ReceiptReport> {
    return this.receipts.wait(w.seq, w.at, this.origin, wait, members, timeoutMs, () => this.clock.now(), w.result);
  }

  /** The state hash of the current code, and the number of entries held. */
  state(): { readonly stateHash: string; readonly entries: number; readonly names: number } {
    const h = this.store.log.stateHash();
    return { stateHash: h.hash, entries: this.store.log.size, names: h.names };
  }

  /** What this node knows of each peer's replication (empty when alone). */
  peers(): PeerReplica[] {
    return this.handle?.peerReplicas() ?? [];
  }

  /** Prometheus text: entries held, applied by result, refused by reason, duplicates, lag per peer. */
  metricsText(): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    family("sup_replication_entries", "gauge", "Change-log entries this node holds.");
    lines.push(`sup_replication_entries ${this.store.log.size}`);
    family("sup_replication_applied_total", "counter", "Entries from other nodes stored here, by result (applied, skipped: aimed at other nodes, error).");
    for (const [r, n] of this.counts.applied) lines.push(`sup_replication_applied_total{result="${r}"} ${n}`);
    family("sup_replication_refused_total", "counter", "Entries and messages from peers refused, by reason.");
    for (const [r, n] of this.counts.rejected) lines.push(`sup_replication_refused_total{reason="${r}"} ${n}`);
    family("sup_replication_duplicates_total", "counter", "Entries received again (pushes, relays and catch-up overlap; replays).");
    lines.push(`sup_replication_duplicates_total ${this.counts.duplicates}`);
    family("sup_replication_peer_lag_entries", "gauge", "Entries this node holds that a peer is not known to hold.");
    for (const p of this.peers()) lines.push(`sup_replication_peer_lag_entries{peer="${p.name}"} ${p.lagEntries}`);
    return lines.join("\n") + "\n";
  }
}
