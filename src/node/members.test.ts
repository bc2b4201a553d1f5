/**
 * A node's membership glue: the incarnation and peers it keeps in the store (restart at
 * incarnation + 1; peers stored at once while few, at most STORED_PEERS_MAX), the seeds a restart
 * joins through, metadata changes announced under a new incarnation, the member list as
 * `sup nodes --json` shows it, and the log lines and metrics of membership events.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { SEEDS_MAX, type MemberMeta, type MembershipEvent } from "../cluster/mod.ts";
import { setLogLevel } from "../log.ts";
import { captureStderr as capture } from "../../test/support/log-capture.ts";
import { FakeNet } from "../../test/support/fake-backchannel.ts";
import { testMeta, testRecord } from "../../test/support/membership.ts";
import { joinSeeds, NodeMembership, STORED_PEERS_MAX, storedPeers, type SettingsStore, type StoredPeer } from "./members.ts";
import { MembershipLog, REJECTED_LOG_LINES_PER_SECOND } from "./membership-log.ts";

class MemoryStore implements SettingsStore {
  readonly map = new Map<string, string>();
  writes = 0;
  getSetting<T>(key: string): T | undefined {
    const v = this.map.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  putSetting(key: string, value: unknown): void {
    this.writes++;
    this.map.set(key, JSON.stringify(value));
  }
}

const running: NodeMembership[] = [];
afterEach(() => {
  for (const m of running.splice(0)) m.stopTimers();
  setLogLevel("warn");
});

function membership(store = new MemoryStore(), join: string | null = null, meta: () => MemberMeta = () => testMeta("me")) {
  const net = new FakeNet();
  const node = net.node("me", "me.test:7000");
  const m = new NodeMembership(node.host, store, { meta, inFlight: () => 3, logPosition: () => 7 }, "me", join);
  running.push(m);
  return { m, store, net, node };
}

function peers(n: number, prefix = "p"): StoredPeer[] {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, address: `${prefix}${i}.test:7000` }));
}

describe("what membership keeps in the store", () => {
  test("a start takes the stored incarnation + 1 and stores it; a missing or malformed one starts at 0", () => {
    const store = new MemoryStore();
    store.putSetting("cluster.incarnation", 4);
    expect(membership(store).m.core.self.incarnation).toBe(5);
    expect(store.getSetting("cluster.incarnation")).toBe(5);
    for (const bad of [-1, "7", 1.5, null]) {
      const s = new MemoryStore();
      s.putSetting("cluster.incarnation", bad);
      expect(membership(s).m.core.self.incarnation).toBe(0);
    }
  });

  test("a leave is kept: the next start is above it", async () => {
    const { m, store, net } = membership();
    await m.leave(net.at("me.test:7000")!.host);
    expect(store.getSetting("cluster.incarnation")).toBe(1);
    expect(membership(store).m.core.self.incarnation).toBe(2);
  });

  test(`new members are stored at once while fewer than ${SEEDS_MAX} are kept, later with a delay`, async () => {
    const { m, store, node } = membership();
    m.handle.request({ type: "restore", records: [testRecord("a")] });
    expect(storedPeers(store).map((p) => p.name)).toEqual(["a"]);
    m.handle.request({ type: "restore", records: Array.from({ length: SEEDS_MAX - 1 }, (_, i) => testRecord(`b${i}`)) });
    expect(storedPeers(store).length).toBe(SEEDS_MAX);
    const writes = store.writes;
    m.handle.request({ type: "restore", records: [testRecord("c")] });
    expect(store.writes).toBe(writes);
    await m.leave(node.host);
    expect(storedPeers(store).length).toBe(SEEDS_MAX + 1);
  });

  test(`the store keeps at most ${STORED_PEERS_MAX} peers, live ones first`, () => {
    for (const others of [STORED_PEERS_MAX, STORED_PEERS_MAX + 1]) {
      const { m, store } = membership();
      const records = Array.from({ length: others }, (_, i) => ({ ...testRecord(`p${String(i).padStart(3, "0")}`), state: i === 0 ? ("dead" as const) : ("alive" as const) }));
      m.handle.request({ type: "restore", records });
      const kept = storedPeers(store);
      expect(kept.length).toBe(STORED_PEERS_MAX);
      // The dead one goes last (and out, past the maximum).
      expect(kept.some((p) => p.name === "p000")).toBe(others === STORED_PEERS_MAX);
      expect(kept[0]).toEqual({ name: "p001", address: "p001.test:7000" });
    }
  });

  test("stored peers of the wrong shape are skipped", () => {
    const store = new MemoryStore();
    store.putSetting("cluster.peers", [{ name: "a", address: "a:1" }, { name: 3 }, "b", null, { name: "c", address: "c:1" }]);
    expect(storedPeers(store)).toEqual([
      { name: "a", address: "a:1" },
      { name: "c", address: "c:1" },
    ]);
    store.putSetting("cluster.peers", { not: "a list" });
    expect(storedPeers(store)).toEqual([]);
  });
});

describe("the seeds a start joins through", () => {
  test("--join first, then stored peers, never this node", () => {
    const seeds = joinSeeds("root.test:7000", [{ name: "me", address: "old-me:7000" }, { name: "x", address: "me.test:7000" }, ...peers(3)], "me", "me.test:7000");
    expect(seeds[0]).toBe("root.test:7000");
    expect([...seeds].sort()).toEqual(["p0.test:7000", "p1.test:7000", "p2.test:7000", "root.test:7000"]);
    expect(joinSeeds(null, [], "me", "me.test:7000")).toEqual([]);
    expect(joinSeeds("me.test:7000", peers(1), "me", "me.test:7000")).toEqual(["p0.test:7000"]);
  });

  test(`at most ${SEEDS_MAX}: the join target and ${SEEDS_MAX - 1} stored peers, or ${SEEDS_MAX} peers alone`, () => {
    expect(joinSeeds("root.test:7000", peers(SEEDS_MAX - 1), "me", "me.test:7000").length).toBe(SEEDS_MAX);
    const cut = joinSeeds("root.test:7000", peers(SEEDS_MAX), "me", "me.test:7000");
    expect(cut.length).toBe(SEEDS_MAX);
    expect(cut[0]).toBe("root.test:7000");
    expect(joinSeeds(null, peers(SEEDS_MAX), "me", "me.test:7000").length).toBe(SEEDS_MAX);
    expect(joinSeeds(null, peers(SEEDS_MAX + 1), "me", "me.test:7000").length).toBe(SEEDS_MAX);
  });

  test("a start with seeds asks the core to join through them (it dials them)", async () => {
    const store = new MemoryStore();
    store.putSetting("cluster.peers", peers(2));
    const { net, node } = membership(store, "root.test:7000");
    await net.clock.advance(0);
    expect([...node.dialed].sort()).toEqual(["p0.test:7000", "p1.test:7000", "root.test:7000"]);
  });
});

describe("metadata, stats and the member list", () => {
  test("new metadata (a kernel loaded) is announced under a new incarnation, which is kept", async () => {
    let kernels = ["io"];
    const { m, store } = membership(new MemoryStore(), null, () => ({ ...testMeta("me"), kernels }));
    expect(m.core.self.incarnation).toBe(0);
    kernels = ["io", "kv"];
    const deadline = Date.now() + 10_000;
    while (m.core.self.incarnation === 0 && Date.now() < deadline) await Bun.sleep(20);
    expect(m.core.self.meta.kernels).toEqual(["io", "kv"]);
    expect(m.core.self.incarnation).toBe(1);
    expect(store.getSetting("cluster.incarnation")).toBe(1);
    expect(m.core.self.stats).toMatchObject({ inflight: 3, logPosition: 7 });
  });

  test("the member list is sorted by name, marks this node, and has never heard from a restored member", () => {
    const { m } = membership();
    m.handle.request({ type: "restore", records: [testRecord("zed", 2), testRecord("alpha", 0, "dead")] });
    const list = m.nodes();
    expect(list.map((n) => [n.name, n.state, n.self, n.incarnation])).toEqual([
      ["alpha", "dead", false, 0],
      ["me", "alive", true, 0],
      ["zed", "alive", false, 2],
    ]);
    expect(list[0]).toMatchObject({ lastHeard: null, lastHeardAgoMs: null, backchannel: "alpha.test:7000", http: "alpha.test:8080", labels: { zone: "a" }, kernels: ["io"], version: "0.1.0", serial: "s-alpha" });
    expect(list[1]).toMatchObject({ lastHeardAgoMs: 0, load: { inflight: 3, lagMs: expect.any(Number), cpuPermille: expect.any(Number) }, logPosition: 7 });
    expect(Date.parse(list[1]!.since)).toBeLessThanOrEqual(Date.now());
  });
});

describe("membership events in the log and in metrics", () => {
  const log = (wall: () => number) =>
    new MembershipLog(
      () => [],
      () => ({ incarnation: 3 }) as ReturnType<ConstructorParameters<typeof MembershipLog>[1]>,
      () => 2,
      wall,
    );

  test("one line per event; a death is a warning; counters and gauges render", () => {
    setLogLevel("info");
    const l = log(() => 0);
    const events: MembershipEvent[] = [
      { type: "member", name: "web-1", previous: null, state: "alive", incarnation: 0 },
      { type: "member", name: "web-1", previous: "alive", state: "dead", incarnation: 0 },
      { type: "refuted", claim: "suspect", incarnation: 4 },
      { type: "stalled", lagMs: 1200 },
    ];
    const out = capture(() => events.forEach((e) => l.observe(e)));
    expect(out).toBe(
      [
        "info member state changed name=web-1 state=alive previous=unknown incarnation=0",
        "warn member state changed name=web-1 state=dead previous=alive incarnation=0",
        "warn suspicion of this node refuted claim=suspect incarnation=4",
        "warn node was stalled; the lost time did not count against peers lagMs=1200",
        "",
      ].join("\n"),
    );
    const text = l.render();
    expect(text).toContain('sup_member_state_changes_total{state="dead"} 1');
    expect(text).toContain('sup_membership_events_total{type="refuted"} 1');
    expect(text).toContain("sup_membership_incarnation 3");
    expect(text).toContain("sup_membership_health_score 2");
  });

  test(`refused input is logged ${REJECTED_LOG_LINES_PER_SECOND} times a second at most, counted always`, () => {
    let now = 5_000;
    const l = log(() => now);
    const reject: MembershipEvent = { type: "rejected", peer: "evil", reason: "bad" };
    const lines = (n: number) => capture(() => Array.from({ length: n }, () => l.observe(reject))).split("\n").filter(Boolean).length;
    expect(lines(REJECTED_LOG_LINES_PER_SECOND)).toBe(REJECTED_LOG_LINES_PER_SECOND);
    expect(lines(1)).toBe(0);
    now += 1_000;
    expect(lines(REJECTED_LOG_LINES_PER_SECOND + 1)).toBe(REJECTED_LOG_LINES_PER_SECOND);
    expect(l.render()).toContain(`sup_membership_events_total{type="rejected"} ${2 * REJECTED_LOG_LINES_PER_SECOND + 2}`);
  });
});
