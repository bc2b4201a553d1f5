/**
 * Argument parsing shared by subcommands (node:util parseArgs), with usage errors as typed values.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { SupError } from "../errors.ts";

/** Exit codes of every subcommand. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The command line could not be understood. */
export class UsageError extends SupError {
  constructor(message: string) {
    super("usage", message);
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses argv for a subcommand; throws UsageError with node's explanation on bad input. */
export function parse<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
}

/** Reads a non-negative integer option. */
export function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`Invalid value for ${name}: expected a positive integer, got "${value}"`);
  return n;
}
