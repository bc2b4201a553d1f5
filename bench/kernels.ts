/**
 * `bun bench/kernels.ts`: live-kernel and kernel-call costs, all in this one Bun process.
 *
 * 1. Swap time: median wall time of Runtime.reloadKernel for a small native kernel whose build is
 *    cached (sources unchanged), with a rebuild (sources changed before every reload), and for a
 *    TypeScript kernel. The target for a cached swap is under 5 ms.
 * 2. Call cost: the same functions as a native kernel and as a TypeScript kernel: `add` with two
 *    int arguments (native scalar convention) and `sum` of a 10-element list (native value
 *    convention), called directly through the KernelFn and from an SLP loop (loop cost subtracted).
 *
 * Options: --swaps N (cached reloads, default 50), --rebuilds N (default 5), --calls N (default 2e6).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { CallContext, KernelFn } from "../src/lang/host.ts";
import { List, NONE, T_PAREN, type Value } from "../src/lang/value.ts";
import { Runtime } from "../src/node/runtime.ts";

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The native kernel: `add` (scalar), `sum` of a list (value), `version` to tell builds apart. */
function nativeSource(version: number): string {
  return `#include "sup_kernel.h"
#include "sup_value.h"
static const sup_api *g_api;
static int64_t b_add(int32_t argc, int64_t a, int64_t b) { return argc < 2 ? 0 : (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t b_version(int32_t argc) { (void)argc; return ${version}; }
static const uint8_t *b_sum(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[1];
    int64_t s = 0;
    if (argc >= 1 && sv_args(g_api, ctx, args, len, a, 1) == 1) {
        sv_iter it = sv_items(&a[0]);
        sv_value x;
        while (sv_next(&it, &x)) s += sv_as_int(&x);
    }
    sv_builder b;
    sv_builder_init(&b);
    sv_put_int(&b, s);
    return sv_return(&b, g_api, ctx);
}
int32_t kernel_init(const sup_api *api) {
    g_api = api;
    if (api->register_function(api->host, "add", (sup_fn)b_add, SUP_CALL_SCALAR) != 0) return 2;
    if (api->register_function(api->host, "sum", (sup_fn)b_sum, SUP_CALL_VALUE) != 0) return 2;
    if (api->register_function(api->host, "version", (sup_fn)b_version, SUP_CALL_SCALAR) != 0) return 2;
    return 0;
}
void kernel_shutdown(const sup_api *api) { (void)api; sv_release(); }
`;
}

const FUNCTIONS = `(define-function add (a :int b :int) :int)
    (define-function sum (xs :any) :int)
    (define-function version () :int)`;

/** The same functions in TypeScript, with an eager `add` as fast kernels have. */
const TS_MODULE = `import { List } from "sup/kernel";
const asInt = (v: unknown): number => (typeof v === "number" ? v : 0);
const add = (cx: { eval(e: unknown): unknown }, args: readonly unknown[]) => (args.length < 2 ? 0 : asInt(cx.eval(args[0])) + asInt(cx.eval(args[1])));
add.eager = { arity: 2, call: (a: unknown, b: unknown) => asInt(a) + asInt(b) };
const sum = (cx: { eval(e: unknown): unknown }, args: readonly unknown[]) => {
  const xs = args.length < 1 ? null : cx.eval(args[0]);
  let s = 0;
  if (xs instanceof List) for (const x of xs.items) s += asInt(x);
  return s;
};
export default { apiVersion: 1, create: () => ({ functions: { add, sum, version: () => 1 } }) };
`;

function writeKernels(dir: string, version: number): void {
  mkdirSync(join(dir, "bnat"), { recursive: true });
  writeFileSync(join(dir, "bnat", "kernel.sxs"), `#(define-kernel bnat "libkernel_bnat.so" [\n    ${FUNCTIONS}\n])\n`);
  writeFileSync(join(dir, "bnat", "bnat.c"), nativeSource(version));
  mkdirSync(join(dir, "bts"), { recursive: true });
  writeFileSync(join(dir, "bts", "kernel.sxs"), `#(define-kernel bts "mod.ts" [\n    ${FUNCTIONS}\n])\n`);
  writeFileSync(join(dir, "bts", "mod.ts"), TS_MODULE);
}

/** Median of `runs` reload times of `name`; `before` runs ahead of each reload (e.g. edits a source). */
function swapMs(runtime: Runtime, name: string, runs: number, before: (i: number) => void = () => {}): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    before(i);
    times.push(runtime.reloadKernel(name).swapMs);
  }
  return median(times);
}

/** A context whose eval returns its argument: direct calls pass values as already evaluated expressions. */
const literalCx: CallContext = { eval: (e: Value) => e, workingDir: "/", write: () => {}, scope: null, remainingMs: () => Infinity };

/** Results are counted so the JIT cannot drop a call whose value is unused. */
let sink = 0;

/** Nanoseconds per call of `f` (median of 5 timed batches of `n`). */
function nsPerCall(n: number, f: () => Value): number {
  for (let i = 0; i < n / 10; i++) if (f() === 42) sink++; // warm up the JIT
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = Bun.nanoseconds();
    for (let i = 0; i < n; i++) if (f() === 42) sink++;
    times.push((Bun.nanoseconds() - t0) / n);
  }
  return median(times);
}

/** Nanoseconds per turn of an SLP `do` loop whose body is `body`, minus the empty loop's. */
function nsPerLoopCall(runtime: Runtime, kernel: string, body: string, n: number): number {
  const program = (b: string) => `[ #(load "${kernel}")
  (def xs '(1 2 3 4 5 6 7 8 9 10))
  (do [ (if (eq $iterations ${n}) (done 0) ()) ${b} ]) ]`;
  const time = (src: string): number => {
    const ts: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = Bun.nanoseconds();
      const res = runtime.run({ source: src }, { check: false });
      if (!res.ok) throw new Error(`bench program failed: ${JSON.stringify(res)}`);
      ts.push(Bun.nanoseconds() - t0);
    }
    return median(ts) / n;
  };
  return time(program(body)) - time(program("0"));
}

function main(): void {
  const { values } = parseArgs({ options: { swaps: { type: "string" }, rebuilds: { type: "string" }, calls: { type: "string" } } });
  const swaps = Number(values.swaps ?? 50);
  const rebuilds = Number(values.rebuilds ?? 5);
  const calls = Number(values.calls ?? 2_000_000);
  const work = mkdtempSync(join(tmpdir(), "sup-bench-kernels-"));
  const runtime = new Runtime({ workingDir: work, includePaths: [work], supHome: null, nativeBuild: { cacheDir: join(work, "cache") } });
  try {
    writeKernels(work, 1);
    runtime.loadKernel("bnat");
    runtime.loadKernel("bts");
    const cached = swapMs(runtime, "bnat", swaps);
    const rebuilt = swapMs(runtime, "bnat", rebuilds, (i) => writeKernels(work, i + 2));
    const ts = swapMs(runtime, "bts", swaps);
    console.log("swap time (Runtime.reloadKernel, median)");
    console.log(`  native, build cached   ${cached.toFixed(3)} ms  (${swaps} reloads; target < 5 ms: ${cached < 5 ? "met" : "MISSED"})`);
    console.log(`  native, rebuilt        ${rebuilt.toFixed(1)} ms  (${rebuilds} reloads, source edited before each)`);
    console.log(`  TypeScript             ${ts.toFixed(3)} ms  (${swaps} reloads)`);

    const fn = (kernel: string, name: string): KernelFn => runtime.registry.load(kernel).functions.get(name)!;
    const list = new List(T_PAREN, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const addArgs: readonly Value[] = [40, 2];
    const listArgs: readonly Value[] = [list];
    const rows: [string, number, number][] = [];
    const nAdd = fn("bnat", "add");
    const tAdd = fn("bts", "add");
    rows.push(["add, 2 ints, eager", nsPerCall(calls, () => nAdd.eager!.call(40, 2, NONE, literalCx)), nsPerCall(calls, () => tAdd.eager!.call(40, 2, NONE, literalCx))]);
    rows.push(["add, 2 ints, general", nsPerCall(calls, () => nAdd(literalCx, addArgs)), nsPerCall(calls, () => tAdd(literalCx, addArgs))]);
    const nSum = fn("bnat", "sum");
    const tSum = fn("bts", "sum");
    rows.push(["sum, 10-element list", nsPerCall(calls / 4, () => nSum(literalCx, listArgs)), nsPerCall(calls / 4, () => tSum(literalCx, listArgs))]);
    const loops = calls / 4;
    rows.push(["add from an SLP loop", nsPerLoopCall(runtime, "bnat", "(bnat/add $iterations 1)", loops), nsPerLoopCall(runtime, "bts", "(bts/add $iterations 1)", loops)]);
    rows.push(["sum from an SLP loop", nsPerLoopCall(runtime, "bnat", "(bnat/sum xs)", loops), nsPerLoopCall(runtime, "bts", "(bts/sum xs)", loops)]);
    console.log("\ncall cost (ns per call, median of 5 batches; native / TypeScript)");
    for (const [label, native, typescript] of rows) {
      console.log(`  ${label.padEnd(22)} native ${native.toFixed(1).padStart(7)}   TypeScript ${typescript.toFixed(1).padStart(7)}   ratio ${(native / typescript).toFixed(2)}x`);
    }
    if (sink === 0) throw new Error("bench calls returned no expected result");
  } finally {
    runtime.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main();
