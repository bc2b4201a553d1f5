/**
 * The arithmetic of background jobs, free of clocks and timers so it can be tested exactly: a job's
 * interval and budget from its meta, and when its next run is due.
 */
import type { Budget } from "../lang/mod.ts";
import { JOB_INTERVAL_MS_MAX, JOB_INTERVAL_MS_MIN, JOB_STEPS_DEFAULT, JOB_STEPS_MAX, JOB_TIME_MS_DEFAULT, JOB_TIME_MS_MAX } from "./limits.ts";

/** A job's interval, or why it has none (then the job is stored but not scheduled). */
export type JobInterval = { readonly ok: true; readonly intervalMs: number } | { readonly ok: false; readonly problem: string };

/** Reads meta `intervalMs`: an integer number of milliseconds within [JOB_INTERVAL_MS_MIN, JOB_INTERVAL_MS_MAX]. */
export function jobIntervalOf(meta: Readonly<Record<string, unknown>>): JobInterval {
  const v = meta["intervalMs"];
  if (v === undefined) return { ok: false, problem: 'meta "intervalMs" is not set (put the job with --every, e.g. --every 10s)' };
  if (typeof v !== "number" || !Number.isInteger(v)) return { ok: false, problem: `meta "intervalMs" must be an integer number of milliseconds, got ${JSON.stringify(v)}` };
  if (v < JOB_INTERVAL_MS_MIN) return { ok: false, problem: `meta "intervalMs" is ${v}: the shortest interval is ${JOB_INTERVAL_MS_MIN} ms` };
  if (v > JOB_INTERVAL_MS_MAX) return { ok: false, problem: `meta "intervalMs" is ${v}: the longest interval is ${JOB_INTERVAL_MS_MAX} ms (7 days)` };
  return { ok: true, intervalMs: v };
}

/** Reads meta `budgetSteps` / `budgetMs`: a positive integer is used up to its ceiling; anything else means the default. */
export function jobBudgetOf(meta: Readonly<Record<string, unknown>>): Required<Budget> {
  const pick = (v: unknown, dflt: number, max: number) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? Math.min(v, max) : dflt);
  return { steps: pick(meta["budgetSteps"], JOB_STEPS_DEFAULT, JOB_STEPS_MAX), timeMs: pick(meta["budgetMs"], JOB_TIME_MS_DEFAULT, JOB_TIME_MS_MAX) };
}

/**
 * When a job's next run is due (epoch ms), given the start of its last recorded run (null: never ran).
 * A job that never ran, or whose next run is overdue, runs now: a restart or a long run neither skips
 * the job nor replays the runs it missed. A last run in the future of `now` (the wall clock went
 * back) waits at most one interval from now, so a clock step does not stall the job.
 */
export function nextRunAt(lastRunAt: number | null, intervalMs: number, now: number): number {
  if (lastRunAt === null) return now;
  const due = lastRunAt + intervalMs;
  if (due <= now) return now;
  return Math.min(due, now + intervalMs);
}
