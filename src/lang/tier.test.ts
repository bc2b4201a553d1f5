/**
 * The JS tier: promotion rules and counters, identical results on both tiers, and code generation
 * by construction (hostile names and strings through every construct never reach the generated
 * source as code). The conformance suite (test/conformance.test.ts) runs every program under both
 * tiers too; this file covers what a program's output cannot show. Lambda calls on the JS tier
 * have their own tests (jit-calls.test.ts); both use the host of tier-test-support.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { KernelFn, LoadedKernel } from "./host.ts";
import { Interp } from "./interp.ts";
import { generateUnit } from "./jit-unit.ts";
import { parseManifest } from "./manifest.ts";
import { runProgram } from "./run.ts";
import { Session } from "./session.ts";
import { PROMOTE_AFTER, UNIT_RECOMPILES_MAX, setTierMode, tierStats, unitOf } from "./tier.ts";
import { runOn, src, testHost } from "./tier-test-support.ts";
import { List, Str, Wrap, sym, T_BRACE, T_BRACKET, T_DATUM, T_ERROR, T_PAREN, T_SOME, type Value } from "./value.ts";

afterEach(() => setTierMode("auto"));

describe("promotion", () => {
  test("a lambda body is compiled after PROMOTE_AFTER.lambda calls, once, and logged at debug level", () => {
    setTierMode("auto");
    const program = new List(T_BRACKET, [src("(def f (fn (n :int) :int [ (eq n n) ]))"), src(`(do [ (f $iterations) (if (eq $iterations ${PROMOTE_AFTER.lambda + 5}) (done 0) ()) ])`)]);
    const before = tierStats.compiledUnits;
    const host = testHost();
    const o = runProgram(program, { path: "p.sxs", text: "" }, host);
    expect(o.ok).toBe(true);
    // The lambda body and the loop body (which turns as often) were promoted; the program itself was not.
    expect(tierStats.compiledUnits - before).toBe(2);
    expect(host.logs.filter((l) => l.startsWith("debug tier: compiled lambda unit")).length).toBe(1);
    expect(host.logs.filter((l) => l.startsWith("debug tier: compiled loop unit")).length).toBe(1);
  });

  test("a unit is not compiled one run before its threshold, and is at it", () => {
    setTierMode("auto");
    const node = src("[ 1 ]") as List;
    const u = unitOf(node, "loop");
    const it = new Interp(new Session(testHost()), "t");
    for (let i = 1; i < PROMOTE_AFTER.loop; i++) u.code(it);
    expect(u.js).toBe(false);
    u.code(it);
    expect(u.js).toBe(true);
  });

  test("SUP_TIER=closure never compiles; js compiles every unit on its first run, top-level programs too", () => {
    const before = tierStats.compiledUnits;
    expect(runOn("closure", src("[ (def f (fn () :int [ 1 ])) (f) (f) ]"))).toBe("|1");
    expect(tierStats.compiledUnits).toBe(before);
    expect(runOn("js", src("[ (def f (fn () :int [ 1 ])) (f) (f) ]"))).toBe("|1");
    expect(tierStats.compiledUnits - before).toBe(2);
  });

  test("eval text run fewer times than its threshold is never compiled", () => {
    setTierMode("auto");
    const host = testHost();
    const o = runProgram(src(`[ (do [ (eval "(eq 2 2)") (if (eq $iterations ${PROMOTE_AFTER.eval - 1}) (done 5) ()) ]) ]`), { path: "e.sxs", text: "" }, host);
    expect(o.ok && o.value).toBe(5);
    expect(host.logs.filter((l) => l.startsWith("debug tier: compiled eval unit")).length).toBe(0);
  });

  test("eval of the same text reuses its parse and compiled form: promoted once, then reused", () => {
    setTierMode("auto");
    const turns = PROMOTE_AFTER.eval * 3;
    const host = testHost();
    const o = runProgram(src(`[ (do [ (eval "(eq 1 1)") (if (eq $iterations ${turns}) (done 5) ()) ]) ]`), { path: "e.sxs", text: "" }, host);
    expect(o.ok && o.value).toBe(5);
    expect(host.logs.filter((l) => l.startsWith("debug tier: compiled eval unit")).length).toBe(1);
  });

  test("a top-level program never promotes in auto mode, whatever it runs", () => {
    setTierMode("auto");
    const program = src("[ 1 ]") as List;
    const u = unitOf(program, "program");
    const it = new Interp(new Session(testHost()), "t");
    for (let i = 0; i < 1000; i++) u.code(it);
    expect(u.js).toBe(false);
  });
});

describe("both tiers behave the same", () => {
  const programs: [string, string][] = [
    ["dynamic scoping", "[ (def level 1) (def show (fn () :int [ level ])) (def wrap (fn () :int [ (def level 2) (show) ])) (wrap) ]"],
    ["a dangling lambda", "[ (def maker (fn () :aberrant [ (fn (v :int) :int [v]) ])) (def g (maker)) (g 1) ]"],
    ["return type error value", "[ (def f (fn () :int [ \"s\" ])) (f) ]"],
    ["argument type", "[ (def f (fn (a :int) :int [ a ])) (f \"x\") ]"],
    ["arity before arguments", "[ (def f (fn (a :int) :int [ a ])) (f (debug 1) 2) ]"],
    ["loops, done and $iterations", "[ (do [ (debug $iterations) (if (eq $iterations 3) (done 9) ()) (debug \"after\") ]) ]"],
    ["recover restores depth", "[ (def f (fn (x :int) :int [ (assert 0 \"boom\") ])) (recover [ (f 1) ] [ $exception ]) ]"],
    ["try binds $error", "[ (try @(bad input) [ $error ]) ]"],
    ["at and eq", "[ (debug (at 1 \"abc\") (at 5 {1 2}) (eq {1 (2 x)} {1 (2 x)}) (eq 1 1.0)) ]"],
    ["cast", "[ (cast :str {72 105}) ]"],
    ["def twice fails", "[ (def a 1) (def a 2) ]"],
    ["unknown callable", "[ (nope 1) ]"],
    ["non-symbol head", "[ (1 2) ]"],
    ["lock rule", "[ (debug 1) #(load \"io\") ]"],
    ["eval scope", "[ (eval \"(def q 5)\") q ]"],
    ["parameters", "[ (def f (fn (a :int b :int) :int [ (debug a b) (eq a b) ])) (debug (f 1 2) (f 3 3)) ]"],
    ["a repeated parameter name: the last wins", "[ (def f (fn (a :int a :int) :int [ a ])) (f 1 2) ]"],
    ["a parameter shadowed in a loop body", "[ (def f (fn (n :int) :int [ (do [ (def n 7) (done n) ]) ])) (f 1) ]"],
    ["a parameter rebound by export in the body", "[ (def f (fn (n :int) :int [ (export n 8) n ])) (f 1) ]"],
    ["a parameter rebound by a kernel evaluating export in the caller's scope", "[ #(load \"t\") (def f (fn (n :int) :int [ (debug n) (t/rebind) n ])) (f 1) ]"],
    ["a parameter named $iterations inside a loop", "[ (def f (fn ($iterations :int) :int [ (do [ (done $iterations) ]) ])) (f 5) ]"],
    // Lambda bodies bind their parameters lazily on the JS tier (jit.ts, Gen.observe); each lambda
    // runs three times, so the later runs are the promoted code's.
    ["a callee reads a lazily bound parameter through dynamic scoping", "[ (def show (fn () :int [ n ])) (def f (fn (n :int) :int [ (show) ])) (debug (f 1) (f 2) (f 3)) ]"],
    ["a kernel reads a lazily bound parameter in the caller's scope", "[ #(load \"t\") (def f (fn (n :int) :int [ (t/peek 'n) ])) (debug (f 1) (f 2) (f 3)) ]"],
    ["def after a stretch that binds nothing", "[ (def f (fn (n :int) :int [ (eq n 1) (def m n) m ])) (debug (f 1) (f 2) (f 3)) ]"],
    ["a leaf body that throws into recover", "[ (def f (fn (n :int) :int [ (assert n \"zero\") n ])) (debug (f 1) (f 2) (recover [ (f 0) ] [ 9 ]) (f 4)) ]"],
    ["try with a bracket handler in a leaf body", "[ (def f (fn (x :int) :int [ (try @(e) [ x ]) ])) (debug (f 1) (f 2) (f 3)) ]"],
    ["a loop in a body that reads its parameter", "[ (def f (fn (x :int) :int [ (do [ (done x) ]) ])) (debug (f 1) (f 2) (f 3)) ]"],
    ["a lambda made in a lazily bound body dies with its scope", "[ (def mk (fn (n :int) :aberrant [ (fn () :int [ n ]) ])) (mk 1) (mk 2) (def g (mk 3)) (recover [ (g) ] [ $exception ]) ]"],
    ["a two-parameter leaf and a caller binding the same names", "[ (def g (fn (a :int b :int) :int [ (eq a b) ])) (def f (fn (a :int b :int) :int [ (g b a) ])) (debug (f 1 2) (f 3 3) (f 4 5)) ]"],
  ];
  for (const [name, text] of programs) {
    test(name, () => {
      const p = src(text);
      expect(runOn("js", p)).toBe(runOn("closure", p));
    });
  }

  test("a kernel swapped under running code is used from the next call on, by both tiers", () => {
    const p = src(`[ #(load "t") (def f (fn (i :int) :int [ (t/version i) ])) (do [ (debug (f $iterations)) (if (eq $iterations 30) (t/swap) ()) (if (eq $iterations 32) (done 0) ()) ]) ]`);
    const closure = runOn("closure", p);
    expect(closure).toContain("[DEBUG] 130\n[DEBUG] 231\n");
    expect(runOn("js", p)).toBe(closure);
    expect(runOn("auto", p)).toBe(closure);
  });

  test("code shared by sessions whose kernels differ runs right in each, compiled again at most a bounded number of times", () => {
    // One parsed program (so one set of units) run in sessions whose `t/version` is eager, then
    // general only (no direct call possible), in turn: each run must see its own kernel.
    const general: LoadedKernel = { functions: new Map<string, KernelFn>([["version", (cx, args) => (cx.eval(args[0]!) as number) + 500]]), forms: new Map() };
    const p = src(`[ #(load "t") (def f (fn (i :int) :int [ (t/version i) ])) (do [ (def v (f $iterations)) (if (eq $iterations 30) (done v) ()) ]) ]`);
    setTierMode("js");
    const before = tierStats.compiledUnits;
    for (let round = 0; round < UNIT_RECOMPILES_MAX + 4; round++) {
      const host = testHost();
      if (round % 2 === 1) host.loadKernel = () => general;
      const o = runProgram(p, { path: "t.sxs", text: "" }, host);
      expect(o.ok && o.value).toBe(round % 2 === 1 ? 530 : 130);
    }
    // The first compile of each unit, then at most UNIT_RECOMPILES_MAX more each (2 units).
    expect(tierStats.compiledUnits - before).toBeLessThanOrEqual(2 * (1 + UNIT_RECOMPILES_MAX));
  });

  test("a parameter kept in a local is looked up again once something rebinds it in place", () => {
    const p = src("[ #(load \"t\") (def f (fn (n :int) :int [ (debug n) (t/rebind) n ])) (f 1) ]");
    expect(runOn("js", p)).toBe("[DEBUG] 1\n|9");
  });

  test("budgets stop both tiers at the same step, and recover cannot catch them", () => {
    const p = src("[ (def f (fn (n :int) :int [ (f n) ])) (recover [ (do [ (f 1) ]) ] [ 0 ]) ]");
    const closure = runOn("closure", p, { steps: 5000 });
    expect(closure).toContain("BudgetExceeded");
    expect(runOn("js", p, { steps: 5000 })).toBe(closure);
    const loop = src("[ (recover [ (do [ 1 ]) ] [ 0 ]) ]");
    expect(runOn("js", loop, { steps: 777 })).toBe(runOn("closure", loop, { steps: 777 }));
  });

  test("int64 wraparound without kernels: bigints stay exact", () => {
    const p = src("[ (eq 9223372036854775807 9223372036854775807) ]");
    expect(runOn("js", p)).toBe(runOn("closure", p));
  });
});

/**
 * Text that would break out of a JS string, comment, template or line if it were pasted into
 * generated source. Each carries a marker that must never appear in that source.
 */
const MARK = "ZQX";
const HOSTILE = ['"', "'", "\\", "\\\"", "${process.exit(7)}", "`", "*/", "/*", "\u2028", "\u2029", "\n", "\r", "</script>", '"); process.exit(7); ("', "\0", "\xff"].map((h) => MARK + h + MARK);

/** Programs that put a hostile name or string through every construct. */
function hostilePrograms(h: string): Value[] {
  const s = sym(h);
  const str = new Str(h);
  const p = (...items: Value[]) => new List(T_PAREN, items);
  const b = (...items: Value[]) => new List(T_BRACKET, items);
  const c = (...items: Value[]) => new List(T_BRACE, items);
  const fnOf = (params: Value[], body: Value) => p(sym("fn"), new List(T_PAREN, params), sym(":any"), b(body));
  return [
    b(p(sym("def"), s, str), s),
    b(p(sym("def"), s, fnOf([s, sym(":str")], s)), p(s, str)),
    b(p(sym("debug"), str, s, new Wrap(T_SOME, s), new Wrap(T_ERROR, str))),
    b(p(sym("assert"), 0, str)),
    b(p(sym("if"), 0, str, s)),
    b(p(sym("at"), 1, str), p(sym("at"), 0, c(s, str))),
    b(p(sym("eq"), str, str), p(sym("eq"), s, s)),
    b(p(sym("try"), new Wrap(T_ERROR, p(s, str)), b(sym("$error")))),
    b(p(sym("cast"), sym(":str"), c(72, str))),
    b(p(sym("do"), b(p(sym("def"), s, sym("$iterations")), p(sym("done"), s)))),
    b(new Wrap(T_DATUM, p(sym("def"), s, str)), s),
    b(p(sym("recover"), b(p(sym("assert"), 0, str)), b(sym("$exception")))),
    b(p(sym("eval"), new Str(`(debug "${h.replace(/["\\]/g, "")}")`))),
    b(p(s, str)),
    b(p(sym("k/" + h), str)),
    b(p(sym("match"), str, p(str, s))),
    b(p(sym("reflect"), str, p(sym(":str"), s))),
    b(p(sym("apply"), fnOf([s, sym(":any")], s), c(str))),
    b(sym("m/" + h)),
  ];
}

describe("code generation by construction", () => {
  for (const h of HOSTILE) {
    test(`hostile text ${JSON.stringify(h)} runs the same on both tiers and never enters generated source`, () => {
      for (const program of hostilePrograms(h)) {
        const source = generateUnit(program as List, null).source;
        expect(source).not.toContain(MARK);
        expect(runOn("js", program)).toBe(runOn("closure", program));
      }
    });
  }

  test("a deeply nested program leaves its depths to closures and still runs the same", () => {
    let v: Value = 7;
    for (let i = 0; i < 3000; i++) v = new List(T_PAREN, [sym("if"), 1, v, 0]);
    const program = new List(T_BRACKET, [v]);
    expect(runOn("js", program)).toBe("|7");
  });
});

describe(":pure in manifests", () => {
  const manifest = (decl: string) => parseManifest(`#(define-kernel k "libk.so" [ ${decl} ])`, "strict");
  test("names an equivalent with the same signature", () => {
    const m = manifest("(define-function add (a :int b :int) :int :pure int-add)");
    expect(m.ok && m.manifest.functions[0]!.pure).toBe("int-add");
    expect(m.ok && m.manifest.functions[0]!.attributes).toEqual([]);
  });
  test("an unknown equivalent, a mismatched signature or a missing name is refused", () => {
    expect(manifest("(define-function add (a :int b :int) :int :pure int-pow)")).toMatchObject({ ok: false, error: expect.stringContaining('unknown pure equivalent "int-pow"') });
    expect(manifest("(define-function add (a :real b :real) :real :pure int-add)")).toMatchObject({ ok: false, error: expect.stringContaining('"int-add" takes :int :int :int, not :real :real :real') });
    expect(manifest("(define-function add (a :int b :int) :int :pure)")).toMatchObject({ ok: false, error: expect.stringContaining(":pure must be followed") });
  });
});
