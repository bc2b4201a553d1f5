import { describe, expect, test } from "bun:test";
import { withStackUsed } from "../../test/support/stack.ts";
import { lineCol, NESTING_DEPTH_MAX, read, type ParseDiagnostic } from "./reader.ts";
import { Aberrant, List, Real, Str, Sym, sym, T_BRACE, T_BRACKET, T_DATUM, T_ERROR, T_PAREN, T_SOME, Wrap, type Value } from "./value.ts";

/** Reads `src` and returns its value, failing the test on any diagnostic. */
function ok(src: string): Value {
  const r = read(src);
  if (r.diagnostics.length > 0 || r.value === null) throw new Error(`expected ${JSON.stringify(src)} to parse: ${JSON.stringify(r.diagnostics)}`);
  return r.value;
}

/** Reads `src` and returns its diagnostics, failing the test if it parsed. */
function errs(src: string): readonly ParseDiagnostic[] {
  const r = read(src);
  expect(r.value).toBeNull();
  expect(r.diagnostics.length).toBeGreaterThan(0);
  return r.diagnostics;
}

/** The single diagnostic of `src`. */
function err1(src: string): ParseDiagnostic {
  const d = errs(src);
  expect(d).toHaveLength(1);
  return d[0]!;
}

function items(v: Value): readonly Value[] {
  if (!(v instanceof List)) throw new Error(`expected a list, got ${String(v)}`);
  return v.items;
}

function real(v: Value): number {
  if (!(v instanceof Real)) throw new Error(`expected a real, got ${String(v)}`);
  return v.v;
}

function text(v: Value): string {
  if (!(v instanceof Str)) throw new Error(`expected a string, got ${String(v)}`);
  return v.s;
}

/** A compact structural rendering used to compare whole parse results. */
function shape(v: Value): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "bigint") return v + "n";
  if (v instanceof Real) return Object.is(v.v, -0) ? "r-0" : "r" + v.v;
  if (v instanceof Str) return JSON.stringify(v.s);
  if (v instanceof Sym) return "`" + v.name + "`";
  if (v instanceof List) return (v.t === T_PAREN ? "(" : v.t === T_BRACE ? "{" : "[") + v.items.map(shape).join(" ") + (v.t === T_PAREN ? ")" : v.t === T_BRACE ? "}" : "]");
  if (v instanceof Wrap) return (v.t === T_SOME ? "'" : v.t === T_ERROR ? "@" : "#") + shape(v.inner);
  if (v instanceof Aberrant) return "?" + (v.inner === null ? "<lambda>" : shape(v.inner));
  return "<none>";
}

// ---------------------------------------------------------------------------------------------
// §1.1 Source text

describe("§1.1 source text", () => {
  test("only the first object is parsed; everything after it is ignored", () => {
    const src = '[ (debug "runs") ] (debug "silently ignored") )))';
    const r = read(src);
    expect(r.diagnostics).toEqual([]);
    expect(shape(r.value!)).toBe('[(`debug` "runs")]');
    expect(r.end).toBe(src.indexOf("]") + 1);
    expect(shape(ok("1 2 3"))).toBe("1");
    expect(read("1 2 3").end).toBe(1);
    expect(shape(ok('"a" "unclosed'))).toBe('"a"');
    expect(shape(ok("x (((("))).toBe("`x`");
    expect(shape(ok("(a)b"))).toBe("(`a`)");
  });

  test("a source without an object is error 5 at offset 0", () => {
    for (const src of ["", " ", "\n\t ", "; only a comment", "; one\n; two\n", "   \n ;c"]) {
      expect(err1(src)).toEqual({ code: 5, message: "No object found in source", offset: 0 });
    }
  });

  test("bytes are latin1 characters: offsets count bytes", () => {
    const src = '("\xc3\xa9" \xff)';
    const v = ok(src);
    expect(text(items(v)[0]!)).toBe("\xc3\xa9");
    expect(items(v)[1]).toBe(sym("\xff"));
    expect(err1('  "\xc3\xa9').offset).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// §1.2 Whitespace and comments

describe("§1.2 whitespace and comments", () => {
  test("whitespace is the C isspace set", () => {
    expect(shape(ok("( a\tb\nc\vd\fe\rf )"))).toBe("(`a` `b` `c` `d` `e` `f`)");
    expect(shape(ok("\v\f\r\n\t 7"))).toBe("7");
    // Other control bytes and 0xA0 are not whitespace: they belong to atoms.
    expect(shape(ok("(a\x00b c\xa0d)"))).toBe("(`a\x00b` `c\xa0d`)");
  });

  test("a comment runs to the end of the line and may appear between objects", () => {
    expect(shape(ok("; leading\n  5"))).toBe("5");
    expect(shape(ok("(a ; comment ) ]\n b)"))).toBe("(`a` `b`)");
    expect(shape(ok("(a;x\nb)"))).toBe("(`a` `b`)");
    expect(shape(ok("abc;x"))).toBe("`abc`");
    expect(shape(ok("(1;c\r\n2)"))).toBe("(1 2)");
  });

  test("inside strings a semicolon is an ordinary byte", () => {
    expect(text(ok('"a ; b"'))).toBe("a ; b");
  });

  test("a comment that ends the input leaves lists unclosed", () => {
    expect(err1("(a ; no newline )")).toEqual({ code: 1, message: "Unclosed paren list", offset: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// §1.3 Objects

describe("§1.3 objects", () => {
  test("each opening character makes its object", () => {
    expect(ok("(1)")).toBeInstanceOf(List);
    expect((ok("(1)") as List).t).toBe(T_PAREN);
    expect((ok("[1]") as List).t).toBe(T_BRACKET);
    expect((ok("{1}") as List).t).toBe(T_BRACE);
    expect(text(ok('"s"'))).toBe("s");
    expect(shape(ok("'x"))).toBe("'`x`");
    expect((ok("'x") as Wrap).t).toBe(T_SOME);
    expect((ok("@x") as Wrap).t).toBe(T_ERROR);
    expect((ok("#x") as Wrap).t).toBe(T_DATUM);
    const a = ok("?x");
    expect(a).toBeInstanceOf(Aberrant);
    expect(a instanceof Aberrant && a.id < 0 && a.inner === sym("x")).toBe(true);
    expect(ok("x")).toBe(sym("x"));
  });

  test("empty lists", () => {
    expect(shape(ok("()"))).toBe("()");
    expect(shape(ok("[]"))).toBe("[]");
    expect(shape(ok("{ }"))).toBe("{}");
  });

  test("lists and wrappers record the offset of their first byte", () => {
    const v = ok("  [ (a) '{b} ]");
    expect((v as List).pos).toBe(2);
    const [p, q] = items(v);
    expect((p as List).pos).toBe(4);
    expect((q as Wrap).pos).toBe(8);
    expect(((q as Wrap).inner as List).pos).toBe(9);
  });

  test("prefixes take the next object after whitespace and comments", () => {
    expect(shape(ok("' x"))).toBe(shape(ok("'x")));
    expect(shape(ok("'\n; c\n  x"))).toBe("'`x`");
    expect(shape(ok("@ (disk full)"))).toBe("@(`disk` `full`)");
  });

  test("prefixes nest", () => {
    expect(shape(ok("'@#?5"))).toBe("'@#?5");
    const v = ok("'@#?5") as Wrap;
    expect(v.t).toBe(T_SOME);
    const e = v.inner as Wrap;
    expect(e.t).toBe(T_ERROR);
    const d = e.inner as Wrap;
    expect(d.t).toBe(T_DATUM);
    expect(d.inner instanceof Aberrant && d.inner.inner === 5).toBe(true);
  });

  test("every aberrant literal has a fresh identity", () => {
    const [a, b] = items(ok("(?x ?x)"));
    expect(a instanceof Aberrant && b instanceof Aberrant && a.id !== b.id).toBe(true);
  });

  const prefixes: [string, string][] = [
    ["'", "Quote"],
    ["@", "Error"],
    ["#", "Datum"],
    ["?", "Aberrant"],
  ];
  for (const [p, name] of prefixes) {
    test(`${name} prefix without an object is error 6 at the current position`, () => {
      expect(err1(p)).toEqual({ code: 6, message: `${name} operator requires an object`, offset: 1 });
      expect(err1(`${p}  `)).toEqual({ code: 6, message: `${name} operator requires an object`, offset: 3 });
      expect(err1(`${p} ; comment`)).toEqual({ code: 6, message: `${name} operator requires an object`, offset: 11 });
      expect(err1(`(a ${p})`)).toEqual({ code: 6, message: `${name} operator requires an object`, offset: 4 });
      expect(err1(`[${p} ]`)).toEqual({ code: 6, message: `${name} operator requires an object`, offset: 3 });
      expect(err1(`{${p}}`)).toEqual({ code: 6, message: `${name} operator requires an object`, offset: 2 });
      // The prefix error does not stop the list: it is still closed by its own closer.
      expect(err1(`('${p})`).offset).toBe(3);
    });
  }

  test("a closer of another kind inside a list is error 8, reported where it stands", () => {
    // The original dies with "bad optional access" here; spec §1.3 asks for a parse error instead.
    const check = (src: string, offset: number, closer: string, expected: string) => {
      const d = errs(src)[0]!;
      expect(d.code).toBe(8);
      expect(d.offset).toBe(offset);
      expect(d.message.startsWith(`Mismatched closing '${closer}': expected '${expected}'`)).toBe(true);
    };
    check("(a ])", 3, "]", ")");
    check("[ (f 1) ) ]", 8, ")", "]");
    check("{ ( } )}", 4, "}", ")");
    check("[ {a) ]", 4, ")", "}");
  });

  test("a stray closer at top level means no object", () => {
    for (const src of [")", "]", "}", "  )", "; c\n] x"]) {
      expect(err1(src)).toEqual({ code: 5, message: "No object found in source", offset: 0 });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// §1.4 Atoms

describe("§1.4 atoms", () => {
  test("an atom ends only at whitespace, a closer or a semicolon", () => {
    expect(ok("f(x")).toBe(sym("f(x"));
    expect(ok('a"b')).toBe(sym('a"b'));
    expect(ok("it's")).toBe(sym("it's"));
    expect(ok("a@#?b")).toBe(sym("a@#?b"));
    expect(shape(ok("[v[1]"))).toBe("[`v[1`]");
    expect(shape(ok("(a{b )"))).toBe("(`a{b`)");
    expect(shape(ok("{a(b}"))).toBe("{`a(b`}");
  });

  test("integers: 42, +42, -0, 007", () => {
    expect(ok("42")).toBe(42);
    expect(ok("+42")).toBe(42);
    const z = ok("-0");
    expect(z).toBe(0);
    expect(Object.is(z, -0)).toBe(false);
    expect(ok("007")).toBe(7);
    expect(ok("-17")).toBe(-17);
    expect(ok("+0000000000000000000000042")).toBe(42);
  });

  test("integers at the int64 limits, as bigints only outside the safe range", () => {
    expect(ok("9223372036854775807")).toBe(9223372036854775807n);
    expect(ok("-9223372036854775808")).toBe(-9223372036854775808n);
    expect(ok("9007199254740991")).toBe(9007199254740991);
    expect(ok("-9007199254740991")).toBe(-9007199254740991);
    expect(ok("9007199254740992")).toBe(9007199254740992n);
    expect(ok("-9007199254740992")).toBe(-9007199254740992n);
    expect(ok("999999999999999")).toBe(999999999999999);
    expect(ok("0000000000000000000000")).toBe(0);
  });

  test("integers out of int64 are the stoll error", () => {
    for (const a of ["9223372036854775808", "-9223372036854775809", "99999999999999999999999"]) {
      const d = err1(a);
      expect(d.code).toBe(7);
      expect(d.message).toBe(`stoll: number out of range or malformed: ${a}`);
      expect(d.offset).toBe(0);
    }
    expect(err1("(1 9223372036854775808)").offset).toBe(3);
  });

  test("reals: 2.5, .5, 5., -.5e1, 1E3, 0e0", () => {
    const cases: [string, number][] = [
      ["2.5", 2.5],
      [".5", 0.5],
      ["5.", 5],
      ["-.5e1", -5],
      ["1E3", 1000],
      ["0e0", 0],
      ["1.0", 1],
      ["1e+2", 100],
      ["1e-2", 0.01],
      ["+1.5", 1.5],
      ["2.2250738585072014e-308", 2.2250738585072014e-308],
      ["1.7976931348623157e308", 1.7976931348623157e308],
      ["0e999", 0],
      ["0.0e-999", 0],
    ];
    for (const [a, x] of cases) expect(real(ok(a))).toBe(x);
    expect(Object.is(real(ok("-0.0")), -0)).toBe(true);
    expect(Object.is(real(ok("0e0")), 0)).toBe(true);
  });

  test("plain digits.digits reals read exactly as parseFloat reads them, on both sides of the exact-division limit", () => {
    // The reader divides a plain real's digits by a power of ten up to 15 digits in all, and calls
    // parseFloat past that; seeded so a failure can be replayed.
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const digits = (k: number): string => Array.from({ length: k }, () => String(rnd(10))).join("");
    const cases = ["0.1", "0.3", "-0.0", "00.5", "9007199254740.993", "999999999999999.9", "99999999999999.99", "123456789012345.6", "0.000000000000001", "1.7976931348623157"];
    for (let i = 0; i < 3000; i++) {
      const a = 1 + rnd(12);
      const b = 1 + rnd(13);
      cases.push(`${rnd(2) === 0 ? "-" : ""}${digits(a)}.${digits(b)}`);
    }
    for (const a of cases) expect(Object.is(real(ok(a)), parseFloat(a))).toBe(true);
  });

  test("a dangling exponent is dropped: 1e and 1e+ are 1.0", () => {
    expect(real(ok("1e"))).toBe(1);
    expect(real(ok("1e+"))).toBe(1);
    expect(real(ok("1e-"))).toBe(1);
    expect(real(ok("2.5E"))).toBe(2.5);
  });

  test("reals without digits are the stod error", () => {
    for (const a of [".", "-.", "+.", ".e5", "-.e1"]) {
      expect(err1(a)).toEqual({ code: 7, message: `stod: number out of range or malformed: ${a}`, offset: 0 });
    }
  });

  test("reals out of range or below the smallest normal are the stod error", () => {
    for (const a of ["1e999", "-1e999", "5e-324", "1e-310", "1e-999", "2.2250738585072e-308"]) {
      expect(err1(a)).toEqual({ code: 7, message: `stod: number out of range or malformed: ${a}`, offset: 0 });
    }
  });

  test("everything else is a symbol", () => {
    for (const a of ["-", "+", "--5", "+-5", "1.2.3", "1e5.5", "0x10", "1_000", "e5", "inf", "nan", "-inf", "1ee5", "1e+-5", "5a", "1..2", ":int", "a.b"]) {
      expect(ok(a)).toBe(sym(a));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// §1.5 Strings

describe("§1.5 strings", () => {
  test("every escape", () => {
    expect(text(ok('"\\n"'))).toBe("\n");
    expect(text(ok('"\\t"'))).toBe("\t");
    expect(text(ok('"\\r"'))).toBe("\r");
    expect(text(ok('"\\\\"'))).toBe("\\");
    expect(text(ok('"\\""'))).toBe('"');
    expect(text(ok('"\\0"'))).toBe("\x00");
    expect(text(ok('"\\q"'))).toBe("q");
    expect(text(ok('"\\a\\b\\f\\v\\x41"'))).toBe("abfvx41");
    expect(text(ok('"\\\xff"'))).toBe("\xff");
    expect(text(ok('"\\\n"'))).toBe("\n");
    expect(text(ok('"\\;"'))).toBe(";");
  });

  test("escapes mixed with plain runs", () => {
    expect(text(ok('"a\\tb\\\\c\\"d\\0e"'))).toBe('a\tb\\c"d\x00e');
  });

  test("raw newlines, NUL and every other byte are kept", () => {
    let all = "";
    for (let i = 0; i < 256; i++) if (i !== 34 && i !== 92) all += String.fromCharCode(i);
    expect(text(ok('"' + all + '"'))).toBe(all);
    expect(text(ok('"line1\nline2"'))).toBe("line1\nline2");
    expect(text(ok('""'))).toBe("");
  });

  test("closers, prefixes and semicolons inside strings are plain bytes", () => {
    expect(shape(ok('("a)]}" \'b)'))).toBe('("a)]}" \'`b`)');
  });

  test("a missing closing quote is error 4 at the opening quote", () => {
    expect(err1('"abc')).toEqual({ code: 4, message: "Unclosed string", offset: 0 });
    expect(err1('  "')).toEqual({ code: 4, message: "Unclosed string", offset: 2 });
    expect(err1('"abc\\"')).toEqual({ code: 4, message: "Unclosed string", offset: 0 });
  });

  test("a backslash as the very last byte is error 4", () => {
    expect(err1('"abc\\')).toEqual({ code: 4, message: "Unclosed string", offset: 0 });
    expect(err1('(x "\\')).toEqual({ code: 4, message: "Unclosed string", offset: 3 });
  });
});

// ---------------------------------------------------------------------------------------------
// §1.6 Parse errors

describe("§1.6 parse errors", () => {
  test("1: unclosed paren list, at its opening", () => {
    expect(err1("(a b")).toEqual({ code: 1, message: "Unclosed paren list", offset: 0 });
    expect(err1("  (")).toEqual({ code: 1, message: "Unclosed paren list", offset: 2 });
  });

  test("2: an unclosed bracket list says environment", () => {
    expect(err1("[1 2")).toEqual({ code: 2, message: "Unclosed environment", offset: 0 });
  });

  test("3: unclosed brace list", () => {
    expect(err1("{")).toEqual({ code: 3, message: "Unclosed brace list", offset: 0 });
    expect(err1(" {a {b}")).toEqual({ code: 3, message: "Unclosed brace list", offset: 1 });
  });

  test("only the innermost unclosed list is reported", () => {
    expect(err1("([{")).toEqual({ code: 3, message: "Unclosed brace list", offset: 2 });
    expect(err1("[ (a) (b [c")).toEqual({ code: 2, message: "Unclosed environment", offset: 9 });
    expect(err1("[ (a (b) c")).toEqual({ code: 1, message: "Unclosed paren list", offset: 2 });
  });

  test("an unclosed string is not also reported as unclosed lists", () => {
    expect(err1('[ (a "b c) ]')).toEqual({ code: 4, message: "Unclosed string", offset: 5 });
  });

  test("4, 5 and 6 as above, with offsets in nested positions", () => {
    expect(err1('(a (b "c').offset).toBe(6);
    expect(errs("[ (f '")).toEqual([
      { code: 6, message: "Quote operator requires an object", offset: 6 },
      { code: 1, message: "Unclosed paren list", offset: 2 },
    ]);
  });

  test("several errors are reported in one run, in source order", () => {
    const src = "[ (f 1e999) (g ' ) . {9223372036854775808} (h }) \"s ]";
    const d = errs(src);
    expect(d.map((x) => [x.code, x.offset])).toEqual([
      [7, src.indexOf("1e999")],
      [6, src.indexOf("' )") + 2],
      [7, src.indexOf(" . ") + 1],
      [7, src.indexOf("9223")],
      [8, src.indexOf("})")],
      [4, src.indexOf('"')],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Nesting limit

describe(`nesting limit ${NESTING_DEPTH_MAX}`, () => {
  const nested = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);

  test("lists at the maximum parse", () => {
    let v = ok(nested(NESTING_DEPTH_MAX, "(", ")"));
    let depth = 0;
    while (v instanceof List) {
      depth++;
      v = v.items[0] ?? 0;
    }
    expect(depth).toBe(NESTING_DEPTH_MAX);
    ok(nested(NESTING_DEPTH_MAX, "[", "]"));
    ok(nested(NESTING_DEPTH_MAX, "{", "}"));
  });

  test("lists one past the maximum are error 9 at the list past the limit, and nothing else", () => {
    for (const [o, c] of [["(", ")"], ["[", "]"], ["{", "}"]] as const) {
      const d = err1(nested(NESTING_DEPTH_MAX + 1, o, c));
      expect(d).toEqual({ code: 9, message: `Objects nest deeper than ${NESTING_DEPTH_MAX} levels`, offset: NESTING_DEPTH_MAX });
    }
  });

  test("prefixes count as levels: the maximum parses, one more is error 9", () => {
    ok("'".repeat(NESTING_DEPTH_MAX) + "x");
    ok("?".repeat(NESTING_DEPTH_MAX) + "x");
    ok("('".repeat(NESTING_DEPTH_MAX / 2) + "x" + ")".repeat(NESTING_DEPTH_MAX / 2));
    expect(err1("'".repeat(NESTING_DEPTH_MAX + 1) + "x")).toEqual({ code: 9, message: `Objects nest deeper than ${NESTING_DEPTH_MAX} levels`, offset: NESTING_DEPTH_MAX });
    expect(err1("@(".repeat(NESTING_DEPTH_MAX / 2) + "#x" + ")".repeat(NESTING_DEPTH_MAX / 2)).offset).toBe(NESTING_DEPTH_MAX);
  });

  test("a read at the maximum needs no stack of its own: it works from deep in a recursion that left a quarter", () => {
    // From a recursion that used 3/4 of the stack: a reader recursing per level (two frames a
    // level) needs about half of it for NESTING_DEPTH_MAX.
    const got = withStackUsed(0.75, () => read(nested(NESTING_DEPTH_MAX, "(", ")")).value);
    expect(got).toBeInstanceOf(List);
  });

  test("far deeper input is rejected without overflowing the stack", () => {
    expect(err1("'".repeat(200_000) + "x").code).toBe(9);
    expect(err1("(".repeat(200_000)).code).toBe(9);
    expect(err1("('@".repeat(100_000)).code).toBe(9);
  });
});

// ---------------------------------------------------------------------------------------------
// Every prefix of valid input

describe("every strict prefix of valid programs", () => {
  const programs = [
    '[ (def x 5) (debug "x is" x) ]',
    "[ (def f (fn (a :int b :real) :real [ (alu/add_r a b) ])) (f 1 2.5e-3) ]",
    '{1 -2 +3 .5 5. 1e 9223372036854775807 "s\\n\\"q\\\\" sym} ; trailing comment',
    "'@#?(a [b {c}]) ; c\n",
    '[ ; comment\n  (io/print "a;b" \'x) \t\v\f\r (at 0 {1 2}) ]',
  ];
  for (const src of programs) {
    test(JSON.stringify(src.slice(0, 30)), () => {
      const full = ok(src);
      for (let n = 0; n <= src.length; n++) {
        const prefix = src.slice(0, n);
        const r = read(prefix); // Must never throw.
        if (r.value === null) {
          expect(r.diagnostics.length).toBeGreaterThan(0);
          for (const d of r.diagnostics) {
            expect(d.offset).toBeGreaterThanOrEqual(0);
            expect(d.offset).toBeLessThanOrEqual(n);
          }
        } else expect(r.diagnostics).toEqual([]);
        // A prefix that still holds the whole first object parses to exactly that object.
        if (n >= read(src).end) expect(shape(r.value!)).toBe(shape(full));
      }
      // And the remaining suffix, read alone, never throws either.
      for (let n = 0; n <= src.length; n++) read(src.slice(n));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Positions

describe("lineCol", () => {
  test("lines and byte columns are 1-based", () => {
    const src = "ab\ncd\n\nef";
    expect(lineCol(src, 0)).toEqual({ line: 1, col: 1 });
    expect(lineCol(src, 2)).toEqual({ line: 1, col: 3 });
    expect(lineCol(src, 3)).toEqual({ line: 2, col: 1 });
    expect(lineCol(src, 7)).toEqual({ line: 4, col: 1 });
    expect(lineCol(src, 8)).toEqual({ line: 4, col: 2 });
  });

  test("a diagnostic offset maps to its line", () => {
    const src = '[\n  (a\n  "b\n]';
    expect(lineCol(src, err1(src).offset)).toEqual({ line: 3, col: 3 });
  });
});
