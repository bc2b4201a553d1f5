/**
 * What code made by the JS tier (jit.ts) calls: the helpers that raise the spec's exceptions and
 * the value helpers, in one object handed to every generated function.
 * Generated code reaches nothing else, so everything it can do is listed here.
 */
import { castValue, valuesEq } from "./convert.ts";
import { BudgetExceeded, SlpException } from "./errors.ts";
import type { Interp, LambdaDef } from "./interp.ts";
import { debugForm } from "./printer.ts";
import { Aberrant, List, NONE, Str, Wrap, type Value, errorValue, typeOf } from "./value.ts";

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
  fail,
  unknownCallable: (name: string, pos: number) => fail(`Unknown callable symbol: ${name}`, pos),
  arity: (def: LambdaDef, n: number, pos: number) => fail(`Function expects ${def.params.length} arguments, got ${n}`, pos),
  argType: (i: number, want: number, v: Value, pos: number) => fail(`Argument ${i} type mismatch: expected ${want}, got ${typeOf(v)}`, pos),
  /** A call that would nest deeper than max (as Interp.enterLambda says it; generated code counts depth in a local). */
  depthExceeded: (max: number) => new BudgetExceeded("depth", max),
  /** Runs the body of a lambda of at most two parameters that is not self-binding, in a scope binding them (as Interp.enterLambda does). */
  enterScoped: (it: Interp, def: LambdaDef, v0: Value, v1: Value): Value => {
    it.pushScope();
    const params = def.params;
    if (params.length > 0) it.define(params[0]!, v0);
    if (params.length > 1) it.define(params[1]!, v1);
    const r = def.unit.code(it, v0, v1);
    it.popScope();
    return r;
  },
  returnedUnexpectedType: () => errorValue("internal function error: returned unexpected type"),
  alreadyDefined: (name: string, pos: number) => fail(`Symbol '${name}' is already defined in current scope`, pos),
};

export type JsRuntime = typeof RUNTIME;
