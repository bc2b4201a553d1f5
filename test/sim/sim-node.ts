/**
 * One simulated node: a membership core (null while crashed), its own skewed clock, its place in
 * the network, and its stall state. A node's life number (`gen`) grows at every crash and restart,
 * so events meant for an earlier life are dropped.
 */
import { MembershipCore, type MembershipConfig, type MemberMeta, type ReplicationCore } from "../../src/cluster/mod.ts";
import type { Store } from "../../src/store/mod.ts";
import { Prng } from "../../src/cluster/prng.ts";

/** Seeds a node's random stream from the run seed, its index and its life. */
export function nodeSeed(seed: number, index: number, life: number): number {
  let x = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(life + 1, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d);
  return (x ^ (x >>> 12)) >>> 0;
}

/** The simulated address of node `i`. */
export function nodeAddress(i: number): string {
  return `10.${(i >> 8) & 255}.${i & 255}.1:7000`;
}

/** The simulated name of node `i`. */
export function nodeName(i: number): string {
  return `n${i}`;
}

/** The metadata a simulated node announces. */
export function nodeMeta(i: number): MemberMeta {
  return {
    serial: String(1000 + i),
    roles: i % 3 === 0 ? ["db", "web"] : ["web"],
    labels: [["zone", `z${i % 4}`]],
    backchannel: nodeAddress(i),
    http: `10.${(i >> 8) & 255}.${i & 255}.1:8080`,
    kernels: ["io", "json", "kv"],
    version: "0.1.0",
  };
}

/** A simulated node. */
export class SimNode {
  readonly name: string;
  readonly address: string;
  core: MembershipCore | null = null;
  /** Life number: incremented by every crash and restart. */
  gen = 0;
  /** Restarts so far (each life draws from its own random stream). */
  lives = 0;
  /** Virtual time of the last crash, or null while up. */
  crashedAt: number | null = null;
  /** Whether the last crash closed its connections at once (a killed process) or silently (a vanished host). */
  crashRst = true;
  /** Virtual time the core wants its next tick, and the earliest tick already queued. */
  wakeAt = Infinity;
  tickQueuedAt = Infinity;
  /** While stalled, inputs wait in `deferred` until `stalledUntil`. */
  stalledUntil = -Infinity;
  deferred: (() => void)[] = [];
  /** Highest incarnation this node announced, kept across restarts as a store would. */
  lastIncarnation = 0;
  /** The replication core of this life, when the simulation runs replication. */
  repl: ReplicationCore | null = null;
  /** The node's store (its disk): it outlives crashes. */
  store: Store | null = null;
  /** When each core wants its next tick (the node wakes at the earlier). */
  memberWake = Infinity;
  replWake = Infinity;

  constructor(
    readonly index: number,
    /** Local clock = offsetMs + virtual time × rate. */
    readonly offsetMs: number,
    readonly rate: number,
  ) {
    this.name = nodeName(index);
    this.address = nodeAddress(index);
  }

  get up(): boolean {
    return this.core !== null;
  }

  /** This node's clock at virtual time `vt`. */
  local(vt: number): number {
    return this.offsetMs + vt * this.rate;
  }

  /** The virtual time at which this node's clock reads `local`. */
  virtual(local: number): number {
    return (local - this.offsetMs) / this.rate;
  }

  /** Starts a new life: a fresh core from the run seed. */
  boot(seed: number, vt: number, incarnation: number, config: Partial<MembershipConfig>): MembershipCore {
    this.gen++;
    this.crashedAt = null;
    this.wakeAt = Infinity;
    this.tickQueuedAt = Infinity;
    this.stalledUntil = -Infinity;
    this.deferred = [];
    this.memberWake = Infinity;
    this.replWake = Infinity;
    this.core = new MembershipCore({
      name: this.name,
      meta: nodeMeta(this.index),
      incarnation,
      now: this.local(vt),
      random: new Prng(nodeSeed(seed, this.index, this.lives++)),
      config,
    });
    return this.core;
  }

  /** Ends this life. */
  crash(vt: number, rst: boolean): void {
    if (this.core !== null) this.lastIncarnation = Math.max(this.lastIncarnation, this.core.self.incarnation);
    this.core = null;
    this.repl = null;
    this.gen++;
    this.crashedAt = vt;
    this.crashRst = rst;
    this.deferred = [];
  }
}
