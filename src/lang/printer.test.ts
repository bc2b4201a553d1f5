import { describe, expect, test } from "bun:test";
import { debugForm, fixed6, NoTextForm, realThroughText, rebuildList, shortestReal, sourceForm, strForm, textFormElement } from "./printer.ts";
import { NESTING_DEPTH_MAX, read } from "./reader.ts";
import { withStackUsed } from "../../test/support/stack.ts";
import {
  Aberrant,
  aberrantLiteral,
  EMPTY_PAREN,
  List,
  NONE,
  Real,
  Str,
  Sym,
  sym,
  T_BRACE,
  T_BRACKET,
  T_DATUM,
  T_ERROR,
  T_PAREN,
  T_SOME,
  Wrap,
  type ListKind,
  type Value,
} from "./value.ts";
import { Rng } from "../../test/support/rng.ts";

const SEED = 0x9e3779b9;

function fromBits(bits: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, bits);
  return dv.getFloat64(0);
}

function bitsOf(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  return dv.getBigUint64(0);
}

/** A random finite double: any bit pattern, a decimal-looking magnitude, or an exact binary tie. */
function randomFinite(rng: Rng): number {
  for (;;) {
    const r = rng.next();
    let x: number;
    if (r < 0.35) x = fromBits(rng.u64());
    else if (r < 0.7) x = (rng.next() - 0.5) * 10 ** (rng.int(34) - 12);
    else if (r < 0.85) x = (2 * rng.int(2 ** 20) + 1) / 128; // Odd multiples of 1/128: exact FIXED6 ties.
    else x = Math.round((rng.next() - 0.5) * 2e9) / 10 ** rng.int(9); // Short decimals, near-ties.
    if (Number.isFinite(x)) return x;
  }
}

/**
 * Reference FIXED6 by a different route than the printer: the exact decimal expansion of the
 * double (mantissa × 5^k / 10^k), then half-to-even rounding on its digit string.
 */
function referenceFixed6(x: number): string {
  const bits = bitsOf(x);
  const neg = bits >> 63n === 1n;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e: number;
  if (expBits === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  let intDigits: string;
  let frac: string;
  if (e >= 0) {
    intDigits = (mant << BigInt(e)).toString();
    frac = "";
  } else {
    const k = -e;
    const d = (mant * 5n ** BigInt(k)).toString().padStart(k + 1, "0");
    intDigits = d.slice(0, d.length - k);
    frac = d.slice(d.length - k);
  }
  const kept = frac.slice(0, 6).padEnd(6, "0");
  const rest = frac.slice(6);
  let q = BigInt(intDigits + kept);
  if (rest.length > 0) {
    const first = rest.charCodeAt(0) - 48;
    const tail = /[1-9]/.test(rest.slice(1));
    if (first > 5 || (first === 5 && tail) || (first === 5 && !tail && (q & 1n) === 1n)) q += 1n;
  }
  const s = q.toString().padStart(7, "0");
  return (neg ? "-" : "") + s.slice(0, -6) + "." + s.slice(-6);
}

// ---------------------------------------------------------------------------------------------
// §2.6.1 shortest-repr

describe("shortestReal (§2.6.1)", () => {
  const table: [number, string][] = [
    [42.0, "42"],
    [2.5, "2.5"],
    [100000.0, "100000"],
    [1e15, "1000000000000000"],
    [1e16, "1e+16"],
    [1.2345678901234568e17, "1.2345678901234568e+17"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [2.5e-5, "2.5e-05"],
    [1e-7, "1e-07"],
    [-0.0, "-0"],
  ];
  for (const [x, want] of table) test(`spec table: ${want}`, () => expect(shortestReal(x)).toBe(want));

  const more: [number, string][] = [
    [0, "0"],
    [1, "1"],
    [-1, "-1"],
    [-2.5, "-2.5"],
    [0.1, "0.1"],
    [0.1 + 0.2, "0.30000000000000004"],
    [1 / 3, "0.3333333333333333"],
    [123.456, "123.456"],
    [0.000123, "0.000123"],
    [-0.00012, "-0.00012"],
    [9.999e-5, "9.999e-05"],
    [1234567890123456.8, "1234567890123456.8"],
    [9999999999999998, "9999999999999998"],
    [2 ** 53, "9007199254740992"],
    [1e21, "1e+21"],
    [1.5e16, "1.5e+16"],
    [-1e16, "-1e+16"],
    [1e100, "1e+100"],
    [1e-100, "1e-100"],
    [5e-324, "5e-324"],
    [2.2250738585072014e-308, "2.2250738585072014e-308"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [NaN, "nan"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ];
  for (const [x, want] of more) test(`${want}`, () => expect(shortestReal(x)).toBe(want));

  test(`thousands of random doubles read back exactly and use the right notation (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    for (let i = 0; i < 5000; i++) {
      const x = randomFinite(rng);
      const s = shortestReal(x);
      const back = parseFloat(s);
      if (bitsOf(back) !== bitsOf(x)) throw new Error(`shortestReal(${x}) = ${s} does not read back (seed ${SEED}, i ${i})`);
      const exp = Number(Math.abs(x).toExponential().split("e")[1]);
      const fixed = exp >= -4 && exp < 16;
      if (fixed) expect(s).toMatch(/^-?\d+(\.\d+)?$/);
      else expect(s).toMatch(/^-?\d(\.\d+)?e[+-]\d{2,3}$/);
      expect(s.endsWith(".0")).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// §2.6.2 FIXED6

describe("fixed6 (§2.6.2)", () => {
  const table: [number, string][] = [
    [0, "0.000000"],
    [2.5, "2.500000"],
    [3.14159265, "3.141593"],
    [0.0078125, "0.007812"], // Exact tie, 2 is even: down.
    [0.0234375, "0.023438"], // Exact tie, 7 is odd: up.
    [-0.0078125, "-0.007812"],
    [0.5, "0.500000"],
    [1.0000005, "1.000001"], // Not a tie in binary: the double is above 1.0000005.
    [0.0000005, "0.000000"], // Not a tie in binary: the double is below 5e-7.
    [1e22, "10000000000000000000000.000000"],
    [1e21, "1000000000000000000000.000000"],
    [-1e21, "-1000000000000000000000.000000"],
    [2 ** 53 + 2, "9007199254740994.000000"],
    [-0.0, "-0.000000"],
    [-1e-7, "-0.000000"],
    [1e-7, "0.000000"],
    [5e-324, "0.000000"],
    [-5e-324, "-0.000000"],
    [123456.0000004, "123456.000000"],
    [0.9999995, "1.000000"], // The double is just above the decimal tie.
    [0.1234565, "0.123456"], // The double is just below the decimal tie.
    [0.99999951, "1.000000"],
    [NaN, "nan"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ];
  for (const [x, want] of table) test(`${x} → ${want}`, () => expect(fixed6(x)).toBe(want));

  test("the largest double prints all its integer digits", () => {
    const s = fixed6(1.7976931348623157e308);
    expect(s).toBe((2n ** 1024n - 2n ** 971n).toString() + ".000000");
    expect(fixed6(-1.7976931348623157e308)).toBe("-" + s);
  });

  test("the reference agrees with the hand-made table", () => {
    for (const [x, want] of table) if (Number.isFinite(x)) expect(referenceFixed6(x)).toBe(want);
  });

  test(`matches the exact bigint reference for 20000 random doubles (seed ${SEED})`, () => {
    const rng = new Rng(SEED ^ 0xf1f);
    for (let i = 0; i < 20_000; i++) {
      const x = randomFinite(rng);
      const got = fixed6(x);
      const want = referenceFixed6(x);
      if (got !== want) throw new Error(`fixed6(${x}) = ${got}, expected ${want} (seed ${SEED}, i ${i})`);
    }
  });

  test("every exact tie below 2^20 / 128 rounds to even", () => {
    for (let j = 1; j < 20_000; j += 2) {
      const x = j / 128;
      expect(fixed6(x)).toBe(referenceFixed6(x));
      expect(fixed6(-x)).toBe(referenceFixed6(-x));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// §2.6.1 DEBUG-FORM

describe("debugForm (§2.6.1)", () => {
  test("integers in decimal", () => {
    expect(debugForm(42)).toBe("42");
    expect(debugForm(-7)).toBe("-7");
    expect(debugForm(-9223372036854775808n)).toBe("-9223372036854775808");
    expect(debugForm(9223372036854775807n)).toBe("9223372036854775807");
  });

  test("reals in shortest form", () => {
    expect(debugForm(new Real(42))).toBe("42");
    expect(debugForm(new Real(1e16))).toBe("1e+16");
    expect(debugForm(new Real(-0))).toBe("-0");
  });

  test("symbols by name, strings quoted with raw bytes", () => {
    expect(debugForm(sym("hello"))).toBe("hello");
    expect(debugForm(new Str('a"b\\c\n\x00\xff'))).toBe('"a"b\\c\n\x00\xff"');
    expect(debugForm(new Str(""))).toBe('""');
  });

  test("everything else as its type code in brackets", () => {
    const cases: [Value, string][] = [
      [NONE, "[0]"],
      [new Wrap(T_SOME, 1), "[1]"],
      [new List(T_PAREN, []), "[2]"],
      [new List(T_BRACE, [1]), "[4]"],
      [new List(T_BRACKET, []), "[11]"],
      [new Wrap(T_ERROR, 1), "[12]"],
      [new Wrap(T_DATUM, 1), "[13]"],
      [new Aberrant(3), "[14]"],
      [aberrantLiteral(1), "[14]"],
    ];
    for (const [v, want] of cases) expect(debugForm(v)).toBe(want);
  });
});

// ---------------------------------------------------------------------------------------------
// §2.6.4 STR-FORM

function value(src: string): Value {
  const r = read(src);
  if (r.value === null) throw new Error(`bad test source ${src}`);
  return r.value;
}

describe("strForm (§2.6.4)", () => {
  test("one row per type", () => {
    expect(strForm(new Str("a\x00b"))).toBe("a\x00b");
    expect(strForm(42)).toBe("42");
    expect(strForm(-42)).toBe("-42");
    expect(strForm(-9223372036854775808n)).toBe("-9223372036854775808");
    expect(strForm(new Real(2.5))).toBe("2.500000");
    expect(strForm(new Real(0.0078125))).toBe("0.007812");
    expect(strForm(sym("abc"))).toBe("abc");
    expect(strForm(NONE)).toBe("()");
    expect(strForm(new Aberrant(5))).toBe("?lambda");
    expect(strForm(aberrantLiteral(5))).toBe("?lambda");
    expect(strForm(new Wrap(T_ERROR, 7))).toBe("@(7)");
    expect(strForm(new Wrap(T_DATUM, sym("x")))).toBe("#x");
  });

  test("lists give bytes: integers mod 256, strings their bytes, others nothing", () => {
    expect(strForm(value("{72 105}"))).toBe("Hi");
    expect(strForm(new List(T_PAREN, [-1, 256, 257, -256, 9223372036854775807n, -9223372036854775808n, 255]))).toBe("\xff\x00\x01\x00\xff\x00\xff");
    expect(strForm(new List(T_BRACKET, [new Str("ab"), sym("x"), new Real(65), new List(T_PAREN, [65]), new Wrap(T_SOME, 65), NONE, 0]))).toBe("ab\x00");
    expect(strForm(new List(T_BRACE, []))).toBe("");
  });

  test("some unwraps one level: strings and lists give bytes, anything else nothing", () => {
    expect(strForm(new Wrap(T_SOME, new Str("ab")))).toBe("ab");
    expect(strForm(new Wrap(T_SOME, value("(72 105 \"!\")")))).toBe("Hi!");
    expect(strForm(new Wrap(T_SOME, sym("x")))).toBe("");
    expect(strForm(new Wrap(T_SOME, 65))).toBe("");
    expect(strForm(new Wrap(T_SOME, new Wrap(T_SOME, new Str("ab"))))).toBe("");
  });

  test("the examples of §2.6.4", () => {
    // (cast :str '(1 "ab" x 2.5)): the quote is evaluated away, the cast sees the list.
    expect(strForm(value('(1 "ab" x 2.5)'))).toBe("\x01ab");
    expect(strForm(value("@(disk full)"))).toBe("@()");
    expect(strForm(value('@"disk full"'))).toBe("@(disk full)");
    expect(strForm(value("@7"))).toBe("@(7)");
    expect(strForm(value("#x"))).toBe("#x");
    // (cast :str ''x) casts 'x, a some around a symbol; (cast :str 'x) casts the symbol.
    expect(strForm(value("'x"))).toBe("");
    expect(strForm(value("x"))).toBe("x");
  });

  test("errors and datums nest", () => {
    expect(strForm(value("@#@2.5"))).toBe("@(#@(2.500000))");
    expect(strForm(value("#{72 105}"))).toBe("#Hi");
    expect(strForm(value("@'\"s\""))).toBe("@(s)");
  });
});

// ---------------------------------------------------------------------------------------------
// §2.6.3 TEXT-FORM and rebuildList

/** The slow definition of §2.6.3: print every item, join, wrap, parse again. */
function referenceRebuild(kind: ListKind, items: readonly Value[]): List {
  const open = kind === T_PAREN ? "(" : kind === T_BRACE ? "{" : "[";
  const close = kind === T_PAREN ? ")" : kind === T_BRACE ? "}" : "]";
  const parsed = read(open + items.map((it) => textFormElement(it) ?? "()").join(" ") + close).value;
  return parsed instanceof List ? parsed : new List(kind, []);
}

function shape(v: Value): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "bigint") return v + "n";
  if (v instanceof Real) return "r" + bitsOf(v.v).toString(16);
  if (v instanceof Str) return JSON.stringify(v.s);
  if (v instanceof Sym) return "`" + v.name + "`";
  if (v instanceof List) return "L" + v.t + "(" + v.items.map(shape).join(" ") + ")";
  if (v instanceof Wrap) return "W" + v.t + "(" + shape(v.inner) + ")";
  if (v instanceof Aberrant) return "A(" + (v.inner === null ? v.id : shape(v.inner)) + ")";
  return "<none>";
}

describe("rebuildList (§2.6.3)", () => {
  test("integers and symbols stay, the kind is kept", () => {
    for (const kind of [T_PAREN, T_BRACE, T_BRACKET] as const) {
      const l = rebuildList(kind, [1, -9223372036854775808n, sym("a"), sym('b"c')], "empty");
      expect(l.t).toBe(kind);
      expect(shape(l)).toBe(`L${kind}(1 -9223372036854775808n \`a\` \`b"c\`)`);
    }
  });

  test("reals are rounded through FIXED6", () => {
    const l = rebuildList(T_PAREN, [new Real(3.14159265), new Real(2.5), new Real(1e-7), new Real(-1e-7), new Real(0.0078125), new Real(1e22)], "empty");
    const xs = l.items.map((x) => (x instanceof Real ? x.v : NaN));
    expect(xs).toEqual([3.141593, 2.5, 0, -0, 0.007812, 1e22]);
    expect(Object.is(xs[3], -0)).toBe(true);
  });

  test("non-finite reals come back as symbols", () => {
    const l = rebuildList(T_PAREN, [new Real(NaN), new Real(Infinity), new Real(-Infinity)], "empty");
    expect(l.items).toEqual([sym("nan"), sym("inf"), sym("-inf")]);
    expect(realThroughText(Infinity)).toBe(sym("inf"));
  });

  test("nested lists, wrappers, lambdas and NONE become () or throw", () => {
    const others: Value[] = [new List(T_PAREN, [1]), new List(T_BRACE, []), new Wrap(T_SOME, 1), new Wrap(T_ERROR, 1), new Wrap(T_DATUM, 1), new Aberrant(1), aberrantLiteral(1), NONE];
    const l = rebuildList(T_BRACKET, [1, ...others], "empty");
    expect(l.items[0]).toBe(1);
    for (const it of l.items.slice(1)) expect(shape(it)).toBe(shape(EMPTY_PAREN));
    for (const o of others) expect(() => rebuildList(T_PAREN, [1, o], "throw")).toThrow(NoTextForm);
  });

  test("(forge/rev '(1 (2 3))) gives (() 1)", () => {
    const src = value("(1 (2 3))") as List;
    expect(shape(rebuildList(T_PAREN, [...src.items].reverse(), "empty"))).toBe("L2(L2() 1)");
  });

  test("strings without quotes or backslashes are kept byte for byte", () => {
    const s = new Str("a) ] } ; 'b\n\x00\xff");
    const l = rebuildList(T_PAREN, [s, 1], "empty");
    expect(shape(l)).toBe(shape(new List(T_PAREN, [s, 1])));
  });

  test("a string with a quote ends early on re-parse and corrupts the rest", () => {
    // Text `("a"b" 1)`: the string "a", then the atom `b"` (quotes do not end atoms), then 1.
    expect(shape(rebuildList(T_PAREN, [new Str('a"b'), 1], "empty"))).toBe('L2("a" `b"` 1)');
    // Text `("x" y" "z")`: a string, an atom, then a string that swallows the closer: parse error.
    const broken = rebuildList(T_BRACE, [new Str('x" y'), new Str("z")], "empty");
    expect(shape(broken)).toBe(shape(referenceRebuild(T_BRACE, [new Str('x" y'), new Str("z")])));
  });

  test("backslash sequences in strings are interpreted again", () => {
    expect(shape(rebuildList(T_PAREN, [new Str("a\\nb"), new Str("\\q\\\\")], "empty"))).toBe(shape(new List(T_PAREN, [new Str("a\nb"), new Str("q\\")])));
    // A trailing backslash escapes the closing quote: the list does not parse.
    const l = rebuildList(T_PAREN, [new Str("x\\"), 2], "empty");
    expect(l).toBeInstanceOf(List);
    expect(shape(l)).toBe(shape(referenceRebuild(T_PAREN, [new Str("x\\"), 2])));
  });

  test(`agrees with print-and-parse for random item lists (seed ${SEED})`, () => {
    const rng = new Rng(SEED ^ 0x7e7);
    const alphabet = ['"', "\\", " ", ")", "]", "}", "(", ";", "n", "t", "0", "a", "1", ".", "'", "\n"];
    const symbols = ["a", "b-c", 'q"r', "f(x", "v[1", "it's", "+", "-", "..."].map(sym);
    const kinds: ListKind[] = [T_PAREN, T_BRACE, T_BRACKET];
    for (let i = 0; i < 3000; i++) {
      const items: Value[] = [];
      const n = rng.int(6);
      for (let j = 0; j < n; j++) {
        const k = rng.int(6);
        if (k === 0) items.push(rng.int(2000) - 1000);
        else if (k === 1) items.push(new Real(randomFinite(rng)));
        else if (k === 2) items.push(rng.pick(symbols));
        else if (k === 3) items.push(new List(T_PAREN, [1]));
        else {
          let s = "";
          const len = rng.int(6);
          for (let c = 0; c < len; c++) s += rng.next() < 0.7 ? rng.pick(alphabet) : "x";
          items.push(new Str(s));
        }
      }
      const kind = rng.pick(kinds);
      const got = shape(rebuildList(kind, items, "empty"));
      const want = shape(referenceRebuild(kind, items));
      if (got !== want) throw new Error(`rebuildList differs (seed ${SEED}, i ${i}): ${got} vs ${want}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// sourceForm

describe("sourceForm", () => {
  test("a list nested as deep as the reader allows prints with 30% of the stack already used (a job's result, the REPL)", () => {
    const deep = value("(".repeat(NESTING_DEPTH_MAX) + ")".repeat(NESTING_DEPTH_MAX));
    expect(withStackUsed(0.3, () => sourceForm(deep))).toBe("(".repeat(NESTING_DEPTH_MAX) + ")".repeat(NESTING_DEPTH_MAX));
  });

  test("renders readable source", () => {
    expect(sourceForm(value("[ (f 1 2.5) '{a \"b\"} @x #y ?z ]"))).toBe("[(f 1 2.5) '{a \"b\"} @x #y ?z]");
    expect(sourceForm(new Real(2))).toBe("2.0");
    expect(sourceForm(new Real(-0))).toBe("-0.0");
    expect(sourceForm(new Real(1e16))).toBe("1e+16");
    expect(sourceForm(new Str('a"b\\c\n\t\r\x00'))).toBe('"a\\"b\\\\c\\n\\t\\r\\0"');
    expect(sourceForm(new Aberrant(4))).toBe("<lambda 4>");
    expect(sourceForm(NONE)).toBe("<none>");
  });

  test(`reads back as the same value (seed ${SEED})`, () => {
    const rng = new Rng(SEED ^ 0x50f);
    const gen = (budget: number): Value => {
      const k = rng.int(budget > 0 ? 8 : 5);
      if (k === 0) return rng.int(1 << 30) - (1 << 29);
      if (k === 1) {
        // Finite and normal: subnormals and non-finite reals have no source form (§1.4).
        const x = randomFinite(rng);
        return new Real(x !== 0 && Math.abs(x) < 2.2250738585072014e-308 ? 0 : x);
      }
      if (k === 2) {
        let s = "";
        for (let i = rng.int(8); i > 0; i--) s += String.fromCharCode(rng.int(256));
        return new Str(s);
      }
      if (k === 3) return sym(rng.pick(["a", "b-c", "f(x", ":int", "+"]));
      if (k === 4) return -9223372036854775808n;
      if (k === 5) return new List(rng.pick([T_PAREN, T_BRACE, T_BRACKET] as const), Array.from({ length: rng.int(4) }, () => gen(budget - 1)));
      if (k === 6) return new Wrap(rng.pick([T_SOME, T_ERROR, T_DATUM] as const), gen(budget - 1));
      return aberrantLiteral(gen(budget - 1));
    };
    for (let i = 0; i < 2000; i++) {
      const v = gen(3);
      const back = read(sourceForm(v));
      expect(back.diagnostics).toEqual([]);
      if (shape(back.value!) !== shape(v)) throw new Error(`sourceForm round trip failed (seed ${SEED}, i ${i}): ${sourceForm(v)}`);
    }
  });
});
