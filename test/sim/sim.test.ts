/**
 * The simulator in CI: fixed seeds of every scenario but the 1,000-node one (that is the benchmark,
 * bench/membership.ts). A failing run names the properties that failed and the command that
 * replays it exactly.
 */
import { describe, expect, test } from "bun:test";
import { EventHeap } from "./heap.ts";
import { formatReport } from "./run.ts";
import { runReplScenario } from "./replication-scenarios.ts";
import { runScenario, type Report } from "./scenarios.ts";

/** Fails with the report and its replay command when a property did not hold. */
function expectHeld(r: Report): void {
  if (r.failures.length > 0) throw new Error(`${formatReport(r)}\n\nreplay with: ${r.replay}`);
}

describe("simulator scenarios (fixed seeds)", () => {
  test.each([1, 2, 3])("small, seed %d: a kill is dead everywhere within 5 s; stall, restart and SIGTERM behave", (seed) => {
    const r = runScenario("small", { seed });
    expectHeld(r);
    expect(r.figures.killKnownMs!).toBeLessThanOrEqual(5000);
  });

  test.each([1, 2])("lifecycle, seed %d: restarts, a leave and a rejoin on a lossy network", (seed) => expectHeld(runScenario("lifecycle", { seed })));

  test("asymmetric, seed 1: one-way partitions heal", () => expectHeld(runScenario("asymmetric", { seed: 1 })));

  test("churn, seed 1: 100 nodes at 5% loss with kills, a stall and a partition that heals", () => {
    const r = runScenario("churn", { seed: 1 });
    expectHeld(r);
    expect(r.counters.oversize).toBe(0);
  }, 60_000);
});

describe("replication scenarios (fixed seeds)", () => {
  test.each([1, 2])("repl-small, seed %d: 5 nodes writing at once, one killed and restarted, converge with every acknowledged write", (seed) => {
    const r = runReplScenario("repl-small", { seed });
    expectHeld(r);
    expect(r.figures.writes!).toBeGreaterThan(100);
  });

  test("repl-churn, seed 1: 100 nodes at 5% loss, a partition writing on both sides, crashes: same state everywhere, no acknowledged write lost", () => {
    const r = runReplScenario("repl-churn", { seed: 1 });
    expectHeld(r);
    expect(r.counters.replOversize).toBe(0);
    expect(r.figures.writes!).toBeGreaterThan(80);
  }, 120_000);

  test("a replication run that fails says which property and how to replay it", () => {
    // No relays, no anti-entropy, and every push to n4 lost: n4 never gets what it missed.
    const r = runReplScenario("repl-small", { seed: 1, loss: 0.3, repl: { relayFanout: 0, syncIntervalMs: 1e9, retryMs: 1e9 } });
    expect(r.failures.some((f) => f.startsWith("not converged 60 s after the end"))).toBe(true);
    expect(r.replay).toBe(`bun test/sim/run.ts --scenario repl-small --seed 1 --loss 0.3 --repl '{"relayFanout":0,"syncIntervalMs":1000000000,"retryMs":1000000000}'`);
  });

  test("a replication run replays from its seed", () => {
    const a = runReplScenario("repl-small", { seed: 9 });
    const b = runReplScenario("repl-small", { seed: 9 });
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.figures).toEqual(a.figures);
  });
});

describe("simulator determinism", () => {
  test("the same seed gives the same event trace; another seed another", () => {
    const a = runScenario("lifecycle", { seed: 5 });
    const b = runScenario("lifecycle", { seed: 5 });
    const c = runScenario("lifecycle", { seed: 6 });
    expect(b.traceHash).toBe(a.traceHash);
    expect(b.counters).toEqual(a.counters);
    expect(c.traceHash).not.toBe(a.traceHash);
  });

  test("a run whose properties fail says which, and how to replay it", () => {
    // Probes that never end: the killed node is never declared dead.
    const r = runScenario("small", { seed: 1, config: { probeIntervalMs: 1e9 } });
    expect(r.failures.some((f) => f.includes("never seen by"))).toBe(true);
    expect(r.replay).toBe(`bun test/sim/run.ts --scenario small --seed 1 --config '{"probeIntervalMs":1000000000}'`);
  });

  test("the event heap runs events by time, in scheduling order among equal times", () => {
    const h = new EventHeap<number>();
    const times = [5, 1, 3, 1, 9, 3, 0, 5];
    times.forEach((t, i) => h.push(t, i));
    const out: [number, number][] = [];
    for (let e = h.pop(); e !== undefined; e = h.pop()) out.push([e.at, e.item]);
    expect(out).toEqual([
      [0, 6],
      [1, 1],
      [1, 3],
      [3, 2],
      [3, 5],
      [5, 0],
      [5, 7],
      [9, 4],
    ]);
  });
});
