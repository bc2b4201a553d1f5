/**
 * The JobScheduler against a store in memory, a fake clock and a scripted executor: what runs when,
 * what is recorded, and how puts, rollbacks, removals, restarts and failures move the schedule.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { setLogLevel, type LogLevel } from "../log.ts";
import { MEMORY_PATH, Store, type CodeVersion } from "../store/mod.ts";
import { put } from "../store/store-test-support.ts";
import type { JobExecutor, JobOutcome } from "./job-runner.ts";
import { captureLines } from "../../test/support/log-capture.ts";
import { JobScheduler, type JobClock } from "./jobs.ts";

const T0 = 1_700_000_000_000;

// Test files share one process: put the log level back the way the environment set it.
afterAll(() => setLogLevel((process.env.SUP_LOG as LogLevel | undefined) ?? "warn"));

/** Runs `fn` with the log at `level` and returns the lines it wrote to stderr instead of printing them. */
function captureLog(level: "warn" | "error", fn: () => void): string[] {
  setLogLevel(level);
  try {
    return captureLines(fn);
  } finally {
    setLogLevel("error");
  }
}

/** A clock whose time moves only when told, firing due timers in order. */
class FakeClock implements JobClock {
  t = T0;
  mono = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];

  now(): number {
    return this.t;
  }
  elapsed(): number {
    return this.mono;
  }
  setTimer(fn: () => void, delayMs: number): { cancel(): void } {
    const timer = { at: this.t + Math.max(0, delayMs), fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }
  /** Live timers' due times. */
  pending(): number[] {
    return this.timers.filter((x) => x.live).map((x) => x.at);
  }
  /** Moves time forward by `ms`, firing each due timer at its own time. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.live = false;
      this.t = due.at;
      due.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
    this.t = end;
  }
}

/** Records each run and answers with the job's source text, or what `answer` says. */
class ScriptedExecutor implements JobExecutor {
  runs: { name: string; version: number; at: number }[] = [];
  forgotten: string[] = [];
  answer: (job: CodeVersion) => JobOutcome = (job) => ({ ok: true, result: job.source });
  /** Runs nested in a run (must stay empty: runs never overlap). */
  private active = 0;
  overlaps = 0;

  constructor(private readonly clock: FakeClock) {}

  run(job: CodeVersion): JobOutcome {
    if (++this.active > 1) this.overlaps++;
    try {
      this.runs.push({ name: job.name, version: job.version, at: this.clock.t });
      this.clock.mono += 2.5;
      return this.answer(job);
    } finally {
      this.active--;
    }
  }
  forget(tenant: string, name: string): void {
    this.forgotten.push(`${tenant}:${name}`);
  }
}

describe("JobScheduler", () => {
  let clock: FakeClock;
  let store: Store;
  let exec: ScriptedExecutor;
  let scheduler: JobScheduler;

  const putJob = (name: string, source: string, meta: Record<string, unknown>, tenant?: string) => put(store, name, source, { meta, tenant });
  const startScheduler = () => {
    scheduler = new JobScheduler(store, exec, clock);
    scheduler.start();
  };

  beforeEach(() => {
    setLogLevel("error");
    clock = new FakeClock();
    store = Store.open(MEMORY_PATH, { now: () => clock.t });
    exec = new ScriptedExecutor(clock);
  });

  afterEach(() => {
    scheduler?.stop();
    store.close();
  });

  test("a job another member owns keeps its timer here but runs (and is recorded) only where placement says", () => {
    let owner = "web-2";
    scheduler = new JobScheduler(store, exec, clock, (code) => ({ here: owner === "this node", where: owner }));
    scheduler.start();
    putJob("job:tick", '["a"]', { intervalMs: 200 });
    clock.advance(400);
    expect(exec.runs).toEqual([]);
    expect(store.jobRuns("default", "job:tick")).toEqual([]);
    expect(scheduler.state("default", "job:tick")).toMatchObject({ scheduled: true, runsOn: "web-2" });
    // The owner died: this node is next in the ranking and takes over at the next tick.
    owner = "this node";
    clock.advance(200);
    expect(exec.runs.map((r) => r.at - T0)).toEqual([600]);
  });

  test("a new job runs at once, then every interval, and each run is recorded", () => {
    startScheduler();
    putJob("job:tick", '["a"]', { intervalMs: 200 });
    expect(clock.pending()).toEqual([T0]);
    clock.advance(1000);
    expect(exec.runs.map((r) => r.at - T0)).toEqual([0, 200, 400, 600, 800, 1000]);
    const runs = store.jobRuns("default", "job:tick");
    expect(runs).toHaveLength(6);
    expect(runs[0]).toEqual({ at: T0, durationMs: 2.5, ok: true, result: '["a"]' });
    expect(scheduler.state("default", "job:tick")).toEqual({ scheduled: true, version: 1, intervalMs: 200, nextRunAt: T0 + 1200, runsOn: "this node" });
    expect(exec.overlaps).toBe(0);
  });

  test("jobs already in the store are scheduled at start, in every tenant", () => {
    putJob("job:a", "[1]", { intervalMs: 100 });
    putJob("job:b", "[2]", { intervalMs: 300 }, "acme");
    put(store, "GET /x", "[3]", { meta: { intervalMs: 100 } });
    startScheduler();
    clock.advance(300);
    expect(exec.runs.filter((r) => r.name === "job:a")).toHaveLength(4);
    expect(exec.runs.filter((r) => r.name === "job:b")).toHaveLength(2);
    expect(store.jobRuns("acme", "job:b")).toHaveLength(2);
    // Exactly one timer per job: runs of one job cannot overlap.
    expect(clock.pending()).toHaveLength(2);
  });

  test("after a restart the next run is one interval after the last recorded run, or now when overdue", () => {
    putJob("job:slow", "[1]", { intervalMs: 10_000 });
    startScheduler();
    clock.advance(3000);
    expect(exec.runs).toHaveLength(1);
    scheduler.stop();
    expect(clock.pending()).toEqual([]);

    // Restarted 3 s after the last run: it waits the remaining 7 s, neither skipping nor repeating.
    clock.advance(0);
    startScheduler();
    expect(clock.pending()).toEqual([T0 + 10_000]);
    clock.advance(6999);
    expect(exec.runs).toHaveLength(1);
    clock.advance(1);
    expect(exec.runs.map((r) => r.at - T0)).toEqual([0, 10_000]);
    scheduler.stop();

    // Down for a minute: one run at once, then back on the interval.
    clock.advance(60_000);
    startScheduler();
    expect(clock.pending()).toEqual([clock.t]);
    clock.advance(10_000);
    expect(exec.runs.map((r) => r.at - T0)).toEqual([0, 10_000, 70_000, 80_000]);
  });

  test("a new version is used from the next run and keeps the schedule", () => {
    startScheduler();
    putJob("job:v", '["one"]', { intervalMs: 1000 });
    clock.advance(500);
    putJob("job:v", '["two"]', { intervalMs: 1000 });
    expect(clock.pending()).toEqual([T0 + 1000]);
    clock.advance(500);
    expect(exec.runs.map((r) => [r.at - T0, r.version])).toEqual([
      [0, 1],
      [1000, 2],
    ]);
    expect(store.jobRuns("default", "job:v").map((r) => r.result)).toEqual(['["one"]', '["two"]']);
  });

  test("a changed interval applies at once, counted from the last run", () => {
    startScheduler();
    putJob("job:i", "[1]", { intervalMs: 10_000 });
    clock.advance(1000);
    putJob("job:i", "[1]", { intervalMs: 2000 });
    expect(clock.pending()).toEqual([T0 + 2000]);
    putJob("job:i", "[1]", { intervalMs: 500 });
    // Already overdue under the new interval: runs now.
    expect(clock.pending()).toEqual([T0 + 1000]);
  });

  test("rm cancels a job at once; rollback brings it back on its old schedule", () => {
    startScheduler();
    putJob("job:r", "[1]", { intervalMs: 1000 });
    clock.advance(1500);
    store.removeCode("default", "job:r");
    expect(clock.pending()).toEqual([]);
    expect(scheduler.state("default", "job:r")).toBeNull();
    expect(exec.forgotten).toEqual(["default:job:r"]);
    clock.advance(5000);
    expect(exec.runs).toHaveLength(2);
    store.rollback("default", "job:r");
    // Overdue since its last run at +1000: runs now.
    expect(clock.pending()).toEqual([clock.t]);
    clock.advance(0);
    expect(exec.runs).toHaveLength(3);
  });

  test("a job without a valid interval is not scheduled, with the reason, warned about once per version", () => {
    const lines = captureLog("warn", () => {
      startScheduler();
      putJob("job:bad", "[1]", { intervalMs: 50 });
      // A change to another job does not warn again about this one.
      putJob("job:other", "[1]", { intervalMs: "soon" });
      putJob("job:bad", "[2]", {});
    });
    expect(lines.filter((l) => l.includes("job not scheduled") && l.includes("name=job:bad"))).toHaveLength(2);
    expect(lines.filter((l) => l.includes("job not scheduled") && l.includes("name=job:other"))).toHaveLength(1);
    expect(scheduler.state("default", "job:bad")).toEqual({ scheduled: false, version: 2, reason: 'meta "intervalMs" is not set (put the job with --every, e.g. --every 10s)' });
    clock.advance(10_000);
    expect(exec.runs).toEqual([]);
    // Fixing the meta schedules it.
    putJob("job:bad", "[2]", { intervalMs: 100 });
    clock.advance(0);
    expect(exec.runs).toHaveLength(1);
  });

  test("a failed run is recorded with its error and the job stays scheduled", () => {
    exec.answer = () => ({ ok: false, error: "Stopped program: steps budget of 10 exhausted" });
    startScheduler();
    putJob("job:f", "[1]", { intervalMs: 100 });
    clock.advance(100);
    expect(store.jobRuns("default", "job:f")).toEqual([
      { at: T0, durationMs: 2.5, ok: false, error: "Stopped program: steps budget of 10 exhausted" },
      { at: T0 + 100, durationMs: 2.5, ok: false, error: "Stopped program: steps budget of 10 exhausted" },
    ]);
    expect(clock.pending()).toEqual([T0 + 200]);
  });

  test("a run that changes its own job reschedules it once, from the run's start", () => {
    startScheduler();
    putJob("job:self", "[1]", { intervalMs: 1000 });
    exec.answer = (job) => {
      if (job.version === 1) putJob("job:self", "[2]", { intervalMs: 300 });
      return { ok: true, result: job.source };
    };
    clock.advance(0);
    expect(clock.pending()).toEqual([T0 + 300]);
    clock.advance(300);
    expect(exec.runs.map((r) => r.version)).toEqual([1, 2]);
  });

  test("a run that removes its own job is recorded and not rescheduled", () => {
    startScheduler();
    putJob("job:once", "[1]", { intervalMs: 100 });
    exec.answer = () => {
      store.removeCode("default", "job:once");
      return { ok: true, result: "bye" };
    };
    clock.advance(1000);
    expect(exec.runs).toHaveLength(1);
    expect(store.jobRuns("default", "job:once")).toHaveLength(1);
    expect(clock.pending()).toEqual([]);
  });

  test("a store that fails while recording does not throw into the timer", () => {
    startScheduler();
    putJob("job:s", "[1]", { intervalMs: 100 });
    exec.answer = () => {
      store.close();
      return { ok: true, result: "1" };
    };
    const lines = captureLog("error", () => {
      expect(() => clock.advance(0)).not.toThrow();
      // The job stays scheduled; each later attempt fails to read the store, also without
      // throwing, and the attempts stay an interval apart instead of spinning.
      expect(clock.pending()).toEqual([T0 + 100]);
      expect(() => clock.advance(1000)).not.toThrow();
    });
    expect(lines).toHaveLength(11);
    expect(lines[0]).toContain("job run not recorded");
    expect(clock.pending()).toEqual([T0 + 1100]);
    store = Store.open(MEMORY_PATH);
  });

  test("stop cancels every timer and ignores later changes", () => {
    startScheduler();
    putJob("job:a", "[1]", { intervalMs: 100 });
    scheduler.stop();
    expect(clock.pending()).toEqual([]);
    putJob("job:b", "[1]", { intervalMs: 100 });
    clock.advance(1000);
    expect(exec.runs).toEqual([]);
  });
});
