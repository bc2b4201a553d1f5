/**
 * Running a whole program: parse, (optionally) check, compile once, evaluate. The result is data:
 * a value, or the diagnostics / exception that stopped it.
 */
import { compile } from "./compile.ts";
import { PROMOTE_AFTER, tierMode, unitOf, type UnitKind } from "./tier.ts";
import { List, Wrap } from "./value.ts";
import { BudgetExceeded, SlpException, stackExhausted } from "./errors.ts";
import type { Host, SourceFile } from "./host.ts";
import { Interp } from "./interp.ts";
import { Session, type Budget } from "./session.ts";
import { lineCol, read, type ParseDiagnostic } from "./reader.ts";
import type { Value } from "./value.ts";

/** A located message about a source file. */
export interface SourceDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

/** Locates a byte offset of a file for a diagnostic. */
export function locate(file: SourceFile, offset: number, message: string): SourceDiagnostic {
  const { line, col } = lineCol(file.text, Math.max(0, offset));
  return { file: file.path, line, col, message };
}

/** Renders a diagnostic as `file:line:col: message`. */
export function formatDiagnostic(d: SourceDiagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** Parses a source file; on failure returns every syntax error located. */
export function parseFile(file: SourceFile): { ok: true; value: Value; end: number } | { ok: false; diagnostics: SourceDiagnostic[] } {
  const r = read(file.text);
  if (r.value === null) return { ok: false, diagnostics: r.diagnostics.map((d: ParseDiagnostic) => locate(file, d.offset, d.message)) };
  return { ok: true, value: r.value, end: r.end };
}

export type RunOutcome =
  | { readonly ok: true; readonly value: Value }
  | { readonly ok: false; readonly exception: SlpException | BudgetExceeded; readonly where: SourceDiagnostic | null };

/**
 * Runs a parsed program as a unit of the given kind (tier.ts): a stored handler or job is compiled
 * to JavaScript on its first run; a top-level program, which runs once, is walked (walk.ts) unless
 * SUP_TIER=js compiles it.
 */
export function runUnit(program: Value, kind: UnitKind, it: Interp): Value {
  if (kind === "program" && PROMOTE_AFTER.program === Infinity && tierMode() !== "js") return it.evalValue(program);
  return program instanceof List || program instanceof Wrap ? unitOf(program, kind).code(it) : compile(program)(it);
}

/** Evaluates a parsed program in a fresh session; exceptions come back as data. */
export function runProgram(program: Value, file: SourceFile, host: Host, budget: Budget = {}): RunOutcome {
  const session = new Session(host, budget);
  const it = new Interp(session, file.path);
  session.importStack.push(file.path);
  try {
    return { ok: true, value: runUnit(program, "program", it) };
  } catch (e) {
    if (e instanceof SlpException) {
      return { ok: false, exception: e, where: e.pos >= 0 ? locate(file, e.pos, e.text) : null };
    }
    if (e instanceof BudgetExceeded) return { ok: false, exception: e, where: null };
    const stop = stackExhausted(e, it.callDepth);
    if (stop !== null) return { ok: false, exception: stop, where: null };
    throw e;
  } finally {
    session.close();
  }
}
