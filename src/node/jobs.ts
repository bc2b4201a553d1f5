/**
 * Background jobs: every current `job:<name>` of every tenant whose meta sets a valid `intervalMs`
 * runs on schedule, and each finished run is recorded in the store (time, duration, result or error).
 *
 * Invariants:
 * - At most one timer per job, so runs of one job never overlap; runs are synchronous SLP runs on
 *   the node's event loop, so they interleave with requests, never preempt them.
 * - The schedule follows the store: a put, rollback or rm of a job reschedules or cancels it as the
 *   change commits; each run reads the current version, so new code is used from its next run.
 * - The next run is due one interval after the start of the last recorded run (now when overdue),
 *   and that record survives restarts, so a restart neither skips a run nor runs one twice.
 * - Nothing a job does, and no store failure while recording, escapes into a timer: the node never
 *   crashes on a program.
 */
import type { Host } from "../lang/mod.ts";
import { log } from "../log.ts";
import type { Change, CodeVersion, Store } from "../store/mod.ts";
import { NodeJobExecutor, type JobExecutor } from "./job-runner.ts";
import type { NodeScopes } from "./scopes.ts";
import { jobIntervalOf, nextRunAt } from "./job-schedule.ts";

/** The clock and timers a scheduler uses; tests pass a fake one. */
export interface JobClock {
  /** Wall time, epoch milliseconds (what run records carry). */
  now(): number;
  /** A monotonic time in milliseconds, for durations. */
  elapsed(): number;
  /** Calls `fn` once after `delayMs`; the handle cancels it. */
  setTimer(fn: () => void, delayMs: number): { cancel(): void };
}

/** The real clock: Date.now, performance.now and setTimeout. */
export const SYSTEM_CLOCK: JobClock = {
  now: () => Date.now(),
  elapsed: () => performance.now(),
  setTimer(fn, delayMs) {
    const t = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(t) };
  },
};

/**
 * Where a job runs in a cluster: null when this node runs it, else the member that does (or a
 * reason no member can). A node alone runs every job.
 */
export type JobPlacement = (code: CodeVersion) => { readonly here: boolean; readonly where: string };

/** Runs every job here (a node alone, or tests). */
export const EVERYWHERE: JobPlacement = () => ({ here: true, where: "this node" });

/** What the scheduler knows of one job, for `sup code show`. */
export type JobState =
  | { readonly scheduled: true; readonly version: number; readonly intervalMs: number; readonly nextRunAt: number; readonly runsOn?: string }
  | { readonly scheduled: false; readonly version: number; readonly reason: string };

/** One scheduled job. */
interface Scheduled {
  readonly tenant: string;
  readonly name: string;
  version: number;
  intervalMs: number;
  /** Start of the last run, recorded or seen by this scheduler; null when it never ran. */
  lastRunAt: number | null;
  nextRunAt: number;
  timer: { cancel(): void } | null;
}

const keyOf = (tenant: string, name: string) => `${tenant}\0${name}`;
const isJobName = (name: string) => name.startsWith("job:");

/** Runs a store's jobs on their intervals until stopped. */
export class JobScheduler {
  private readonly jobs = new Map<string, Scheduled>();
  /** Current job versions that are not scheduled, and why: each version is warned about once. */
  private readonly unscheduled = new Map<string, { readonly version: number; readonly reason: string }>();
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly executor: JobExecutor,
    private readonly clock: JobClock = SYSTEM_CLOCK,
    private readonly placement: JobPlacement = EVERYWHERE,
  ) {}

  /** Starts scheduling a node's jobs: each runs against `host` in its tenant's scope, where `placement` says. */
  static startFor(store: Store, host: Host, scopes: NodeScopes, placement: JobPlacement = EVERYWHERE): JobScheduler {
    const scheduler = new JobScheduler(store, new NodeJobExecutor(host, (tenant) => scopes.for(tenant)), SYSTEM_CLOCK, placement);
    scheduler.start();
    return scheduler;
  }

  /** Schedules every current job of every tenant and follows the store's changes from now on. */
  start(): void {
    if (this.unsubscribe !== null || this.stopped) return;
    // Subscribe first: a change committed while the list is read is then applied, not missed.
    this.unsubscribe = this.store.onChange((c) => this.onChange(c));
    for (const code of this.store.listCode(undefined, "job")) this.reconcile(code.tenant, code.name, code);
  }

  /** Cancels every timer and stops following the store; no run starts afterwards. */
  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const job of this.jobs.values()) job.timer?.cancel();
    this.jobs.clear();
    this.unscheduled.clear();
  }

  /** How many current jobs are scheduled, and how many are not (bad interval). */
  counts(): { readonly scheduled: number; readonly unscheduled: number } {
    return { scheduled: this.jobs.size, unscheduled: this.unscheduled.size };
  }

  /** What the scheduler does with a job: its interval and next run, or why it is not scheduled; null when it has no such current job. */
  state(tenant: string, name: string): JobState | null {
    const key = keyOf(tenant, name);
    const job = this.jobs.get(key);
    if (job !== undefined) {
      const code = this.store.getCode(tenant, name);
      const runsOn = code === null ? undefined : this.placement(code).where;
      return { scheduled: true, version: job.version, intervalMs: job.intervalMs, nextRunAt: job.nextRunAt, ...(runsOn === undefined ? {} : { runsOn }) };
    }
    const un = this.unscheduled.get(key);
    return un === undefined ? null : { scheduled: false, version: un.version, reason: un.reason };
  }

  private onChange(c: Change): void {
    if (this.stopped || !isJobName(c.name)) return;
    // A listener's error would reach the writer after its change committed; the schedule is this
    // scheduler's concern, so a failure here is logged and the job left as it was.
    try {
      this.reconcile(c.tenant, c.name, this.store.getCode(c.tenant, c.name));
    } catch (e) {
      log("error", "job not rescheduled", { tenant: c.tenant, name: c.name, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  }

  /** Brings one job's timer in line with its current version (null: removed). */
  private reconcile(tenant: string, name: string, code: CodeVersion | null): void {
    const key = keyOf(tenant, name);
    if (code === null || code.kind !== "job") {
      this.unscheduled.delete(key);
      if (this.cancel(key)) log("info", "job unscheduled", { tenant, name });
      return;
    }
    const interval = jobIntervalOf(code.meta);
    if (!interval.ok) {
      this.cancel(key);
      if (this.unscheduled.get(key)?.version !== code.version) log("warn", "job not scheduled", { tenant, name, version: code.version, reason: interval.problem });
      this.unscheduled.set(key, { version: code.version, reason: interval.problem });
      return;
    }
    this.unscheduled.delete(key);
    let job = this.jobs.get(key);
    if (job === undefined) {
      const runs = this.store.jobRuns(tenant, name);
      job = { tenant, name, version: code.version, intervalMs: interval.intervalMs, lastRunAt: runs.at(-1)?.at ?? null, nextRunAt: 0, timer: null };
      this.jobs.set(key, job);
    } else if (job.version === code.version && job.intervalMs === interval.intervalMs && job.timer !== null) {
      return;
    }
    job.version = code.version;
    job.intervalMs = interval.intervalMs;
    this.arm(job);
    log("info", "job scheduled", { tenant, name, version: code.version, everyMs: job.intervalMs, next: new Date(job.nextRunAt).toISOString() });
  }

  /** Sets the job's one timer for its next run, replacing any timer it had. */
  private arm(job: Scheduled): void {
    job.timer?.cancel();
    const now = this.clock.now();
    job.nextRunAt = nextRunAt(job.lastRunAt, job.intervalMs, now);
    job.timer = this.clock.setTimer(() => this.fire(job), job.nextRunAt - now);
  }

  /** Takes a job off the schedule; false when it was not on it. */
  private cancel(key: string): boolean {
    const job = this.jobs.get(key);
    if (job === undefined) return false;
    job.timer?.cancel();
    this.jobs.delete(key);
    this.executor.forget(job.tenant, job.name);
    return true;
  }

  private fire(job: Scheduled): void {
    job.timer = null;
    if (this.stopped || this.jobs.get(keyOf(job.tenant, job.name)) !== job) return;
    const at = this.clock.now();
    // Set before anything can fail, so a failing attempt (a store that cannot be read) still
    // spaces the next one by an interval instead of retrying in a busy loop.
    job.lastRunAt = at;
    try {
      this.runOnce(job, at);
    } catch (e) {
      // Reading or recording failed in the store; the run is lost but the job stays scheduled.
      log("error", "job run not recorded", { tenant: job.tenant, name: job.name, error: e instanceof Error ? e.message : String(e) });
    }
    // The run may have changed the schedule (a kernel writing code): only re-arm a job still current.
    if (!this.stopped && this.jobs.get(keyOf(job.tenant, job.name)) === job) this.arm(job);
  }

  private runOnce(job: Scheduled, at: number): void {
    const code = this.store.getCode(job.tenant, job.name);
    if (code === null || code.kind !== "job") {
      this.reconcile(job.tenant, job.name, code);
      return;
    }
    // In a cluster one member runs the job (unless its meta says eachNode); the others keep the
    // timer, so the next owner is ready when membership changes.
    const placed = this.placement(code);
    if (!placed.here) {
      log("debug", "job run elsewhere", { tenant: job.tenant, name: job.name, on: placed.where });
      return;
    }
    const t0 = this.clock.elapsed();
    const outcome = this.executor.run(code);
    const durationMs = Math.round((this.clock.elapsed() - t0) * 1000) / 1000;
    const fields = { tenant: job.tenant, name: job.name, version: code.version, ms: durationMs, ok: outcome.ok };
    if (outcome.ok) log("info", "job run", fields);
    else if (outcome.internal !== undefined) log("error", "job run", { ...fields, error: outcome.error, stack: outcome.internal });
    else log("warn", "job run", { ...fields, error: outcome.error });
    this.store.recordJobRun(job.tenant, job.name, outcome.ok ? { at, durationMs, ok: true, result: outcome.result } : { at, durationMs, ok: false, error: outcome.error });
  }
}
