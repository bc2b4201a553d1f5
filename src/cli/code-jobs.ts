/**
 * The job side of `sup code`: `--every` on put, the interval column of `ls`, and the schedule and
 * run table of `show`. The interval rules are the node's own (node/job-schedule.ts), so the CLI
 * says exactly what the node will do with a job.
 */
import { jobIntervalOf } from "../node/job-schedule.ts";
import { JOB_INTERVAL_MS_MAX, JOB_INTERVAL_MS_MIN } from "../node/limits.ts";
import { UsageError } from "./args.ts";
import { formatDuration, parseDuration } from "./duration.ts";

/** One recorded run as the admin interface returns it. */
export interface JobRunInfo {
  readonly at: number;
  readonly durationMs: number;
  readonly ok: boolean;
  readonly result?: string;
  readonly error?: string;
}

/** What the node's scheduler does with a job (`schedule` of /code/show); null when it knows nothing of it. */
export type JobScheduleInfo =
  | { readonly scheduled: true; readonly version: number; readonly intervalMs: number; readonly nextRunAt: number; readonly runsOn?: string }
  | { readonly scheduled: false; readonly version: number; readonly reason: string }
  | null;

const when = (ms: number) => new Date(ms).toISOString();

/** Meta for `sup code put NAME FILE --every D`: the --meta object (if any) with `intervalMs` set from D. */
export function metaWithEvery(name: string, meta: unknown, every: string): Record<string, unknown> {
  if (!name.startsWith("job:")) throw new UsageError(`Invalid --every for "${name}": only jobs ("job:NAME") run on an interval`);
  if (meta !== undefined && (typeof meta !== "object" || meta === null || Array.isArray(meta))) throw new UsageError("Invalid --meta: must be a JSON object to combine with --every");
  const intervalMs = parseDuration(every, "--every");
  if (intervalMs < JOB_INTERVAL_MS_MIN || intervalMs > JOB_INTERVAL_MS_MAX) {
    throw new UsageError(`Invalid --every "${every}": a job runs at most every ${formatDuration(JOB_INTERVAL_MS_MIN)} and at least every ${formatDuration(JOB_INTERVAL_MS_MAX)}`);
  }
  return { ...(meta as Record<string, unknown> | undefined), intervalMs };
}

/** Meta for `--each-node`: the job runs on every node instead of one node of the cluster. */
export function metaWithEachNode(name: string, meta: unknown): Record<string, unknown> {
  if (!name.startsWith("job:")) throw new UsageError(`Invalid --each-node for "${name}": only jobs ("job:NAME") run on nodes`);
  if (meta !== undefined && (typeof meta !== "object" || meta === null || Array.isArray(meta))) throw new UsageError("Invalid --meta: must be a JSON object to combine with --each-node");
  return { ...(meta as Record<string, unknown> | undefined), eachNode: true };
}

/** How a job with this meta is scheduled, in a few words: `every 10s`, or `not scheduled`. */
export function jobInterval(meta: unknown): string {
  const interval = jobIntervalOf(isRecord(meta) ? meta : {});
  return interval.ok ? `every ${formatDuration(interval.intervalMs)}` : "not scheduled";
}

/** The warning to print after storing a job that will not run, or null when it will. */
export function jobPutWarning(name: string, meta: unknown): string | null {
  const interval = jobIntervalOf(isRecord(meta) ? meta : {});
  return interval.ok ? null : `warning: ${name} is stored but not scheduled: ${interval.problem}`;
}

/** The schedule and recorded runs of a job, as `#` lines for `sup code show`. */
export function jobShowLines(schedule: JobScheduleInfo, runs: readonly JobRunInfo[]): string {
  const lines: string[] = [];
  if (schedule === null) lines.push("# schedule: none (the node does not run this job)");
  else if (schedule.scheduled) lines.push(`# schedule: every ${formatDuration(schedule.intervalMs)} (intervalMs ${schedule.intervalMs}), next run ${when(schedule.nextRunAt)}, version ${schedule.version}${schedule.runsOn === undefined ? "" : `, runs on ${schedule.runsOn}`}`);
  else lines.push(`# schedule: not scheduled: ${schedule.reason}`);
  if (runs.length === 0) {
    lines.push("# runs: none yet");
    return lines.map((l) => l + "\n").join("");
  }
  lines.push(`# last ${runs.length} run${runs.length === 1 ? "" : "s"}, oldest first:`);
  const rows = runs.map((r) => [when(r.at), `${r.durationMs.toFixed(2)} ms`, r.ok ? "ok" : "error", oneLine(r.ok ? (r.result ?? "") : (r.error ?? ""))]);
  const table = [["at", "duration", "ok", resultHeader(runs)], ...rows];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) lines.push(`#   ${row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join("  ")}`.trimEnd());
  return lines.map((l) => l + "\n").join("");
}

function resultHeader(runs: readonly JobRunInfo[]): string {
  return runs.every((r) => r.ok) ? "result" : runs.every((r) => !r.ok) ? "error" : "result / error";
}

/** Keeps a table row on one line: results are printed values, but exception texts may hold newlines. */
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, "\\n");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
