/**
 * The core host: runs any number of protocol cores (src/cluster, core.ts) over the backchannel in
 * real time. It is the only thing between the cores and the sockets:
 *
 * - Incoming messages are routed by their head symbol (`messageChannel`) to the core of that
 *   channel; one backchannel connection per peer carries every core's traffic.
 * - Connection events go to every core: `connected` (with the address a core dialed, for the cores
 *   that asked for it; null for the others), `disconnected` (`local` when this node closed it),
 *   `connect-failed` (to the cores that asked).
 * - Effects are carried out in order: `send` (held in a bounded queue while a dial of that peer is
 *   pending, dropped when the queue is full or the dial fails), `connect` (one dial per address at a
 *   time, answered at once when the peer is already connected), `timer` (one real timer per core,
 *   replaced by each new one), `emit` (handed to the core's subscribers).
 *
 * Inputs that effects cause (a `connected` answered at once) are queued and fed after the current
 * step's effects, so a core is never re-entered. A core that throws (a bug) is logged; the host and
 * the other cores carry on. Time is the monotonic clock (performance.now) unless a test injects one.
 */
import { messageChannel, type CoreEffect, type CoreInput, type ProtocolCore } from "../cluster/mod.ts";
import { log } from "../log.ts";
import { isList, type List, type Sym, type Value } from "../lang/value.ts";
import { DialError } from "../net/mod.ts";
import { isAddress, splitAddress } from "./address.ts";
import { CoreHostMetrics } from "./core-host-metrics.ts";
import { HeldMessages } from "./held-messages.ts";

import { REAL_CLOCK, type CoreHandle, type CoreTransport, type HostClock } from "./core-host-api.ts";

export { HELD_PER_PEER_MAX, HELD_TOTAL_MAX } from "./held-messages.ts";
export type { CoreHandle, CoreTransport, HostClock } from "./core-host-api.ts";

/**
 * A dial with no answer by then is reported failed: a connect into a black hole (a partition, a
 * vanished host) can hang for minutes of SYN retries, while cores expect an answer within seconds.
 * It matches the backchannel's handshake deadline.
 */
export const DIAL_TIMEOUT_MS = 5_000;

/** Addresses remembered as this node itself (a seed list that names it), answered without a dial. */
const SELF_ADDRESSES_MAX = 16;

/** Dialed addresses remembered with the peer name found there, so a dial of one connected is answered at once. */
const KNOWN_ADDRESSES_MAX = 8192;

interface Entry {
  readonly core: ProtocolCore<unknown, unknown>;
  readonly name: string;
  readonly listeners: Set<(event: unknown) => void>;
  timer: unknown;
}

interface PendingDial {
  /** The peer name the first asking core expected there, or null (a seed known by address). */
  expected: string | null;
  readonly cores: Set<Entry>;
  readonly timeout: unknown;
}

/** See the file comment. */
export class CoreHost {
  readonly metrics: CoreHostMetrics;
  private readonly entries: Entry[] = [];
  private readonly byChannel = new Map<Sym, Entry>();
  /** Peers the cores were told are connected. */
  private readonly told = new Set<string>();
  private readonly dials = new Map<string, PendingDial>();
  private readonly held = new HeldMessages<{ entry: Entry; msg: List }>();
  private readonly selfAddresses = new Set<string>();
  private readonly knownAddresses = new Map<string, string>();
  private readonly inputs: [Entry, CoreInput<unknown>][] = [];
  private feeding = false;
  private stopped = false;
  private readonly clock: HostClock;

  constructor(
    private readonly transport: CoreTransport,
    options: { readonly clock?: HostClock; readonly dialTimeoutMs?: number } = {},
  ) {
    this.clock = options.clock ?? REAL_CLOCK;
    this.dialTimeoutMs = options.dialTimeoutMs ?? DIAL_TIMEOUT_MS;
    this.metrics = new CoreHostMetrics(() => this.held.total);
  }

  private readonly dialTimeoutMs: number;

  /** Hosts `core` (one core per channel) and gives it its first tick. */
  add<R, E>(core: ProtocolCore<R, E>): CoreHandle<R, E> {
    if (this.byChannel.has(core.channel)) throw new Error(`CoreHost bug: a core for channel "${core.channel.name}" is already hosted`);
    const entry: Entry = { core: core as ProtocolCore<unknown, unknown>, name: core.channel.name, listeners: new Set(), timer: null };
    this.entries.push(entry);
    this.byChannel.set(core.channel, entry);
    this.metrics.addChannel(entry.name);
    for (const peer of this.told) this.feed(entry, { type: "connected", now: this.clock.now(), peer, dialed: null });
    this.feed(entry, { type: "tick", now: this.clock.now() });
    return {
      core,
      request: (request) => this.feed(entry, { type: "request", now: this.clock.now(), request }),
      subscribe: (listener) => {
        const l = listener as (event: unknown) => void;
        entry.listeners.add(l);
        return () => void entry.listeners.delete(l);
      },
    };
  }

  /** The host's clock: the `now` its cores are fed (monotonic ms). */
  now(): number {
    return this.clock.now();
  }

  /** Peers the cores know as connected. */
  connectedPeers(): string[] {
    return [...this.told];
  }

  // ----------------------------------------------------------------------------------------------
  // What the backchannel reports (the node wires its callbacks here)

  /**
   * A peer authenticated. Outbound connections are the host's own dials: they are reported when the
   * dial resolves, with the dialed address, so only inbound ones are handled here.
   */
  peerUp(name: string, direction: "in" | "out"): void {
    if (this.stopped || direction === "out") return;
    this.up(name, null);
  }

  /** A peer's connection ended and none replaced it; `local` when this node closed it. */
  peerLost(name: string, local: boolean): void {
    if (this.stopped || !this.told.delete(name)) return;
    for (const e of this.entries) this.feed(e, { type: "disconnected", now: this.clock.now(), peer: name, local });
  }

  /** A message from a peer: fed to the core of its channel; false when no core reads that channel. */
  message(from: string, msg: Value): boolean {
    if (this.stopped) return false;
    const channel = messageChannel(msg);
    const entry = channel === null ? undefined : this.byChannel.get(channel);
    if (entry === undefined) {
      this.metrics.unrouted++;
      return false;
    }
    this.metrics.received(entry.name);
    this.feed(entry, { type: "message", now: this.clock.now(), from, message: msg });
    return true;
  }

  // ----------------------------------------------------------------------------------------------
  // Shutting down

  /**
   * Resolves once no message is held for a pending dial (each went out or was dropped), or after
   * `ms`: lets a leaving node's last messages reach peers it was still dialing.
   */
  async settle(ms: number): Promise<void> {
    if (this.held.total === 0) return;
    let timer: unknown;
    await Promise.race([this.held.empty(), new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, ms)))]);
    this.clock.clearTimeout(timer);
  }

  /** Stops every timer and feeds nothing more; held messages are dropped. */
  stop(): void {
    this.stopped = true;
    for (const e of this.entries) if (e.timer !== null) this.clock.clearTimeout(e.timer);
    for (const d of this.dials.values()) this.clock.clearTimeout(d.timeout);
    this.dials.clear();
    this.held.clear();
  }

  // ----------------------------------------------------------------------------------------------
  // Feeding cores and carrying out their effects

  private feed(entry: Entry, input: CoreInput<unknown>): void {
    if (this.stopped) return;
    this.inputs.push([entry, input]);
    if (this.feeding) return;
    this.feeding = true;
    try {
      for (let next = this.inputs.shift(); next !== undefined; next = this.inputs.shift()) {
        const [e, i] = next;
        let effects: CoreEffect<unknown>[];
        try {
          effects = e.core.step(i);
        } catch (err) {
          log("error", "protocol core failed", { channel: e.name, input: i.type, error: err instanceof Error ? err.stack ?? err.message : String(err) });
          continue;
        }
        for (const effect of effects) this.apply(e, effect);
      }
    } finally {
      this.feeding = false;
    }
  }

  private apply(entry: Entry, effect: CoreEffect<unknown>): void {
    if (this.stopped) return;
    switch (effect.type) {
      case "send":
        return this.send(entry, effect.to, effect.message);
      case "connect":
        return this.connect(entry, effect.address, effect.peer);
      case "timer":
        return this.arm(entry, effect.at);
      case "emit":
        for (const l of entry.listeners) {
          try {
            l(effect.event);
          } catch (err) {
            log("error", "protocol core subscriber failed", { channel: entry.name, error: err instanceof Error ? err.stack ?? err.message : String(err) });
          }
        }
        return;
    }
  }

  private arm(entry: Entry, at: number): void {
    if (entry.timer !== null) this.clock.clearTimeout(entry.timer);
    entry.timer = null;
    if (!Number.isFinite(at)) return;
    // setTimeout holds at most 2^31-1 ms; a later deadline is simply re-armed by the early tick.
    const delay = Math.min(2 ** 31 - 1, Math.max(0, Math.ceil(at - this.clock.now())));
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = null;
      this.feed(entry, { type: "tick", now: this.clock.now() });
    }, delay);
  }

  private send(entry: Entry, to: string, message: Value): void {
    if (!isList(message)) {
      this.metrics.dropped(entry.name, "malformed");
      return log("error", "protocol core sent a message that is not a list", { channel: entry.name, to });
    }
    const r = this.transport.send(to, message);
    if (r === "sent") return this.metrics.sent(entry.name);
    if (r === "no-peer" && this.dialing(to)) return this.hold(entry, to, message);
    this.metrics.dropped(entry.name, r === "no-peer" ? "unconnected" : r);
  }

  /** True when a pending dial expects `peer`. */
  private dialing(peer: string): boolean {
    for (const d of this.dials.values()) if (d.expected === peer) return true;
    return false;
  }

  private hold(entry: Entry, to: string, msg: List): void {
    if (!this.held.hold(to, { entry, msg })) this.metrics.dropped(entry.name, "held-full");
  }

  /** Sends what was held for `peer` (now connected), or drops it (`reason`). */
  private release(peer: string, reason: "dial-failed" | null): void {
    for (const { entry, msg } of this.held.take(peer)) {
      if (reason !== null) {
        this.metrics.dropped(entry.name, reason);
        continue;
      }
      const r = this.transport.send(peer, msg);
      if (r === "sent") this.metrics.sent(entry.name);
      else this.metrics.dropped(entry.name, r === "no-peer" ? "unconnected" : r);
    }
  }

  private connect(entry: Entry, address: string, peer: string | null): void {
    const now = this.clock.now();
    const known = peer ?? this.knownAddresses.get(address) ?? null;
    if (known !== null && this.told.has(known)) {
      // One connection per peer: the dial is answered with the one there is.
      return this.feed(entry, { type: "connected", now, peer: known, dialed: address });
    }
    if (this.selfAddresses.has(address)) return this.feed(entry, { type: "connect-failed", now, address, reason: "self" });
    if (!isAddress(address)) return this.feed(entry, { type: "connect-failed", now, address, reason: "bad-address" });
    const pending = this.dials.get(address);
    if (pending !== undefined) {
      pending.cores.add(entry);
      pending.expected ??= peer;
      return;
    }
    const dial: PendingDial = {
      expected: peer,
      cores: new Set([entry]),
      timeout: this.clock.setTimeout(() => this.dialEnded(address, dial, null, "timed out"), this.dialTimeoutMs),
    };
    this.dials.set(address, dial);
    this.metrics.dials++;
    const { host, port } = splitAddress(address);
    this.transport.dial(host, port).then(
      (p) => this.dialEnded(address, dial, p.name, ""),
      (e: unknown) => this.dialEnded(address, dial, null, e instanceof DialError ? e.handshake?.reason ?? "unreachable" : "unreachable"),
    );
  }

  /** A dial resolved (`name`), failed, or timed out (`name` null, with the reason). */
  private dialEnded(address: string, dial: PendingDial, name: string | null, reason: string): void {
    if (this.stopped) return;
    const current = this.dials.get(address) === dial;
    if (current) {
      this.dials.delete(address);
      this.clock.clearTimeout(dial.timeout);
    }
    if (name === null) {
      if (!current) return;
      this.metrics.dialsFailed++;
      if (reason === "self") this.remember(this.selfAddresses, address, SELF_ADDRESSES_MAX);
      for (const e of dial.cores) this.feed(e, { type: "connect-failed", now: this.clock.now(), address, reason });
      if (dial.expected !== null && !this.dialing(dial.expected)) this.release(dial.expected, "dial-failed");
      return;
    }
    this.knownAddresses.delete(address);
    this.remember(this.knownAddresses, address, KNOWN_ADDRESSES_MAX, name);
    // A dial that timed out here and connected later still brings a peer: every core hears of it.
    if (current) this.up(name, { address, cores: dial.cores });
    else if (!this.told.has(name)) this.up(name, null);
    else this.release(name, null);
    if (current && dial.expected !== null && dial.expected !== name && !this.dialing(dial.expected)) this.release(dial.expected, "dial-failed");
  }

  /**
   * Tells the cores that `name` is connected: every core for a new connection (an inbound one is
   * always new: a restarted peer replaces its old connection); for a dial that found the peer
   * already connected, only the cores that asked, as the answer to their dial.
   */
  private up(name: string, dialed: { address: string; cores: Set<Entry> } | null): void {
    const fresh = dialed === null || !this.told.has(name);
    this.told.add(name);
    for (const e of this.entries) {
      const asked = dialed !== null && dialed.cores.has(e);
      if (fresh || asked) this.feed(e, { type: "connected", now: this.clock.now(), peer: name, dialed: asked ? dialed.address : null });
    }
    this.release(name, null);
  }

  private remember(set: Set<string> | Map<string, string>, key: string, max: number, value?: string): void {
    if (set.size >= max) set.delete(set.keys().next().value!);
    if (set instanceof Set) set.add(key);
    else set.set(key, value!);
  }
}
