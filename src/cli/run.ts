/**
 * `sup run FILE [-i DIR]… [-w DIR] [--no-check] [--max-steps N] [--max-ms N]`: runs an SLP program.
 * Exit 0 on success, 1 on a parse, check or uncaught exception (as the original), 2 on usage errors.
 */
import { resolve } from "node:path";
import { runProgram, textFromLatin1 } from "../lang/mod.ts";
import { ProgramHost } from "../node/program-host.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, intOption, parse } from "./args.ts";
import { ByteOutput, errorLine } from "./output.ts";
import { prepareProgram, readProgram } from "./program.ts";

export const RUN_USAGE = "Usage: sup run FILE [-i DIR]... [-w DIR] [--no-check] [--max-steps N] [--max-ms N]";

/** Runs the `run` subcommand. */
export function runCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, {
    include: { type: "string", short: "i", multiple: true },
    "working-dir": { type: "string", short: "w" },
    "no-check": { type: "boolean" },
    "max-steps": { type: "string" },
    "max-ms": { type: "string" },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? `Missing program file\n${RUN_USAGE}` : `Too many arguments: ${positionals.slice(1).join(" ")}\n${RUN_USAGE}`);
  const budget = { steps: intOption(values["max-steps"], "--max-steps"), timeMs: intOption(values["max-ms"], "--max-ms") };
  const file = readProgram(positionals[0]!);
  if (file === null) return EXIT_FAILURE;
  const out = new ByteOutput(1);
  const host = new ProgramHost({
    workingDir: resolve(values["working-dir"] ?? process.cwd()),
    includePaths: (values.include ?? []).map((p) => resolve(p)),
    write: out.write,
  });
  try {
    const program = prepareProgram(file, host, !values["no-check"]);
    if (program === null) return EXIT_FAILURE;
    const outcome = runProgram(program, file, host, budget);
    out.flush();
    if (outcome.ok) return EXIT_OK;
    const w = outcome.where;
    const where = w !== null ? ` (at ${w.file}:${w.line}:${w.col})` : "";
    errorLine(`error: Exception during execution: ${textFromLatin1(outcome.exception.message)}${where}`);
    return EXIT_FAILURE;
  } finally {
    out.flush();
    host.close();
  }
}
