/**
 * The commands core in the simulator (commands-scenario.ts): fixed seeds of the scenario, its
 * determinism, and a run made to fail to show the checks and the replay line.
 */
import { describe, expect, test } from "bun:test";
import { runCommandsScenario, type CommandsReport } from "./commands-scenario.ts";

function expectHeld(r: CommandsReport): void {
  if (r.failures.length > 0) throw new Error(`${r.failures.slice(0, 20).join("\n")}\n\nreplay with: ${r.replay}`);
}

describe("commands scenario (20 nodes, 1% loss, a kill, a vanished host, a hanging node, a partition)", () => {
  test.each([1, 2, 3])("seed %d: every exec answered once by its deadline, each target's outcome right, fan-out concurrent", (seed) => {
    const r = runCommandsScenario(seed);
    expectHeld(r);
    expect(r.results.ok).toBeGreaterThan(500);
    expect(r.results.timeout).toBeGreaterThan(0);
    expect(r.results.unreachable).toBeGreaterThan(0);
  });

  test("the same seed gives the same trace; another seed another", () => {
    expect(runCommandsScenario(5).traceHash).toBe(runCommandsScenario(5).traceHash);
    expect(runCommandsScenario(6).traceHash).not.toBe(runCommandsScenario(5).traceHash);
  });

  test("a run whose properties fail says which, and how to replay it", () => {
    // Every program takes 30 times longer than it says: healthy nodes miss the deadline.
    const r = runCommandsScenario(1, 30);
    expect(r.failures.some((f) => /is timeout, expected ok/.test(f))).toBe(true);
    expect(r.replay).toBe("bun test/sim/commands-run.ts --seed 1 --work-scale 30");
  });
});
