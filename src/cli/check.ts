/**
 * `sup check FILE [-i DIR]… [-w DIR]`: parses and type checks a program without running it.
 */
import { ProgramHost } from "../node/program-host.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, parse } from "./args.ts";
import { writeOut } from "./output.ts";
import { existingDirectory } from "./input.ts";
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
    workingDir: values["working-dir"] === undefined ? process.cwd() : existingDirectory(values["working-dir"], "--working-dir"),
    includePaths: (values.include ?? []).map((p) => existingDirectory(p, "--include")),
    write: () => {},
  });
  try {
    if (prepareProgram(file, host, true) === null) return EXIT_FAILURE;
    writeOut(`${positionals[0]}: ok\n`);
    return EXIT_OK;
  } finally {
    host.close();
  }
}
