/**
 * The walk (walk.ts): code run once is walked instead of compiled, and must do exactly what its
 * closures do: the same values, output, exception texts and positions, scoping, budgets. Each
 * program here runs walked (a top-level program on the closure tier is) and compiled (the same
 * parse compiled directly), and the two runs must agree; the conformance suite runs every spec
 * program walked too (SUP_TIER=closure).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { compile } from "./compile.ts";
import type { CallContext, KernelFn, LoadedKernel } from "./host.ts";
import { Interp } from "./interp.ts";
import { sourceForm } from "./printer.ts";
import { read } from "./reader.ts";
import { runProgram } from "./run.ts";
import { STEPS_PER_CLOCK_CHECK, Session } from "./session.ts";
import { setTierMode } from "./tier.ts";
import { busyKernelFn, testHost as sharedTestHost } from "./tier-test-support.ts";
import { List, NONE, Wrap, type Value } from "./value.ts";

afterEach(() => setTierMode("auto"));

let calls = 0;
/** Milliseconds one `(k/slow)` keeps the thread, as a kernel building a big value does. */
const SLOW_CALL_MS = 10;

/**
 * `(k/mix a b)` = 10a + b (its arguments' order shows), eager (the direct call); `(k/raw x)`, its
 * argument unevaluated; `(k/ev x)`, evaluated by the kernel.
 */
const mix: KernelFn = (cx, args) => (cx.eval(args[0]!) as number) * 10 + (cx.eval(args[1]!) as number);
mix.eager = { arity: 2, call: (a, b) => (a as number) * 10 + (b as number) };
const K: LoadedKernel = {
  functions: new Map<string, KernelFn>([
    ["mix", mix],
    ["raw", (_cx, args) => args[0] ?? NONE],
    ["ev", (cx: CallContext, args) => cx.eval(args[0]!)],
    ["slow", busyKernelFn(SLOW_CALL_MS, () => calls++)],
  ]),
  forms: new Map(),
};

/** A host with only the `k` kernel. */
const testHost = () => sharedTestHost({ k: K });

const src = (text: string): Value => {
  const v = read(text).value;
  if (v === null) throw new Error(`bad test source: ${text}`);
  return v;
};

/** Runs a fresh parse of text as a top-level program on the closure tier (walked); output and outcome as text. */
function walked(text: string, budget = {}): string {
  setTierMode("closure");
  const host = testHost();
  const o = runProgram(src(text), { path: "w.sxs", text }, host, budget);
  return `${host.out}|${o.ok ? sourceForm(o.value) : `${o.exception.constructor.name}: ${o.exception.message} @${o.where === null ? "-" : `${o.where.line}:${o.where.col}`}`}`;
}

/** The same program as the closures of a fresh parse (compiled before it runs). */
function compiled(text: string, budget = {}): string {
  setTierMode("closure");
  const host = testHost();
  const p = src(text);
  compile(p);
  const o = runProgram(p, { path: "w.sxs", text }, host, budget);
  return `${host.out}|${o.ok ? sourceForm(o.value) : `${o.exception.constructor.name}: ${o.exception.message} @${o.where === null ? "-" : `${o.where.line}:${o.where.col}`}`}`;
}

describe("walked and compiled code agree", () => {
  const programs: [string, string][] = [
    ["literals and data", "[ (debug 1 2.5 \"s\" x) {1 (2 x)} ]"],
    ["a quote and an error value", "[ (debug 'x) @(bad thing) ]"],
    ["an empty paren list and an empty bracket list", "[ () [] ]"],
    ["dynamic scoping through eval", "[ (def level 1) (def show (fn () :int [ level ])) (def wrap (fn () :int [ (def level 2) (eval \"(show)\") ])) (wrap) ]"],
    ["eval sees and binds in its own scope", "[ (def a 4) (eval \"[ (def b 5) (debug a b) ]\") ]"],
    ["a name eval defined is gone after it", "[ (eval \"(def q 5)\") q ]"],
    ["a kernel call with its eager form", "[ #(load \"k\") (k/mix 2 (k/mix 3 4)) ]"],
    ["a kernel taking its argument unevaluated", "[ #(load \"k\") (k/raw (k/mix 1 2)) ]"],
    ["a kernel evaluating its argument in the caller's scope", "[ #(load \"k\") (def v 7) (k/ev (k/mix v 1)) ]"],
    ["a kernel call written with another arity", "[ #(load \"k\") (k/mix 1) ]"],
    ["int64 wraparound", "[ #(load \"k\") (def big 9223372036854775807) (eval \"(k/ev (cast :int big))\") ]"],
    ["lambda calls: argument types, arity before arguments, return type", "[ (def f (fn (a :int b :str) :int [ a ])) (debug (f 1 \"x\")) (recover [ (f \"x\" \"y\") ] [ (debug $exception) ]) (recover [ (f (debug 1)) ] [ (debug $exception) ]) (def g (fn () :int [ \"s\" ])) (g) ]"],
    ["a lambda of three parameters", "[ (def f (fn (a :int b :int c :int) :int [ (debug a b c) c ])) (f 1 2 3) ]"],
    ["a dead lambda", "[ (def maker (fn () :aberrant [ (fn (v :int) :int [v]) ])) (def g (maker)) (g 1) ]"],
    ["unknown callable", "[ (nope 1) ]"],
    ["unknown callable with a slash", "[ (nope/fn 1) ]"],
    ["non-symbol head", "[ (1 2) ]"],
    ["non-symbol head in eval", "[ (eval \"(\\\"s\\\" 2)\") ]"],
    ["the lock rule", "[ (debug 1) #(load \"k\") ]"],
    ["datums first, then code", "[ #(load \"k\") #(define-form pt {:int :int}) (cast :pt {1 2}) ]"],
    ["an unknown datum call", "[ #(nope 1) ]"],
    ["a datum that is data", "[ #5 ]"],
    ["instructions inside walked code", "[ (eval \"[ (def x (at 1 {4 5})) (if (eq x 5) (debug \\\"yes\\\") ()) (try @(e) [ $error ]) ]\") ]"],
    ["loops and done in eval", "[ (eval \"(do [ (debug $iterations) (if (eq $iterations 3) (done 9) ()) ])\") ]"],
    ["an exception in eval keeps its position", "[ (def a 1)\n (eval \"(assert 0 \\\"boom\\\")\") ]"],
    ["recover around eval of a failing call", "[ (recover [ (eval \"(nope)\") ] [ $exception ]) ]"],
    ["eval of a non-string", "[ (eval 5) ]"],
    ["eval of bad text", "[ (eval \"(1 2\") ]"],
  ];
  for (const [name, text] of programs) {
    test(name, () => {
      expect(walked(text)).toBe(compiled(text));
    });
  }
});

describe("budgets in walked code", () => {
  test("a step budget spent in eval'd text stops the program, and recover cannot catch it", () => {
    const text = '[ (def f (fn () :int [ 1 ])) (recover [ (eval "(do [ (f) ])") ] [ (debug "caught") ]) ]';
    const r = walked(text, { steps: 3000 });
    expect(r).toBe("|BudgetExceeded: Stopped program: steps budget of 3000 exhausted @-");
    expect(compiled(text, { steps: 3000 })).toBe(r);
  });

  test("the time budget is watched between any two kernel calls of a walked program", () => {
    const text = `[ #(load "k") ${Array.from({ length: 2000 }, () => "(k/slow)").join(" ")} ]`;
    calls = 0;
    expect(walked(text, { timeMs: 50 })).toBe("|BudgetExceeded: Stopped program: time budget of 50 ms exhausted @-");
    // About 50 / SLOW_CALL_MS calls; a thread that was not scheduled for a while may add a few.
    expect(calls).toBeLessThan(STEPS_PER_CLOCK_CHECK / 10);
  });

  test("and between the kernel calls of eval'd text", () => {
    const text = `[ #(load "k") (recover [ (eval "[ ${Array.from({ length: 2000 }, () => "(k/slow)").join(" ")} ]") ] [ 0 ]) ]`;
    calls = 0;
    expect(walked(text, { timeMs: 50 })).toBe("|BudgetExceeded: Stopped program: time budget of 50 ms exhausted @-");
    expect(calls).toBeLessThan(STEPS_PER_CLOCK_CHECK / 10);
  });
});

describe("walk, then compile", () => {
  test("a node evaluated once is walked and makes no closures; the second time it is compiled", () => {
    const session = new Session(testHost());
    session.addKernel("k", K);
    const it = new Interp(session, "t");
    const node = src("[ (k/mix 1 (k/mix 2 3)) ]") as List;
    expect(it.evalValue(node)).toBe(33);
    expect(typeof node.compiled).not.toBe("function");
    // Instructions run their closure code; calls, sequences and symbols make none.
    const call = node.items[0] as List;
    expect(call.compiled).toBeUndefined();
    expect((call.items[2] as List).compiled).toBeUndefined();
    expect(it.evalValue(node)).toBe(33);
    expect(typeof node.compiled).toBe("function");
    expect(typeof call.compiled).toBe("function");
    expect(it.evalValue(new Wrap(1, node))).toBe(node);
  });

  test("eval of the same text walks its first run and runs closures after", () => {
    setTierMode("closure");
    const host = testHost();
    const text = '[ (do [ (eval "(debug $iterations)") (if (eq $iterations 3) (done 0) ()) ]) ]';
    const o = runProgram(src(text), { path: "e.sxs", text }, host);
    expect(o.ok).toBe(true);
    expect(host.out).toBe("[DEBUG] 1\n[DEBUG] 2\n[DEBUG] 3\n");
  });

  test("a program parsed once and run twice gives the same results walked, then compiled", () => {
    setTierMode("closure");
    const p = src('[ #(load "k") (def f (fn (a :int) :int [ (k/mix a 1) ])) (debug (f 1) (eval "(f 2)")) ]');
    const outs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const host = testHost();
      const o = runProgram(p, { path: "p.sxs", text: "" }, host);
      outs.push(`${host.out}|${o.ok ? sourceForm(o.value) : o.exception.message}`);
    }
    expect(outs[0]).toBe("[DEBUG] 11 21\n|<none>");
    expect(outs[1]).toBe(outs[0]!);
    expect(typeof (p as List).compiled).toBe("function");
  });
});
