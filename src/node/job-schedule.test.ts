/**
 * The job schedule arithmetic: intervals and budgets from meta at their limits, and when the next
 * run is due after a run, a restart, an overdue stretch or a clock step back.
 */
import { describe, expect, test } from "bun:test";
import { jobBudgetOf, jobIntervalOf, nextRunAt } from "./job-schedule.ts";
import { JOB_INTERVAL_MS_MAX, JOB_INTERVAL_MS_MIN, JOB_STEPS_DEFAULT, JOB_STEPS_MAX, JOB_TIME_MS_DEFAULT, JOB_TIME_MS_MAX } from "./limits.ts";

describe("jobIntervalOf", () => {
  test("accepts integers from the minimum to the maximum", () => {
    expect(jobIntervalOf({ intervalMs: JOB_INTERVAL_MS_MIN })).toEqual({ ok: true, intervalMs: JOB_INTERVAL_MS_MIN });
    expect(jobIntervalOf({ intervalMs: JOB_INTERVAL_MS_MAX })).toEqual({ ok: true, intervalMs: JOB_INTERVAL_MS_MAX });
    expect(jobIntervalOf({ intervalMs: 10_000, budgetMs: 5 })).toEqual({ ok: true, intervalMs: 10_000 });
  });

  test("refuses one past each limit, with the limit in the reason", () => {
    const below = jobIntervalOf({ intervalMs: JOB_INTERVAL_MS_MIN - 1 });
    expect(below.ok).toBe(false);
    if (!below.ok) expect(below.problem).toContain(`shortest interval is ${JOB_INTERVAL_MS_MIN} ms`);
    const above = jobIntervalOf({ intervalMs: JOB_INTERVAL_MS_MAX + 1 });
    expect(above.ok).toBe(false);
    if (!above.ok) expect(above.problem).toContain(`longest interval is ${JOB_INTERVAL_MS_MAX} ms`);
  });

  test("refuses a missing, fractional or non-numeric interval", () => {
    for (const meta of [{}, { intervalMs: 150.5 }, { intervalMs: "10s" }, { intervalMs: null }, { intervalMs: Number.NaN }, { intervalMs: -1 }]) {
      const r = jobIntervalOf(meta);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem).toContain('meta "intervalMs"');
    }
  });
});

describe("jobBudgetOf", () => {
  test("defaults when meta says nothing or nonsense", () => {
    const dflt = { steps: JOB_STEPS_DEFAULT, timeMs: JOB_TIME_MS_DEFAULT };
    expect(jobBudgetOf({})).toEqual(dflt);
    expect(jobBudgetOf({ budgetSteps: 0, budgetMs: -5 })).toEqual(dflt);
    expect(jobBudgetOf({ budgetSteps: "many", budgetMs: 1.5 })).toEqual(dflt);
  });

  test("takes meta up to the ceilings and caps one past them", () => {
    expect(jobBudgetOf({ budgetSteps: JOB_STEPS_MAX, budgetMs: JOB_TIME_MS_MAX })).toEqual({ steps: JOB_STEPS_MAX, timeMs: JOB_TIME_MS_MAX });
    expect(jobBudgetOf({ budgetSteps: JOB_STEPS_MAX + 1, budgetMs: JOB_TIME_MS_MAX + 1 })).toEqual({ steps: JOB_STEPS_MAX, timeMs: JOB_TIME_MS_MAX });
    expect(jobBudgetOf({ budgetSteps: 10, budgetMs: 20 })).toEqual({ steps: 10, timeMs: 20 });
  });
});

describe("nextRunAt", () => {
  const t = 1_700_000_000_000;

  test("a job that never ran runs now", () => {
    expect(nextRunAt(null, 1000, t)).toBe(t);
  });

  test("the next run is one interval after the start of the last", () => {
    expect(nextRunAt(t, 1000, t + 5)).toBe(t + 1000);
    // A restart 300 ms after the last run waits the remaining 700 ms: no double run.
    expect(nextRunAt(t, 1000, t + 300)).toBe(t + 1000);
    expect(nextRunAt(t, 1000, t + 999)).toBe(t + 1000);
  });

  test("an overdue run happens now, once: missed runs are not replayed", () => {
    expect(nextRunAt(t, 1000, t + 1000)).toBe(t + 1000);
    expect(nextRunAt(t, 1000, t + 1001)).toBe(t + 1001);
    expect(nextRunAt(t, 1000, t + 3_600_000)).toBe(t + 3_600_000);
  });

  test("a last run in the future (the clock went back) waits at most one interval", () => {
    expect(nextRunAt(t + 60_000, 1000, t)).toBe(t + 1000);
    expect(nextRunAt(t + 500, 1000, t)).toBe(t + 1000);
  });
});
