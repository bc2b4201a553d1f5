/**
 * The commands core in the simulator: N nodes, each running the real CommandsCore, over a virtual
 * network in virtual time (per-link latency and jitter from test/sim/links.ts, TCP-like loss as a
 * retransmission delay, one-way partitions, connections that open after a round trip, close at once
 * when a process dies and only after the TCP timeout when a host vanishes), deterministic from a
 * seed. Every message goes through the codec as bytes. A simulated node "runs" a program by its
 * text: `work N` answers `N` after N ms of (virtual) work, `fail` answers an error, `hang` never
 * answers (a blocked node).
 *
 * The scenario that drives it and judges every request is in commands-scenario.ts.
 */
import { CommandsCore, MESSAGE_BYTES_MAX, Prng, type CommandsEvent, type CommandsRequest, type CommandTarget, type CoreEffect, type CoreInput, type MemberState } from "../../src/cluster/mod.ts";
import { decode, encode } from "../../src/lang/codec.ts";
import type { Value } from "../../src/lang/value.ts";
import { EventHeap } from "./heap.ts";
import { Links } from "./links.ts";
import { nodeSeed } from "./sim-node.ts";

/** A retransmitted segment arrives this much later (TCP's minimum RTO on Linux). */
const RETRANSMIT_MS = 200;
/** A dial across a partition or to a vanished host fails after this. */
const CONNECT_TIMEOUT_MS = 3000;
/** A connection to a vanished host is closed by TCP after this. */
const TCP_CLOSE_MS = 10_000;

/** How a node is, as the scenario made it. */
export type Health = "up" | "killed" | "vanished" | "hanging";

interface SimCommandsNode {
  readonly index: number;
  readonly name: string;
  core: CommandsCore | null;
  health: Health;
  gen: number;
  wakeAt: number;
}

/** One exec a scenario asked for, and what became of it. */
export interface ExecRecord {
  readonly id: number;
  readonly from: number;
  readonly at: number;
  readonly timeoutMs: number;
  readonly targets: readonly CommandTarget[];
  readonly code: string;
  /** Each target's truth when the request was made. */
  readonly truth: readonly { readonly index: number; readonly health: Health; readonly state: MemberState; readonly partitioned: boolean }[];
  done: { readonly at: number; readonly results: Extract<CommandsEvent, { type: "done" }>["results"] } | null;
  doneCount: number;
}

/** See the file comment. */
export class CommandsSim {
  readonly nodes: SimCommandsNode[] = [];
  readonly links: Links;
  readonly execs = new Map<string, ExecRecord>();
  now = 0;
  sent = 0;
  private readonly workScale: number;
  maxBytes = 0;
  private trace = 0n;
  private readonly heap = new EventHeap<() => void>();
  /** Open connections by pair key; each direction's last arrival, for FIFO. */
  private readonly conns = new Map<string, { last: Map<number, number> }>();

  constructor(
    readonly seed: number,
    count: number,
    options: { lossRate?: number; latencyMs?: { min: number; max: number }; workScale?: number } = {},
  ) {
    this.workScale = options.workScale ?? 1;
    this.links = new Links({ latencyMs: options.latencyMs ?? { min: 0.5, max: 5 }, jitter: 0.2, lossRate: options.lossRate ?? 0 }, seed, new Prng(nodeSeed(seed, -2, 0)));
    for (let i = 0; i < count; i++) {
      const n: SimCommandsNode = { index: i, name: `n${i}`, core: null, health: "up", gen: 0, wakeAt: Infinity };
      this.nodes.push(n);
      this.boot(n);
    }
  }

  /** A fingerprint of every input fed to every core. */
  traceHash(): string {
    return this.trace.toString(16).padStart(16, "0");
  }

  at(vt: number, fn: () => void): void {
    this.heap.push(Math.max(vt, this.now), fn);
  }

  run(until: number): void {
    while (this.heap.peekTime() <= until) {
      const e = this.heap.pop()!;
      this.now = e.at;
      e.item();
    }
    this.now = Math.max(this.now, until);
  }

  /** The address of node `i`. */
  address(i: number): string {
    return `10.0.${i}.1:7000`;
  }

  /** Asks node `from` to exec `code` on `targets` (indices, with the membership state the coordinator believes). */
  exec(from: number, id: number, targets: readonly { index: number; state: MemberState }[], code: string, timeoutMs: number): void {
    const n = this.nodes[from]!;
    const t: CommandTarget[] = targets.map((x) => ({ name: this.nodes[x.index]!.name, address: this.address(x.index), state: x.state }));
    const truth = targets.map((x) => ({ index: x.index, health: this.nodes[x.index]!.health, state: x.state, partitioned: this.links.blocked(from, x.index) || this.links.blocked(x.index, from) }));
    this.execs.set(`${from}:${id}`, { id, from, at: this.now, timeoutMs, targets: t, code, truth, done: null, doneCount: 0 });
    this.feed(n, { type: "request", now: this.now, request: { type: "exec", id, targets: t, tenant: "default", code, timeoutMs } });
  }

  /** Kills node `i`'s process: its connections close at once. */
  kill(i: number): void {
    this.down(i, "killed");
    for (const key of [...this.conns.keys()]) if (this.pair(key).includes(i)) this.close(key, this.linkMs(i, this.other(key, i)));
  }

  /** The host of node `i` vanishes: its connections go quiet and close after the TCP timeout. */
  vanish(i: number): void {
    this.down(i, "vanished");
    for (const key of [...this.conns.keys()]) if (this.pair(key).includes(i)) this.close(key, TCP_CLOSE_MS);
  }

  /** Node `i` stops answering programs (a blocked thread), but keeps its connections. */
  hang(i: number): void {
    this.nodes[i]!.health = "hanging";
  }

  partition(a: readonly number[], b: readonly number[]): void {
    this.links.partition(a, b, false);
  }

  heal(): void {
    this.links.heal();
  }

  // ---------------------------------------------------------------------------------------------

  private boot(n: SimCommandsNode): void {
    n.core = new CommandsCore({ name: n.name, now: this.now, random: new Prng(nodeSeed(this.seed, n.index, n.gen)) });
    this.feed(n, { type: "tick", now: this.now });
  }

  private down(i: number, health: Health): void {
    const n = this.nodes[i]!;
    n.core = null;
    n.health = health;
    n.gen++;
  }

  private key(a: number, b: number): string {
    return a < b ? `${a}-${b}` : `${b}-${a}`;
  }

  private pair(key: string): [number, number] {
    const [a, b] = key.split("-").map(Number);
    return [a!, b!];
  }

  private other(key: string, i: number): number {
    const [a, b] = this.pair(key);
    return a === i ? b : a;
  }

  private linkMs(a: number, b: number): number {
    return this.links.baseMs(a, b);
  }

  /** Feeds one input to a node's core (when it lives) and carries out the effects. */
  private feed(n: SimCommandsNode, input: CoreInput<CommandsRequest>): void {
    const core = n.core;
    if (core === null) return;
    this.trace = Bun.hash.wyhash(`${this.now}|${n.index}|${input.type}|${"peer" in input ? input.peer : ""}|${"from" in input ? input.from : ""}`, this.trace);
    if (input.type === "message") this.trace = Bun.hash.wyhash(encode(input.message), this.trace);
    for (const e of core.step(input)) this.apply(n, e);
  }

  private apply(n: SimCommandsNode, e: CoreEffect<CommandsEvent>): void {
    switch (e.type) {
      case "timer": {
        n.wakeAt = e.at;
        const gen = n.gen;
        this.at(e.at, () => {
          if (n.gen === gen && n.wakeAt === e.at) this.feed(n, { type: "tick", now: this.now });
        });
        return;
      }
      case "connect":
        return this.dial(n.index, Number(/^10\.0\.(\d+)\./.exec(e.address)![1]), e.address);
      case "send":
        return this.send(n.index, this.indexOf(e.to), e.message);
      case "emit":
        return this.event(n, e.event);
    }
  }

  private indexOf(name: string): number {
    return Number(name.slice(1));
  }

  private event(n: SimCommandsNode, ev: CommandsEvent): void {
    if (ev.type === "done") {
      const r = this.execs.get(`${n.index}:${ev.id}`)!;
      r.doneCount++;
      r.done ??= { at: this.now, results: ev.results };
      return;
    }
    if (ev.type === "rejected") throw new Error(`core rejected a message in the simulation: ${ev.reason}`);
    const gen = n.gen;
    const answer = (a: { ok: true; value: string } | { ok: false; error: string }) => {
      if (n.gen === gen && n.core !== null) this.feed(n, { type: "request", now: this.now, request: { type: "answer", ticket: ev.ticket, answer: a } });
    };
    if (n.health === "hanging") return;
    const m = /^work (\d+)$/.exec(ev.code);
    if (ev.code === "fail") this.at(this.now, () => answer({ ok: false, error: "Exception during execution: fail" }));
    else if (m !== null) this.at(this.now + Number(m[1]) * this.workScale, () => answer({ ok: true, value: m[1]! }));
    else this.at(this.now, () => answer({ ok: false, error: "unknown program" }));
  }

  private dial(from: number, to: number, address: string): void {
    const target = this.nodes[to]!;
    const fromGen = this.nodes[from]!.gen;
    const fail = (delay: number, reason: string) =>
      this.at(this.now + delay, () => {
        if (this.nodes[from]!.gen === fromGen) this.feed(this.nodes[from]!, { type: "connect-failed", now: this.now, address, reason });
      });
    const key = this.key(from, to);
    if (this.conns.has(key)) return void this.at(this.now, () => this.nodes[from]!.gen === fromGen && this.feed(this.nodes[from]!, { type: "connected", now: this.now, peer: target.name, dialed: address }));
    if (target.health === "killed") return fail(this.linkMs(from, to) + this.linkMs(to, from), "refused");
    if (target.health === "vanished" || this.links.blocked(from, to) || this.links.blocked(to, from)) return fail(CONNECT_TIMEOUT_MS, "timed out");
    const open = this.now + this.linkMs(from, to) + this.linkMs(to, from);
    const toGen = target.gen;
    this.at(open, () => {
      if (target.gen !== toGen || this.nodes[from]!.gen !== fromGen) return fail(0, "refused");
      this.conns.set(key, { last: new Map() });
      this.feed(this.nodes[from]!, { type: "connected", now: this.now, peer: target.name, dialed: address });
      this.feed(target, { type: "connected", now: this.now, peer: this.nodes[from]!.name, dialed: null });
    });
  }

  private send(from: number, to: number, message: Value): void {
    const bytes = encode(message);
    this.sent++;
    this.maxBytes = Math.max(this.maxBytes, bytes.length);
    const c = this.conns.get(this.key(from, to));
    if (c === undefined) {
      // The core asked to dial first: the message waits for the connection, as the core host holds it.
      const gen = this.nodes[from]!.gen;
      const retry = this.now + this.linkMs(from, to) + this.linkMs(to, from) + 0.001;
      if (this.nodes[to]!.health !== "killed" && this.nodes[to]!.health !== "vanished") this.at(retry, () => this.nodes[from]!.gen === gen && this.conns.has(this.key(from, to)) && this.send(from, to, message));
      return;
    }
    if (this.links.blocked(from, to)) return;
    let at = this.now + this.links.latencyMs(from, to) + (this.links.lose() ? RETRANSMIT_MS : 0);
    at = Math.max(at, c.last.get(from) ?? 0);
    c.last.set(from, at);
    const gen = this.nodes[to]!.gen;
    this.at(at, () => {
      const n = this.nodes[to]!;
      if (n.gen !== gen || n.core === null) return;
      const d = decode(bytes);
      if (!d.ok) throw new Error(`simulator bug: undecodable message: ${d.error.message}`);
      this.feed(n, { type: "message", now: this.now, from: this.nodes[from]!.name, message: d.value });
    });
  }

  private close(key: string, delay: number): void {
    const [a, b] = this.pair(key);
    const gens = [this.nodes[a]!.gen, this.nodes[b]!.gen];
    this.at(this.now + delay, () => {
      if (!this.conns.delete(key)) return;
      for (const [side, other, gen] of [[a, b, gens[0]], [b, a, gens[1]]] as const) {
        const n = this.nodes[side]!;
        if (n.core !== null && n.gen === gen) this.feed(n, { type: "disconnected", now: this.now, peer: this.nodes[other]!.name, local: false });
      }
    });
  }
}

/** Whether a message fits the core message bound (for the judge). */
export function fitsMessage(bytes: number): boolean {
  return bytes <= MESSAGE_BYTES_MAX;
}
