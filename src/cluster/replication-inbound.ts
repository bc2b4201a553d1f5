/**
 * The replication core's inbound path: entries from peers. Certificates are checked when they
 * arrive and kept (by hash); blobs are checked against their hash and held until their entry
 * applies; each entry is decoded, told apart from a duplicate or a conflict, checked
 * (replication-verify.ts), held until its predecessors and blob are here (an origin's entries
 * apply in order), applied, acked to its origin and, while fresh, relayed as a `have`. An entry
 * whose certificate this node lacks waits for it (asked of the sender). Everything held is bounded.
 */
import { blobOf, decodeEntry, entryId } from "./entry.ts";
import type { Fetcher } from "./replication-fetch.ts";
import { haveMessage, type EntriesMode, type ReplMessage } from "./replication-messages.ts";
import { CERT_CACHE_MAX, PENDING_ENTRIES_MAX } from "./replication-limits.ts";
import { BlobStash, PendingEntries, type Peers, type PeerState } from "./replication-state.ts";
import { entryProblem } from "./replication-verify.ts";
import type { CertInfo, RejectReason, ReplicationEvent, ReplicationOptions, VerifiedEntry } from "./replica.ts";
import type { ReplicationConfig } from "./replication-config.ts";
import { matches } from "./selector.ts";
import type { Value } from "../lang/value.ts";

/** An entry as it came from a peer. */
export type Incoming = { readonly bytes: Uint8Array; readonly signature: Uint8Array; readonly mode: EntriesMode };

/** What the inbound path shares with its core. */
export interface InboundContext {
  readonly o: ReplicationOptions;
  readonly config: ReplicationConfig;
  readonly peers: Peers;
  readonly fetcher: Fetcher;
  wall(): number;
  emit(event: ReplicationEvent): void;
  send(to: string, message: Value): void;
  reject(from: string, reason: RejectReason, detail: string, entry?: string | null): void;
  /** A peer holds `origin:seq` (what is known of it, and a gap to pull if this node lacks it). */
  holds(p: PeerState, origin: string, seq: number): void;
  /** Asks `p` for what this node lacks (a page said there is more). */
  digest(p: PeerState): void;
  /** A receipt for `origin:seq`, owed to its origin once the entry is durable. */
  owe(origin: string, seq: number, result: string): void;
}

/** See the file comment. */
export class Inbound {
  readonly pending = new PendingEntries();
  private readonly stash = new BlobStash();
  private readonly certs = new Map<string, CertInfo>();
  /** Entries whose certificate is being fetched, by certificate hash (a quarter of PENDING_ENTRIES_MAX in all). */
  private readonly awaitingCert = new Map<string, { from: string; e: Incoming }[]>();
  private awaitingCount = 0;

  constructor(
    private readonly cx: InboundContext,
    /** Revoked certificates: serial → highest origin sequence still accepted. */
    private readonly revoked: Map<string, number>,
  ) {
    const self = cx.o.crypto.self;
    if (self !== null) this.certs.set(self.info.hash, self.info);
  }

  /** Entries waiting for a predecessor, a blob or a certificate. */
  get waiting(): number {
    return this.pending.size + this.awaitingCount;
  }

  /** Takes in an `entries` message: certificates, blobs, then each entry checked and queued, applied in order. */
  onEntries(p: PeerState, m: Extract<ReplMessage, { kind: "entries" }>): void {
    const { crypto, log } = this.cx.o;
    const arrived: string[] = [];
    for (const bytes of m.certs) {
      const hash = crypto.hash(bytes);
      this.cx.fetcher.got("cert", hash);
      if (this.certs.has(hash)) continue;
      const info = crypto.certificate(bytes);
      if (typeof info === "string") {
        this.cx.reject(p.name, "bad-certificate", info);
        continue;
      }
      this.cacheCert(info);
      log.putCert(info, bytes);
      arrived.push(hash);
    }
    for (const b of m.blobs) {
      this.cx.fetcher.got("blob", b.hash);
      if (log.hasBlob(b.hash) || this.stash.has(b.hash)) continue;
      if (crypto.hash(b.bytes) !== b.hash) {
        this.cx.reject(p.name, "blob-mismatch", `blob ${b.hash.slice(0, 12)} does not hash to its name`);
        continue;
      }
      this.stash.put(b.hash, b.bytes);
    }
    const touched = new Set<string>();
    for (const hash of arrived) {
      const waiting = this.awaitingCert.get(hash) ?? [];
      this.awaitingCert.delete(hash);
      this.awaitingCount -= waiting.length;
      for (const w of waiting) {
        const origin = this.receive(this.cx.peers.get(w.from), w.e);
        if (origin !== null) touched.add(origin);
      }
    }
    for (const e of m.entries) {
      const origin = this.receive(p, { ...e, mode: m.mode });
      if (origin !== null) touched.add(origin);
    }
    for (const origin of touched) {
      if (m.mode === "page") this.cx.fetcher.filled(origin);
      this.drain(origin);
    }
    this.cx.fetcher.run();
    if (m.more) this.cx.digest(p);
  }

  private cacheCert(info: CertInfo): void {
    if (this.certs.size >= CERT_CACHE_MAX) this.certs.delete(this.certs.keys().next().value as string);
    this.certs.set(info.hash, info);
  }

  private certInfo(hash: string): CertInfo | null {
    const cached = this.certs.get(hash);
    if (cached !== undefined) return cached;
    const bytes = this.cx.o.log.cert(hash);
    if (bytes === null) return null;
    const info = this.cx.o.crypto.certificate(bytes);
    if (typeof info === "string") return null;
    this.cacheCert(info);
    return info;
  }

  /** Checks one entry from a peer and queues it; returns its origin when it was queued. */
  private receive(p: PeerState, inc: Incoming): string | null {
    const { crypto, log } = this.cx.o;
    const d = decodeEntry(inc.bytes);
    if (typeof d === "string") {
      this.cx.reject(p.name, "malformed", d);
      return null;
    }
    const e = d.entry;
    const id = entryId(e.origin, e.seq);
    const hash = crypto.hash(inc.bytes);
    if (e.seq <= log.high(e.origin) || this.pending.has(e.origin, e.seq)) {
      const held = e.seq <= log.high(e.origin) ? log.entryHash(e.origin, e.seq) : this.pending.get(e.origin, e.seq)!.v.hash;
      if (held === hash) {
        p.holds(e.origin, e.seq);
        this.cx.emit({ type: "duplicate", from: p.name, mode: inc.mode });
      } else this.cx.reject(p.name, "conflict", `entry ${id} differs from the one this node holds (its origin signed two entries with one sequence number)`, id);
      return null;
    }
    if (e.cert === "") {
      this.cx.reject(p.name, "unsigned", `entry ${id} names no certificate`, id);
      return null;
    }
    const cert = this.certInfo(e.cert);
    if (cert === null) {
      if (this.awaitingCount >= PENDING_ENTRIES_MAX / 4) {
        this.cx.reject(p.name, "unknown-certificate", `entry ${id} is signed by certificate ${e.cert.slice(0, 12)}, which this node does not have`, id);
        return null;
      }
      const list = this.awaitingCert.get(e.cert) ?? [];
      list.push({ from: p.name, e: inc });
      this.awaitingCert.set(e.cert, list);
      this.awaitingCount++;
      this.cx.fetcher.fetch("cert", e.cert, p.name, e.origin, e.seq);
      return null;
    }
    const why = entryProblem(e, inc.bytes, inc.signature, cert, crypto, this.revoked, this.cx.wall());
    if (why !== null) {
      this.cx.reject(p.name, why[0], why[1], id);
      return null;
    }
    this.cx.holds(p, e.origin, e.seq);
    if (!this.pending.add({ v: { entry: e, bytes: inc.bytes, signature: inc.signature, hash }, from: p.name, mode: inc.mode })) {
      this.cx.reject(p.name, "too-many-pending", `${this.pending.size} entries wait already; ${id} will come again with catch-up`, id);
      return null;
    }
    return e.origin;
  }

  /** Applies an origin's waiting entries in order, asking for the blob that holds them up. */
  drain(origin: string): void {
    const { log } = this.cx.o;
    this.pending.dropThrough(origin, log.high(origin));
    for (;;) {
      const next = log.high(origin) + 1;
      const p = this.pending.get(origin, next);
      if (p === undefined) return;
      const e = p.v.entry;
      const blobHash = blobOf(e.body);
      const blob = blobHash === null ? null : (this.stash.get(blobHash) ?? null);
      if (blobHash !== null && blob === null && !log.hasBlob(blobHash)) {
        this.cx.fetcher.fetch("blob", blobHash, p.from, origin, next);
        return;
      }
      this.pending.delete(origin, next);
      // A revocation applied just before may have cut this entry off.
      const upTo = this.revoked.get(this.certs.get(e.cert)?.serial ?? "");
      if (upTo !== undefined && e.seq > upTo) {
        this.cx.reject(p.from, "revoked", `entry ${entryId(origin, next)} is signed by a certificate revoked meanwhile`, entryId(origin, next));
        continue;
      }
      const applied = log.apply(p.v, blob, e.target === null || matches(e.target, this.cx.o.subject), false);
      if (blobHash !== null) this.stash.delete(blobHash);
      this.afterApply(p.v, p.from, applied.result, applied.detail);
    }
  }

  private afterApply(v: VerifiedEntry, from: string, result: string, detail: unknown): void {
    const e = v.entry;
    this.cx.emit({ type: "applied", entry: e, from, result, detail });
    if (e.body.kind === "revoke") {
      const body = e.body;
      const before = this.revoked.get(body.serial);
      this.revoked.set(body.serial, before === undefined ? body.upTo : Math.min(before, body.upTo));
      this.pending.dropWhere((p) => this.certs.get(p.v.entry.cert)?.serial === body.serial && p.v.entry.seq > body.upTo);
    }
    if (this.cx.peers.find(e.origin)?.connected === true && e.origin !== this.cx.o.name) this.cx.owe(e.origin, e.seq, result);
    // Only fresh entries are relayed: old ones are catch-up, which anti-entropy carries.
    if (v.signature === null || e.hlc.ms < this.cx.wall() - this.cx.config.relayFreshMs) return;
    // Random connected peers not known to hold it: a few draws each, not a scan of every peer.
    const connected = this.cx.peers.connected();
    let sent = 0;
    for (let tries = 0; sent < this.cx.config.relayFanout && tries < this.cx.config.relayFanout * 4 && connected.length > 0; tries++) {
      const q = connected[Math.floor(this.cx.o.random.next() * connected.length)]!;
      if (q.name === from || q.name === e.origin || (q.known.get(e.origin) ?? 0) >= e.seq) continue;
      q.holds(e.origin, e.seq);
      this.cx.send(q.name, haveMessage([{ origin: e.origin, seq: e.seq }]));
      sent++;
    }
  }
}
