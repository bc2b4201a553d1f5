/**
 * Simulated backchannel connections, one per pair of nodes, as the adapter will see them: a dial
 * opens after a handshake (one round trip; later if the peer is stalled), is refused at once by a
 * host whose process died, and times out across a partition or to a vanished host. Messages sent
 * while the dial is pending wait (bounded) and go when it opens; on an open connection each
 * direction is FIFO, as TCP is. A killed process's connections close and its peers are told; a
 * vanished host's, and connections across a partition, close after the TCP timeout.
 */
import type { Simulation } from "./simulation.ts";

/** Messages held per connection while its dial is pending, as the adapter would. */
const QUEUED_PER_CONNECTION_MAX = 64;

interface Conn {
  readonly id: number;
  readonly a: number;
  readonly b: number;
  open: boolean;
  closed: boolean;
  queued: [from: number, to: number, bytes: Uint8Array][];
  /** Arrival time of the last message each way (FIFO). */
  lastAtoB: number;
  lastBtoA: number;
  /** Nodes whose dial waits for this connection, with the address each dialed. */
  readonly waiting: Map<number, string>;
}

/** The connection table of a simulation. */
export class Connections {
  private readonly conns = new Map<number, Conn>();
  private ids = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly connectTimeoutMs: number,
    private readonly tcpCloseAfterMs: number,
  ) {}

  private key(x: number, y: number): number {
    return x < y ? x * 1_048_576 + y : y * 1_048_576 + x;
  }

  /** Open connections (for reports). */
  get openCount(): number {
    let n = 0;
    for (const c of this.conns.values()) if (c.open) n++;
    return n;
  }

  /**
   * Opens a connection between every pair of running nodes at once, both ends told now: a cluster
   * that has run for a while, where membership's probes have connected every member (full mesh).
   */
  connectAll(): void {
    const sim = this.sim;
    const up = sim.nodes.filter((n) => n.up);
    for (let x = 0; x < up.length; x++) {
      for (let y = x + 1; y < up.length; y++) {
        const a = up[x]!.index;
        const b = up[y]!.index;
        const k = this.key(a, b);
        if (this.conns.has(k)) continue;
        this.conns.set(k, { id: ++this.ids, a, b, open: true, closed: false, queued: [], lastAtoB: 0, lastBtoA: 0, waiting: new Map() });
        this.tellConnected(a, b, sim.nodes[b]!.address, 0);
        this.tellConnected(b, a, null, 0);
      }
    }
  }

  /** Node `from` dials `address`. */
  dial(from: number, address: string): void {
    const sim = this.sim;
    const to = sim.byAddress.get(address);
    const gen = sim.nodes[from]!.gen;
    const fail = (delay: number, reason: string): void =>
      sim.later(delay, () => sim.whenRunning(from, gen, () => sim.feed(from, { type: "connect-failed", now: sim.nodes[from]!.local(sim.now), address, reason })));
    if (to === undefined || to === from) return fail(this.connectTimeoutMs, "no such host");
    const k = this.key(from, to);
    const existing = this.conns.get(k);
    if (existing !== undefined && existing.open) {
      // The backchannel already holds a connection to that peer: the dial is answered with it.
      sim.later(0, () => sim.whenRunning(from, gen, () => sim.feed(from, { type: "connected", now: sim.nodes[from]!.local(sim.now), peer: sim.nodes[to]!.name, dialed: address })));
      return;
    }
    if (existing !== undefined) {
      existing.waiting.set(from, address);
      return;
    }
    const target = sim.nodes[to]!;
    const links = sim.links;
    const rtt = links.baseMs(from, to) + links.baseMs(to, from);
    if (!target.up) return fail(target.crashRst ? rtt : this.connectTimeoutMs, target.crashRst ? "refused" : "timed out");
    if (links.blocked(from, to) || links.blocked(to, from)) return fail(this.connectTimeoutMs, "timed out");
    const c: Conn = { id: ++this.ids, a: Math.min(from, to), b: Math.max(from, to), open: false, closed: false, queued: [], lastAtoB: 0, lastBtoA: 0, waiting: new Map([[from, address]]) };
    this.conns.set(k, c);
    // The handshake needs the peer's process: a stalled peer answers when it runs again.
    const openAt = Math.max(sim.now + rtt, target.stalledUntil + links.baseMs(to, from));
    const targetGen = target.gen;
    sim.at(openAt, () => this.open(c, k, from, to, targetGen));
  }

  private open(c: Conn, k: number, from: number, to: number, targetGen: number): void {
    const sim = this.sim;
    if (this.conns.get(k) !== c) return;
    const target = sim.nodes[to]!;
    const dialerNode = sim.nodes[from]!;
    if (target.gen !== targetGen || !target.up || !dialerNode.up || sim.links.blocked(from, to) || sim.links.blocked(to, from)) {
      this.conns.delete(k);
      c.closed = true;
      for (const [node, address] of c.waiting) {
        const gen = sim.nodes[node]!.gen;
        sim.whenRunning(node, gen, () => sim.feed(node, { type: "connect-failed", now: sim.nodes[node]!.local(sim.now), address, reason: "handshake failed" }));
      }
      return;
    }
    c.open = true;
    // The dialer knows first; the other side when the dialer's last handshake message arrives.
    const acceptedAt = sim.now + sim.links.baseMs(from, to);
    if (c.a === from) c.lastAtoB = acceptedAt;
    else c.lastBtoA = acceptedAt;
    for (const [node, address] of c.waiting) {
      if (node === to) continue;
      this.tellConnected(node, node === from ? to : from, address, 0);
    }
    this.tellConnected(to, from, c.waiting.get(to) ?? null, acceptedAt - sim.now);
    c.waiting.clear();
    const queued = c.queued;
    c.queued = [];
    for (const [f, t, bytes] of queued) this.transmit(c, f, t, bytes);
  }

  private tellConnected(node: number, peer: number, dialed: string | null, delay: number): void {
    const sim = this.sim;
    const gen = sim.nodes[node]!.gen;
    sim.later(delay, () => sim.whenRunning(node, gen, () => sim.feed(node, { type: "connected", now: sim.nodes[node]!.local(sim.now), peer: sim.nodes[peer]!.name, dialed })));
  }

  /** Node `from` sends bytes to `to` over their connection (dropped when there is none). */
  send(from: number, to: number, bytes: Uint8Array): void {
    const c = this.conns.get(this.key(from, to));
    if (c === undefined || c.closed) {
      this.sim.counters.unconnected++;
      return;
    }
    if (!c.open) {
      if (c.queued.length < QUEUED_PER_CONNECTION_MAX) c.queued.push([from, to, bytes]);
      else this.sim.counters.unconnected++;
      return;
    }
    this.transmit(c, from, to, bytes);
  }

  private transmit(c: Conn, from: number, to: number, bytes: Uint8Array): void {
    const sim = this.sim;
    if (sim.links.blocked(from, to)) {
      sim.counters.partitioned++;
      return;
    }
    if (sim.links.lose()) {
      sim.counters.lost++;
      return;
    }
    let at = sim.now + sim.links.latencyMs(from, to);
    if (c.a === from) at = c.lastAtoB = Math.max(at, c.lastAtoB);
    else at = c.lastBtoA = Math.max(at, c.lastBtoA);
    // Bytes sent before a close still arrive (TCP delivers them before the FIN), if their reader lives.
    const gen = sim.nodes[to]!.gen;
    sim.at(at, () => sim.whenRunning(to, gen, () => sim.deliver(from, to, bytes)));
  }

  /** Closes `c`; each end still running is told after the network delay. */
  private close(c: Conn): void {
    const sim = this.sim;
    this.conns.delete(this.key(c.a, c.b));
    c.closed = true;
    for (const [node, address] of c.waiting) {
      const gen = sim.nodes[node]!.gen;
      sim.later(sim.links.baseMs(c.a, c.b) * 2, () => sim.whenRunning(node, gen, () => sim.feed(node, { type: "connect-failed", now: sim.nodes[node]!.local(sim.now), address, reason: "refused" })));
    }
    for (const [side, other] of [
      [c.a, c.b],
      [c.b, c.a],
    ] as const) {
      const n = sim.nodes[side]!;
      if (!n.up || !c.open) continue;
      const gen = n.gen;
      sim.later(sim.links.baseMs(other, side), () => sim.whenRunning(side, gen, () => sim.feed(side, { type: "disconnected", now: n.local(sim.now), peer: sim.nodes[other]!.name, local: false })));
    }
  }

  /** Node `i` crashed: its connections close now (`rst`) or after the TCP timeout. */
  crashed(i: number, rst: boolean): void {
    const mine = [...this.conns.values()].filter((c) => c.a === i || c.b === i);
    if (rst) {
      for (const c of mine) this.close(c);
      return;
    }
    const gen = this.sim.nodes[i]!.gen;
    this.sim.later(this.tcpCloseAfterMs, () => {
      for (const c of mine) if (!c.closed && this.sim.nodes[i]!.gen === gen) this.close(c);
    });
  }

  /** A partition began: connections it still cuts when the TCP timeout runs out are closed. */
  partitioned(): void {
    this.sim.later(this.tcpCloseAfterMs, () => {
      for (const c of [...this.conns.values()]) if (this.sim.links.blocked(c.a, c.b) || this.sim.links.blocked(c.b, c.a)) this.close(c);
    });
  }
}
