import { describe, expect, test } from "bun:test";
import { SlpException, List, NONE, Real, Wrap, str, sym, T_PAREN, T_SOME, type Value } from "sup/kernel";
import { fakeContext } from "../../test/support/fake-context.ts";
import ioKernel, { formatPut } from "./mod.ts";

const call = (...items: Value[]) => new List(T_PAREN, items);
const put = ioKernel.create().functions["put"]!;

describe("io/put", () => {
  // Every row of the spec §6 example table.
  const rows: [string, Value[], string, number][] = [
    ["n=%d s=%s\n", [5, str("ok")], "n=5 s=ok\n", 9],
    ["%d|%s\n", [str("x"), 1], "%d|x\n", 5],
    ["r=%f\n", [new Real(2.5)], "r=2.500000\n", 11],
    ["%f\n", [3], "%f\n", 3],
    ["100%\n", [], "100%\n", 5],
    ["a%sb\n", [str("x\0y")], "ax", 6],
  ];
  for (const [fmt, args, printed, result] of rows) {
    test(`table row ${JSON.stringify(fmt)}`, () => {
      const f = fakeContext();
      expect(put(f.cx, [str(fmt), ...args])).toBe(result);
      expect(f.printed()).toBe(printed);
    });
  }

  test("no format → -1, nothing printed", () => {
    const f = fakeContext();
    expect(put(f.cx, [])).toBe(-1);
    expect(f.printed()).toBe("");
  });

  test("format not a string → -1, later arguments not evaluated", () => {
    const f = fakeContext();
    expect(put(f.cx, [5, call(sym("trace"), 1)])).toBe(-1);
    expect(put(f.cx, [sym("fmt")])).toBe(-1);
    expect(f.trace).toEqual([]);
    expect(f.printed()).toBe("");
  });

  test("format is evaluated (a bound symbol)", () => {
    const f = fakeContext({ vars: new Map([[sym("fmt"), str("v=%d\n")]]) });
    expect(put(f.cx, [sym("fmt"), 7])).toBe(4);
    expect(f.printed()).toBe("v=7\n");
  });

  test("all arguments are evaluated left to right before formatting, even unused ones", () => {
    const f = fakeContext();
    expect(put(f.cx, [str("x\n"), call(sym("trace"), 1), call(sym("trace"), str("a"))])).toBe(2);
    expect(f.trace).toEqual([1, str("a")]);
  });

  test("an exception while evaluating an argument prints nothing", () => {
    const f = fakeContext();
    expect(() => put(f.cx, [str("a %d"), call(sym("boom"))])).toThrow(SlpException);
    expect(f.printed()).toBe("");
  });

  test("no %% escape", () => {
    expect(formatPut("%%", [])).toBe("%%");
    expect(formatPut("%%d", [5])).toBe("%5");
    expect(formatPut("%%", [5])).toBe("%%");
  });

  test("a non-matching argument is kept for the next directive", () => {
    expect(formatPut("%s %d", [5])).toBe("%s 5");
    expect(formatPut("%x%d", [5])).toBe("%x5");
    expect(formatPut("%d %d", [1])).toBe("1 %d");
    expect(formatPut("%", [1])).toBe("%");
    expect(formatPut("ab%", [])).toBe("ab%");
  });

  test("no width, precision or other specifiers", () => {
    expect(formatPut("%5d", [5])).toBe("%5d");
    expect(formatPut("%i %u %c", [1, 2, 3])).toBe("%i %u %c");
    expect(formatPut("{} {}", [1])).toBe("{} {}");
  });

  test("%d prints the full int64 range", () => {
    expect(formatPut("%d %d", [-9223372036854775808n, 9223372036854775807n])).toBe("-9223372036854775808 9223372036854775807");
    expect(formatPut("%d", [-42])).toBe("-42");
  });

  test("%f uses FIXED6 (ties to even, negative zero, no exponent)", () => {
    expect(formatPut("%f", [new Real(0.0078125)])).toBe("0.007812");
    expect(formatPut("%f", [new Real(-0)])).toBe("-0.000000");
    expect(formatPut("%f", [new Real(1e22)])).toBe("10000000000000000000000.000000");
    expect(formatPut("%f", [new Real(-1e-7)])).toBe("-0.000000");
  });

  test("%d does not take a real, %f does not take an int, %s does not take a symbol", () => {
    expect(formatPut("%d", [new Real(1)])).toBe("%d");
    expect(formatPut("%s", [sym("x")])).toBe("%s");
    expect(formatPut("%s", [NONE])).toBe("%s");
  });

  test("%s inserts raw bytes, including high bytes", () => {
    const f = fakeContext();
    expect(put(f.cx, [str("[%s]"), str("\xff\x01\xe9")])).toBe(5);
    expect(f.printed()).toBe("[\xff\x01\xe9]");
  });

  test("NUL in the format stops printing but counts", () => {
    const f = fakeContext();
    expect(put(f.cx, [str("\0abc")])).toBe(4);
    expect(f.out).toEqual([]);
  });

  test("instances are independent and stateless", () => {
    expect(ioKernel.create()).not.toBe(ioKernel.create());
    expect(Object.keys(ioKernel.create().functions)).toEqual(["put"]);
  });

  test("a string value passed through a quote is accepted by %s", () => {
    const f = fakeContext();
    expect(put(f.cx, [str("%s"), new Wrap(T_SOME, str("q"))])).toBe(1);
    expect(f.printed()).toBe("q");
  });
});
