/**
 * The sup entry point: dispatches to one subcommand and is the only place that exits the process.
 */
import { SupError } from "../errors.ts";
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./args.ts";
import { checkCommand } from "./check.ts";
import { HELP, helpCommand } from "./help.ts";
import { errorLine } from "./output.ts";
import { replCommand } from "./repl.ts";
import { runCommand } from "./run.ts";
import { versionCommand } from "./version.ts";

type Command = (argv: string[]) => number | Promise<number>;

const COMMANDS: Record<string, Command> = {
  run: runCommand,
  check: checkCommand,
  repl: replCommand,
  version: versionCommand,
  "--version": versionCommand,
  help: helpCommand,
  "--help": helpCommand,
  "-h": helpCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(HELP);
    return EXIT_USAGE;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    errorLine(`error: Unknown command "${name}": run "sup help" for the list of commands`);
    return EXIT_USAGE;
  }
  try {
    return await command(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      errorLine(`error: ${e.message}`);
      return EXIT_USAGE;
    }
    if (e instanceof SupError) {
      errorLine(`error: ${e.message}`);
      return EXIT_FAILURE;
    }
    throw e;
  }
}

process.exit(await main(process.argv.slice(2)));
