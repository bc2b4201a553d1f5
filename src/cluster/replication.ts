/**
 * The replication core (docs/cluster.md, "Change-log replication"): every node holds every entry of
 * the change log and applies those whose target selects it. A ProtocolCore: fed inputs, answering
 * with effects, deterministic given its seeded Random and its injected log and crypto.
 *
 * - A local write is stamped (HLC), numbered (origin sequence), signed, committed (durable) and
 *   pushed at once to every connected peer, with its blob.
 * - An entry from a peer is checked (replication-verify.ts) and applied in its origin's order; a
 *   gap is pulled from a peer known to hold it, a missing blob or certificate asked for
 *   (replication-fetch.ts).
 * - A fresh entry (its HLC a few seconds old at most) is relayed by every node that applies it to a
 *   few connected peers not known to hold it, as a `have` naming it; a peer that lacks it pulls it.
 *   So entries spread epidemically over whatever connections exist, and a relay costs ~30 bytes
 *   where the peer had it already (the usual case in a full mesh). Every peer acks to the origin:
 *   receipts.
 * - Anti-entropy: version vectors (origin → highest contiguous sequence) are exchanged on every new
 *   connection and with one random peer per interval; a peer that lacks entries gets them in pages,
 *   one page per round trip, until it has them all.
 */
import { encode } from "../lang/codec.ts";
import type { Value } from "../lang/value.ts";
import type { CoreEffect, CoreInput, ProtocolCore } from "./core.ts";
import { blobOf, decodeEntry, entryValue, permissionFor, type Entry } from "./entry.ts";
import { DEFAULT_REPLICATION_CONFIG, type ReplicationConfig } from "./replication-config.ts";
import { Fetcher } from "./replication-fetch.ts";
import { Inbound } from "./replication-inbound.ts";
import { buildPage } from "./replication-pages.ts";
import { ackMessage, decodeReplMessage, digestMessage, entriesMessage, pullMessage, REPL_CHANNEL, wantMessage, type ReplMessage } from "./replication-messages.ts";
import { ACKS_PER_MESSAGE_MAX, PAGE_BYTES_MAX } from "./replication-limits.ts";
import { Peers, type PeerState } from "./replication-state.ts";
import type { PeerReplica, RejectReason, ReplicationEvent, ReplicationOptions, ReplicationRequest, VerifiedEntry } from "./replica.ts";
import { matches } from "./selector.ts";


/**
 * Makes, signs (when the node has an identity) and commits a change made on this node: the next
 * sequence of its origin, a fresh HLC stamp, applied here if its target selects this node. The core
 * uses it for writes; a node without identity (no core, nothing sent) uses it alone. Refused when
 * the node's certificate lacks the permission the change needs.
 */
export function commitLocal(
  o: Pick<ReplicationOptions, "log" | "crypto" | "name" | "subject">,
  wallMs: number,
  req: Extract<ReplicationRequest, { type: "write" }>,
): { readonly v: VerifiedEntry; readonly result: string; readonly detail: unknown } | { readonly refused: string; readonly cause: "permission" | "invalid" } {
  const { log, crypto, name } = o;
  const need = permissionFor(req.body.kind);
  const self = crypto.self;
  if (self !== null && !self.info.can.includes(need)) {
    return { refused: `this node's identity "${self.info.name}" lacks the "${need}" permission (its certificate grants: ${self.info.can.length === 0 ? "none" : self.info.can.join(", ")})`, cause: "permission" };
  }
  const entry: Entry = { origin: name, seq: log.high(name) + 1, hlc: log.tick(wallMs), cert: self?.info.hash ?? "", author: req.author, target: req.target, body: req.body };
  const bytes = encode(entryValue(entry));
  // Read back as every peer will read it: an entry they would refuse must not take a sequence number
  // here (its origin's later entries would wait behind the gap everywhere).
  const readBack = decodeEntry(bytes);
  if (typeof readBack === "string") return { refused: readBack, cause: "invalid" };
  const signature = self === null ? null : crypto.sign(bytes);
  const v: VerifiedEntry = { entry, bytes, signature, hash: crypto.hash(bytes) };
  const applied = log.apply(v, req.blob, entry.target === null || matches(entry.target, o.subject), true);
  return { v, result: applied.result, detail: applied.detail };
}

/** The replication protocol core. */
export class ReplicationCore implements ProtocolCore<ReplicationRequest, ReplicationEvent> {
  readonly channel = REPL_CHANNEL;
  readonly config: ReplicationConfig;
  private readonly peers = new Peers();
  private readonly fetcher: Fetcher;
  private readonly inbound: Inbound;
  private out: CoreEffect<ReplicationEvent>[] = [];
  /**
   * Receipts owed for entries applied without an fsync (group commit): sent on the next tick, after
   * one sync makes them all durable. The tick is asked for at once, so it comes right after the
   * inputs already waiting (a burst of pushes is one fsync, not one each).
   */
  private acks = new Map<string, { origin: string; seq: number; result: string }[]>();
  private acksOwed = 0;
  private now: number;
  private nextSyncAt: number;

  constructor(
    private readonly o: ReplicationOptions,
    config: Partial<ReplicationConfig> = {},
  ) {
    this.config = { ...DEFAULT_REPLICATION_CONFIG, ...config };
    this.now = o.now;
    this.nextSyncAt = o.now + this.jitter(this.config.syncIntervalMs);
    const self = o.crypto.self;
    if (self !== null) o.log.putCert(self.info, self.bytes);
    this.fetcher = new Fetcher({
      retryMs: this.config.retryMs,
      now: () => this.now,
      high: (origin) => this.o.log.high(origin),
      connected: () => this.peers.connected(),
      random: () => this.o.random.next(),
      pull: (to, origin, from) => this.send(to, pullMessage(origin, from)),
      want: (to, hashes) => this.send(to, wantMessage(hashes)),
    });
    this.inbound = new Inbound(
      {
        o,
        config: this.config,
        peers: this.peers,
        fetcher: this.fetcher,
        wall: () => this.wall(),
        emit: (e) => this.emit(e),
        send: (to, m) => this.send(to, m),
        reject: (from, reason, detail, entry) => this.reject(from, reason, detail, entry ?? null),
        holds: (p, origin, seq) => this.holds(p, origin, seq),
        digest: (p) => this.sendDigest(p, true),
        owe: (origin, seq, result) => {
          let list = this.acks.get(origin);
          if (list === undefined) this.acks.set(origin, (list = []));
          list.push({ origin, seq, result });
          this.acksOwed++;
        },
      },
      new Map(o.log.revocations()),
    );
  }

  /** What this node knows of each peer's replication, connected peers first. */
  peerReplicas(): PeerReplica[] {
    const mine = this.o.log.vector();
    const view = (p: PeerState): PeerReplica => ({
      name: p.name,
      connected: p.connected,
      lagEntries: mine.reduce((n, v) => n + Math.max(0, v.high - (p.known.get(v.origin) ?? 0)), 0),
      stateHash: p.stateHash,
      position: p.position,
      heardAt: p.heardAt,
    });
    return [...this.peers.connected(), ...this.peers.all().filter((p) => !p.connected)].map(view);
  }

  /** Entries waiting for a predecessor, a blob or a certificate. */
  get pendingCount(): number {
    return this.inbound.waiting;
  }

  /** Applies one input; see core.ts. */
  step(input: CoreInput<ReplicationRequest>): CoreEffect<ReplicationEvent>[] {
    this.out = [];
    this.now = input.now;
    switch (input.type) {
      case "tick":
      case "connect-failed":
        break;
      case "message":
        this.onMessage(input.from, input.message);
        break;
      case "connected": {
        const p = this.peers.get(input.peer);
        this.peers.setConnected(p, true);
        p.certsSent.clear();
        // One side starts the exchange (both would send every page twice): the lower name.
        if (this.o.name < input.peer) this.sendDigest(p, false);
        break;
      }
      case "disconnected": {
        const p = this.peers.find(input.peer);
        if (p !== undefined) {
          this.peers.setConnected(p, false);
          p.certsSent.clear();
        }
        break;
      }
      case "request":
        if (input.request.type === "write") this.write(input.request);
        else for (const p of this.peers.connected()) this.sendDigest(p, false);
        break;
    }
    this.runTimers();
    if (this.acksOwed > 0 && (input.type === "tick" || this.acksOwed >= ACKS_PER_MESSAGE_MAX)) this.flushAcks();
    this.out.push({ type: "timer", at: this.acksOwed > 0 ? this.now : Math.min(this.nextSyncAt, this.fetcher.nextRetryAt()) });
    return this.out;
  }

  /** Makes the entries applied so far durable, then sends the receipts owed for them. */
  private flushAcks(): void {
    this.o.log.sync();
    for (const [to, acks] of this.acks) this.send(to, ackMessage(acks));
    this.acks = new Map();
    this.acksOwed = 0;
  }

  private wall(): number {
    return this.now + this.o.wallOffsetMs;
  }

  private jitter(ms: number): number {
    return ms * (0.75 + this.o.random.next() * 0.5);
  }

  private emit(event: ReplicationEvent): void {
    this.out.push({ type: "emit", event });
  }

  private send(to: string, message: Value): void {
    this.out.push({ type: "send", to, message });
  }

  private reject(from: string, reason: RejectReason, detail: string, entry: string | null = null): void {
    this.emit({ type: "rejected", from, reason, detail, entry });
  }

  private sendDigest(p: PeerState, reply: boolean): void {
    const log = this.o.log;
    const vector = log.vector();
    this.send(p.name, digestMessage(vector.reduce((n, v) => n + v.high, 0), log.stateHash(), reply, vector));
  }

  private holds(p: PeerState, origin: string, seq: number): void {
    p.holds(origin, seq);
    this.fetcher.noteHeld(origin, seq);
  }

  private runTimers(): void {
    if (this.now >= this.nextSyncAt) {
      this.nextSyncAt = this.now + this.jitter(this.config.syncIntervalMs);
      const connected = this.peers.connected();
      if (connected.length > 0) this.sendDigest(connected[Math.floor(this.o.random.next() * connected.length)]!, false);
    }
    this.fetcher.run();
    for (const origin of this.inbound.pending.origins()) this.inbound.drain(origin);
  }

  // ---- local writes ----

  private write(req: Extract<ReplicationRequest, { type: "write" }>): void {
    const c = commitLocal(this.o, this.wall(), req);
    if ("refused" in c) return this.emit({ type: "write-refused", reason: c.refused, cause: c.cause });
    const { entry, bytes, signature } = c.v;
    this.emit({ type: "committed", entry, result: c.result, detail: c.detail });
    if (signature === null) return;
    const self = this.o.crypto.self!;
    const blobHash = blobOf(entry.body);
    const blobs = blobHash !== null && req.blob !== null && req.body.kind === "code-put" && req.body.op === "put" ? [{ hash: blobHash, bytes: req.blob }] : [];
    for (const p of this.peers.connected()) {
      const certs = p.certsSent.has(entry.cert) ? [] : [self.bytes];
      p.certsSent.add(entry.cert);
      p.holds(entry.origin, entry.seq);
      this.send(p.name, entriesMessage("push", false, certs, [{ bytes, signature }], blobs));
    }
  }

  // ---- messages ----

  private onMessage(from: string, value: Value): void {
    const d = decodeReplMessage(value);
    if (!d.ok) return this.reject(from, "malformed", d.reason);
    const m: ReplMessage = d.message;
    const p = this.peers.get(from);
    switch (m.kind) {
      case "entries":
        return this.inbound.onEntries(p, m);
      case "digest":
        return this.onDigest(p, m);
      case "pull":
        return this.answerPage(p, new Map([[m.origin, m.from - 1]]), [m.origin]);
      case "want":
        return this.onWant(p, m.hashes);
      case "have":
        for (const h of m.entries) this.holds(p, h.origin, h.seq);
        this.fetcher.run();
        return;
      case "ack":
        for (const a of m.acks) {
          p.holds(a.origin, a.seq);
          if (a.origin === this.o.name) this.emit({ type: "receipt", peer: from, seq: a.seq, result: a.result });
        }
        return;
    }
  }

  private onWant(p: PeerState, hashes: readonly string[]): void {
    const blobs: { hash: string; bytes: Uint8Array }[] = [];
    const certs: Uint8Array[] = [];
    let bytes = 0;
    for (const h of hashes) {
      const b = this.o.log.blob(h);
      const c = b === null ? this.o.log.cert(h) : null;
      const size = b?.length ?? c?.length ?? 0;
      if (size === 0 || (bytes + size > PAGE_BYTES_MAX && bytes > 0)) continue;
      if (b !== null) blobs.push({ hash: h, bytes: b });
      if (c !== null) {
        certs.push(c);
        p.certsSent.add(h);
      }
      bytes += size;
    }
    if (blobs.length > 0 || certs.length > 0) this.send(p.name, entriesMessage("page", false, certs, [], blobs));
  }

  private onDigest(p: PeerState, m: Extract<ReplMessage, { kind: "digest" }>): void {
    p.stateHash = m.stateHash;
    p.position = m.position;
    p.heardAt = this.now;
    const theirs = new Map(m.vector.map((v) => [v.origin, v.high]));
    p.known = new Map(theirs);
    const behind: string[] = [];
    for (const [origin, high] of theirs) {
      this.fetcher.noteHeld(origin, high);
      if (high > this.o.log.high(origin)) behind.push(origin);
    }
    this.answerPage(p, theirs, null);
    if (behind.length === 0 || m.reply) return;
    // The reply brings a page of everything this node lacks: no pulls for those gaps meanwhile.
    this.sendDigest(p, true);
    for (const origin of behind) this.fetcher.expect(origin);
  }

  /** Sends a peer one page of what it lacks (of `only` origins, or all), within its page budget. */
  private answerPage(p: PeerState, theirs: ReadonlyMap<string, number>, only: readonly string[] | null): void {
    const page = buildPage(this.o.log, theirs, only, p.certsSent);
    if (page.entries.length === 0) return;
    if (!p.takePage(this.now)) return this.reject(p.name, "rate-limited", `pages asked for beyond the budget`);
    for (const c of page.certHashes) p.certsSent.add(c);
    for (const e of page.entries) p.holds(e.origin, e.seq);
    this.send(p.name, entriesMessage("page", page.more, page.certs, page.entries, page.blobs));
  }

}
