/**
 * Lambda calls on the JS tier (jit-calls.ts): a body calling itself (no scope bound when the
 * callee's parameters shadow the caller's, the kernel table check skipped while it holds, the call
 * depth kept in locals, the lambda found handed over), what the generator knows across branches,
 * and argument types known at generation; each against the closure tier.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { CALL_DEPTH_MAX } from "./interp.ts";
import { setTierMode } from "./tier.ts";
import { runOn, src } from "./tier-test-support.ts";

afterEach(() => setTierMode("auto"));

describe("lambda calls behave the same on both tiers", () => {
  // Each lambda runs three times or more: the run that promotes a body still runs its closures.
  const programs: [string, string][] = [
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
});
