/**
 * A few replication cores wired together in one test, without the simulator: each has a Store in
 * memory behind the node's own StoreReplicaLog and the simulator's stand-in signatures, and
 * messages go through the codec into a queue the test delivers, drops or tampers with.
 */
import { Prng } from "../../src/cluster/prng.ts";
import { ReplicationCore, type CoreEffect, type EntryBody, type ReplicationConfig, type ReplicationEvent, type ReplicationRequest, type Selector } from "../../src/cluster/mod.ts";
import { decode, encode } from "../../src/lang/codec.ts";
import type { Value } from "../../src/lang/value.ts";
import { putBody } from "../../src/node/code-entries.ts";
import { StoreReplicaLog, type ApplyHooks } from "../../src/node/replica-log.ts";
import { MEMORY_PATH, Store } from "../../src/store/mod.ts";
import { simCrypto, type SimCertSpec } from "../sim/sim-crypto.ts";
import { simProgram } from "../sim/sim-replica.ts";

/** Wall time at the start of a test network. */
export const T0 = 1_700_000_000_000;

/** One replica. */
export interface Replica {
  readonly name: string;
  core: ReplicationCore;
  readonly store: Store;
  readonly events: ReplicationEvent[];
  readonly kernels: Set<string>;
  readonly cert: SimCertSpec;
}

/** A message in flight. */
export interface Flight {
  readonly from: string;
  readonly to: string;
  message: Value;
}

/** A test network of replicas. */
export class ReplicaNet {
  readonly replicas = new Map<string, Replica>();
  readonly queue: Flight[] = [];
  /** Each replica's timer as its core last asked for it. */
  private readonly timers = new Map<string, number>();
  now = 0;
  private seed = 1;

  constructor(private readonly config: Partial<ReplicationConfig> = {}) {}

  /** Adds a replica with this certificate (default: `code` and `admin`); `roles` for targets. */
  add(name: string, cert: Partial<SimCertSpec> = {}, hooks: ApplyHooks = {}): Replica {
    const spec: SimCertSpec = { name, serial: `serial-${name}`, can: ["admin", "code"], ...cert };
    const store = Store.open(MEMORY_PATH, { now: () => T0 + this.now });
    const kernels = new Set<string>();
    const r: Replica = { name, core: null as unknown as ReplicationCore, store, events: [], kernels, cert: spec };
    r.core = this.boot(r, hooks);
    this.replicas.set(name, r);
    return r;
  }

  /** A fresh core on the same store (a restart). */
  restart(name: string, hooks: ApplyHooks = {}): void {
    const r = this.get(name);
    r.core = this.boot(r, hooks);
  }

  private boot(r: Replica, hooks: ApplyHooks): ReplicationCore {
    const log = new StoreReplicaLog(r.store, new Set(), {
      kernel: (op, k) => {
        if (op === "load") r.kernels.add(k);
        else r.kernels.delete(k);
        return { settings: [] };
      },
      ...hooks,
    });
    return new ReplicationCore(
      { name: r.name, subject: { name: r.name, roles: r.cert.roles ?? [], labels: [] }, log, crypto: simCrypto(r.cert), now: this.now, wallOffsetMs: T0, random: new Prng(this.seed++) },
      this.config,
    );
  }

  get(name: string): Replica {
    const r = this.replicas.get(name);
    if (r === undefined) throw new Error(`no replica ${name}`);
    return r;
  }

  /** Feeds an input and queues what it sends. */
  step(name: string, input: Parameters<ReplicationCore["step"]>[0]): CoreEffect<ReplicationEvent>[] {
    const r = this.get(name);
    const effects = r.core.step(input);
    for (const e of effects) {
      if (e.type === "send") {
        const d = decode(encode(e.message));
        if (!d.ok) throw new Error("undecodable message");
        this.queue.push({ from: name, to: e.to, message: d.value });
      }
      if (e.type === "emit") r.events.push(e.event);
      if (e.type === "timer") this.timers.set(name, e.at);
    }
    return effects;
  }

  /** Connects two replicas (both told). */
  connect(a: string, b: string): void {
    this.step(a, { type: "connected", now: this.now, peer: b, dialed: null });
    this.step(b, { type: "connected", now: this.now, peer: a, dialed: null });
  }

  /** Disconnects two replicas (both told). */
  disconnect(a: string, b: string): void {
    this.step(a, { type: "disconnected", now: this.now, peer: b, local: false });
    this.step(b, { type: "disconnected", now: this.now, peer: a, local: false });
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const f = this.queue[i]!;
      if ((f.from === a && f.to === b) || (f.from === b && f.to === a)) this.queue.splice(i, 1);
    }
  }

  /** Connects every pair. */
  mesh(): void {
    const names = [...this.replicas.keys()];
    for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) this.connect(names[i]!, names[j]!);
  }

  /**
   * Delivers queued messages until none are left (at most `max`); `intercept` may return null to
   * drop a message or another value to deliver instead.
   */
  deliver(intercept?: (f: Flight) => Value | null, max = 100_000): number {
    let n = 0;
    for (;;) {
      while (this.queue.length > 0 && n < max) {
        const f = this.queue.shift()!;
        const m = intercept === undefined ? f.message : intercept(f);
        n++;
        if (m === null || !this.replicas.has(f.to)) continue;
        this.step(f.to, { type: "message", now: this.now, from: f.from, message: m });
      }
      // Timers due now (receipts owed after a group commit) run once the messages are in, as an
      // event loop runs a zero-delay timer after the I/O already waiting.
      const due = [...this.timers].filter(([, at]) => at <= this.now).map(([name]) => name);
      if (due.length === 0 || n >= max) return n;
      for (const name of due) {
        this.timers.delete(name);
        this.step(name, { type: "tick", now: this.now });
      }
      if (this.queue.length === 0) return n;
    }
  }

  /** Moves time on and ticks everyone. */
  tick(ms: number): void {
    this.now += ms;
    for (const name of this.replicas.keys()) this.step(name, { type: "tick", now: this.now });
  }

  /** Asks a replica's core for a request; returns what it emitted. */
  request(name: string, request: ReplicationRequest): ReplicationEvent[] {
    return this.step(name, { type: "request", now: this.now, request }).flatMap((e) => (e.type === "emit" ? [e.event] : []));
  }

  /** Puts a route on a replica; returns its events (committed or write-refused). */
  put(name: string, route: string, source: string, target: Selector | null = null): ReplicationEvent[] {
    const b = putBody(this.get(name).store, { tenant: "default", name: route, kind: "route", source, program: simProgram(source), author: "test" });
    return this.request(name, { type: "write", body: b.body, target, author: "test", blob: b.blob });
  }

  /** Makes any other write. */
  write(name: string, body: EntryBody, target: Selector | null = null): ReplicationEvent[] {
    return this.request(name, { type: "write", body, target, author: "test", blob: null });
  }

  /** Events of a type a replica emitted. */
  events<T extends ReplicationEvent["type"]>(name: string, type: T): Extract<ReplicationEvent, { type: T }>[] {
    return this.get(name).events.filter((e): e is Extract<ReplicationEvent, { type: T }> => e.type === type);
  }

  close(): void {
    for (const r of this.replicas.values()) r.store.close();
  }
}
