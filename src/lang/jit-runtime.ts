/**
 * What code made by the JS tier (jit.ts) calls: the helpers that raise the spec's exceptions, the
 * kernel call-site cache, and the value helpers, in one object handed to every generated function.
 * Generated code reaches nothing else, so everything it can do is listed here.
 */
import { castValue, valuesEq } from "./convert.ts";
import { BudgetExceeded, SlpException } from "./errors.ts";
import type { EagerKernelFn, KernelFn } from "./host.ts";
import { INTRINSICS, INTRINSICS_BY_ID } from "./intrinsics.ts";
import type { Interp, LambdaDef } from "./interp.ts";
import { debugForm } from "./printer.ts";
import { Aberrant, List, NONE, Str, Wrap, type Value, errorValue, typeOf } from "./value.ts";

/** A kernel call site of generated code, resolved against a session's kernel function table. */
export interface JsCallSite {
  readonly name: string;
  readonly nargs: number;
  /** The table this site was resolved against (tables are immutable and shared; see kernel-set.ts). */
  fns: ReadonlyMap<string, KernelFn> | undefined;
  /** The kernel's eager form when it takes exactly nargs arguments; undefined otherwise. */
  eager: EagerKernelFn["call"] | undefined;
  /** The id of the function's pure equivalent (intrinsics.ts) when it declares one, else 0. */
  op: number;
}

/** Resolves a call site against a session's function table (called when the table changed). */
function resolveSite(site: JsCallSite, fns: ReadonlyMap<string, KernelFn>): void {
  site.fns = fns;
  const k = fns.get(site.name);
  site.eager = k?.eager !== undefined && k.eager.arity === site.nargs ? k.eager.call : undefined;
  const pure = k?.pure !== undefined ? INTRINSICS.get(k.pure) : undefined;
  site.op = site.eager !== undefined && pure !== undefined && pure.params.length === site.nargs ? pure.id : 0;
}

const fail = (text: string, pos: number): SlpException => new SlpException(text, pos);

/** The runtime object every generated function receives as `R`. */
export const RUNTIME = {
  NONE,
  Aberrant,
  Wrap,
  List,
  Str,
  typeOf,
  castValue,
  valuesEq,
  debugForm,
  resolveSite,
  fail,
  unknownCallable: (name: string, pos: number) => fail(`Unknown callable symbol: ${name}`, pos),
  arity: (def: LambdaDef, n: number, pos: number) => fail(`Function expects ${def.params.length} arguments, got ${n}`, pos),
  argType: (i: number, want: number, v: Value, pos: number) => fail(`Argument ${i} type mismatch: expected ${want}, got ${typeOf(v)}`, pos),
  /** Undoes the call depth counted for a call that nests too deep and says so (as Interp.enterLambda does). */
  tooDeep: (it: Interp, max: number) => {
    it.callDepth--;
    return new BudgetExceeded("depth", max);
  },
  returnedUnexpectedType: () => errorValue("internal function error: returned unexpected type"),
  alreadyDefined: (name: string, pos: number) => fail(`Symbol '${name}' is already defined in current scope`, pos),
  /** The slow path (and only path, for those without an inline template) of each pure equivalent, by id. */
  intrinsic: INTRINSICS_BY_ID.map((x) => x?.fn),
};

export type JsRuntime = typeof RUNTIME;
