/**
 * The test host of the JS tier's tests (tier.test.ts, jit-calls.test.ts): one kernel, `t`, whose
 * functions let a program rebind names, read them and swap the kernel behind the program's back,
 * and a runner that gives a program's output and outcome on one tier as text.
 */
import type { CallContext, Host, KernelFn, LoadedKernel } from "./host.ts";
import type { Interp } from "./interp.ts";
import { sourceForm } from "./printer.ts";
import { read } from "./reader.ts";
import { runProgram } from "./run.ts";
import { setTierMode, type TierMode } from "./tier.ts";
import { List, NONE, sym, T_PAREN, type Value } from "./value.ts";

/**
 * The one kernel of the test host, `t`: `(t/rebind)` evaluates `(export n 9)` in the caller's
 * scope from a value it builds itself, so the program text never shows the rebinding.
 */
export const T_KERNEL: LoadedKernel = {
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

/** A host that records output and log lines, with the given kernels (by default only the `t` kernel). */
export function testHost(kernels: Readonly<Record<string, LoadedKernel>> = { t: T_KERNEL }): Host & { out: string; logs: string[] } {
  const h = {
    out: "",
    logs: [] as string[],
    workingDir: "/",
    write(s: string) {
      h.out += s;
    },
    loadKernel(name: string): LoadedKernel {
      const k = kernels[name];
      if (k === undefined) throw new Error(`no kernel ${name} in this test`);
      return k;
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
export function runOn(mode: TierMode, program: Value, budget = {}): string {
  setTierMode(mode);
  const host = testHost();
  const o = runProgram(program, { path: "t.sxs", text: "" }, host, budget);
  return `${host.out}|${o.ok ? sourceForm(o.value) : `${o.exception.constructor.name}: ${o.exception.message}`}`;
}

/** A program read from text. */
export const src = (text: string): Value => {
  const v = read(text).value;
  if (v === null) throw new Error(`bad test source: ${text}`);
  return v;
};

/**
 * A kernel function that keeps the thread busy for `ms` (as a kernel building a big value does:
 * nothing else runs meanwhile), calling `counted` each time; for tests of time budgets.
 */
export function busyKernelFn(ms: number, counted: () => void): KernelFn {
  return () => {
    counted();
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // Busy.
    }
    return NONE;
  };
}
