/**
 * `sup run FILE [-i DIR]… [-w DIR] [--no-check] [--max-steps N] [--max-ms N]`: runs an SLP program.
 * Exit 0 on success, 1 on a parse, check or uncaught exception (as the original), 2 on usage errors.
 */
import { UsageError, intOption, parse } from "./args.ts";
import { existingDirectory } from "./input.ts";
import { runFile } from "./run-file.ts";

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
  return runFile(positionals[0]!, {
    workingDir: values["working-dir"] === undefined ? process.cwd() : existingDirectory(values["working-dir"], "--working-dir"),
    includePaths: (values.include ?? []).map((p) => existingDirectory(p, "--include")),
    check: !values["no-check"],
    budget: { steps: intOption(values["max-steps"], "--max-steps"), timeMs: intOption(values["max-ms"], "--max-ms") },
  });
}
