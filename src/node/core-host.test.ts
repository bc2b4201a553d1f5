/**
 * The core host: routing by channel, connection events to every core, dials (one per address,
 * answered at once for a connected peer, timed out, refused, finding this node), messages held
 * while a dial is pending (limits at their maximum and one past), timers, events to subscribers,
 * a failing core; over the in-process fake backchannel, then over real sockets.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { MembershipCore, Prng, type MembershipEvent } from "../cluster/mod.ts";
import { List, sym, T_PAREN } from "../lang/value.ts";
import { Backchannel } from "../net/mod.ts";
import { FakeNet } from "../../test/support/fake-backchannel.ts";
import { TestCluster } from "../../test/support/identities.ts";
import { testMeta } from "../../test/support/membership.ts";
import { RecordingCore } from "../../test/support/recording-core.ts";
import { CoreHost, DIAL_TIMEOUT_MS, HELD_PER_PEER_MAX, HELD_TOTAL_MAX } from "./core-host.ts";

/** Two nodes a and b, each hosting a core on channel x and one on channel y. */
function pair() {
  const net = new FakeNet();
  const a = net.node("a", "a.test:7000");
  const b = net.node("b", "b.test:7000");
  const cores = { ax: new RecordingCore("x"), ay: new RecordingCore("y"), bx: new RecordingCore("x"), by: new RecordingCore("y") };
  const h = { ax: a.host.add(cores.ax), ay: a.host.add(cores.ay), bx: b.host.add(cores.bx), by: b.host.add(cores.by) };
  return { net, a, b, ...cores, h };
}

const texts = (c: RecordingCore) => c.of("message").map((m) => ((m.message as List).items[2] as { s: string }).s);

describe("the core host over the fake backchannel", () => {
  test("messages go to the core of their channel; an unknown channel is counted, not fed", async () => {
    const { net, a, b, ax, bx, by, h } = pair();
    const seen: unknown[] = [];
    h.bx.subscribe((e) => seen.push(e));
    h.ax.request({ type: "connect", address: "b.test:7000", peer: "b" });
    h.ax.request({ type: "send", to: "b", text: "hello" });
    await net.clock.advance(0);
    expect(texts(bx)).toEqual(["hello"]);
    expect(by.of("message")).toEqual([]);
    expect(seen).toEqual([{ from: "a", text: "hello" }]);
    expect(b.host.message("a", new List(T_PAREN, [sym("nobody-reads-this"), 1]))).toBe(false);
    expect(b.host.message("a", 42)).toBe(false);
    expect(b.host.metrics.unrouted).toBe(2);
    expect(a.host.metrics.of("x")).toMatchObject({ sent: 1 });
    expect(b.host.metrics.of("x")).toMatchObject({ received: 1 });
    expect(b.host.metrics.render()).toContain('sup_core_messages_total{channel="x",direction="in"} 1');
    expect(ax.of("connected").map((c) => c.dialed)).toEqual(["b.test:7000"]);
  });

  test("connection events reach every core; only the asking core sees the address it dialed", async () => {
    const { net, a, ax, ay, bx, by, h } = pair();
    h.ax.request({ type: "connect", address: "b.test:7000", peer: null });
    await net.clock.advance(0);
    expect(ax.of("connected").map((c) => [c.peer, c.dialed])).toEqual([["b", "b.test:7000"]]);
    expect(ay.of("connected").map((c) => [c.peer, c.dialed])).toEqual([["b", null]]);
    expect(bx.of("connected").map((c) => [c.peer, c.dialed])).toEqual([["a", null]]);
    expect(by.of("connected").length).toBe(1);
    expect(a.host.connectedPeers()).toEqual(["b"]);
    a.cut("b");
    expect(ax.of("disconnected").map((d) => [d.peer, d.local])).toEqual([["b", true]]);
    expect(ay.of("disconnected").map((d) => [d.peer, d.local])).toEqual([["b", true]]);
    expect(bx.of("disconnected").map((d) => [d.peer, d.local])).toEqual([["a", false]]);
    expect(a.host.connectedPeers()).toEqual([]);
  });

  test("a dial of a connected peer, by name or by an address that reached it, is answered at once without a second dial", async () => {
    const { net, a, ax, ay, h } = pair();
    h.ax.request({ type: "connect", address: "b.test:7000", peer: "b" });
    await net.clock.advance(0);
    h.ay.request({ type: "connect", address: "other-name-for-b:7000", peer: "b" });
    h.ax.request({ type: "connect", address: "b.test:7000", peer: null });
    expect(ay.of("connected").map((c) => c.dialed)).toEqual([null, "other-name-for-b:7000"]);
    expect(ax.of("connected").map((c) => c.dialed)).toEqual(["b.test:7000", "b.test:7000"]);
    expect(a.dialed).toEqual(["b.test:7000"]);
  });

  test("two cores dialing one address share the dial, and both get the answer", async () => {
    const { net, a, ax, ay, h } = pair();
    h.ax.request({ type: "connect", address: "b.test:7000", peer: "b" });
    h.ay.request({ type: "connect", address: "b.test:7000", peer: null });
    await net.clock.advance(0);
    expect(a.dialed).toEqual(["b.test:7000"]);
    expect(ax.of("connected").map((c) => c.dialed)).toEqual(["b.test:7000"]);
    expect(ay.of("connected").map((c) => c.dialed)).toEqual(["b.test:7000"]);
  });

  test("messages sent while the dial is pending are held, and go in order once it is up", async () => {
    const { net, a, bx, h } = pair();
    net.behaviour.set("b.test:7000", "defer");
    h.ax.request({ type: "connect", address: "b.test:7000", peer: "b" });
    for (const t of ["one", "two", "three"]) h.ax.request({ type: "send", to: "b", text: t });
    await net.clock.advance(0);
    expect(a.host.metrics.render()).toContain("sup_core_messages_held 3");
    const settled = a.host.settle(60_000);
    net.release("b.test:7000");
    await net.clock.advance(0);
    await settled;
    expect(texts(bx)).toEqual(["one", "two", "three"]);
    expect(a.host.metrics.render()).toContain("sup_core_messages_held 0");
  });

  test(`${HELD_PER_PEER_MAX} messages are held for a peer, the next is dropped; a dial that times out drops them and says so`, async () => {
    const { net, a, ax, h } = pair();
    net.behaviour.set("b.test:7000", "hang");
    h.ax.request({ type: "connect", address: "b.test:7000", peer: "b" });
    for (let i = 0; i <= HELD_PER_PEER_MAX; i++) h.ax.request({ type: "send", to: "b", text: `m${i}` });
    expect(a.host.metrics.of("x")!.dropped["held-full"]).toBe(1);
    expect(a.host.metrics.render()).toContain(`sup_core_messages_held ${HELD_PER_PEER_MAX}`);
    await net.clock.advance(DIAL_TIMEOUT_MS - 1);
    expect(ax.of("connect-failed")).toEqual([]);
    await net.clock.advance(1);
    expect(ax.of("connect-failed").map((f) => [f.address, f.reason])).toEqual([["b.test:7000", "timed out"]]);
    expect(a.host.metrics.of("x")!.dropped["dial-failed"]).toBe(HELD_PER_PEER_MAX);
    expect(a.host.metrics.render()).toContain("sup_core_messages_held 0");
    // A message for a peer with no connection and no dial is dropped at once.
    h.ax.request({ type: "send", to: "b", text: "late" });
    expect(a.host.metrics.of("x")!.dropped.unconnected).toBe(1);
  });

  test(`${HELD_TOTAL_MAX} messages are held across peers, the next is dropped`, async () => {
    const net = new FakeNet();
    const a = net.node("a", "a.test:7000");
    const core = new RecordingCore("x");
    const h = a.host.add(core);
    const peers = HELD_TOTAL_MAX / HELD_PER_PEER_MAX;
    for (let p = 0; p <= peers; p++) {
      net.behaviour.set(`p${p}.test:7000`, "hang");
      h.request({ type: "connect", address: `p${p}.test:7000`, peer: `p${p}` });
      for (let i = 0; i < (p < peers ? HELD_PER_PEER_MAX : 1); i++) h.request({ type: "send", to: `p${p}`, text: "x" });
    }
    expect(a.host.metrics.render()).toContain(`sup_core_messages_held ${HELD_TOTAL_MAX}`);
    expect(a.host.metrics.of("x")!.dropped["held-full"]).toBe(1);
  });

  test("a refused dial and a dial that finds this node fail for the asking core only; this node's address is not dialed again", async () => {
    const { net, a, ax, ay, h } = pair();
    h.ax.request({ type: "connect", address: "nobody.test:7000", peer: null });
    h.ax.request({ type: "connect", address: "a.test:7000", peer: null });
    await net.clock.advance(0);
    expect(ax.of("connect-failed").map((f) => [f.address, f.reason])).toEqual([
      ["nobody.test:7000", "unreachable"],
      ["a.test:7000", "self"],
    ]);
    expect(ay.of("connect-failed")).toEqual([]);
    h.ay.request({ type: "connect", address: "a.test:7000", peer: null });
    h.ay.request({ type: "connect", address: "not an address", peer: null });
    expect(ay.of("connect-failed").map((f) => f.reason)).toEqual(["self", "bad-address"]);
    expect(a.dialed).toEqual(["nobody.test:7000", "a.test:7000"]);
    expect(a.host.metrics.dialsFailed).toBe(2);
  });

  test("a dial that connects after it timed out still brings the peer to every core", async () => {
    const { net, ax, ay, h } = pair();
    net.behaviour.set("b.test:7000", "defer");
    h.ax.request({ type: "connect", address: "b.test:7000", peer: "b" });
    await net.clock.advance(DIAL_TIMEOUT_MS);
    expect(ax.of("connect-failed").length).toBe(1);
    net.release("b.test:7000");
    await net.clock.advance(0);
    expect(ax.of("connected").map((c) => [c.peer, c.dialed])).toEqual([["b", null]]);
    expect(ay.of("connected").map((c) => [c.peer, c.dialed])).toEqual([["b", null]]);
  });

  test("one real timer per core: the latest timer effect replaces the earlier; stop clears them", async () => {
    const { net, a, ax, ay, h } = pair();
    const t0 = net.clock.now();
    const ticks = (c: RecordingCore) => c.of("tick").filter((t) => t.now > t0).map((t) => t.now - t0);
    h.ax.request({ type: "wake", at: t0 + 1000 });
    h.ax.request({ type: "wake", at: t0 + 200 });
    h.ay.request({ type: "wake", at: t0 + 500 });
    await net.clock.advance(199);
    expect(ticks(ax)).toEqual([]);
    await net.clock.advance(1);
    expect(ticks(ax)).toEqual([200]);
    await net.clock.advance(2000);
    expect(ticks(ax)).toEqual([200]);
    expect(ticks(ay)).toEqual([500]);
    h.ay.request({ type: "wake", at: t0 + 5000 });
    a.host.stop();
    expect(net.clock.pending).toBe(0);
  });

  test("events go to every subscriber until it unsubscribes; a failing subscriber or core harms nobody else", async () => {
    const { net, ax, ay, h } = pair();
    const first: unknown[] = [];
    const second: unknown[] = [];
    const off = h.ax.subscribe((e) => first.push(e));
    h.ax.subscribe(() => {
      throw new Error("a subscriber with a bug");
    });
    h.ax.subscribe((e) => second.push(e));
    h.ax.request({ type: "emit", text: "one" });
    off();
    h.ax.request({ type: "emit", text: "two" });
    expect(first).toEqual([{ said: "one" }]);
    expect(second).toEqual([{ said: "one" }, { said: "two" }]);
    h.ax.request({ type: "throw" });
    h.ay.request({ type: "emit", text: "still here" });
    h.ax.request({ type: "emit", text: "three" });
    await net.clock.advance(0);
    expect(second).toEqual([{ said: "one" }, { said: "two" }, { said: "three" }]);
    expect(ay.of("request").length).toBe(1);
    expect(ax.of("request").length).toBe(4);
  });

  test("a second core on a channel already hosted is a bug", () => {
    const net = new FakeNet();
    const a = net.node("a", "a.test:7000");
    a.host.add(new RecordingCore("x"));
    expect(() => a.host.add(new RecordingCore("x"))).toThrow('a core for channel "x" is already hosted');
  });

  test("a core added after peers connected hears of them", async () => {
    const { net, a, h } = pair();
    h.ax.request({ type: "connect", address: "b.test:7000", peer: "b" });
    await net.clock.advance(0);
    const late = new RecordingCore("z");
    a.host.add(late);
    expect(late.of("connected").map((c) => c.peer)).toEqual(["b"]);
  });

  test("settle gives up after its time when a dial never ends", async () => {
    const { net, a, h } = pair();
    net.behaviour.set("b.test:7000", "hang");
    h.ax.request({ type: "connect", address: "b.test:7000", peer: "b" });
    h.ax.request({ type: "send", to: "b", text: "bye" });
    let done = false;
    const settled = a.host.settle(300).then(() => (done = true));
    await net.clock.advance(299);
    expect(done).toBe(false);
    await net.clock.advance(1);
    await settled;
    expect(done).toBe(true);
  });
});

describe("the core host over real backchannel sockets", () => {
  const cluster = new TestCluster();
  const started: Backchannel[] = [];
  afterAll(async () => {
    await Promise.all(started.map((bc) => bc.close()));
  });

  /** A node on 127.0.0.1: a Backchannel wired to a CoreHost. */
  function realNode(name: string): { bc: Backchannel; host: CoreHost; address: string } {
    let host: CoreHost | null = null;
    const bc = Backchannel.start({
      identity: cluster.node(name),
      listen: { host: "127.0.0.1", port: 0 },
      onPeer: (p) => host?.peerUp(p.name, p.direction),
      onPeerLost: (p, cause) => host?.peerLost(p.name, cause === "local"),
      onMessage: (p, m) => void host?.message(p.name, m),
    });
    started.push(bc);
    host = new CoreHost(bc);
    return { bc, host, address: `127.0.0.1:${bc.address!.port}` };
  }

  async function until(cond: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await Bun.sleep(10);
    }
  }

  test("a core dials, sends and hears back; the other side sees the connection close", async () => {
    const a = realNode("real-a");
    const b = realNode("real-b");
    const ax = new RecordingCore("x");
    const bx = new RecordingCore("x");
    const ha = a.host.add(ax);
    const hb = b.host.add(bx);
    ha.request({ type: "connect", address: b.address, peer: "real-b" });
    ha.request({ type: "send", to: "real-b", text: "ping" });
    await until(() => texts(bx).length === 1, "b to hear a");
    hb.request({ type: "send", to: "real-a", text: "pong" });
    await until(() => texts(ax).length === 1, "a to hear b");
    expect(texts(ax)).toEqual(["pong"]);
    expect(ax.of("connected").map((c) => [c.peer, c.dialed])).toEqual([["real-b", b.address]]);
    expect(bx.of("connected").map((c) => [c.peer, c.dialed])).toEqual([["real-a", null]]);
    a.host.stop();
    await a.bc.close();
    await until(() => bx.of("disconnected").length === 1, "b to see a go");
    expect(bx.of("disconnected")[0]!.local).toBe(false);
  }, 30_000);

  test("three membership cores join through different seeds and converge; a leave is seen at once", async () => {
    const nodes = ["m-1", "m-2", "m-3"].map((name) => ({ name, ...realNode(name) }));
    const cores = nodes.map((n, i) => {
      const core = new MembershipCore({ name: n.name, meta: { ...testMeta(n.name), backchannel: n.address }, now: performance.now(), random: new Prng(i + 1) });
      return { core, handle: n.host.add(core) };
    });
    const events: MembershipEvent[] = [];
    cores[0]!.handle.subscribe((e) => events.push(e));
    // m-2 joins through m-1, m-3 through m-2.
    cores[1]!.handle.request({ type: "join", addresses: [nodes[0]!.address] });
    cores[2]!.handle.request({ type: "join", addresses: [nodes[1]!.address] });
    const view = (i: number) =>
      cores[i]!.core
        .members()
        .map((m) => `${m.name}:${m.state}`)
        .sort()
        .join(" ");
    await until(() => [0, 1, 2].every((i) => view(i) === "m-1:alive m-2:alive m-3:alive"), "all three alive everywhere");
    expect(events).toContainEqual({ type: "member", name: "m-3", previous: null, state: "alive", incarnation: 0 });
    cores[2]!.handle.request({ type: "leave" });
    await until(() => view(0) === "m-1:alive m-2:alive m-3:left" && view(1) === "m-1:alive m-2:alive m-3:left", "m-3 left everywhere");
    for (const n of nodes) n.host.stop();
  }, 30_000);
});
