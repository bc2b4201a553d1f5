/**
 * Argument parsing shared by subcommands, with usage errors as typed values. Not node:util's
 * parseArgs: loading node:util costs about 3 ms, a quarter of a whole `sup run` of an empty program.
 * Same rules: `--name value`, `--name=value`, `-n value`, `-nvalue`, grouped short booleans, `--`
 * ends options, unknown options are errors, a later value replaces an earlier one unless `multiple`.
 */
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

/** One option a subcommand accepts. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  /** A one-letter alias: `-i` for `--include`. */
  readonly short?: string;
  /** Collect every occurrence into an array instead of keeping the last. */
  readonly multiple?: boolean;
}

type OptionValue<S extends OptionSpec> = S extends { type: "boolean" } ? (S extends { multiple: true } ? boolean[] : boolean) : S extends { multiple: true } ? string[] : string;

/** The parsed options (absent when not given) and the positional arguments, in order. */
export interface Parsed<O extends Record<string, OptionSpec>> {
  readonly values: { -readonly [K in keyof O]?: OptionValue<O[K]> };
  readonly positionals: string[];
}

/** Parses argv for a subcommand; throws UsageError saying what is wrong with it. */
export function parse<const O extends Record<string, OptionSpec>>(argv: string[], options: O): Parsed<O> {
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(options)) if (spec.short !== undefined) byShort.set(spec.short, name);
  const set = (name: string, value: string | boolean) => {
    if (options[name]!.multiple === true) ((values[name] ??= []) as (string | boolean)[]).push(value);
    else values[name] = value;
  };
  const label = (name: string) => (options[name]!.short !== undefined ? `-${options[name]!.short}, --${name}` : `--${name}`);
  /** The value after option `name`: the next argument, unless it looks like an option itself. */
  const next = (name: string, i: number): string => {
    const v = argv[i];
    if (v === undefined) throw new UsageError(`Option "${label(name)}" needs a value`);
    if (v.startsWith("-") && v !== "-") throw new UsageError(`Option "${label(name)}" needs a value: to give one that starts with "-", write --${name}=${v}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = Object.hasOwn(options, name) ? options[name]! : undefined;
      if (spec === undefined) throw new UsageError(`Unknown option "--${name}"`);
      if (spec.type === "boolean") {
        if (eq >= 0) throw new UsageError(`Option "${label(name)}" takes no value`);
        set(name, true);
      } else set(name, eq >= 0 ? arg.slice(eq + 1) : next(name, ++i));
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      // `-i DIR`, `-iDIR`, or a group of short booleans `-ab`.
      for (let j = 1; j < arg.length; j++) {
        const name = byShort.get(arg[j]!);
        if (name === undefined) throw new UsageError(`Unknown option "-${arg[j]}"`);
        if (options[name]!.type === "boolean") {
          set(name, true);
          continue;
        }
        set(name, j + 1 < arg.length ? arg.slice(j + 1) : next(name, ++i));
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { values: values as Parsed<O>["values"], positionals };
}

/** Reads a non-negative integer option. */
export function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`Invalid value for ${name}: expected a positive integer, got "${value}"`);
  return n;
}

/** Refuses any option or argument, for commands that take none (`sup version`, `sup help`). */
export function noArguments(argv: string[], command: string): void {
  const { positionals } = parse(argv, {});
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}": "sup ${command}" takes no arguments`);
}

/** Refuses positional arguments past the first `max` (their count, in the usage text's terms). */
export function atMostPositionals(positionals: readonly string[], max: number, usage: string): void {
  if (positionals.length > max) throw new UsageError(`Unexpected argument "${positionals[max]}"\n${usage}`);
}
