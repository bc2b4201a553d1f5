/**
 * An in-process stand-in for the backchannel, for tests of the core host and of the cores it runs:
 * nodes on a FakeNet dial each other by address and exchange messages (delivered in a later
 * microtask, in order), and a virtual clock drives the hosts' timers. Dials can be made to hang,
 * to be refused, or to find the dialer itself; a connection can be cut from either side.
 * Like the real Backchannel: the listener hears of an inbound peer (`peerUp(…, "in")`) before the
 * dial resolves, one connection per pair, and a dial of a connected peer reuses the connection.
 */
import { CoreHost, type CoreTransport, type HostClock } from "../../src/node/core-host.ts";
import { DialError, HandshakeError } from "../../src/net/mod.ts";
import type { List } from "../../src/lang/value.ts";

/** A virtual clock: timers fire only when the test advances it. */
export class FakeClock implements HostClock {
  private t = 1000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in order (and letting microtasks run between). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settleMicrotasks();
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (next === null || e[1].at < next[1].at)) next = e;
      if (next === null) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
    await settleMicrotasks();
  }
}

/** Lets chained promise callbacks run (a few rounds of the microtask queue). */
export async function settleMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** How a dial of an address behaves. */
export type DialBehaviour = "normal" | "hang" | "refuse" | "defer";

/** A network of fake transports. */
export class FakeNet {
  readonly clock = new FakeClock();
  private readonly byAddress = new Map<string, FakeTransport>();
  readonly behaviour = new Map<string, DialBehaviour>();
  /** Dials waiting for `release` (behaviour "defer"), by address. */
  readonly deferred = new Map<string, (() => void)[]>();

  /** Lets the deferred dials of `address` go on. */
  release(address: string): void {
    const waiting = this.deferred.get(address) ?? [];
    this.deferred.delete(address);
    for (const go of waiting) go();
  }

  /** A node named `name` listening at `address`, with its own core host. */
  node(name: string, address: string, dialTimeoutMs?: number): FakeTransport {
    const t = new FakeTransport(this, name, address);
    t.host = new CoreHost(t, { clock: this.clock, ...(dialTimeoutMs !== undefined ? { dialTimeoutMs } : {}) });
    this.byAddress.set(address, t);
    return t;
  }

  at(address: string): FakeTransport | undefined {
    return this.byAddress.get(address);
  }
}

/** One node's end of the fake network. */
export class FakeTransport implements CoreTransport {
  host!: CoreHost;
  readonly peers = new Map<string, FakeTransport>();
  /** Every dial this transport started, by address. */
  readonly dialed: string[] = [];
  /** Every message it was asked to send: [peer, message]. */
  readonly sentLog: [string, List][] = [];

  constructor(
    private readonly net: FakeNet,
    readonly name: string,
    readonly address: string,
  ) {}

  dial(host: string, port: number): Promise<{ readonly name: string }> {
    const address = `${host}:${port}`;
    this.dialed.push(address);
    const behaviour = this.net.behaviour.get(address) ?? "normal";
    if (behaviour === "hang") return new Promise(() => {});
    const target = this.net.at(address);
    if (behaviour === "refuse" || target === undefined) return Promise.reject(new DialError(address, `Cannot connect to "${address}": refused`, null));
    if (target === this) return Promise.reject(new DialError(address, `Cannot join "${address}": self`, new HandshakeError("self", "connected to itself", false)));
    const ready = behaviour === "defer" ? new Promise<void>((go) => this.net.deferred.set(address, [...(this.net.deferred.get(address) ?? []), go])) : Promise.resolve();
    return ready.then(() => {
      if (!this.peers.has(target.name)) {
        this.peers.set(target.name, target);
        target.peers.set(this.name, this);
        target.host.peerUp(this.name, "in");
        this.host.peerUp(target.name, "out");
      }
      return { name: target.name };
    });
  }

  send(peer: string, msg: List): "sent" | "full" | "closed" | "no-peer" {
    const other = this.peers.get(peer);
    if (other === undefined) return "no-peer";
    this.sentLog.push([peer, msg]);
    queueMicrotask(() => {
      if (other.peers.get(this.name) === this) other.host.message(this.name, msg);
    });
    return "sent";
  }

  /** Closes the connection to `peer` from this side: this side is told `local`, the other not. */
  cut(peer: string): void {
    const other = this.peers.get(peer);
    if (other === undefined) return;
    this.peers.delete(peer);
    other.peers.delete(this.name);
    this.host.peerLost(peer, true);
    other.host.peerLost(this.name, false);
  }

  /** The process dies: every peer sees its connection close; this node's host stops. */
  crash(): void {
    this.host.stop();
    for (const [name, other] of [...this.peers]) {
      this.peers.delete(name);
      other.peers.delete(this.name);
      other.host.peerLost(this.name, false);
    }
  }
}
