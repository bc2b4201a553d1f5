import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dlopen, ptr } from "bun:ffi";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode, encode } from "../lang/codec.ts";
import { SlpException } from "../lang/errors.ts";
import type { CallContext } from "../lang/host.ts";
import { parseManifest } from "../lang/manifest.ts";
import { realThroughText, sourceForm } from "../lang/printer.ts";
import { read } from "../lang/reader.ts";
import { List, NONE, Real, Str, Sym, sym, T_BRACE, T_BRACKET, T_PAREN, type Value } from "../lang/value.ts";
import { fakeContext } from "../../test/support/fake-context.ts";
import { NativeBuildError, type CompilerChoice } from "./native-build.ts";
import { loadNativeKernel, NativeKernelError, type NativeKernel } from "./native-kernel.ts";

const KERNELS_DIR = join(import.meta.dir, "../../kernels");
/** Tests of the cache and of the C decoder need a library file, so a system C compiler. */
const HAS_SYSTEM_CC = ["cc", "gcc", "clang"].some((c) => Bun.which(c) !== null);
let cacheDir = "";
let scratch = "";

beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), "sup-native-cache-"));
  scratch = mkdtempSync(join(tmpdir(), "sup-native-test-"));
});
afterAll(() => {
  for (const k of loaded) k.unload();
  rmSync(cacheDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const loaded: NativeKernel[] = [];

/** Loads the kernel in `dir` through the real build and bun:ffi path. */
function load(dir: string, compiler: CompilerChoice = "auto", workingDir = "/"): NativeKernel {
  const parsed = parseManifest(readFileSync(join(dir, "kernel.sxs"), "latin1"), "strict");
  if (!parsed.ok) throw new Error(parsed.error);
  const k = loadNativeKernel(dir, parsed.manifest, { workingDir }, { compiler, cacheDir });
  loaded.push(k);
  return k;
}

/** Calls `fn` of kernel `k` with the argument source `src` (unevaluated, as the evaluator would). */
function callRaw(k: NativeKernel, fn: string, src: string, cx: CallContext = fakeContext().cx): Value {
  const parsed = read(`(${src})`);
  if (!(parsed.value instanceof List)) throw new Error(`bad test source: ${src}`);
  const f = k.functions.get(fn);
  if (f === undefined) throw new Error(`no function ${fn}`);
  return f(cx, parsed.value.items);
}

/** The result of a call in source form: `0` and `0.0` differ, strings are escaped. */
const show = (k: NativeKernel, fn: string, src: string, cx?: CallContext): string => sourceForm(callRaw(k, fn, src, cx));

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Every row: function, argument source, expected result in source form. */
const ALU_ROWS: [string, string, string][] = [
  ["mul", "6 7", "42"],
  ["div", "9 0", "0"],
  ["sub_r", "1.5 0.25", "1.25"],
  ["add", "9223372036854775807 1", "-9223372036854775808"],
  ["sub", "-9223372036854775808 1", "9223372036854775807"],
  ["mul", "4611686018427387904 2", "-9223372036854775808"],
  ["mul", "-3 7", "-21"],
  ["add", "9007199254740991 1", "9007199254740992"],
  ["sub", "9007199254740993 2", "9007199254740991"],
  ["div", "-7 2", "-3"],
  ["div", "7 -2", "-3"],
  ["mod", "-7 3", "-1"],
  ["mod", "7 -3", "1"],
  ["mod", "5 0", "0"],
  ["div", "-9223372036854775808 -1", "-9223372036854775808"],
  ["mod", "-9223372036854775808 -1", "0"],
  ["div", "-9223372036854775808 1", "-9223372036854775808"],
  ["add_r", "0.1 0.2", "0.3"],
  ["div_r", "1.0 3.0", "0.333333"],
  ["div_r", "2.0 0.0", "0.0"],
  ["div_r", "2.0 -0.0", "0.0"],
  ["mul_r", "1e308 10.0", "inf"],
  ["mul_r", "-1e308 10.0", "-inf"],
  ["add_r", "0.0078125 0.0", "0.007812"],
  ["add_r", "-0.0000001 0.0", "-0.0"],
  ["add_r", "1e22 0.0", "1e+22"],
  ["mul_r", "3.14159265 1.0", "3.141593"],
  ["eq", "3 3", "1"],
  ["eq", "3 4", "0"],
  ["eq", "-9223372036854775808 -9223372036854775808", "1"],
  ["eq_r", "0.1 0.1", "1"],
  ["eq_r", "0.30000001 0.3", "0"],
  // Fewer than 2 arguments: 0 or 0.0.
  ["add", "1", "0"],
  ["add", "", "0"],
  ["div", "1", "0"],
  ["eq", "1", "0"],
  ["eq_r", "1.0", "0"],
  ["add_r", "1.0", "0.0"],
  ["div_r", "", "0.0"],
  // Wrong types count as 0 / 0.0.
  ["add", "1.5 2", "2"],
  ["add", '"x" 2', "2"],
  ["add_r", "1 2.5", "2.5"],
  ["eq_r", "1 0.0", "1"],
];

/** The alu table, shared by the system-compiler and TinyCC builds. */
function aluSuite(compiler: CompilerChoice) {
  let alu: NativeKernel;
  beforeAll(() => {
    alu = load(join(KERNELS_DIR, "alu"), compiler);
  });

  for (const [fn, args, want] of ALU_ROWS) {
    test(`(alu/${fn} ${args}) → ${want}`, () => {
      expect(show(alu, fn, args)).toBe(want);
    });
  }

  test("integers keep the number/bigint split of value.ts", () => {
    expect(callRaw(alu, "add", "9007199254740991 0")).toBe(9007199254740991);
    expect(callRaw(alu, "add", "9007199254740992 0")).toBe(9007199254740992n);
    expect(callRaw(alu, "sub", "0 9223372036854775807")).toBe(-INT64_MAX);
    expect(alu.functions.get("add")!(fakeContext().cx, [INT64_MAX, INT64_MIN])).toBe(-1);
  });

  test("both arguments are evaluated, a then b; extra ones never", () => {
    const f = fakeContext();
    expect(callRaw(alu, "sub", "(trace 10) (trace 3) (trace 99)", f.cx)).toBe(7);
    expect(f.trace).toEqual([10, 3]);
  });

  test("with too few arguments nothing is evaluated (the count is checked first)", () => {
    const f = fakeContext();
    expect(callRaw(alu, "add", "(trace 1)", f.cx)).toBe(0);
    expect(f.trace).toEqual([]);
  });

  test("bound symbols are evaluated", () => {
    const f = fakeContext({ vars: new Map<Sym, Value>([[sym("x"), 40]]) });
    expect(callRaw(alu, "add", "x 2", f.cx)).toBe(42);
  });

  test("an exception while evaluating an argument propagates", () => {
    const f = fakeContext();
    expect(() => callRaw(alu, "add", "(boom) 1", f.cx)).toThrow(f.boom);
  });

  test("real results equal the FIXED6 text round trip for many magnitudes", () => {
    const addR = alu.functions.get("add_r")!;
    const cx = fakeContext().cx;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 20000; i++) {
      const mag = Math.floor(rand() * 40) - 20;
      let x = (rand() - 0.5) * 10 ** mag;
      if (i % 7 === 0) x = Math.round(x * 1e7) / 1e7 + 5e-7; // near the rounding boundary
      if (i % 11 === 0) x = (Math.floor(rand() * 2 ** 20) + 0.5) / 2 ** 7; // exact binary ties
      if (x === 0) continue;
      expect(sourceForm(addR(cx, [new Real(x), new Real(0)]))).toBe(sourceForm(realThroughText(x)));
    }
  });
}

describe("alu (system compiler)", () => aluSuite("auto"));
describe("alu (TinyCC fallback)", () => aluSuite("tinycc"));

describe("random", () => {
  let rnd: NativeKernel;
  beforeAll(() => {
    rnd = load(join(KERNELS_DIR, "random"));
  });
  const POOL_ALL = "0123456789~!@#$%^&*()_+`-=<>,./?\"';:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const POOL_ALPHA = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

  test("int_range stays within bounds and reaches every value", () => {
    const seen = new Set<Value>();
    for (let i = 0; i < 3000; i++) {
      const v = callRaw(rnd, "int_range", "1 6");
      expect(typeof v).toBe("number");
      expect(v as number).toBeGreaterThanOrEqual(1);
      expect(v as number).toBeLessThanOrEqual(6);
      seen.add(v);
    }
    expect(seen.size).toBe(6);
  });

  test("int_range covers the full int64 range and handles equal bounds", () => {
    for (let i = 0; i < 200; i++) {
      const v = callRaw(rnd, "int_range", "-9223372036854775808 9223372036854775807");
      expect(typeof v === "number" || typeof v === "bigint").toBe(true);
      expect(BigInt(v as number | bigint) >= INT64_MIN && BigInt(v as number | bigint) <= INT64_MAX).toBe(true);
    }
    expect(callRaw(rnd, "int_range", "5 5")).toBe(5);
    expect(callRaw(rnd, "int_range", "9223372036854775807 9223372036854775807")).toBe(INT64_MAX);
  });

  test("int_range with min > max swaps the bounds (documented sup choice)", () => {
    for (let i = 0; i < 500; i++) {
      const v = callRaw(rnd, "int_range", "10 1") as number;
      expect(v >= 1 && v <= 10).toBe(true);
    }
  });

  test("real_range: in [min, max], six decimals, min = max gives min", () => {
    for (let i = 0; i < 2000; i++) {
      const v = callRaw(rnd, "real_range", "1.0 2.0");
      expect(v).toBeInstanceOf(Real);
      const x = (v as Real).v;
      expect(x >= 1 && x <= 2).toBe(true);
      expect(sourceForm(realThroughText(x))).toBe(sourceForm(v));
    }
    expect(show(rnd, "real_range", "1.5 1.5")).toBe("1.5");
  });

  test("string: every byte from the 88-byte pool, and every pool byte appears", () => {
    expect(POOL_ALL.length).toBe(88);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const v = callRaw(rnd, "string", "1000");
      expect(v).toBeInstanceOf(Str);
      const s = (v as Str).s;
      expect(s.length).toBe(1000);
      for (const c of s) {
        expect(POOL_ALL.includes(c)).toBe(true);
        seen.add(c);
      }
    }
    expect(seen.size).toBe(88);
    expect(show(rnd, "string", "0")).toBe('""');
  });

  test("string_alpha: every byte from the 62-byte pool, and every pool byte appears", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const s = (callRaw(rnd, "string_alpha", "1000") as Str).s;
      expect(s.length).toBe(1000);
      for (const c of s) {
        expect(POOL_ALPHA.includes(c)).toBe(true);
        seen.add(c);
      }
    }
    expect(seen.size).toBe(62);
  });

  const failures: [string, string][] = [
    ["int_range", "1"],
    ["int_range", ""],
    ["int_range", "1.0 2"],
    ["int_range", '1 "2"'],
    ["real_range", "1.0"],
    ["real_range", "1 2"],
    ["real_range", "1.0 2"],
    ["string", "-1"],
    ["string", "1.5"],
    ["string", ""],
    ["string_alpha", "-1"],
    ["string_alpha", "x"],
  ];
  for (const [fn, args] of failures) {
    test(`(random/${fn} ${args}) → the integer -1`, () => {
      expect(callRaw(rnd, fn, args)).toBe(-1);
    });
  }

  test("a string longer than the limit raises instead of exhausting memory", () => {
    expect(() => callRaw(rnd, "string", "100000000000")).toThrow(SlpException);
  });
});

describe("forge", () => {
  let forge: NativeKernel;
  beforeAll(() => {
    forge = load(join(KERNELS_DIR, "forge"));
  });

  test("an argument larger than the codec's kept buffer reaches C intact (regression)", () => {
    // 400,000 ints encode to more than 1 MiB, past the size at which the codec swaps in a fresh
    // buffer; the call must still pass the bytes it encoded.
    const big = new List(T_BRACE, Array.from({ length: 400_000 }, (_, i) => i));
    const { cx } = fakeContext({ vars: new Map([[sym("big"), big]]) });
    expect(forge.functions.get("count")!(cx, [sym("big")])).toBe(400_000);
    expect(forge.functions.get("count")!(cx, [sym("big")])).toBe(400_000);
  });

  const ROWS: [string, string, string][] = [
    // Spec examples.
    ["lsh", "'(1 2 3) 4", "(2 3)"],
    ["rev", "'(1 (2 3))", "(() 1)"],
    ["resize", '"ab" 3 "z"', '"zzz"'],
    ["rev", '"abc"', '""'],
    ["pb", '"abc" "d"', '"d"'],
    ["rotr", "'(1 2 3 4) 1", "(4 1 2 3)"],
    ["rotl", "'(1 2 3 4) 1", "(2 3 4 1)"],
    ["count", "{}", "0"],
    ["drop_period", "'(a b c d e) 1 2", "(a c e)"],
    ["from_bits", "{1 0 1}", "5"],
    // resize
    ["resize", "'(1 2 3) 2 0", "(1 2)"],
    ["resize", "'(1 2) 4 0", "(1 2 0 0)"],
    ["resize", "{a b} 3 x", "{a b x}"],
    ["resize", "'(1 2) -1 0", "()"],
    ["resize", "'(1 2) 1.5 0", "()"],
    ["resize", "'(1) 2 '(9)", "(1 ())"],
    ["resize", "7 2 0", "(7 0)"],
    // pf / pb
    ["pf", "'(1 2) 0", "(0 1 2)"],
    ["pb", "'(1 2) 0", "(1 2 0)"],
    ["pf", '"abc" 65', '"A"'],
    ["pb", "{1} 2.5", "{1 2.5}"],
    ["pb", "[1 2] 3", "(2 3)"],
    ["pb", '"" abc', '"abc"'],
    ["pf", "x 1", "(1 x)"],
    // rf / rb
    ["rf", "'(1 2 3)", "(2 3)"],
    ["rb", "'(1 2 3)", "(1 2)"],
    ["rf", "'()", "()"],
    ["rb", "{}", "{}"],
    ["rf", '"abc"', '""'],
    ["rb", "5", "()"],
    // lsh / rsh
    ["lsh", "'(1 2 3) 3", "(1 2 3)"],
    ["lsh", "'(1 2 3) 0", "(1 2 3)"],
    ["lsh", "'(1 (2 3)) 0", "(1 (2 3))"],
    ["lsh", "'(1 (2 3)) 2", "(1 ())"],
    ["lsh", "'(1 2) x", "()"],
    ["lsh", "5 -1", "5"],
    ["lsh", '"ab" -3', '"ab"'],
    ["lsh", "5 1", "(5)"],
    ["lsh", "{} 1", "{}"],
    ["rsh", "'(1 2 3) 1", "(1 2)"],
    ["rsh", "'(1 2 3) 5", "(1)"],
    ["rsh", "{1 2 3} 0", "{1 2 3}"],
    // rotr / rotl
    ["rotr", "'(1 2 3 4) 5", "(4 1 2 3)"],
    ["rotl", "'(1 2 3 4) 5", "(2 3 4 1)"],
    ["rotr", "'(1 2 3 4) 4", "(1 2 3 4)"],
    ["rotr", "'(1) 3", "(1)"],
    ["rotr", "'(1 (2)) 0", "(1 (2))"],
    ["rotl", "'(1 2) 1.0", "()"],
    // rev
    ["rev", '{1 2.5 x "s"}', '{"s" x 2.5 1}'],
    ["rev", "'(1.23456789)", "(1.234568)"],
    ["rev", "'(@x 1 #y)", "(() 1 ())"],
    ["rev", "x", "(x)"],
    // count
    ["count", '"abc"', "3"],
    ["count", "'(1 2)", "2"],
    ["count", "x", "1"],
    ["count", "[]", "1"],
    ["count", "[1 2]", "1"],
    // concat
    ["concat", "'(1) '(2 3)", "(1 2 3)"],
    ["concat", "'(1) \"ab\"", "(1)"],
    ["concat", "'(1) 5", "(1 5)"],
    ["concat", "\"ab\" '(65 66)", '"AB"'],
    ["concat", "{a} '(b)", "{a b}"],
    ["concat", "5 6", "(5 6)"],
    // replace
    ["replace", "'(1 2 1) 1 9", "(9 2 9)"],
    ['replace', "'(a \"a\" 1.5) \"a\" x", "(a x 1.5)"],
    ["replace", "'(a 1.5) 1.5 y", "(a y)"],
    ["replace", "'((1) 2) '(1) 0", "(() 2)"],
    ["replace", "'(1 2) 1.0 0", "(1 2)"],
    // drop_match
    ["drop_match", "'(1 2 1) 1", "(2)"],
    ["drop_match", "{a b a} a", "{b}"],
    // drop_period
    ["drop_period", "'(a b c d e) -1 2", "(a c e)"],
    ["drop_period", "'(a b c d e) -2 2", "(b d)"],
    ["drop_period", "'(a b c d e) 0 1", "()"],
    ["drop_period", "'(a (b)) 0 0", "(a (b))"],
    ["drop_period", "'(a b) x 1", "()"],
    ["drop_period", "'(a b) 0 1.0", "()"],
    ["drop_period", "'(a b c) -9223372036854775808 2", "(b)"],
    // bits
    ["to_bits", "1.5", "{}"],
    ["to_bits_r", "1", "{}"],
    ["from_bits", '"abc"', "0"],
    ["from_bits", "7", "0"],
    ["from_bits", "{1 0 1.5 x 1}", "17"],
    ["from_bits", "[1 0]", "0"],
    ["from_bits_r", '"x"', "0.0"],
    ["from_bits_r", "{1}", "0.0"],
    // Missing arguments: documented fallbacks.
    ["resize", "'(1) 2", "()"],
    ["pf", "'(1)", "()"],
    ["pb", "", "()"],
    ["rf", "", "()"],
    ["rb", "", "()"],
    ["lsh", "'(1)", "()"],
    ["rsh", "'(1)", "()"],
    ["rotr", "'(1)", "()"],
    ["rotl", "'(1)", "()"],
    ["rev", "", "()"],
    ["count", "", "0"],
    ["concat", "'(1)", "()"],
    ["replace", "'(1) 1", "()"],
    ["drop_match", "'(1)", "()"],
    ["drop_period", "'(1) 0", "()"],
    ["to_bits", "", "{}"],
    ["to_bits_r", "", "{}"],
    ["from_bits", "", "0"],
    ["from_bits_r", "", "0.0"],
  ];
  for (const [fn, args, want] of ROWS) {
    test(`(forge/${fn} ${args}) → ${want}`, () => {
      expect(show(forge, fn, args)).toBe(want);
    });
  }

  test("to_bits gives 64 bits, most significant first", () => {
    expect(show(forge, "to_bits", "5")).toBe(`{${"0 ".repeat(61)}1 0 1}`);
    expect(show(forge, "to_bits", "-1")).toBe(`{${Array(64).fill(1).join(" ")}}`);
    expect(show(forge, "to_bits_r", "1.0")).toBe(`{0 0 ${"1 ".repeat(10)}${Array(52).fill(0).join(" ")}}`);
  });

  test("from_bits and to_bits round trip the whole int64 range", () => {
    const toBits = forge.functions.get("to_bits")!;
    const fromBits = forge.functions.get("from_bits")!;
    const cx = fakeContext().cx;
    for (const v of [0, 1, -1, 5, 4294967296, -9007199254740991, 9007199254740993n, INT64_MAX, INT64_MIN]) {
      expect(fromBits(cx, [toBits(cx, [v])])).toBe(v);
    }
    expect(show(forge, "from_bits", "(forge/to_bits -1)", evaluatorCalling(forge))).toBe("-1");
  });

  test("from_bits_r rounds through FIXED6; non-finite values become symbols", () => {
    const cx = evaluatorCalling(forge);
    expect(show(forge, "from_bits_r", "(forge/to_bits_r 3.14159265)", cx)).toBe("3.141593");
    expect(show(forge, "from_bits_r", "(forge/to_bits_r -0.0)", cx)).toBe("-0.0");
    expect(show(forge, "from_bits_r", `{0 ${"1 ".repeat(11)}${"0 ".repeat(52)}}`)).toBe("inf");
    expect(show(forge, "from_bits_r", `{1 ${"1 ".repeat(11)}${"0 ".repeat(52)}}`)).toBe("-inf");
  });

  test("from_bits evaluates each item (symbols bound to integers count)", () => {
    const f = fakeContext({ vars: new Map<Sym, Value>([[sym("one"), 1]]) });
    expect(callRaw(forge, "from_bits", "{one 0}", f.cx)).toBe(2);
    expect(callRaw(forge, "from_bits", "'((trace 1) (trace 1))", f.cx)).toBe(3);
    expect(f.trace).toEqual([1, 1]);
  });

  test("from_bits evaluates only the first 64 items; item j sets bit count - 1 - j, and bits 64 and up set nothing", () => {
    const zeros = (n: number) => Array(n).fill(0).join(" ");
    expect(callRaw(forge, "from_bits", `{${zeros(64)} 1}`)).toBe(0);
    expect(callRaw(forge, "from_bits", `{1 ${zeros(63)} 1}`)).toBe(0);
    expect(callRaw(forge, "from_bits", `{0 1 ${zeros(63)}}`)).toBe(INT64_MIN);
    expect(callRaw(forge, "from_bits", `{${Array(70).fill(1).join(" ")}}`)).toBe(-64);
    expect(callRaw(forge, "from_bits", `{${Array(200).fill(1).join(" ")}}`)).toBe(0);
    const f = fakeContext();
    // Items 0 and 1 (bits 65 and 64) set nothing, items 2..63 (all nonzero) set bits 63..2.
    expect(callRaw(forge, "from_bits", `{${Array.from({ length: 66 }, (_, i) => `(trace ${i})`).join(" ")}}`, f.cx)).toBe(-4);
    expect(f.trace).toEqual(Array.from({ length: 64 }, (_, i) => i));
  });

  test("drop_match evaluates each item and keeps the evaluated value", () => {
    const f = fakeContext({ vars: new Map<Sym, Value>([[sym("y"), 1]]) });
    expect(show(forge, "drop_match", "'(y 2) 1", f.cx)).toBe("(2)");
    expect(show(forge, "drop_match", "'(y 3) 2", f.cx)).toBe("(1 3)");
    expect(show(forge, "drop_match", "'((trace 7) 8) 0", f.cx)).toBe("(7 8)");
    expect(f.trace).toEqual([7]);
  });

  test("upcast evaluates a non-list target a second time", () => {
    const f = fakeContext({
      vars: new Map<Sym, Value>([
        [sym("a"), sym("b")],
        [sym("b"), 42],
      ]),
    });
    expect(show(forge, "rev", "a", f.cx)).toBe("(42)");
    expect(show(forge, "concat", "'(1) a", f.cx)).toBe("(1 42)");
    expect(show(forge, "lsh", "a 0", f.cx)).toBe("b");
  });

  test("all arguments are evaluated, target first; none when too few are written", () => {
    const f = fakeContext();
    expect(show(forge, "pb", "(trace '(1)) (trace 2)", f.cx)).toBe("(1 2)");
    expect(f.trace.map(sourceForm)).toEqual(["(1)", "2"]);
    const g = fakeContext();
    expect(show(forge, "replace", "(trace '(1)) (trace 1)", g.cx)).toBe("()");
    expect(g.trace).toEqual([]);
  });

  test("TEXT-FORM rebuild: an unescaped quote or backslash re-parses the list", () => {
    const quoted = callRaw(forge, "rev", "'(\"a\\\"b\" 1)") as List;
    expect(quoted.items).toEqual([1, new Str("a"), sym('b"')]);
    const backslash = callRaw(forge, "rev", "'(\"a\\\\nb\")") as List;
    expect(backslash.items).toEqual([new Str("a\nb")]);
    expect(show(forge, "rev", "'(\"a\\\"\")")).toBe("()");
  });

  test("string results are built from bytes and cut at the first NUL", () => {
    expect(show(forge, "concat", "\"x\" '(65 0 66)")).toBe('"A"');
    expect(show(forge, "concat", "\"\" '(\"ab\\0cd\" 67)")).toBe('"ab"');
    expect(show(forge, "concat", "\"\" '(321 x 1.5 (1))")).toBe('"Ax"');
  });

  test("resize beyond the limit raises instead of exhausting memory", () => {
    expect(() => callRaw(forge, "resize", "'() 1000000000000 0")).toThrow(SlpException);
  });

  test("an exception while evaluating an item propagates unchanged", () => {
    const f = fakeContext();
    expect(() => callRaw(forge, "drop_match", "'((boom) 1) 1", f.cx)).toThrow(f.boom);
    expect(() => callRaw(forge, "pf", "(boom) 1", f.cx)).toThrow(f.boom);
  });
});

/** A context whose evaluator also runs `(forge/<fn> …)` calls through the loaded kernel. */
function evaluatorCalling(k: NativeKernel): CallContext {
  const base = fakeContext().cx;
  const cx: CallContext = {
    workingDir: "/",
    write: () => {},
    scope: null,
    remainingMs: () => Infinity,
    eval(e: Value): Value {
      if (e instanceof List && e.t === T_PAREN && e.items[0] instanceof Sym && e.items[0].name.startsWith("forge/")) {
        return k.functions.get(e.items[0].name.slice("forge/".length))!(cx, e.items.slice(1));
      }
      return base.eval(e);
    },
  };
  return cx;
}

// ---------------------------------------------------------------------------------------------
// The loader: conventions, registration checks, failures, cache, unload.

const PROBE_C = `
#include "sup_kernel.h"
#include "sup_value.h"
#include <stdio.h>
#include <string.h>
static const sup_api *g;
/* (wd): the working directory from the API table. */
static const uint8_t *probe_wd(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_builder b; sv_builder_init(&b);
    sv_put_string(&b, (const uint8_t *)g->working_dir, strlen(g->working_dir));
    return sv_return(&b, g, ctx);
}
/* (ev x): raw convention; evaluates its first argument expression itself. */
static const uint8_t *probe_ev(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[1], v;
    if (sv_args(g, ctx, args, len, a, 1) < 1) { sv_raise(g, ctx, "ev needs an argument"); return NULL; }
    if (sv_eval(g, ctx, &a[0], &v) != 0) return NULL;
    sv_builder b; sv_builder_init(&b); sv_put_value(&b, &v);
    return sv_return(&b, g, ctx);
}
static const uint8_t *probe_fail(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_raise(g, ctx, "probe failed on purpose");
    return NULL;
}
static int64_t probe_scalar_raise(int32_t argc, int64_t a) {
    if (a < 0) g->raise(NULL, "negative", 8);
    return a * 2;
}
static const uint8_t *probe_say(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    g->write(ctx, (const uint8_t *)"hi\\n", 3);
    sv_builder b; sv_builder_init(&b); sv_put_none(&b);
    return sv_return(&b, g, ctx);
}
static const uint8_t *probe_null(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) { return NULL; }
static const uint8_t *probe_garbage(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    static const uint8_t blob[16] = {3, 0, 0, 0, 0, 0, 0, 0, 0x53, 0x01, 0x02};
    return blob;
}
/* Registered but not declared in kernel.sxs: callable, raw arguments. */
static const uint8_t *probe_extra(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_builder b; sv_builder_init(&b); sv_put_int(&b, argc);
    return sv_return(&b, g, ctx);
}
int32_t kernel_init(const sup_api *api) {
    g = api;
    api->register_function(api->host, "wd", (sup_fn)probe_wd, SUP_CALL_VALUE);
    api->register_function(api->host, "ev", (sup_fn)probe_ev, SUP_CALL_VALUE);
    api->register_function(api->host, "fail", (sup_fn)probe_fail, SUP_CALL_VALUE);
    api->register_function(api->host, "double", (sup_fn)probe_scalar_raise, SUP_CALL_SCALAR);
    api->register_function(api->host, "say", (sup_fn)probe_say, SUP_CALL_VALUE);
    api->register_function(api->host, "null", (sup_fn)probe_null, SUP_CALL_VALUE);
    api->register_function(api->host, "garbage", (sup_fn)probe_garbage, SUP_CALL_VALUE);
    api->register_function(api->host, "extra", (sup_fn)probe_extra, SUP_CALL_VALUE);
    return 0;
}
void kernel_shutdown(const sup_api *api) {
    char path[4096];
    snprintf(path, sizeof path, "%s/shutdown-called", api->working_dir);
    FILE *f = fopen(path, "w");
    if (f != NULL) fclose(f);
    sv_release();
}
`;

const PROBE_SXS = `#(define-kernel probe "libkernel_probe.so" [
    (define-function wd () :str)
    (define-function ev (x :any) :any :raw)
    (define-function fail () :any)
    (define-function double (a :int) :int)
    (define-function say () :none)
    (define-function null () :any)
    (define-function garbage () :any)
])
`;

/** Writes a kernel directory under the scratch dir and returns its path. */
function kernelDir(name: string, files: Record<string, string>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

/** A copy of the alu kernel with another manifest. */
function aluWith(name: string, manifest: string): string {
  const dir = kernelDir(name, { "kernel.sxs": manifest });
  cpSync(join(KERNELS_DIR, "alu", "alu.c"), join(dir, "alu.c"));
  return dir;
}

for (const compiler of ["auto", "tinycc"] as const) {
  describe(`native kernel ABI (${compiler})`, () => {
    let probe: NativeKernel;
    let wd = "";
    beforeAll(() => {
      wd = mkdtempSync(join(scratch, "wd-"));
      probe = load(kernelDir(`probe-${compiler}`, { "probe.c": PROBE_C, "kernel.sxs": PROBE_SXS }), compiler, wd);
    });

    test("the working directory reaches the kernel", () => {
      expect(callRaw(probe, "wd", "")).toEqual(new Str(wd));
    });

    test(":raw passes unevaluated arguments; the kernel evaluates through the callback", () => {
      const f = fakeContext();
      expect(callRaw(probe, "ev", "(trace 3) (trace 4)", f.cx)).toBe(3);
      expect(f.trace).toEqual([3]);
    });

    test("an exception inside eval is rethrown as the same object", () => {
      const f = fakeContext();
      expect(() => callRaw(probe, "ev", "(boom)", f.cx)).toThrow(f.boom);
      // The frame stack is clean afterwards.
      expect(callRaw(probe, "ev", "7", f.cx)).toBe(7);
    });

    test("raise becomes a language exception", () => {
      expect(() => callRaw(probe, "fail", "")).toThrow(new SlpException("probe failed on purpose"));
      expect(callRaw(probe, "double", "21")).toBe(42);
      expect(() => callRaw(probe, "double", "-1")).toThrow(new SlpException("negative"));
      expect(callRaw(probe, "double", "1")).toBe(2);
    });

    test("write goes to the caller's output", () => {
      const f = fakeContext();
      expect(callRaw(probe, "say", "", f.cx)).toBe(NONE);
      expect(f.out.join("")).toBe("hi\n");
    });

    test("a NULL or malformed result is a language exception, not a crash", () => {
      expect(() => callRaw(probe, "null", "")).toThrow(SlpException);
      expect(() => callRaw(probe, "garbage", "")).toThrow(/malformed/);
    });

    test("registered but undeclared functions are callable with raw arguments", () => {
      const f = fakeContext();
      expect(callRaw(probe, "extra", "(trace 1) 2 3", f.cx)).toBe(3);
      expect(f.trace).toEqual([]);
    });

    test("unload calls kernel_shutdown once; later calls throw", () => {
      const k = load(kernelDir(`probe2-${compiler}`, { "probe.c": PROBE_C, "kernel.sxs": PROBE_SXS }), compiler, wd);
      k.unload();
      expect(existsSync(join(wd, "shutdown-called"))).toBe(true);
      rmSync(join(wd, "shutdown-called"));
      k.unload();
      expect(existsSync(join(wd, "shutdown-called"))).toBe(false);
      expect(() => callRaw(k, "wd", "")).toThrow(SlpException);
    });

    test("loading the same kernel twice shares one instance; the last unload shuts it down", () => {
      const dir = kernelDir(`probe3-${compiler}`, { "probe.c": PROBE_C, "kernel.sxs": PROBE_SXS });
      const a = load(dir, compiler, wd);
      const b = load(dir, compiler, wd);
      a.unload();
      expect(existsSync(join(wd, "shutdown-called"))).toBe(compiler === "tinycc");
      rmSync(join(wd, "shutdown-called"), { force: true });
      expect(callRaw(b, "double", "4")).toBe(8);
      b.unload();
      expect(existsSync(join(wd, "shutdown-called"))).toBe(true);
      rmSync(join(wd, "shutdown-called"));
    });

    test("a declared function the library does not register fails the load", () => {
      const dir = aluWith(
        `missing-${compiler}`,
        `#(define-kernel alu "libkernel_alu.so" [ (define-function add (a :int b :int) :int) (define-function nope (a :int) :int) ])`,
      );
      expect(() => load(dir, compiler)).toThrow("kernel.sxs declares function 'nope' but dylib did not register it");
    });

    test("a convention mismatch fails the load", () => {
      const dir = aluWith(`conv-${compiler}`, `#(define-kernel alu "libkernel_alu.so" [ (define-function add (a :int b :int) :int :value) ])`);
      expect(() => load(dir, compiler)).toThrow(NativeKernelError);
      expect(() => load(dir, compiler)).toThrow(/'add' with the value convention but dylib registered it as scalar/);
    });

    test("an unknown manifest attribute fails the load", () => {
      const dir = aluWith(`attr-${compiler}`, `#(define-kernel alu "libkernel_alu.so" [ (define-function add (a :int b :int) :int :fast) ])`);
      expect(() => load(dir, compiler)).toThrow(/unknown attribute :fast/);
    });

    test("a failing kernel_init fails the load", () => {
      const dir = kernelDir(`initfail-${compiler}`, {
        "k.c": `#include "sup_kernel.h"\nint32_t kernel_init(const sup_api *api) { api->raise(0, "no way", 6); return 3; }\n`,
        "kernel.sxs": `#(define-kernel k "libkernel_k.so" [])`,
      });
      expect(() => load(dir, compiler)).toThrow(/kernel_init of .* failed with status 3: no way/);
    });

    test("a compile error is a NativeBuildError with the compiler's file:line", () => {
      const dir = kernelDir(`broken-${compiler}`, {
        "broken.c": `#include "sup_kernel.h"\nint32_t kernel_init(const sup_api *api) {\n  return undefined_name;\n}\n`,
        "kernel.sxs": `#(define-kernel broken "libkernel_broken.so" [])`,
      });
      let err: unknown;
      try {
        load(dir, compiler);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NativeBuildError);
      expect(String((err as Error).message)).toMatch(/broken\.c:3/);
    });
  });
}

describe.skipIf(!HAS_SYSTEM_CC)("native build cache", () => {
  test("a second load reuses the cached library; a changed source builds a new one", () => {
    const dir = aluWith("cached", readFileSync(join(KERNELS_DIR, "alu", "kernel.sxs"), "latin1"));
    const first = load(dir, "system");
    const second = load(dir, "system");
    expect(second.origin).toBe(first.origin);
    expect(first.origin.startsWith(join(cacheDir, "kernels", "alu-"))).toBe(true);
    writeFileSync(join(dir, "alu.c"), readFileSync(join(dir, "alu.c"), "latin1") + "\n/* changed */\n");
    const third = load(dir, "system");
    expect(third.origin).not.toBe(first.origin);
    expect(callRaw(third, "add", "1 2")).toBe(3);
  });

  test("a failed build leaves nothing in the cache", () => {
    const dir = kernelDir("leaves-nothing", {
      "x.c": `#include "sup_kernel.h"\nint32_t kernel_init(const sup_api *api) { return nope; }\n`,
      "kernel.sxs": `#(define-kernel leaves "libkernel_leaves.so" [])`,
    });
    expect(() => load(dir, "system")).toThrow(NativeBuildError);
    const kernels = join(cacheDir, "kernels");
    for (const d of readdirSync(kernels).filter((d) => d.startsWith("leaves-"))) {
      expect(readdirSync(join(kernels, d))).toEqual([]);
    }
  });

  test("a directory without sources needs the library its manifest names", () => {
    const dir = kernelDir("prebuilt", { "kernel.sxs": `#(define-kernel p "libkernel_p.so" [])` });
    expect(() => load(dir)).toThrow(`Kernel dylib not found: ${join(dir, "libkernel_p.so")}`);
  });
});

// ---------------------------------------------------------------------------------------------
// The C decoder against hostile input: it must agree with src/lang/codec.ts on every buffer.

describe.skipIf(!HAS_SYSTEM_CC)("C codec decoder (sv_decode)", () => {
  let svDecode: (buf: Uint8Array, len: number) => { code: string; offset: number };
  let close = () => {};
  const NAMES = ["ok", "truncated", "bad-magic", "bad-version", "bad-tag", "bad-varint", "too-deep", "trailing-bytes", "bad-symbol", "bad-lambda-id", "no-memory"];

  beforeAll(() => {
    const k = load(join(KERNELS_DIR, "forge"), "system");
    const lib = dlopen(k.origin, { sv_decode: { args: ["ptr", "u64", "ptr", "ptr"], returns: "i32" } });
    close = () => lib.close();
    const root = new Uint8Array(128);
    const err = new BigUint64Array(2);
    svDecode = (buf, len) => {
      // An empty buffer still needs a valid pointer.
      const b = buf.length === 0 ? new Uint8Array(1) : buf;
      const code = lib.symbols.sv_decode(ptr(b), len, ptr(root), ptr(err));
      return { code: NAMES[code] ?? `code-${code}`, offset: code === 0 ? -1 : Number(err[1]) };
    };
  });
  afterAll(() => close());

  /** What the TypeScript decoder says about the same bytes. */
  const tsDecode = (b: Uint8Array) => {
    const d = decode(b);
    return d.ok ? { code: "ok", offset: -1 } : { code: d.error.code.replace("codec-", ""), offset: d.error.offset };
  };

  const samples: Value[] = [
    0,
    -1,
    300,
    INT64_MIN,
    INT64_MAX,
    new Real(-0),
    new Real(3.5),
    new Str(""),
    new Str("héllo\0"),
    sym("x"),
    NONE,
    new List(T_PAREN, []),
    read('(1 "two" three 4.5 {a [b]} @(err) #d \'q ?ab)').value!,
    new List(T_BRACKET, Array.from({ length: 200 }, (_, i) => i * 1000)),
  ];

  test("valid encodings are accepted", () => {
    for (const v of samples) {
      const b = encode(v);
      expect(svDecode(b, b.length)).toEqual({ code: "ok", offset: -1 });
    }
  });

  test("every truncation is rejected exactly like codec.ts", () => {
    for (const v of samples) {
      const b = encode(v);
      for (let n = 0; n < b.length; n++) {
        const prefix = b.slice(0, n);
        const c = svDecode(prefix, n);
        expect(c.code).not.toBe("ok");
        expect(c).toEqual(tsDecode(prefix));
      }
    }
  });

  test("every single-byte corruption gets the same verdict as codec.ts", () => {
    for (const v of samples) {
      const b = encode(v);
      for (let i = 0; i < b.length; i++) {
        for (const x of [0x00, 0x01, 0x7f, 0x80, 0xff, b[i]! ^ 0x40]) {
          const c = b.slice();
          c[i] = x;
          expect(svDecode(c, c.length)).toEqual(tsDecode(c));
        }
      }
    }
  });

  test("random garbage after a valid header gets the same verdict as codec.ts", () => {
    let seed = 99;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) & 0xff;
    for (let i = 0; i < 3000; i++) {
      const b = new Uint8Array(2 + (i % 40));
      b[0] = 0x53;
      b[1] = 0x01;
      for (let j = 2; j < b.length; j++) b[j] = next();
      expect(svDecode(b, b.length)).toEqual(tsDecode(b));
    }
  });

  test("non-canonical varints, empty symbols, zero lambda ids and trailing bytes are rejected", () => {
    const cases = [
      [0x53, 0x01, 0x09, 0x80, 0x00], // varint with a zero last byte
      [0x53, 0x01, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], // 10th byte not 1
      [0x53, 0x01, 0x07, 0x00],
      [0x53, 0x01, 0x8e, 0x00],
      [0x53, 0x01, 0x00, 0x00],
      [0x53, 0x02, 0x00],
      [0x54, 0x01, 0x00],
      [0x53, 0x01, 0x02, 0x05, 0x00],
    ].map((a) => new Uint8Array(a));
    for (const b of cases) {
      const c = svDecode(b, b.length);
      expect(c.code).not.toBe("ok");
      expect(c).toEqual(tsDecode(b));
    }
  });

  test("nesting is accepted up to 10,000 levels and rejected one past it", () => {
    const nest = (levels: number) => {
      const b = new Uint8Array(2 + levels * 2 + 1);
      b[0] = 0x53;
      b[1] = 0x01;
      for (let i = 0; i < levels; i++) {
        b[2 + 2 * i] = 0x02;
        b[3 + 2 * i] = 0x01;
      }
      b[b.length - 1] = 0x00;
      return b;
    };
    expect(svDecode(nest(10_000), nest(10_000).length)).toEqual({ code: "ok", offset: -1 });
    const deep = nest(10_001);
    expect(svDecode(deep, deep.length)).toEqual({ code: "too-deep", offset: 2 + 2 * 10_000 });
    expect(svDecode(deep, deep.length)).toEqual(tsDecode(deep));
  });
});
