/**
 * The `tally` kernel: named counters kept per loaded instance. A third-party kernel: it lives outside
 * sup's source tree and imports sup only through the kernel API, `sup/kernel`, which sup resolves to
 * the running runtime's own module — so `instanceof Str` below is true for the strings programs pass.
 */
import { List, Real, Str, errorValue, latin1FromText, textFromLatin1, type CallContext, type KernelDefinition, type KernelFn, type Value } from "sup/kernel";

/** Counters at most; names come from programs, so the table must not grow without bound. */
const COUNTERS_MAX = 10_000;

/** Evaluates a call's first argument as a counter name, or null when it is not a string. */
function nameArg(cx: CallContext, args: readonly Value[]): string | null {
  if (args.length < 1) return null;
  const v = cx.eval(args[0]!);
  return v instanceof Str ? textFromLatin1(v.s) : null;
}

function create() {
  const counters = new Map<string, number>();

  /** `(tally/add name n)`: adds n to the counter (created at 0); the new total. */
  const add: KernelFn = (cx, args) => {
    const name = nameArg(cx, args);
    const n = args.length < 2 ? null : cx.eval(args[1]!);
    if (name === null || typeof n !== "number") return errorValue("tally: add requires a string and an int");
    if (!counters.has(name) && counters.size >= COUNTERS_MAX) return errorValue(`tally: more than ${COUNTERS_MAX} counters`);
    const total = (counters.get(name) ?? 0) + n;
    counters.set(name, total);
    return total;
  };

  /** `(tally/get name)`: the counter's total, or an error value when there is none. */
  const get: KernelFn = (cx, args) => {
    const name = nameArg(cx, args);
    if (name === null) return errorValue("tally: get requires a string");
    return counters.get(name) ?? errorValue("tally: no counter named " + latin1FromText(name));
  };

  /** `(tally/report)`: writes `name total` lines, sorted by name, through the program's output; the count. */
  const report: KernelFn = (cx) => {
    const names = [...counters.keys()].sort();
    for (const name of names) cx.write(latin1FromText(`${name} ${counters.get(name)}\n`));
    return names.length;
  };

  /** `(tally/mean {ints…})`: their mean as a real, or an error value for anything else. */
  const mean: KernelFn = (cx, args) => {
    const xs = args.length < 1 ? null : cx.eval(args[0]!);
    if (!(xs instanceof List) || xs.items.length === 0 || !xs.items.every((x) => typeof x === "number")) return errorValue("tally: mean requires a non-empty list of ints");
    return new Real((xs.items as number[]).reduce((a, b) => a + b, 0) / xs.items.length);
  };

  return { functions: { add, get, report, mean }, shutdown: () => counters.clear() };
}

/** Written for kernel API version 1: a sup providing another version refuses to load this kernel. */
const tally: KernelDefinition = { apiVersion: 1, create };

export default tally;
