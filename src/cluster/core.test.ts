/** The contract's pieces: purity of the folder, the seeded PRNG, back-off, suspicion arithmetic, the gossip queue. */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { List, Str, T_PAREN } from "../lang/value.ts";
import { testCore, timerOf } from "../../test/support/membership.ts";
import { backoffMs } from "./backoff.ts";
import { BroadcastQueue, valueBytes } from "./broadcasts.ts";
import { DEFAULT_MEMBERSHIP_CONFIG, detectionBoundMs, retransmitLimit, suspicionTimeoutMs, suspicionTimeouts } from "./config.ts";
import { messageChannel } from "./core.ts";
import { MEMBER_CHANNEL } from "./messages.ts";
import { Prng } from "./prng.ts";

describe("protocol cores", () => {
  test("no file of src/cluster reads a clock, sets a timer, draws Math.random or does I/O", () => {
    const dir = import.meta.dir;
    const forbidden = /\b(Date\.now|new Date|performance\.now|Math\.random|setTimeout|setInterval|setImmediate|Bun\.(connect|listen|file|write|sleep)|node:(fs|net|dgram|child_process)|crypto\.getRandomValues)\b/;
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      .flatMap((f) =>
        readFileSync(join(dir, f), "utf8")
          .split("\n")
          .map((line, i) => [f, i + 1, line] as const)
          .filter(([, , line]) => forbidden.test(line) && !line.trim().startsWith("*") && !line.trim().startsWith("//")),
      );
    expect(offenders).toEqual([]);
  });

  test("a core is deterministic: the same inputs give the same effects", () => {
    const run = (): string => {
      const core = testCore("me");
      const out: unknown[] = [];
      out.push(core.step({ type: "request", now: 0, request: { type: "join", addresses: ["s:1"] } }));
      out.push(core.step({ type: "connected", now: 3, peer: "s", dialed: "s:1" }));
      let now = 3;
      for (let i = 0; i < 20; i++) {
        const e = core.step({ type: "tick", now });
        out.push(e);
        now = timerOf(e);
      }
      return JSON.stringify(out, (_k, v) => (v instanceof List ? v.items : v instanceof Str ? v.s : v));
    };
    expect(run()).toBe(run());
  });

  test("messageChannel routes by the head symbol", () => {
    expect(messageChannel(new List(T_PAREN, [MEMBER_CHANNEL, 1]))).toBe(MEMBER_CHANNEL);
    expect(messageChannel(new List(T_PAREN, [1]))).toBeNull();
    expect(messageChannel(new Str("x"))).toBeNull();
  });

  test("the PRNG replays from its seed and spreads over [0, 1)", () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const xs = Array.from({ length: 10_000 }, () => a.next());
    expect(Array.from({ length: 10_000 }, () => b.next())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(new Prng(8).next()).not.toBe(new Prng(7).next());
  });
});

describe("back-off", () => {
  const policy = { baseMs: 100, capMs: 3000 };
  test("doubles from the base to the cap, each wait in the upper half of its step", () => {
    const rng = new Prng(1);
    for (let f = 1; f <= 12; f++) {
      const nominal = Math.min(3000, 100 * 2 ** (f - 1));
      for (let i = 0; i < 50; i++) {
        const w = backoffMs(f, rng, policy);
        expect(w).toBeGreaterThanOrEqual(nominal / 2);
        expect(w).toBeLessThanOrEqual(nominal);
      }
    }
  });
  test("is jittered: nodes that failed together do not retry together", () => {
    const waits = new Set(Array.from({ length: 20 }, (_, i) => Math.round(backoffMs(5, new Prng(i), policy))));
    expect(waits.size).toBeGreaterThan(15);
  });
});

describe("suspicion arithmetic", () => {
  const cfg = DEFAULT_MEMBERSHIP_CONFIG;
  test("timeouts: 2 s up to 10 members, growing with log10(N); the maximum is 3× the minimum", () => {
    expect(suspicionTimeouts(cfg, 5)).toEqual({ minMs: 2000, maxMs: 6000 });
    expect(suspicionTimeouts(cfg, 100)).toEqual({ minMs: 4000, maxMs: 12000 });
    expect(suspicionTimeouts(cfg, 1000).minMs).toBeCloseTo(6000, 6);
  });
  test("confirmations bring the timeout down logarithmically to the minimum", () => {
    expect(suspicionTimeoutMs(2000, 6000, 0, 3)).toBe(6000);
    expect(suspicionTimeoutMs(2000, 6000, 1, 3)).toBeCloseTo(4000, 6);
    expect(suspicionTimeoutMs(2000, 6000, 3, 3)).toBe(2000);
    expect(suspicionTimeoutMs(2000, 6000, 9, 3)).toBe(2000);
    expect(suspicionTimeoutMs(2000, 6000, 0, 0)).toBe(2000);
  });
  test("retransmits grow with log10(N + 1); a 5-node cluster's detection bound is under 15 s", () => {
    expect(retransmitLimit(cfg, 5)).toBe(4);
    expect(retransmitLimit(cfg, 100)).toBe(12);
    expect(retransmitLimit(cfg, 1000)).toBe(16);
    expect(detectionBoundMs(cfg, 5)).toBeLessThan(15_000);
  });
});

describe("the gossip queue", () => {
  const claim = (name: string, pad = 0): List => new List(T_PAREN, [new Str(name), new Str("x".repeat(pad))]);
  test("each claim is taken at most `limit` times, least-sent first, within the byte budget", () => {
    const q = new BroadcastQueue();
    q.enqueue("a", claim("a"));
    q.enqueue("b", claim("b"));
    expect(q.take(1000, 10, 2).length).toBe(2);
    q.enqueue("c", claim("c"));
    const next = q.take(valueBytes(claim("c")), 10, 2);
    expect(next.map((v) => (v.items[0] as Str).s)).toEqual(["c"]);
    expect(q.take(1000, 10, 2).length).toBe(3);
    expect(q.take(1000, 10, 2)).toEqual([]);
    expect(q.size).toBe(0);
  });
  test("a newer claim about the same member replaces the older one", () => {
    const q = new BroadcastQueue();
    q.enqueue("a", claim("a", 1));
    q.enqueue("a", claim("a", 2));
    expect(q.size).toBe(1);
    expect(((q.take(1000, 10, 3)[0]!.items[1] as Str).s).length).toBe(2);
  });
  test("a claim bigger than the budget waits; the item cap is respected", () => {
    const q = new BroadcastQueue();
    q.enqueue("big", claim("big", 500));
    for (let i = 0; i < 10; i++) q.enqueue(`s${i}`, claim(`s${i}`));
    const took = q.take(100, 4, 5);
    expect(took.length).toBe(4);
    expect(took.map((v) => (v.items[0] as Str).s)).not.toContain("big");
  });
});
