/**
 * A deterministic cluster simulator: N nodes, each running the real membership core, over a virtual
 * network (per-link latency, jitter, loss, partitions including one-way ones, connections that open
 * with a handshake delay and close on a crash or a long partition) in virtual time, with per-node
 * clock skew and drift, crashes (a killed process, whose peers see the connection close, or a
 * vanished host, whose connections just go quiet), restarts and stalls (SIGSTOP). Every message
 * goes through the codec as bytes, as on the backchannel. Everything random comes from the seed,
 * so a run is a pure function of (options, scenario), and `traceHash` fingerprints every input
 * every core was fed (time, node, kind, peer, bytes).
 */
import { decode, encode } from "../../src/lang/codec.ts";
import { isList, Sym } from "../../src/lang/value.ts";
import { sourceForm } from "../../src/lang/printer.ts";
import {
  messageChannel,
  MESSAGE_BYTES_MAX,
  REPL_CHANNEL,
  replicationLimits,
  type CoreEffect,
  type CoreInput,
  type MembershipConfig,
  type MembershipEvent,
  type MembershipRequest,
  type MemberRecord,
  type ReplicationEvent,
  type ReplicationRequest,
} from "../../src/cluster/mod.ts";
import { Prng } from "../../src/cluster/prng.ts";
import { EventHeap } from "./heap.ts";
import { Links } from "./links.ts";
import { nodeMeta, nodeSeed, SimNode } from "./sim-node.ts";
import { Connections } from "./connections.ts";

/** How a simulation is set up; only `seed` and `nodes` are required. */
export interface SimOptions {
  readonly seed: number;
  /** Nodes created (not started: a scenario boots them). */
  readonly nodes: number;
  /** Probability any one message is lost (default 0). */
  readonly lossRate?: number;
  /** Base one-way latency range of the links (default 0.5–5 ms, a LAN or one region). */
  readonly latencyMs?: { readonly min: number; readonly max: number };
  /** Per-message latency spread (default 0.2: ±20%). */
  readonly jitter?: number;
  /** Largest clock offset and rate error of a node (default 1 hour and 0.1%). */
  readonly skew?: { readonly offsetMs: number; readonly drift: number };
  /** Membership parameters (default DEFAULT_MEMBERSHIP_CONFIG). */
  readonly config?: Partial<MembershipConfig>;
  /** A dial across a partition or to a vanished host fails after this (default 3 s). */
  readonly connectTimeoutMs?: number;
  /** A connection that carries nothing (partitioned, or its peer vanished) is closed by TCP after this (default 10 s). */
  readonly tcpCloseAfterMs?: number;
  /** Runs a replication core beside membership on every node, made by this when a node boots. */
  readonly replication?: (node: SimNode, sim: Simulation) => void;
}

/** What the network did over a run. */
export interface SimCounters {
  sent: number;
  bytes: number;
  delivered: number;
  lost: number;
  partitioned: number;
  unconnected: number;
  toDown: number;
  maxMessageBytes: number;
  oversize: number;
  dials: number;
  steps: number;
  byKind: Record<string, number>;
  bytesByKind: Record<string, number>;
  /** Replication messages and their bytes (a part of sent and bytes). */
  replSent: number;
  replBytes: number;
  replOversize: number;
}

/** A listener for every membership event any node emits. */
export type SimListener = (node: SimNode, event: MembershipEvent, vt: number) => void;

/** A listener for every replication event any node emits. */
export type ReplListener = (node: SimNode, event: ReplicationEvent, vt: number) => void;

/** `SIM_TRACE=n7` prints every input node n7 gets and every effect it answers with, on stderr. */
const TRACE_NODE = process.env.SIM_TRACE;

function traceLine(vt: number, name: string, input: CoreInput<MembershipRequest | ReplicationRequest>, effects: readonly CoreEffect<MembershipEvent | ReplicationEvent>[]): void {
  const what = input.type === "message" ? `message from ${input.from} ${sourceForm(input.message).slice(0, 1500)}` : JSON.stringify(input);
  const out = effects.map((e) => (e.type === "send" ? `send ${e.to} ${sourceForm(e.message).slice(0, 300)}` : JSON.stringify(e)));
  console.error(`${vt.toFixed(1)} ${name} <- ${what}\n${out.map((o) => `    -> ${o}`).join("\n")}`);
}

const INPUT_CODES: Record<CoreInput<MembershipRequest>["type"], number> = { tick: 1, message: 2, connected: 3, disconnected: 4, "connect-failed": 5, request: 6 };

/** The simulator. */
export class Simulation {
  readonly nodes: SimNode[] = [];
  readonly links: Links;
  readonly net: Connections;
  readonly counters: SimCounters = { sent: 0, bytes: 0, delivered: 0, lost: 0, partitioned: 0, unconnected: 0, toDown: 0, maxMessageBytes: 0, oversize: 0, dials: 0, steps: 0, byKind: {}, bytesByKind: {}, replSent: 0, replBytes: 0, replOversize: 0 };
  readonly config: Partial<MembershipConfig>;
  /** Virtual time in ms. */
  now = 0;
  private readonly heap = new EventHeap<() => void>();
  private readonly listeners: SimListener[] = [];
  private readonly replListeners: ReplListener[] = [];
  readonly byName = new Map<string, number>();
  readonly byAddress = new Map<string, number>();
  private trace = 0n;
  private readonly traceHeader = new DataView(new ArrayBuffer(24));

  constructor(readonly options: SimOptions) {
    const rng = new Prng(nodeSeed(options.seed, -1, 0));
    this.config = options.config ?? {};
    this.links = new Links({ latencyMs: options.latencyMs ?? { min: 0.5, max: 5 }, jitter: options.jitter ?? 0.2, lossRate: options.lossRate ?? 0 }, options.seed, new Prng(nodeSeed(options.seed, -2, 0)));
    this.net = new Connections(this, options.connectTimeoutMs ?? 3000, options.tcpCloseAfterMs ?? 10_000);
    const skew = options.skew ?? { offsetMs: 3_600_000, drift: 0.001 };
    for (let i = 0; i < options.nodes; i++) this.addNode((rng.next() * 2 - 1) * skew.offsetMs, 1 + (rng.next() * 2 - 1) * skew.drift);
  }

  /** Creates one more (stopped) node and returns its index. */
  addNode(offsetMs = 0, rate = 1): number {
    const n = new SimNode(this.nodes.length, offsetMs + 10_000_000, rate);
    this.nodes.push(n);
    this.byName.set(n.name, n.index);
    this.byAddress.set(n.address, n.index);
    return n.index;
  }

  /** Calls `fn` for every membership event from now on. */
  onEvent(fn: SimListener): void {
    this.listeners.push(fn);
  }

  /** Calls `fn` for every replication event from now on. */
  onReplEvent(fn: ReplListener): void {
    this.replListeners.push(fn);
  }

  /** A fingerprint of every input fed to every core so far. */
  traceHash(): string {
    return this.trace.toString(16).padStart(16, "0");
  }

  /** Runs `fn` at virtual time `vt` (a scenario step). */
  at(vt: number, fn: () => void): void {
    this.heap.push(Math.max(vt, this.now), fn);
  }

  /** Schedules an event `delayMs` from now. */
  later(delayMs: number, fn: () => void): void {
    this.heap.push(this.now + delayMs, fn);
  }

  /** Processes every event up to virtual time `vt`. */
  run(vt: number): void {
    while (this.heap.peekTime() <= vt) {
      const e = this.heap.pop()!;
      this.now = e.at;
      e.item();
    }
    this.now = Math.max(this.now, vt);
  }

  /** Boots node `i` and, when `via` is given, joins through those nodes' addresses. */
  start(i: number, via: readonly number[] = [], incarnation = 0): void {
    const n = this.nodes[i]!;
    n.boot(this.options.seed, this.now, incarnation, this.config);
    this.options.replication?.(n, this);
    this.feed(i, { type: "tick", now: n.local(this.now) });
    if (via.length > 0) this.request(i, { type: "join", addresses: via.map((v) => this.nodes[v]!.address) });
  }

  /** Boots every node with the full member list already known (a converged cluster, as after a long run). */
  bootstrapConverged(): void {
    const records: MemberRecord[] = this.nodes.map((n) => ({ name: n.name, incarnation: 0, state: "alive", meta: nodeMeta(n.index), stats: { inflight: 0, lagMs: 0, cpuPermille: 0, logPosition: 0, seq: 0 } }));
    for (const n of this.nodes) {
      this.start(n.index);
      this.request(n.index, { type: "restore", records });
    }
  }

  /** Sends node `i` a local request. */
  request(i: number, request: MembershipRequest): void {
    const n = this.nodes[i]!;
    if (n.up) this.feed(i, { type: "request", now: n.local(this.now), request });
  }

  /** Sends node `i`'s replication core a local request (a write). */
  requestRepl(i: number, request: ReplicationRequest): void {
    const n = this.nodes[i]!;
    if (n.up && n.repl !== null) this.feed(i, { type: "request", now: n.local(this.now), request }, -1, undefined, true);
  }

  /** Kills node `i`: `rst` true for a killed process (peers see its connections close), false for a vanished host. */
  crash(i: number, rst = true): void {
    const n = this.nodes[i]!;
    if (!n.up) return;
    n.crash(this.now, rst);
    this.net.crashed(i, rst);
  }

  /** Restarts node `i`, joining through `via`; it keeps its incarnation as its store would, unless `fresh`. */
  restart(i: number, via: readonly number[], fresh = false): void {
    const n = this.nodes[i]!;
    this.start(i, via, fresh ? 0 : n.lastIncarnation + 1);
  }

  /** Stops node `i` for `ms` (SIGSTOP, a blocked event loop): its inputs wait, then arrive at once. */
  stall(i: number, ms: number): void {
    const n = this.nodes[i]!;
    n.stalledUntil = this.now + ms;
    const gen = n.gen;
    this.later(ms, () => {
      if (n.gen !== gen || !n.up) return;
      n.stalledUntil = -Infinity;
      // The timers phase of an event loop runs before pending I/O: the tick comes first.
      this.feed(i, { type: "tick", now: n.local(this.now) });
      const waiting = n.deferred;
      n.deferred = [];
      for (const fn of waiting) if (n.gen === gen && n.up) fn();
    });
  }

  /** Partitions `a` from `b` (only a → b when `oneWay`). */
  partition(a: readonly number[], b: readonly number[], oneWay = false): void {
    this.links.partition(a, b, oneWay);
    this.net.partitioned();
  }

  /** Removes every partition. */
  heal(): void {
    this.links.heal();
  }

  /** Runs `fn` for node `i` now, or when its stall ends, if it is still in life `gen`. */
  whenRunning(i: number, gen: number, fn: () => void): void {
    const n = this.nodes[i]!;
    if (n.gen !== gen || !n.up) {
      this.counters.toDown++;
      return;
    }
    if (this.now < n.stalledUntil) n.deferred.push(fn);
    else fn();
  }

  /**
   * Feeds one input to node `i`'s cores and carries out the effects: a message goes to the core its
   * channel names, a request to membership (or to replication when `repl`), anything else to both.
   */
  feed(i: number, input: CoreInput<MembershipRequest | ReplicationRequest>, peer = -1, bytes?: Uint8Array, repl = false): void {
    const n = this.nodes[i]!;
    const core = n.core!;
    const h = this.traceHeader;
    h.setFloat64(0, this.now);
    h.setInt32(8, i);
    h.setInt32(12, INPUT_CODES[input.type]);
    h.setInt32(16, peer);
    this.trace = Bun.hash.wyhash(new Uint8Array(h.buffer), this.trace);
    if (bytes !== undefined) this.trace = Bun.hash.wyhash(bytes, this.trace);
    this.counters.steps++;
    const r = n.repl;
    const isRepl = input.type === "message" ? messageChannel(input.message) === REPL_CHANNEL : repl;
    const toRepl = r !== null && (input.type === "message" || input.type === "request" ? isRepl : true);
    const toMember = !isRepl;
    if (toMember) {
      const effects = core.step(input as CoreInput<MembershipRequest>);
      if (n.name === TRACE_NODE) traceLine(this.now, n.name, input, effects);
      this.apply(n, effects, false);
    }
    if (toRepl && n.repl === r && r !== null) {
      const effects = r.step(input as CoreInput<ReplicationRequest>);
      if (n.name === TRACE_NODE) traceLine(this.now, n.name, input, effects);
      this.apply(n, effects, true);
    }
  }

  /** Delivers message bytes to node `to` from `from`. */
  deliver(from: number, to: number, bytes: Uint8Array): void {
    const n = this.nodes[to]!;
    const d = decode(bytes);
    if (!d.ok) throw new Error(`Simulator bug: undecodable message from ${from}: ${d.error.message}`);
    this.counters.delivered++;
    this.feed(to, { type: "message", now: n.local(this.now), from: this.nodes[from]!.name, message: d.value }, from, bytes);
  }

  private apply(n: SimNode, effects: readonly CoreEffect<MembershipEvent | ReplicationEvent>[], repl: boolean): void {
    for (const e of effects) {
      switch (e.type) {
        case "send": {
          const to = this.byName.get(e.to);
          const bytes = encode(e.message);
          const c = this.counters;
          c.sent++;
          c.bytes += bytes.length;
          if (repl) {
            c.replSent++;
            c.replBytes += bytes.length;
            if (bytes.length > replicationLimits.MESSAGE_BYTES_MAX) c.replOversize++;
          } else {
            c.maxMessageBytes = Math.max(c.maxMessageBytes, bytes.length);
            if (bytes.length > MESSAGE_BYTES_MAX) c.oversize++;
          }
          const kind = isList(e.message) ? e.message.items[2] : undefined;
          if (kind instanceof Sym) {
            c.byKind[kind.name] = (c.byKind[kind.name] ?? 0) + 1;
            c.bytesByKind[kind.name] = (c.bytesByKind[kind.name] ?? 0) + bytes.length;
          }
          if (to === undefined) c.unconnected++;
          else this.net.send(n.index, to, bytes);
          break;
        }
        case "connect":
          this.counters.dials++;
          this.net.dial(n.index, e.address);
          break;
        case "timer":
          if (repl) n.replWake = n.virtual(e.at);
          else n.memberWake = n.virtual(e.at);
          this.setWake(n, n.repl === null ? n.memberWake : Math.min(n.memberWake, n.replWake));
          break;
        case "emit":
          if (repl) for (const l of this.replListeners) l(n, e.event as ReplicationEvent, this.now);
          else for (const l of this.listeners) l(n, e.event as MembershipEvent, this.now);
          break;
      }
    }
  }

  private setWake(n: SimNode, vt: number): void {
    n.wakeAt = vt;
    if (vt >= n.tickQueuedAt) return;
    n.tickQueuedAt = vt;
    const gen = n.gen;
    this.heap.push(Math.max(vt, this.now), () => this.tickDue(n, gen, vt));
  }

  private tickDue(n: SimNode, gen: number, scheduled: number): void {
    if (n.gen !== gen || !n.up) return;
    if (n.tickQueuedAt === scheduled) n.tickQueuedAt = Infinity;
    // A stalled node gets its tick when the stall ends; a superseded (later) wake-up is queued anew.
    if (this.now < n.stalledUntil) return;
    if (this.now < n.wakeAt) {
      if (n.wakeAt < n.tickQueuedAt) this.setWake(n, n.wakeAt);
      return;
    }
    this.feed(n.index, { type: "tick", now: n.local(this.now) });
  }
}
