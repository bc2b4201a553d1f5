/**
 * Budgets: the time budget is watched between any two kernel calls, however much work each does,
 * and kernel calls are not steps. The assertions count kernel calls made before a stop rather than
 * time it: without the budget clock, a loop is only looked at every 1,024 steps.
 */
import { describe, expect, test } from "bun:test";
import { withStackUsed } from "../../test/support/stack.ts";
import type { Host, KernelFn, LoadedKernel } from "./host.ts";
import { read } from "./reader.ts";
import { runProgram } from "./run.ts";
import { STEPS_PER_CLOCK_CHECK } from "./session.ts";
import { busyKernelFn } from "./tier-test-support.ts";
import { NONE } from "./value.ts";

/** Milliseconds one call of the slow kernel function keeps the thread. */
const SLOW_CALL_MS = 10;

let calls = 0;
const kernel: LoadedKernel = {
  functions: new Map<string, KernelFn>([
    ["slow", busyKernelFn(SLOW_CALL_MS, () => calls++)],
    [
      "fast",
      () => {
        calls++;
        return NONE;
      },
    ],
  ]),
  forms: new Map(),
};

const host: Host = {
  workingDir: "/",
  write: () => {},
  loadKernel: () => kernel,
  findManifest: () => null,
  readImport: () => null,
  log: () => {},
};

/** Runs `source` with the budget; returns how it ended and how many kernel calls it made. */
function run(source: string, budget: { steps?: number; timeMs?: number }): { message: string; calls: number } {
  calls = 0;
  const program = read(source).value!;
  const r = runProgram(program, { path: "<budget-test>", text: source }, host, budget);
  return { message: r.ok ? "finished" : r.exception.message, calls };
}

describe("time budgets", () => {
  test("a loop whose every turn does slow kernel work stops after a few turns, not a batch of steps", () => {
    const r = run('[ #(load "k") (do [ (k/slow) ]) ]', { timeMs: 50 });
    expect(r.message).toBe("Stopped program: time budget of 50 ms exhausted");
    // About 50 / SLOW_CALL_MS calls; a thread that was not scheduled for a while may add a few.
    expect(r.calls).toBeLessThan(STEPS_PER_CLOCK_CHECK / 10);
  });

  test("slow kernel calls inside one turn are watched between each other", () => {
    const turn = Array.from({ length: 2000 }, () => "(k/slow)").join(" ");
    const r = run(`[ #(load "k") (do [ ${turn} ]) ]`, { timeMs: 50 });
    expect(r.message).toBe("Stopped program: time budget of 50 ms exhausted");
    expect(r.calls).toBeLessThan(STEPS_PER_CLOCK_CHECK / 10);
  });

  test("a loop that turns slow after many cheap turns is still stopped soon after its deadline", () => {
    // 5,000 cheap turns, then slow ones: checks do not stay 1,024 steps apart.
    const r = run('[ #(load "k") (do [ (k/fast) (if (eq $iterations 5000) (done 0) ()) ]) (do [ (k/slow) ]) ]', { timeMs: 200 });
    expect(r.message).toBe("Stopped program: time budget of 200 ms exhausted");
    expect(r.calls - 5000).toBeLessThan(STEPS_PER_CLOCK_CHECK / 10);
  });
});

describe("step budgets", () => {
  test("kernel calls are not steps: ten calls a turn still get every turn of the budget", () => {
    const ten = Array.from({ length: 10 }, () => "(k/fast)").join(" ");
    const r = run(`[ #(load "k") (do [ ${ten} ]) ]`, { steps: 5000 });
    expect(r.message).toBe("Stopped program: steps budget of 5000 exhausted");
    expect(r.calls).toBeGreaterThanOrEqual(10 * (5000 - STEPS_PER_CLOCK_CHECK));
    expect(r.calls).toBeLessThanOrEqual(10 * 5000);
  });
});

describe("the engine's stack", () => {
  test("a program nested deeper than the stack left allows is stopped with a message that says so, not as a call-depth limit", () => {
    // 10,000 nested bracket lists from a recursion that used 3/4 of the stack (evaluating them takes about all of it).
    const depth = 10_000;
    const source = `[${"[".repeat(depth - 2)}1${"]".repeat(depth - 2)}]`;
    expect(withStackUsed(0.75, () => run(source, {}).message)).toBe("Stopped program: out of stack 0 calls deep (code or data nested too deeply)");
    // Nested a tenth as deep, it runs from there.
    const shallow = `[${"[".repeat(998)}1${"]".repeat(998)}]`;
    expect(withStackUsed(0.75, () => run(shallow, {}).message)).toBe("finished");
  });
});
