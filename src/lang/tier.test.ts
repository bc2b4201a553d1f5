/**
 * The JS tier: promotion rules and counters, identical results on both tiers, and code generation
 * by construction (hostile names and strings through every construct never reach the generated
 * source as code). The conformance suite (test/conformance.test.ts) runs every program under both
 * tiers too; this file covers what a program's output cannot show.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CallContext, Host, KernelFn, LoadedKernel } from "./host.ts";
import { CALL_DEPTH_MAX, Interp } from "./interp.ts";
import { generateUnit } from "./jit-unit.ts";
import { parseManifest } from "./manifest.ts";
import { sourceForm } from "./printer.ts";
import { read } from "./reader.ts";
import { runProgram } from "./run.ts";
import { Session } from "./session.ts";
import { PROMOTE_AFTER, UNIT_RECOMPILES_MAX, setTierMode, tierStats, unitOf, type TierMode } from "./tier.ts";
import { List, NONE, Str, Wrap, sym, T_BRACE, T_BRACKET, T_DATUM, T_ERROR, T_PAREN, T_SOME, type Value } from "./value.ts";

afterEach(() => setTierMode("auto"));

/**
 * The one kernel of the test host, `t`: `(t/rebind)` evaluates `(export n 9)` in the caller's
 * scope from a value it builds itself, so the program text never shows the rebinding.
 */
const T_KERNEL: LoadedKernel = {
  functions: new Map<string, KernelFn>([
    ["rebind", (cx) => cx.eval(new List(T_PAREN, [sym("export"), sym("n"), 9]))],
    ["version", versionFn(1)],
    // `(t/peek 'n)`: n's value in the caller's scope, the eager form included (a kernel reading a
    // binding the program text never names there).
    ["peek", Object.assign((cx: CallContext, args: readonly Value[]) => cx.eval(cx.eval(args[0]!)), { eager: { arity: 1 as const, call: (a: Value, _b: Value, _c: Value, cx: CallContext) => cx.eval(a) } })],
    // Swaps this kernel for version 2 in the running session, as the REPL's :reload does.
    ["swap", (cx) => ((cx as Interp).session.replaceKernel("t", T_KERNEL_2), NONE)],
    // `(t/sub a b)`: integer subtraction with alu's pure equivalent, so the JS tier inlines it.
    ["sub", Object.assign((cx: CallContext, args: readonly Value[]) => (cx.eval(args[0]!) as number) - (cx.eval(args[1]!) as number), { eager: { arity: 2 as const, call: (a: Value, b: Value) => (a as number) - (b as number) }, pure: "int-sub" })],
  ]),
  forms: new Map(),
};
const T_KERNEL_2: LoadedKernel = { functions: new Map([["version", versionFn(2)]]), forms: new Map() };

/** `(t/version x)`: the kernel's version plus x, with an eager form (the JS tier's direct call). */
function versionFn(v: number): KernelFn {
  const f: KernelFn = (cx, args) => (cx.eval(args[0]!) as number) + v * 100;
  f.eager = { arity: 1, call: (a) => (a as number) + v * 100 };
  return f;
}

/** A host with only the `t` kernel that records output and log lines. */
function testHost(): Host & { out: string; logs: string[] } {
  const h = {
    out: "",
    logs: [] as string[],
    workingDir: "/",
    write(s: string) {
      h.out += s;
    },
    loadKernel(name: string): LoadedKernel {
      if (name === "t") return T_KERNEL;
      throw new Error(`no kernel ${name} in this test`);
    },
    findManifest: () => null,
    readImport: () => null,
    log(level: string, message: string) {
      h.logs.push(`${level} ${message}`);
    },
  };
  return h;
}

/** Runs a program on one tier: its output and its value or exception, as text. */
function runOn(mode: TierMode, program: Value, budget = {}): string {
  setTierMode(mode);
  const host = testHost();
  const o = runProgram(program, { path: "t.sxs", text: "" }, host, budget);
  return `${host.out}|${o.ok ? sourceForm(o.value) : `${o.exception.constructor.name}: ${o.exception.message}`}`;
}

const src = (text: string): Value => {
  const v = read(text).value;
  if (v === null) throw new Error(`bad test source: ${text}`);
  return v;
};

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
    // A body whose parameters a callee's shadow calls it without binding its own (Gen.observeUnlessCovered).
    ["a callee shadowing the caller's parameter rebinds its own", "[ #(load \"t\") (def g (fn (n :int) :int [ (t/rebind) n ])) (def f (fn (n :int) :int [ (debug (g 5)) n ])) (debug (f 1) (f 2) (f 3)) ]"],
    ["a shadowing callee, then a callee reading the caller's parameter", "[ (def show (fn (m :int) :int [ n ])) (def g (fn (n :int) :int [ (show 0) ])) (def f (fn (n :int) :int [ (debug (g 5)) (show 0) ])) (debug (f 1) (f 2) (f 3)) ]"],
    ["two parameters shadowed in another order, and one not shadowed", "[ #(load \"t\") (def g (fn (b :int a :int) :int [ (t/peek 'a) ])) (def h (fn (a :int c :int) :int [ (t/peek 'b) ])) (def f (fn (a :int b :int) :int [ (debug (g a b) (h 7 8)) (g b a) ])) (debug (f 1 2) (f 3 4) (f 5 6)) ]"],
    ["defs of a shadowing callee, then defs of the caller", "[ (def g (fn (n :int) :int [ (def k 2) k ])) (def f (fn (n :int) :int [ (g n) (def k 3) (debug k n) (g n) ])) (debug (f 1) (f 2) (f 3)) ]"],
    ["an integer argument known at generation to a parameter of another type", "[ #(load \"t\") (def g (fn (s :str) :int [ 1 ])) (def f (fn (n :int) :int [ (g (t/sub n 1)) ])) (recover [ (f 1) ] [ 0 ]) (recover [ (f 2) ] [ 0 ]) (f 3) ]"],
    // A body calling itself passes the lambda it found to the callee, for its own lookup of that symbol (jit-calls.ts).
    ["a body whose parameter is named like the lambda it calls", "[ (def f (fn (f :int) :int [ (if (eq f 0) 0 (f 0)) ])) (recover [ (f 1) ] [ $exception ]) (recover [ (f 1) ] [ $exception ]) ]"],
    ["a body that rebinds the symbol it called itself through", "[ (def f (fn (n :int) :int [ (if (eq n 0) [ (def f (fn (m :int) :int [ 5 ])) (f 9) ] (f 0)) ])) (debug (f 1) (f 1) (f 1)) ]"],
    ["a callee that rebinds the symbol before its own call", "[ (def g (fn (n :int) :int [ 6 ])) (def f (fn (n :int) :int [ (if (eq n 2) [ (export f g) (f 0) ] (if (eq n 0) 0 (f 2))) ])) (debug (f 1) (f 1) (f 1)) ]"],
    ["a lambda made by a shadowing callee dies with its scope", "[ (def mk (fn (n :int) :aberrant [ (fn () :int [ n ]) ])) (def f (fn (n :int) :aberrant [ (mk n) ])) (f 1) (f 2) (def g (f 3)) (recover [ (g) ] [ $exception ]) ]"],
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

  test("a recursive call made after a deeper call swapped the kernel checks the table again", () => {
    // f(1) calls f(0), which swaps `t`; its next call of itself, f(2), must see version 2. (f 3)
    // runs first: the run that promotes a body still runs its closures.
    const p = src(`[ #(load "t") (def f (fn (n :int) :int [ (if (eq n 0) [ (t/swap) 0 ] (if (eq n 1) [ (f 0) (f 2) ] (t/version 1))) ])) (debug (f 3)) (f 1) ]`);
    const closure = runOn("closure", p);
    expect(closure).toBe("[DEBUG] 101\n|201");
    expect(runOn("js", p)).toBe(closure);
  });

  test("a branch that checked the kernel table says nothing of the other branch", () => {
    // The else branch is written first; its check must not stand for the then branch, which runs
    // after f(2) swapped the kernel.
    const p = src(`[ #(load "t") (def f (fn (n :int) :int [ (if (eq n 2) (t/swap) 0) (if n (t/version 1) (t/version 2)) ])) (debug (f 1)) (f 2) ]`);
    const closure = runOn("closure", p);
    expect(closure).toBe("[DEBUG] 101\n|201");
    expect(runOn("js", p)).toBe(closure);
  });

  test("calls nest up to CALL_DEPTH_MAX on both tiers, through a body calling itself and through other calls", () => {
    // `down` calls itself directly (its depth kept in locals); `hop` reaches it through another
    // lambda, a kernel evaluating code and eval text, which all see the depth.
    const text = (n: number, via: string) =>
      `[ #(load "t") (def down (fn (n :int p :int) :int [ (if (eq n 0) 0 ${via}) ])) (def hop (fn (n :int) :int [ (down n 0) ])) (down 3 0) (down 3 0) (down ${n} 0) ]`;
    // Each with the n at which it nests about CALL_DEPTH_MAX deep (through hop, two calls a level).
    const vias: [string, number][] = [
      ["(down (t/sub n 1) 0)", CALL_DEPTH_MAX],
      ["(hop (t/sub n 1))", CALL_DEPTH_MAX / 2],
      ["(t/peek '(down (t/sub n 1) 0))", CALL_DEPTH_MAX],
      ['(if (eq n 7) (eval "(down (t/sub n 1) 0)") (down (t/sub n 1) 0))', CALL_DEPTH_MAX],
      // Every other level calls itself directly, then a kernel in a branch written after one that
      // wrote the depth: the branches must not share what they know of it.
      ["(if p (down (t/sub n 1) 0) (if n (t/peek '(down (t/sub n 1) 1)) (t/peek 0)))", CALL_DEPTH_MAX],
    ];
    for (const [via, n] of vias) {
      const outcomes = [-3, -2, -1, 0, 1].map((d) => {
        const p = src(text(n + d, via));
        const closure = runOn("closure", p);
        expect(runOn("js", p)).toBe(closure);
        return closure;
      });
      // Some depth near the limit runs and one past it stops, the same on both tiers.
      expect(outcomes.some((o) => o === "|0")).toBe(true);
      expect(outcomes.some((o) => o.includes(`calls nest deeper than ${CALL_DEPTH_MAX}`))).toBe(true);
    }
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
