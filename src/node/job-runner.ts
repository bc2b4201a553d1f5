/**
 * Runs one version of a job: its stored source parsed and compiled once per content hash, then a
 * fresh Session against the node's host, in the tenant's scope, under the job's budget. Never
 * throws: a spent budget, an SLP exception, an error value and a bug in a kernel all come back as
 * an outcome the scheduler records.
 */
import {
  BudgetExceeded,
  Interp,
  SlpException,
  Session,
  T_ERROR,
  Wrap,
  runUnit,
  latin1FromText,
  locate,
  stackExhausted,
  parseFile,
  sourceForm,
  textFromLatin1,
  type Host,
  type SessionScope,
  type SourceFile,
  type Value,
} from "../lang/mod.ts";
import type { CodeVersion } from "../store/mod.ts";
import { jobBudgetOf } from "./job-schedule.ts";

/**
 * How a job run ended. A run that returns an error value (`@…`) failed: a job has no caller to hand
 * the value to, so its error value is the way it reports a failure it caught itself. `internal` is
 * set when the failure is a bug in sup or a kernel (its stack is for the node's log only).
 */
export type JobOutcome = { readonly ok: true; readonly result: string } | { readonly ok: false; readonly error: string; readonly internal?: string };

/** Runs one stored version of a job; never throws. */
export interface JobExecutor {
  /** Runs `job` once and says how it ended. */
  run(job: CodeVersion): JobOutcome;
  /** Drops what was kept for a job that is no longer scheduled. */
  forget(tenant: string, name: string): void;
}

/** A job's program as parsed once: null with a reason when its source does not parse. */
interface JobProgram {
  readonly hash: string;
  readonly file: SourceFile;
  readonly program: Value | null;
  readonly problem: string;
}

/** Runs jobs against a node's host, each in the scope of its tenant. */
export class NodeJobExecutor implements JobExecutor {
  /** The parsed program of each job, by tenant and name: bounded by the number of scheduled jobs. */
  private readonly programs = new Map<string, JobProgram>();

  constructor(
    private readonly host: Host,
    private readonly scopeFor: (tenant: string) => SessionScope,
  ) {}

  run(job: CodeVersion): JobOutcome {
    const prog = this.program(job);
    if (prog.program === null) return { ok: false, error: `job program does not parse: ${prog.problem}` };
    return runJobProgram(prog.program, prog.file, this.host, jobBudgetOf(job.meta), this.scopeFor(job.tenant));
  }

  forget(tenant: string, name: string): void {
    this.programs.delete(`${tenant}\0${name}`);
  }

  private program(job: CodeVersion): JobProgram {
    const key = `${job.tenant}\0${job.name}`;
    const cached = this.programs.get(key);
    if (cached !== undefined && cached.hash === job.hash) return cached;
    // The stored source (not the codec blob) is parsed, so exceptions are located in the text as written.
    const file: SourceFile = { path: `${job.tenant}:${job.name}`, text: latin1FromText(job.source) };
    const parsed = parseFile(file);
    const prog: JobProgram = parsed.ok
      ? { hash: job.hash, file, program: parsed.value, problem: "" }
      : { hash: job.hash, file, program: null, problem: parsed.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join("; ") };
    this.programs.set(key, prog);
    return prog;
  }
}

/** Runs a parsed job program once in a fresh session; never throws. */
export function runJobProgram(program: Value, file: SourceFile, host: Host, budget: { readonly steps: number; readonly timeMs: number }, scope: SessionScope | null): JobOutcome {
  let session: Session | undefined;
  let it: Interp | undefined;
  let outcome: JobOutcome;
  try {
    session = new Session(host, budget, scope);
    it = new Interp(session, file.path);
    session.importStack.push(file.path);
    const value = runUnit(program, "job", it);
    const printed = textFromLatin1(sourceForm(value));
    outcome = value instanceof Wrap && value.t === T_ERROR ? { ok: false, error: `returned an error value: ${printed}` } : { ok: true, result: printed };
  } catch (e) {
    outcome = failure(e, file, it);
  }
  try {
    session?.close();
  } catch (e) {
    // Releasing kernels failed: a bug, reported with the run rather than thrown into a timer.
    const stack = e instanceof Error ? (e.stack ?? e.message) : String(e);
    outcome = { ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}`, internal: stack };
  }
  return outcome;
}

function failure(e: unknown, file: SourceFile, it: Interp | undefined): JobOutcome {
  if (e instanceof BudgetExceeded) return { ok: false, error: e.message };
  if (e instanceof SlpException) {
    const where = e.pos >= 0 ? locate(file, e.pos, e.text) : null;
    return { ok: false, error: `Exception during execution: ${textFromLatin1(e.text)}${where === null ? "" : ` (at ${where.file}:${where.line}:${where.col})`}` };
  }
  const stop = stackExhausted(e, it?.callDepth ?? 0);
  if (stop !== null) return { ok: false, error: stop.message };
  return { ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}`, internal: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}
