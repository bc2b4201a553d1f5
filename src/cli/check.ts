/**
 * `sup check FILE [-i DIR]… [-w DIR]`: parses and type checks a program without running it.
 */
import { resolve } from "node:path";
import { ProgramHost } from "../node/program-host.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, parse } from "./args.ts";
import { prepareProgram, readProgram } from "./program.ts";

export const CHECK_USAGE = "Usage: sup check FILE [-i DIR]... [-w DIR]";

/** Runs the `check` subcommand. */
export function checkCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, {
    include: { type: "string", short: "i", multiple: true },
    "working-dir": { type: "string", short: "w" },
  });
  if (positionals.length !== 1) throw new UsageError(`Expected exactly one program file\n${CHECK_USAGE}`);
  const file = readProgram(positionals[0]!);
  if (file === null) return EXIT_FAILURE;
  const host = new ProgramHost({
    workingDir: resolve(values["working-dir"] ?? process.cwd()),
    includePaths: (values.include ?? []).map((p) => resolve(p)),
    write: () => {},
  });
  try {
    if (prepareProgram(file, host, true) === null) return EXIT_FAILURE;
    process.stdout.write(`${positionals[0]}: ok\n`);
    return EXIT_OK;
  } finally {
    host.close();
  }
}
