/**
 * The membership core: who is in the cluster, in what state, with what metadata (SWIM with
 * Lifeguard's refinements, digest push-pull sync; docs/cluster.md). A ProtocolCore: fed inputs,
 * answering with effects, deterministic given its seeded Random.
 */
import { SupError } from "../errors.ts";
import { List, Str, T_PAREN, type Value } from "../lang/value.ts";
import { BroadcastQueue, valueBytes } from "./broadcasts.ts";
import { DEFAULT_MEMBERSHIP_CONFIG, retransmitLimit, type MembershipConfig } from "./config.ts";
import { Health, type CoreContext, type SendOptions } from "./context.ts";
import type { CoreEffect, CoreInput, ProtocolCore, Random } from "./core.ts";
import { Dialer } from "./dialer.ts";
import type { MembershipEvent, MembershipRequest } from "./events.ts";
import { MEMBERS_MAX, META_BYTES_MAX, PIGGYBACK_BYTES_MAX, PIGGYBACK_CLAIMS_MAX, STAT_MAX } from "./limits.ts";
import { EMPTY_STATS, type Member, type MemberMeta, type MemberStats, type MemberView } from "./member.ts";
import { MemberTable, metaBytes } from "./member-table.ts";
import { claimValue, decodeMessage, isMemberName, MEMBER_CHANNEL, messageValue, metaProblem, statsValue, type MembershipMessage, type MessageBody } from "./messages.ts";
import { Joiner } from "./joiner.ts";
import { Prober } from "./prober.ts";
import { Syncer } from "./syncer.ts";

/** Unknown peers remembered for askAbout's rate limit; the memory is dropped when it fills. */
const ASKED_ABOUT_MAX = 64;

/** Dead and left members past their retention are looked for this often. */
const REAP_INTERVAL_MS = 10_000;

/** How a membership core starts. */
export interface MembershipOptions {
  /** This node's name (its certificate's). */
  readonly name: string;
  readonly meta: MemberMeta;
  /** The incarnation to start from: the last one this node used plus one, or 0 (it refutes up as needed). */
  readonly incarnation?: number;
  /** The node's clock now. */
  readonly now: number;
  readonly random: Random;
  readonly config?: Partial<MembershipConfig>;
}

/** A membership core cannot start with these options (a name or metadata it could not announce). */
export class MembershipOptionsError extends SupError {
  constructor(message: string) {
    super("membership-options", message);
  }
}

/** The membership protocol core. */
export class MembershipCore implements ProtocolCore<MembershipRequest, MembershipEvent> {
  readonly channel = MEMBER_CHANNEL;
  readonly config: MembershipConfig;
  private readonly table: MemberTable;
  private readonly queue = new BroadcastQueue();
  private readonly health: Health;
  private readonly dialer: Dialer;
  private readonly prober: Prober;
  private readonly syncer: Syncer;
  private readonly random: Random;
  private out: CoreEffect<MembershipEvent>[] = [];
  private now: number;
  /** The timer this core last asked for: a step much later than it means this node was stalled. */
  private expectedWake = Infinity;
  private nextGossipAt: number;
  private nextReapAt: number;
  private stats: MemberStats = EMPTY_STATS;
  private statsWire: List = statsValue(EMPTY_STATS);
  private readonly joiner: Joiner;
  private stopped = false;
  /** Unknown peers this node asked for their record, and when. */
  private readonly askedAbout = new Map<string, number>();

  constructor(options: MembershipOptions) {
    if (!isMemberName(options.name)) throw new MembershipOptionsError(`Cannot start membership: name ${JSON.stringify(options.name)} is not a member name`);
    const problem = metaProblem(options.meta) ?? (metaBytes(options.meta) > META_BYTES_MAX ? `metadata is over ${META_BYTES_MAX} bytes` : null);
    if (problem !== null) throw new MembershipOptionsError(`Cannot start membership: ${problem}`);
    this.config = { ...DEFAULT_MEMBERSHIP_CONFIG, ...options.config };
    this.random = options.random;
    this.now = options.now;
    this.health = new Health(this.config.healthScoreMax);
    this.table = new MemberTable(options.name, options.meta, options.incarnation ?? 0, options.now, {
      config: this.config,
      random: this.random,
      emit: (e) => this.emit(e),
      gossip: (c) => this.queue.enqueue(c.name, claimValue(c)),
      // This node's own suspicion is told to the suspect at once; one heard from others gets it
      // probed soon (the ping carries the suspicion), which also confirms or corrects it.
      suspected: (m, c) => (c.kind === "suspect" && c.from !== this.table.self.name ? this.prober.probeSoon(m, this.now) : void this.send(m.name, "gossip", [], { gossip: false, extra: [claimValue(c)] })),
      refuted: () => this.health.worse(),
      outdated: (peer) => this.send(peer, "gossip", [], { gossip: false, extra: [claimValue(this.table.selfClaim())] }),
      // The table announces no member before the prober exists: restore and claims come later.
      added: (m) => this.prober.added(m),
      revived: () => {
        this.dialer.forgetFailures();
        this.syncer.hurry(this.now);
      },
    });
    this.dialer = new Dialer(this.config, this.random, (address, peer) => this.out.push({ type: "connect", address, peer }));
    const cx = this.context();
    this.prober = new Prober(cx, options.now);
    this.syncer = new Syncer(cx, options.now);
    this.joiner = new Joiner(this.table, this.dialer, this.config.dialTimeoutMs);
    this.nextGossipAt = options.now;
    this.nextReapAt = options.now + REAP_INTERVAL_MS;
  }

  /** Every member this node knows, itself included, in no particular order. */
  members(): MemberView[] {
    return this.table.list.map((m) => (m === this.table.self ? { ...m.view(), stats: this.stats } : m.view()));
  }

  /** One member, or undefined. */
  member(name: string): MemberView | undefined {
    const m = this.table.get(name);
    return m === undefined ? undefined : m === this.table.self ? this.self : m.view();
  }

  /** This node as its peers see it. */
  get self(): MemberView {
    return { ...this.table.self.view(), stats: this.stats };
  }

  /** Lifeguard's local health score (0 healthy … healthScoreMax). */
  get healthScore(): number {
    return this.health.score;
  }

  /** Applies one input; see core.ts. */
  step(input: CoreInput<MembershipRequest>): CoreEffect<MembershipEvent>[] {
    this.out = [];
    if (this.stopped) return this.out;
    this.now = input.now;
    this.noticeStall(input.now);
    switch (input.type) {
      case "tick":
        break;
      case "message":
        this.onMessage(input.from, input.message);
        break;
      case "connected":
        this.onConnected(input.peer, input.dialed);
        break;
      case "disconnected": {
        this.dialer.onDisconnected(input.peer);
        const m = this.table.get(input.peer);
        if (!input.local && m !== undefined) this.prober.probeSoon(m, input.now);
        break;
      }
      case "connect-failed":
        this.dialer.onFailed(input.address, input.now);
        break;
      case "request":
        this.onRequest(input.request);
        break;
    }
    if (this.stopped) return this.out;
    this.runTimers(input.now);
    this.expectedWake = this.nextWake();
    this.out.push({ type: "timer", at: this.expectedWake });
    return this.out;
  }

  /** What the prober and syncer share with this core (built once the table and dialer exist). */
  private context(): CoreContext {
    const core = this;
    return {
      config: this.config,
      random: this.random,
      table: this.table,
      health: this.health,
      get now() {
        return core.now;
      },
      send: (to, kind, fields, options) => this.send(to, kind, fields, options),
      connected: (to) => this.dialer.isConnected(to),
      dial: (peer, address) => void this.dialer.reach(peer, address, this.now),
      canDial: (address) => this.dialer.canDial(address, this.now),
      emit: (e) => this.emit(e),
    };
  }

  private emit(event: MembershipEvent): void {
    this.out.push({ type: "emit", event });
  }

  private send(to: string, kind: MessageBody["kind"], fields: readonly Value[], options: SendOptions = {}): boolean {
    if (to === this.table.self.name) return false;
    const address = this.table.get(to)?.meta.backchannel ?? "";
    if (!this.dialer.reach(to, address, this.now)) return false;
    const extra = options.extra ?? [];
    let claims: readonly List[] = extra;
    if (options.gossip !== false) {
      const budget = PIGGYBACK_BYTES_MAX - extra.reduce((n, c) => n + valueBytes(c), 0);
      const queued = this.queue.take(budget, PIGGYBACK_CLAIMS_MAX - extra.length, retransmitLimit(this.config, this.table.liveCount));
      if (queued.length > 0) claims = [...extra, ...queued];
    }
    if (kind === "gossip" && claims.length === 0) return true;
    this.out.push({ type: "send", to, message: messageValue(kind, this.statsWire, claims, fields) });
    return true;
  }

  private onMessage(from: string, value: Value): void {
    const decoded = decodeMessage(value);
    if (!decoded.ok) return this.emit({ type: "rejected", peer: from, reason: decoded.reason });
    const msg: MembershipMessage = decoded.message;
    const sender = this.table.get(from);
    if (sender !== undefined && sender !== this.table.self) {
      sender.lastHeardMs = this.now;
      sender.stats = msg.stats;
    }
    for (const c of msg.claims) this.table.apply(c, from, this.now);
    // An authenticated peer this node never heard of (its alive claim missed this node): ask for its record.
    if (sender === undefined && msg.kind !== "sync-update" && this.table.get(from) === undefined) this.askAbout(from);
    // A member this node holds dead or left is talking: it thinks itself alive (it came back, or
    // a partition healed). A sync tells it the news, and it refutes or tells this node it did.
    if (sender !== undefined && !sender.live && this.now - sender.lastDeadSyncMs >= this.config.deadRetryIntervalMs) {
      sender.lastDeadSyncMs = this.now;
      this.syncer.start(from);
    }
    // One this node suspects hears of it (Lifeguard's buddy system, on every contact, not only on
    // probes): the first notice may have been lost, and its refutation must reach this node in time.
    if (sender !== undefined && sender.state === "suspect" && this.now - sender.lastNoticeMs >= this.config.probeIntervalMs) {
      sender.lastNoticeMs = this.now;
      const s = sender.suspicion!;
      this.send(from, "gossip", [], { gossip: false, extra: [claimValue({ kind: "suspect", name: from, incarnation: sender.incarnation, from: s.from })] });
    }
    switch (msg.kind) {
      case "ping":
        return this.prober.onPing(from, msg.seq);
      case "ack":
        return this.prober.onAck(from, msg.seq);
      case "nack":
        return this.prober.onNack(from, msg.seq);
      case "ping-req":
        return this.prober.onPingReq(from, msg.seq, msg.target);
      case "gossip":
        return;
      case "sync-digest":
        return this.syncer.onDigest(from, msg.lo, msg.hi, msg.entries);
      case "sync-want":
        return this.syncer.onWant(from, msg.names);
      case "sync-update":
        this.syncer.onUpdate(from, msg.records);
        if (this.joiner.answered()) {
          this.syncer.followUp(this.now);
          this.emit({ type: "joined", peer: from });
        }
        return;
    }
  }

  /** Asks `peer` for its own record, at most once per probe interval per peer. */
  private askAbout(peer: string): void {
    const last = this.askedAbout.get(peer);
    if (last !== undefined && this.now - last < this.config.probeIntervalMs) return;
    if (this.askedAbout.size >= ASKED_ABOUT_MAX) this.askedAbout.clear();
    this.askedAbout.set(peer, this.now);
    this.send(peer, "sync-want", [new List(T_PAREN, [new Str(peer)])], { gossip: false });
  }

  private onConnected(peer: string, dialed: string | null): void {
    this.dialer.onConnected(peer, dialed);
    const m = this.table.get(peer);
    const seed = this.joiner.connected(dialed, this.now);
    // A seed answering a join, or a member this node thinks dead (a healed partition): sync with it.
    if (seed || (m !== undefined && m.state === "dead")) {
      if (m !== undefined) m.lastDeadSyncMs = this.now;
      this.syncer.start(peer);
    }
  }

  private onRequest(r: MembershipRequest): void {
    switch (r.type) {
      case "join":
        return this.joiner.join(r.addresses);
      case "leave":
        return this.leave();
      case "update-meta": {
        const problem = metaProblem(r.meta) ?? (metaBytes(r.meta) > META_BYTES_MAX ? `metadata is over ${META_BYTES_MAX} bytes` : null);
        if (problem !== null) return this.emit({ type: "rejected", peer: this.table.self.name, reason: `Cannot update metadata: ${problem}` });
        this.table.bump(this.table.self.incarnation, r.meta);
        return this.emit({ type: "updated", name: this.table.self.name, incarnation: this.table.self.incarnation });
      }
      case "update-stats": {
        const s = r.stats;
        const ok = [s.inflight, s.lagMs, s.cpuPermille, s.logPosition].every((n) => Number.isInteger(n) && n >= 0 && n <= STAT_MAX);
        if (!ok) return this.emit({ type: "rejected", peer: this.table.self.name, reason: "Cannot update stats: every stat must be an integer from 0" });
        this.stats = { inflight: s.inflight, lagMs: s.lagMs, cpuPermille: s.cpuPermille, logPosition: s.logPosition, seq: this.stats.seq + 1 };
        this.statsWire = statsValue(this.stats);
        this.table.self.stats = this.stats;
        return;
      }
      case "restore":
        return this.table.restore(r.records.slice(0, MEMBERS_MAX), this.now);
    }
  }

  /** Graceful leave: the claim goes straight to every connected member and into gossip; then the core stops. */
  private leave(): void {
    const claim = claimValue(this.table.leave(this.now));
    const targets = new Set<Member>(this.table.list.filter((m) => m.live && m !== this.table.self && this.dialer.isConnected(m.name)));
    for (const m of this.table.pick(this.config.gossipFanout, (x) => x.live)) targets.add(m);
    for (const m of targets) this.send(m.name, "gossip", [], { extra: [claim] });
    this.stopped = true;
  }

  private noticeStall(now: number): void {
    const lag = now - this.expectedWake;
    if (!(lag > this.config.stallToleranceMs)) return;
    this.prober.postpone(lag);
    this.table.postponeSuspicions(lag);
    this.health.worse();
    this.emit({ type: "stalled", lagMs: Math.round(lag) });
  }

  private runTimers(now: number): void {
    this.dialer.expire(now);
    for (const m of this.table.suspects()) {
      const s = m.suspicion!;
      if (now >= s.deadline) this.table.declareDead(m, now);
      else if (!s.lastChance && now >= s.deadline - this.config.probeIntervalMs) {
        // One last probe before the verdict: a live suspect hears of it in the ping and refutes (or
        // tells this node of the refutation it missed) in one round trip; a dead one stays silent.
        s.lastChance = true;
        this.prober.probeSoon(m, now);
      }
    }
    this.prober.tick(now);
    if (now >= this.nextGossipAt && this.queue.size > 0) {
      this.nextGossipAt = now + this.config.gossipIntervalMs;
      const fresh = now - this.config.gossipToDeadMs;
      for (const m of this.table.pick(this.config.gossipFanout, (x) => x.live || (x.state === "dead" && x.sinceMs >= fresh))) this.send(m.name, "gossip", []);
    }
    this.syncer.tick(now);
    this.joiner.tick(now);
    if (now >= this.nextReapAt) {
      this.nextReapAt = now + REAP_INTERVAL_MS;
      this.table.reap(now);
    }
  }

  private nextWake(): number {
    let at = Math.min(this.prober.nextDeadline(), this.syncer.nextDeadline(), this.dialer.nextDeadline(), this.nextReapAt);
    if (this.queue.size > 0) at = Math.min(at, this.nextGossipAt);
    at = Math.min(at, this.joiner.nextDeadline());
    for (const m of this.table.suspects()) {
      const s = m.suspicion!;
      at = Math.min(at, s.lastChance ? s.deadline : s.deadline - this.config.probeIntervalMs);
    }
    return Math.max(at, this.now);
  }
}
