/** Joining, digest sync, leaving, metadata and the table's bounds, through the core's public surface. */
import { describe, expect, test } from "bun:test";
import { encode } from "../lang/codec.ts";
import { List, Str, T_PAREN } from "../lang/value.ts";
import { coreWithPeers, emitted, recordsField, runTicks, sent, testCore, testMessage, testMeta, testRecord, timerOf } from "../../test/support/membership.ts";
import { DEFAULT_MEMBERSHIP_CONFIG } from "./config.ts";
import { MEMBERS_MAX, MESSAGE_BYTES_MAX, META_BYTES_MAX, SYNC_PAGES_PER_WINDOW, SYNC_WINDOW_MS } from "./limits.ts";
import { digestFields, digestValue } from "./messages.ts";

const digestOf = (entries: { name: string; incarnation: number; state: "alive" | "suspect" | "dead" | "left" }[]): ReturnType<typeof testMessage> =>
  testMessage("sync-digest", digestFields(null, null, entries.map(digestValue)));

describe("joining", () => {
  test("join dials the seed; once connected it sends its record and a digest; the answer completes the join", () => {
    const core = testCore("me");
    const dial = core.step({ type: "request", now: 0, request: { type: "join", addresses: ["seed.test:7000"] } });
    expect(dial).toContainEqual({ type: "connect", address: "seed.test:7000", peer: null });
    const hello = sent(core.step({ type: "connected", now: 5, peer: "s", dialed: "seed.test:7000" }));
    expect(hello.map((h) => [h.to, h.msg.kind])).toEqual([
      ["s", "sync-update"],
      ["s", "sync-digest"],
    ]);
    const answer = core.step({ type: "message", now: 10, from: "s", message: testMessage("sync-update", [recordsField([testRecord("s"), testRecord("x", 2), testRecord("gone", 1, "dead")])]) });
    expect(emitted(answer)).toContainEqual({ type: "joined", peer: "s" });
    expect(core.members().map((m) => [m.name, m.state, m.incarnation]).sort()).toEqual([
      ["gone", "dead", 1],
      ["me", "alive", 0],
      ["s", "alive", 0],
      ["x", "alive", 2],
    ]);
  });

  test("an unanswered join is retried with a growing, jittered back-off", () => {
    const core = testCore("me");
    core.step({ type: "request", now: 0, request: { type: "join", addresses: ["seed.test:7000"] } });
    const dials: number[] = [];
    let now = 0;
    while (now < 20_000) {
      const effects = core.step({ type: "tick", now });
      if (effects.some((e) => e.type === "connect")) dials.push(now);
      if (effects.some((e) => e.type === "connect")) core.step({ type: "connect-failed", now: now + 1, address: "seed.test:7000", reason: "refused" });
      now = Math.max(timerOf(effects), now + 1);
    }
    const gaps = dials.slice(1).map((t, i) => t - dials[i]!);
    expect(gaps.length).toBeGreaterThan(3);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThanOrEqual(gaps[i - 1]! * 0.9);
    expect(gaps[0]!).toBeGreaterThanOrEqual(DEFAULT_MEMBERSHIP_CONFIG.dialBackoff.baseMs / 2);
  });

  test("a restarted node that others hold dead learns it from the join and comes back with a higher incarnation", () => {
    const core = testCore("me");
    core.step({ type: "request", now: 0, request: { type: "join", addresses: ["seed.test:7000"] } });
    core.step({ type: "connected", now: 1, peer: "s", dialed: "seed.test:7000" });
    const answer = core.step({ type: "message", now: 2, from: "s", message: testMessage("sync-update", [recordsField([testRecord("s"), testRecord("me", 7, "dead")])]) });
    expect(emitted(answer)).toContainEqual({ type: "refuted", claim: "dead", incarnation: 8 });
  });

  test("a message from a peer this node never heard of asks it for its record", () => {
    const core = coreWithPeers(["a"]);
    core.step({ type: "connected", now: 0, peer: "stranger", dialed: null });
    const out = sent(core.step({ type: "message", now: 1, from: "stranger", message: testMessage("ping", [1]) }));
    const want = out.find((s) => s.msg.kind === "sync-want");
    expect(want?.to).toBe("stranger");
    expect(want?.msg.kind === "sync-want" && want.msg.names).toEqual(["stranger"]);
  });
});

describe("digest sync", () => {
  test("a digest is answered with what the peer lacks or holds older, and a want for what it holds newer", () => {
    const core = coreWithPeers(["a", "b", "c"]);
    const out = sent(core.step({ type: "message", now: 1, from: "a", message: digestOf([{ name: "a", incarnation: 0, state: "alive" }, { name: "b", incarnation: 3, state: "alive" }, { name: "new", incarnation: 0, state: "alive" }]) }));
    const update = out.find((s) => s.msg.kind === "sync-update");
    const names = update?.msg.kind === "sync-update" ? update.msg.records.map((r) => r.name).sort() : [];
    expect(names).toEqual(["c", "me"]);
    const want = out.find((s) => s.msg.kind === "sync-want");
    expect(want?.msg.kind === "sync-want" && [...want.msg.names].sort()).toEqual(["b", "new"]);
  });

  test(`a full member table (${MEMBERS_MAX}) with the largest metadata goes out in pages of at most MESSAGE_BYTES_MAX`, () => {
    const big = { ...testMeta("x"), kernels: Array.from({ length: 40 }, (_, i) => `kernel-${i}-${"k".repeat(80)}`.slice(0, 96)) };
    const records = Array.from({ length: MEMBERS_MAX - 1 }, (_, i) => ({ ...testRecord(`m${i}`), meta: big }));
    const core = testCore("me");
    core.step({ type: "request", now: 0, request: { type: "restore", records } });
    core.step({ type: "connected", now: 0, peer: "joiner", dialed: null });
    const effects = core.step({ type: "message", now: 1, from: "joiner", message: digestOf([{ name: "joiner", incarnation: 0, state: "alive" }]) });
    const sizes = effects.flatMap((e) => (e.type === "send" ? [encode(e.message).length] : []));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MESSAGE_BYTES_MAX);
    const got = sent(effects).flatMap((s) => (s.msg.kind === "sync-update" ? s.msg.records.map((r) => r.name) : []));
    expect(new Set(got).size).toBe(MEMBERS_MAX);
  });

  test(`one peer gets ${SYNC_PAGES_PER_WINDOW} sync answers per window; more are ignored (and reported once)`, () => {
    const core = coreWithPeers(["a", "b"]);
    const ask = (now: number): boolean => sent(core.step({ type: "message", now, from: "a", message: digestOf([]) })).some((s) => s.msg.kind === "sync-update");
    for (let i = 0; i < SYNC_PAGES_PER_WINDOW; i++) expect(ask(1)).toBe(true);
    const over = core.step({ type: "message", now: 1, from: "a", message: digestOf([]) });
    expect(sent(over).filter((s) => s.msg.kind === "sync-update")).toEqual([]);
    expect(emitted(over).filter((e) => e.type === "rejected").length).toBe(1);
    expect(emitted(core.step({ type: "message", now: 2, from: "a", message: digestOf([]) })).filter((e) => e.type === "rejected")).toEqual([]);
    expect(ask(1 + SYNC_WINDOW_MS)).toBe(true);
  });
});

describe("the member table", () => {
  const alive = (name: string): ReturnType<typeof testMessage> => testMessage("gossip", [], [{ kind: "alive", name, incarnation: 0, meta: testMeta(name) }]);

  test(`holds ${MEMBERS_MAX} members; one more is refused until a dead one can make room`, () => {
    const records = Array.from({ length: MEMBERS_MAX - 1 }, (_, i) => testRecord(`m${i}`));
    const core = testCore("me");
    core.step({ type: "request", now: 0, request: { type: "restore", records } });
    expect(core.members().length).toBe(MEMBERS_MAX);
    const full = core.step({ type: "message", now: 1, from: "m0", message: alive("extra") });
    expect(emitted(full).find((e) => e.type === "rejected")).toMatchObject({ reason: `member table is full (${MEMBERS_MAX} members): cannot add "extra"` });
    core.step({ type: "message", now: 2, from: "m0", message: testMessage("gossip", [], [{ kind: "dead", name: "m5", incarnation: 0, from: "m0" }]) });
    const room = core.step({ type: "message", now: 3, from: "m0", message: alive("extra") });
    expect(emitted(room)).toContainEqual({ type: "removed", name: "m5" });
    expect(core.member("extra")?.state).toBe("alive");
    expect(core.members().length).toBe(MEMBERS_MAX);
  });

  test(`metadata over META_BYTES_MAX (${META_BYTES_MAX}) is refused`, () => {
    const core = coreWithPeers(["a"]);
    const kernels = Array.from({ length: 100 }, (_, i) => `k${i}`.padEnd(60, "x"));
    const out = core.step({ type: "message", now: 1, from: "a", message: testMessage("gossip", [], [{ kind: "alive", name: "fat", incarnation: 0, meta: { ...testMeta("fat"), kernels } }]) });
    expect(emitted(out).find((e) => e.type === "rejected")?.type).toBe("rejected");
    expect(core.member("fat")).toBeUndefined();
  });

  test("new metadata gets a new incarnation and spreads; bad metadata is refused", () => {
    const core = coreWithPeers(["a", "b"]);
    const meta = { ...testMeta("me"), kernels: ["io", "db"] };
    const updated = core.step({ type: "request", now: 1, request: { type: "update-meta", meta } });
    expect(emitted(updated)).toContainEqual({ type: "updated", name: "me", incarnation: 1 });
    const out = sent(runTicks(core, 2, 1500));
    expect(out.flatMap((s) => s.msg.claims)).toContainEqual({ kind: "alive", name: "me", incarnation: 1, meta });
    const bad = core.step({ type: "request", now: 1600, request: { type: "update-meta", meta: { ...meta, roles: ["a role with spaces is fine", "x".repeat(33)] } } });
    expect(emitted(bad).find((e) => e.type === "rejected")).toBeDefined();
    expect(core.self.incarnation).toBe(1);
  });

  test("stats ride on every message and are kept per member with the time last heard", () => {
    const core = coreWithPeers(["a"]);
    core.step({ type: "request", now: 1, request: { type: "update-stats", stats: { inflight: 3, lagMs: 12, cpuPermille: 250, logPosition: 99 } } });
    const ack = sent(core.step({ type: "message", now: 2, from: "a", message: testMessage("ping", [1]) }))[0]!;
    expect(ack.msg.stats).toEqual({ inflight: 3, lagMs: 12, cpuPermille: 250, logPosition: 99, seq: 1 });
    const stats = { inflight: 7, lagMs: 1, cpuPermille: 10, logPosition: 5, seq: 4 };
    const m = new List(T_PAREN, [...testMessage("gossip").items.slice(0, 3), new List(T_PAREN, [7, 1, 10, 5, 4]), new List(T_PAREN, [])]);
    core.step({ type: "message", now: 50, from: "a", message: m });
    expect(core.member("a")).toMatchObject({ stats, lastHeardMs: 50 });
    void Str;
  });
});

describe("leaving", () => {
  test("the left claim goes at once to every connected member; the core is inert afterwards", () => {
    const core = coreWithPeers(["a", "b", "c"]);
    const out = core.step({ type: "request", now: 5, request: { type: "leave" } });
    const told = sent(out).filter((s) => s.msg.claims.some((c) => c.kind === "left" && c.name === "me"));
    expect(told.map((s) => s.to).sort()).toEqual(["a", "b", "c"]);
    expect(core.self.state).toBe("left");
    expect(core.step({ type: "tick", now: 10_000 })).toEqual([]);
    expect(core.step({ type: "message", now: 10_001, from: "a", message: testMessage("ping", [1]) })).toEqual([]);
  });

  test("others mark a leaving member left, not dead", () => {
    const core = coreWithPeers(["a", "b"]);
    const out = core.step({ type: "message", now: 1, from: "a", message: testMessage("gossip", [], [{ kind: "left", name: "a", incarnation: 1 }]) });
    expect(emitted(out)).toContainEqual({ type: "member", name: "a", previous: "alive", state: "left", incarnation: 1 });
  });
});
