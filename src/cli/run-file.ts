/**
 * Runs one SLP program file the way `sup run` does: read, parse, check (unless told not to), run
 * against a fresh ProgramHost, report an uncaught exception with its position. Shared by `sup run`
 * and `sup project run`.
 */
import { runProgram, textFromLatin1, tierMode, tierStats, type Budget } from "../lang/mod.ts";
import { log, logEnabled } from "../log.ts";
import { ProgramHost } from "../node/program-host.ts";
import { EXIT_FAILURE, EXIT_OK } from "./args.ts";
import { ByteOutput, errorLine } from "./output.ts";
import { prepareProgram, readProgram } from "./program.ts";

/** How to run a program file. */
export interface RunFileOptions {
  /** Absolute working directory (imports, kernels, fs). */
  readonly workingDir: string;
  /** Absolute `-i` directories. */
  readonly includePaths: readonly string[];
  /** Type check before running (sup run's default). */
  readonly check: boolean;
  readonly budget: Budget;
}

/** Runs the program in `path`; returns the exit code (0, or 1 after reporting on stderr). */
export function runFile(path: string, options: RunFileOptions): number {
  const file = readProgram(path);
  if (file === null) return EXIT_FAILURE;
  const out = new ByteOutput(1);
  const host = new ProgramHost({ workingDir: options.workingDir, includePaths: options.includePaths, write: out.write });
  try {
    const program = prepareProgram(file, host, options.check);
    if (program === null) return EXIT_FAILURE;
    const outcome = runProgram(program, file, host, options.budget);
    out.flush();
    if (outcome.ok) return EXIT_OK;
    const w = outcome.where;
    const where = w !== null ? ` (at ${w.file}:${w.line}:${w.col})` : "";
    errorLine(`error: Exception during execution: ${textFromLatin1(outcome.exception.message)}${where}`);
    return EXIT_FAILURE;
  } finally {
    out.flush();
    host.close();
    if (logEnabled("debug")) log("debug", "tier", { mode: tierMode(), compiledUnits: tierStats.compiledUnits, failedUnits: tierStats.failedUnits, compileMs: Math.round(tierStats.compileMs * 100) / 100 });
  }
}
