import { describe, expect, test } from "bun:test";
import { parse, UsageError } from "./args.ts";

const OPTIONS = {
  include: { type: "string", short: "i", multiple: true },
  "working-dir": { type: "string", short: "w" },
  "no-check": { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  data: { type: "string" },
} as const;

function error(argv: string[]): string {
  try {
    parse(argv, OPTIONS);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as UsageError).message;
  }
  throw new Error(`no error for ${JSON.stringify(argv)}`);
}

describe("parse", () => {
  test("long options with separate or attached values, booleans, positionals in any order", () => {
    const r = parse(["run", "--data", "d1", "x.sxs", "--no-check", "--data=d2", "--working-dir=/w"], OPTIONS);
    expect(r.values).toEqual({ data: "d2", "no-check": true, "working-dir": "/w" });
    expect(r.positionals).toEqual(["run", "x.sxs"]);
  });

  test("short options: separate value, attached value, grouped booleans, repeated into arrays", () => {
    const r = parse(["-i", "a", "-ib", "--include=c", "-qv", "-w", "/w"], OPTIONS);
    expect(r.values).toEqual({ include: ["a", "b", "c"], quiet: true, verbose: true, "working-dir": "/w" });
  });

  test("a boolean group may end with a string option taking the rest or the next argument", () => {
    expect(parse(["-qix"], OPTIONS).values).toEqual({ quiet: true, include: ["x"] });
    expect(parse(["-qi", "y"], OPTIONS).values).toEqual({ quiet: true, include: ["y"] });
  });

  test("`--` ends options and `-` alone is a positional", () => {
    expect(parse(["-", "--", "--data", "-i"], OPTIONS)).toEqual({ values: {}, positionals: ["-", "--data", "-i"] });
  });

  test("a value may be `-`, or start with a dash when attached with =", () => {
    expect(parse(["--data", "-"], OPTIONS).values).toEqual({ data: "-" });
    expect(parse(["--data=-x"], OPTIONS).values).toEqual({ data: "-x" });
  });

  test("no options at all", () => {
    expect(parse([], OPTIONS)).toEqual({ values: {}, positionals: [] });
  });

  test("mistakes are usage errors that say what is wrong", () => {
    expect(error(["--frob"])).toBe('Unknown option "--frob"');
    expect(error(["-x"])).toBe('Unknown option "-x"');
    expect(error(["--constructor"])).toBe('Unknown option "--constructor"');
    expect(error(["--data"])).toBe('Option "--data" needs a value');
    expect(error(["-i"])).toBe('Option "-i, --include" needs a value');
    expect(error(["--data", "--no-check"])).toBe('Option "--data" needs a value: to give one that starts with "-", write --data=--no-check');
    expect(error(["--no-check=yes"])).toBe('Option "--no-check" takes no value');
  });
});
