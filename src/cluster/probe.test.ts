/** Failure detection through the core's public surface: probes, indirect probes, suspicion, refutation, stalls. */
import { describe, expect, test } from "bun:test";
import { Str } from "../lang/value.ts";
import { coreWithPeers, emitted, sent, testCore, testMessage, testMeta, timerOf } from "../../test/support/membership.ts";
import { DEFAULT_MEMBERSHIP_CONFIG, suspicionTimeouts } from "./config.ts";
import type { MembershipCore } from "./membership.ts";
import { RELAYS_MAX } from "./limits.ts";

const PEERS = ["a", "b", "c", "d", "e"];

/** Ticks until the core pings someone; returns the time, target and seq. */
function firstPing(core: MembershipCore, from = 0): { now: number; to: string; seq: number } {
  let now = from;
  for (let i = 0; i < 100; i++) {
    const effects = core.step({ type: "tick", now });
    const ping = sent(effects).find((s) => s.msg.kind === "ping");
    if (ping !== undefined && ping.msg.kind === "ping") return { now, to: ping.to, seq: ping.msg.seq };
    now = Math.max(timerOf(effects), now + 1);
  }
  throw new Error("no ping in 100 steps");
}

describe("membership probes", () => {
  test("a ping is answered with an ack of the same sequence number", () => {
    const core = coreWithPeers(PEERS);
    const out = sent(core.step({ type: "message", now: 1, from: "a", message: testMessage("ping", [77]) }));
    expect(out.map((s) => [s.to, s.msg.kind, s.msg.kind === "ack" && s.msg.seq])).toEqual([["a", "ack", 77]]);
  });

  test("no ack: k helpers probe indirectly, then the member is suspect and told so", () => {
    const core = coreWithPeers(PEERS);
    const { now, to, seq } = firstPing(core);
    const cfg = DEFAULT_MEMBERSHIP_CONFIG;
    const mid = sent(core.step({ type: "tick", now: now + cfg.probeTimeoutMs }));
    const reqs = mid.filter((s) => s.msg.kind === "ping-req");
    expect(reqs.length).toBe(cfg.indirectChecks);
    for (const r of reqs) expect(r.msg).toMatchObject({ kind: "ping-req", seq, target: to });
    expect(reqs.map((r) => r.to)).not.toContain(to);
    // Every helper answers with a nack: the helpers are fine, so this node's health is not blamed.
    for (const r of reqs) core.step({ type: "message", now: now + 500, from: r.to, message: testMessage("nack", [seq]) });
    const end = core.step({ type: "tick", now: now + cfg.probeIntervalMs });
    expect(emitted(end)).toContainEqual({ type: "member", name: to, previous: "alive", state: "suspect", incarnation: 0 });
    const told = sent(end).find((s) => s.to === to);
    expect(told?.msg.claims).toContainEqual({ kind: "suspect", name: to, incarnation: 0, from: "me" });
    expect(core.healthScore).toBe(0);
  });

  test("missing nacks raise this node's health score (Lifeguard), and its probes slow down", () => {
    const core = coreWithPeers(PEERS);
    const { now } = firstPing(core);
    core.step({ type: "tick", now: now + 400 });
    // The probe fails as the next one starts; that one runs with a doubled timeout.
    const end = sent(core.step({ type: "tick", now: now + 1000 }));
    expect(core.healthScore).toBe(1);
    expect(end.filter((s) => s.msg.kind === "ping").length).toBe(1);
    const early = sent(core.step({ type: "tick", now: now + 1400 }));
    expect(early.filter((s) => s.msg.kind === "ping-req")).toEqual([]);
    expect(sent(core.step({ type: "tick", now: now + 1800 })).filter((s) => s.msg.kind === "ping-req").length).toBe(3);
  });

  test("an ack relayed by a helper counts as an answer", () => {
    const core = coreWithPeers(PEERS);
    const { now, to, seq } = firstPing(core);
    const reqs = sent(core.step({ type: "tick", now: now + 400 })).filter((s) => s.msg.kind === "ping-req");
    core.step({ type: "message", now: now + 450, from: reqs[0]!.to, message: testMessage("ack", [seq]) });
    const end = core.step({ type: "tick", now: now + 1000 });
    expect(emitted(end).filter((e) => e.type === "member" && e.name === to)).toEqual([]);
  });

  test("as a helper: ping the target, relay its ack, or nack when it stays silent", () => {
    const core = coreWithPeers(PEERS);
    const out = sent(core.step({ type: "message", now: 10, from: "a", message: testMessage("ping-req", [5, new Str("b")]) }));
    const ping = out.find((s) => s.to === "b" && s.msg.kind === "ping");
    expect(ping).toBeDefined();
    const mySeq = ping!.msg.kind === "ping" ? ping!.msg.seq : -1;
    const relayed = sent(core.step({ type: "message", now: 20, from: "b", message: testMessage("ack", [mySeq]) }));
    expect(relayed.map((s) => [s.to, s.msg.kind, s.msg.kind === "ack" && s.msg.seq])).toEqual([["a", "ack", 5]]);
    core.step({ type: "message", now: 30, from: "a", message: testMessage("ping-req", [6, new Str("c")]) });
    const nack = sent(core.step({ type: "tick", now: 30 + DEFAULT_MEMBERSHIP_CONFIG.probeTimeoutMs }));
    expect(nack.map((s) => [s.to, s.msg.kind, s.msg.kind === "nack" && s.msg.seq])).toContainEqual(["a", "nack", 6]);
  });

  test(`RELAYS_MAX (${RELAYS_MAX}) indirect probes run for others at once; one more is nacked at once`, () => {
    const core = coreWithPeers(PEERS);
    for (let i = 0; i < RELAYS_MAX; i++) {
      const out = sent(core.step({ type: "message", now: 1, from: "a", message: testMessage("ping-req", [i, new Str("b")]) }));
      expect(out.filter((s) => s.msg.kind === "nack")).toEqual([]);
    }
    const over = sent(core.step({ type: "message", now: 1, from: "a", message: testMessage("ping-req", [999, new Str("b")]) }));
    expect(over.map((s) => [s.to, s.msg.kind, s.msg.kind === "nack" && s.msg.seq])).toContainEqual(["a", "nack", 999]);
  });

  test("a lost connection gets the member probed at once; a connection this node closed does not", () => {
    const core = coreWithPeers(PEERS);
    core.step({ type: "tick", now: 0 });
    const local = sent(core.step({ type: "disconnected", now: 1, peer: "c", local: true }));
    expect(local.filter((s) => s.to === "c")).toEqual([]);
    const lost = sent(core.step({ type: "disconnected", now: 2, peer: "d", local: false }));
    expect(lost.find((s) => s.to === "d")?.msg.kind).toBe("ping");
  });
});

describe("membership suspicion and refutation", () => {
  const many = Array.from({ length: 10 }, (_, i) => `p${i}`);
  const n = many.length + 1;
  const { minMs, maxMs } = suspicionTimeouts(DEFAULT_MEMBERSHIP_CONFIG, n);

  /** The time of the first `dead` verdict about `name`, ticking every 10 ms from `from`. */
  function deadAt(core: MembershipCore, name: string, from: number): number {
    for (let now = from; now < from + 30_000; now += 10) {
      if (emitted(core.step({ type: "tick", now })).some((e) => e.type === "member" && e.name === name && e.state === "dead")) return now;
    }
    throw new Error(`${name} never declared dead`);
  }

  const suspect = (name: string, from: string): ReturnType<typeof testMessage> => testMessage("gossip", [], [{ kind: "suspect", name, incarnation: 0, from }]);

  test("one suspicion alone lasts the maximum timeout", () => {
    const core = coreWithPeers(many, 0, { probeIntervalMs: 1e9 });
    core.step({ type: "message", now: 0, from: "p1", message: suspect("p0", "p1") });
    const t = deadAt(core, "p0", 0);
    expect(t).toBeGreaterThanOrEqual(maxMs);
    expect(t).toBeLessThan(maxMs + 20);
  });

  test("independent confirmations shrink it to the minimum", () => {
    const core = coreWithPeers(many, 0, { probeIntervalMs: 1e9 });
    core.step({ type: "message", now: 0, from: "p1", message: suspect("p0", "p1") });
    for (const c of ["p2", "p3", "p4"]) core.step({ type: "message", now: 5, from: c, message: suspect("p0", c) });
    const t = deadAt(core, "p0", 10);
    expect(t).toBeGreaterThanOrEqual(minMs);
    expect(t).toBeLessThan(minMs + 20);
  });

  test("a suspicion of this node is refuted with a higher incarnation, which then spreads", () => {
    const core = coreWithPeers(PEERS);
    const effects = core.step({ type: "message", now: 5, from: "a", message: testMessage("gossip", [], [{ kind: "suspect", name: "me", incarnation: 0, from: "a" }]) });
    expect(emitted(effects)).toContainEqual({ type: "refuted", claim: "suspect", incarnation: 1 });
    expect(core.self.incarnation).toBe(1);
    const later = sent(core.step({ type: "tick", now: 1000 }));
    expect(later.flatMap((s) => s.msg.claims)).toContainEqual({ kind: "alive", name: "me", incarnation: 1, meta: testMeta("me") });
  });

  test("dead and left claims about this node are refuted too; an outdated one gets the current incarnation back", () => {
    const core = coreWithPeers(PEERS);
    core.step({ type: "message", now: 1, from: "a", message: testMessage("gossip", [], [{ kind: "dead", name: "me", incarnation: 0, from: "a" }]) });
    core.step({ type: "message", now: 2, from: "b", message: testMessage("gossip", [], [{ kind: "left", name: "me", incarnation: 1 }]) });
    expect(core.self.incarnation).toBe(2);
    const reply = core.step({ type: "message", now: 3, from: "c", message: testMessage("gossip", [], [{ kind: "suspect", name: "me", incarnation: 0, from: "c" }]) });
    expect(emitted(reply).filter((e) => e.type === "refuted")).toEqual([]);
    const toC = sent(reply).find((s) => s.to === "c");
    expect(toC?.msg.claims[0]).toEqual({ kind: "alive", name: "me", incarnation: 2, meta: testMeta("me") });
  });

  test("a dead member comes back only with a higher incarnation", () => {
    const core = coreWithPeers(PEERS);
    core.step({ type: "message", now: 1, from: "a", message: testMessage("gossip", [], [{ kind: "dead", name: "b", incarnation: 0, from: "a" }]) });
    expect(core.member("b")?.state).toBe("dead");
    core.step({ type: "message", now: 2, from: "c", message: testMessage("gossip", [], [{ kind: "alive", name: "b", incarnation: 0, meta: testMeta("b") }]) });
    expect(core.member("b")?.state).toBe("dead");
    const back = core.step({ type: "message", now: 3, from: "c", message: testMessage("gossip", [], [{ kind: "alive", name: "b", incarnation: 1, meta: testMeta("b") }]) });
    expect(emitted(back)).toContainEqual({ type: "member", name: "b", previous: "dead", state: "alive", incarnation: 1 });
  });

  test("a stalled node does not hold the lost time against the member it was probing", () => {
    const core = coreWithPeers(PEERS);
    const { now, to } = firstPing(core);
    // The next step comes 5 s late (SIGSTOP): the probe's clock restarts instead of failing it.
    const late = core.step({ type: "tick", now: now + 5000 });
    expect(emitted(late).find((e) => e.type === "stalled")).toBeDefined();
    expect(emitted(late).filter((e) => e.type === "member")).toEqual([]);
    expect(core.healthScore).toBe(1);
    core.step({ type: "message", now: now + 5010, from: to, message: testMessage("gossip") });
    expect(core.member(to)?.state).toBe("alive");
  });

  test("a member this node suspects is told so whenever it speaks (at most once per probe interval)", () => {
    const core = coreWithPeers(PEERS, 0, { probeIntervalMs: 1e9 });
    core.step({ type: "message", now: 0, from: "a", message: suspect("b", "a") });
    const speak = (now: number): number => sent(core.step({ type: "message", now, from: "b", message: testMessage("gossip") })).filter((s) => s.to === "b" && s.msg.claims.some((c) => c.kind === "suspect" && c.name === "b")).length;
    expect(speak(10)).toBe(1);
    expect(speak(20)).toBe(0);
  });

  test("a suspicion heard from others gets the suspect probed at once, and once more an interval before its deadline", () => {
    const core = coreWithPeers(many, 0, { probeIntervalMs: 1000 });
    const pingTimes: number[] = [];
    let deadAt = -1;
    // The suspect answers every ping (it is alive, but its refutation is lost), so the suspicion
    // gets no confirmation from this node and runs its full course.
    const handle = (now: number, effects: ReturnType<MembershipCore["step"]>): void => {
      for (const s of sent(effects)) {
        if (s.to !== "p0" || s.msg.kind !== "ping") continue;
        pingTimes.push(now);
        expect(s.msg.claims).toContainEqual({ kind: "suspect", name: "p0", incarnation: 0, from: "p1" });
        handle(now, core.step({ type: "message", now, from: "p0", message: testMessage("ack", [s.msg.seq]) }));
      }
      if (emitted(effects).some((e) => e.type === "member" && e.name === "p0" && e.state === "dead")) deadAt = now;
    };
    handle(0, core.step({ type: "message", now: 0, from: "p1", message: suspect("p0", "p1") }));
    expect(pingTimes).toEqual([0]);
    for (let now = 10; now < maxMs + 100 && deadAt < 0; now += 10) handle(now, core.step({ type: "tick", now }));
    expect(pingTimes.filter((t) => t >= maxMs - 1000 && t < maxMs).length).toBe(1);
    expect(deadAt).toBeGreaterThanOrEqual(maxMs);
  });

  test("a member held dead or left that speaks is sent a sync (it refutes, or says it already did)", () => {
    const core = coreWithPeers(PEERS);
    core.step({ type: "message", now: 1, from: "a", message: testMessage("gossip", [], [{ kind: "left", name: "b", incarnation: 0 }]) });
    const out = sent(core.step({ type: "message", now: 2, from: "b", message: testMessage("ping", [3]) }));
    expect(out.filter((s) => s.to === "b").map((s) => s.msg.kind)).toEqual(["sync-update", "sync-digest", "ack"]);
  });

  test("a core is built only with a valid name and metadata", () => {
    expect(() => testCore("a b")).toThrow('name "a b" is not a member name');
  });

  test("a dead verdict from elsewhere about a member heard from within the minimum suspicion is only a suspicion; after longer silence it stands", () => {
    const { minMs } = suspicionTimeouts(DEFAULT_MEMBERSHIP_CONFIG, PEERS.length + 1);
    const core = coreWithPeers(PEERS);
    // "a" speaks at 1000; "b" says "a" is dead just before the minimum suspicion has passed.
    core.step({ type: "message", now: 1000, from: "a", message: testMessage("gossip") });
    const early = emitted(core.step({ type: "message", now: 1000 + minMs - 1, from: "b", message: testMessage("gossip", [], [{ kind: "dead", name: "a", incarnation: 0, from: "b" }]) }));
    expect(early).toContainEqual({ type: "member", name: "a", previous: "alive", state: "suspect", incarnation: 0 });
    expect(early.some((e) => e.type === "member" && e.state === "dead")).toBe(false);
    // "c" has been silent for the minimum suspicion: the verdict is taken as it is.
    core.step({ type: "message", now: 1000, from: "c", message: testMessage("gossip") });
    const late = emitted(core.step({ type: "message", now: 1000 + minMs, from: "b", message: testMessage("gossip", [], [{ kind: "dead", name: "c", incarnation: 0, from: "b" }]) }));
    expect(late).toContainEqual({ type: "member", name: "c", previous: "alive", state: "dead", incarnation: 0 });
  });
});
