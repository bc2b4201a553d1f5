/**
 * The checker's built-in rules (spec §7.5): the generic parameter validation every built-in runs
 * first, then one rule per instruction. Directives (load, import, define-form) are in
 * checker-modules.ts.
 */
import type { Checker } from "./checker.ts";
import { List, Sym, T_ABERRANT, T_BRACE, T_BRACKET, T_INT, T_PAREN, T_STR, typeOf, type TypeCode, type Value } from "./value.ts";
import { ruleDefineForm, ruleImport, ruleLoad } from "./checker-modules.ts";
import { ABERRANT_T, INT_T, NONE_T, POISON, STR_T, isCode, ok, type StaticType } from "./checker-types.ts";

/** How generic validation treats one declared parameter of a built-in. */
interface BuiltinParam {
  readonly name: string;
  /** "any" is not checked; "symbol" needs a literal symbol; a code needs that exact static type. */
  readonly kind: "any" | "symbol" | TypeCode;
}

/** A built-in's rule; `call` is the `(name …)` list (the inner list of a `#(name …)` datum). */
export type Rule = (cx: Checker, call: List) => StaticType;

export interface Builtin {
  readonly params: readonly BuiltinParam[];
  readonly variadic: boolean;
  readonly rule: Rule;
}

const any = (name: string): BuiltinParam => ({ name, kind: "any" });
const symbol = (name: string): BuiltinParam => ({ name, kind: "symbol" });
const typed = (name: string, kind: TypeCode): BuiltinParam => ({ name, kind });

/**
 * Generic parameter validation (§7.5): arity, then each declared parameter. ⚠ quirk kept: an
 * argument whose syntactic kind differs from its parameter's type is checked here and again by the
 * rule, so a `def` inside it fails the second time.
 */
export function validateArguments(cx: Checker, call: List, name: string, b: Builtin): void {
  const argc = call.items.length - 1;
  const required = b.params.length;
  if (!b.variadic && argc !== required) cx.fail(`${name} requires exactly ${required} argument(s), got ${argc}`, call, call);
  if (b.variadic && argc < required) cx.fail(`${name} requires at least ${required} argument(s), got ${argc}`, call, call);
  for (let i = 0; i < required && i < argc; i++) {
    const p = b.params[i]!;
    const arg = call.items[i + 1]!;
    if (p.kind === "any") continue;
    if (p.kind === "symbol") {
      if (!(arg instanceof Sym)) cx.fail(`${name}: parameter '${p.name}' must be a symbol`, arg, call);
      continue;
    }
    if (typeOf(arg) === p.kind) continue;
    const t = cx.check(arg);
    if (!isCode(t, p.kind)) cx.fail(`${name}: parameter '${p.name}' expects type ${p.kind}, got ${t.code}`, arg, call);
  }
}

/** Argument i (1-based) of a call; validation has already guaranteed it exists. */
function arg(call: List, i: number): Value {
  return call.items[i]!;
}

const ruleDef: Rule = (cx, call) => {
  const name = (arg(call, 1) as Sym).name;
  const existing = cx.lookupLocal(name);
  if (existing === undefined) {
    cx.define(name, cx.check(arg(call, 2)));
  } else if (existing.code === POISON) {
    // The name's earlier definition failed: had it not, this one would be an error, so the name
    // stays unknown rather than taking this value's type.
    cx.check(arg(call, 2));
  } else {
    cx.fail(`Symbol '${name}' is already defined in current scope`, call, call);
  }
  return NONE_T;
};

const ruleExport: Rule = (cx, call) => {
  const name = (arg(call, 1) as Sym).name;
  const t = cx.check(arg(call, 2));
  cx.define(name, t);
  cx.exports.set(name, t);
  return NONE_T;
};

const ruleFn: Rule = (cx, call) => {
  const params = arg(call, 1);
  const retSym = arg(call, 2) as Sym;
  const ret = cx.requireType(retSym.name, `fn: invalid return type: ${retSym.name}`, retSym, call);
  // Validation lets through a non-list whose static type is `:list-p`; the run time rejects it.
  if (!(params instanceof List) || params.t !== T_PAREN) return cx.fail("fn: first argument must be parameter list", params, call);
  const types = parameterTypes(cx, params);
  cx.pushScope();
  for (let i = 0; i < types.length; i++) cx.define((params.items[2 * i] as Sym).name, types[i]!);
  const body = cx.check(arg(call, 3));
  cx.popScope();
  if (!ok(ret, body)) cx.fail(`fn: body returns type ${body.code}, but declared return type is ${ret.code}`, call, call);
  return { code: T_ABERRANT, sig: { params: types, ret, variadic: false } };
};

/** The parameter types of `(name :type …)`, checked pair by pair in the original's order. */
function parameterTypes(cx: Checker, params: List): StaticType[] {
  const items = params.items;
  const types: StaticType[] = [];
  for (let i = 0; i < items.length; i += 2) {
    if (i + 1 >= items.length) cx.fail("fn: parameters must be in pairs (name :type)", params, params);
    const name = items[i]!;
    const type = items[i + 1]!;
    if (!(name instanceof Sym)) cx.fail("fn: parameter name must be a symbol", name, params);
    if (!(type instanceof Sym)) return cx.fail("fn: parameter type must be a type symbol", type, params);
    types.push(cx.requireType(type.name, `fn: invalid parameter type: ${type.name}`, type, params));
  }
  return types;
}

const ruleDebug: Rule = (cx, call) => {
  for (let i = 1; i < call.items.length; i++) cx.check(arg(call, i));
  // debug returns NONE at run time, but the original checker says `:int` (§7.5).
  return INT_T;
};

const ruleIf: Rule = (cx, call) => {
  const cond = arg(call, 1);
  if (!isCode(cx.check(cond), T_INT)) cx.fail("if: condition must be an integer", cond, call);
  const then = cx.check(arg(call, 2));
  const otherwise = cx.check(arg(call, 3));
  if (!ok(then, otherwise)) cx.fail(`if: both branches must return the same type, got ${then.code} and ${otherwise.code}`, call, call);
  return then;
};

/** Handler i of match/reflect: a paren list of exactly two elements (checked one at a time). */
function handler(cx: Checker, call: List, i: number, who: "match" | "reflect"): List {
  const shape = who === "match" ? "(pattern result)" : "(:type body)";
  const h = arg(call, i);
  if (!(h instanceof List) || h.t !== T_PAREN) return cx.fail(`${who}: handlers must be paren lists like ${shape}`, h, call);
  if (h.items.length !== 2) cx.fail(`${who}: handler must have exactly 2 elements: ${shape}`, h, call);
  return h;
}

const ruleMatch: Rule = (cx, call) => {
  const value = cx.check(arg(call, 1));
  if (value.code === T_ABERRANT) cx.fail("match: cannot match on aberrant (lambda) types", arg(call, 1), call);
  for (let i = 2; i < call.items.length; i++) {
    const h = handler(cx, call, i, "match");
    const pattern = cx.check(h.items[0]!);
    if (pattern.code !== value.code && pattern.code !== POISON && value.code !== POISON) {
      cx.warn(`match: pattern type ${pattern.code} does not match value type ${value.code}`, h.items[0]!, h);
    }
    cx.check(h.items[1]!);
  }
  return NONE_T;
};

const ruleReflect: Rule = (cx, call) => {
  cx.check(arg(call, 1));
  for (let i = 2; i < call.items.length; i++) {
    const h = handler(cx, call, i, "reflect");
    const type = h.items[0]!;
    if (!(type instanceof Sym)) return cx.fail("reflect: handler type must be a symbol like :int", type, h);
    cx.requireType(type.name, `reflect: invalid type symbol: ${type.name}`, type, h);
    cx.check(h.items[1]!);
  }
  return NONE_T;
};

const ruleTry: Rule = (cx, call) => {
  const body = cx.check(arg(call, 1));
  const handler = arg(call, 2);
  let caught: StaticType;
  if (handler instanceof List && handler.t === T_BRACKET) {
    cx.pushScope();
    // The original injects `$error` with the type code it uses for "any" parameters: ABERRANT.
    cx.define("$error", ABERRANT_T);
    caught = cx.check(handler);
    cx.popScope();
  } else {
    caught = cx.check(handler);
  }
  if (!ok(body, caught)) cx.fail(`try: body and handler must return the same type, got ${body.code} and ${caught.code}`, call, call);
  return body;
};

const ruleRecover: Rule = (cx, call) => {
  const body = cx.check(arg(call, 1));
  cx.pushScope();
  cx.define("$exception", STR_T);
  const caught = cx.check(arg(call, 2));
  cx.popScope();
  if (!ok(body, caught)) cx.fail(`recover: body and handler must return the same type, got ${body.code} and ${caught.code}`, call, call);
  return body;
};

const ruleAssert: Rule = (cx, call) => {
  const cond = cx.check(arg(call, 1));
  const message = cx.check(arg(call, 2));
  if (!isCode(cond, T_INT)) cx.fail("assert: condition must be an integer", arg(call, 1), call);
  if (!isCode(message, T_STR)) cx.fail("assert: message must be a string", arg(call, 2), call);
  return NONE_T;
};

const ruleCast: Rule = (cx, call) => {
  const target = arg(call, 1) as Sym;
  const t = cx.requireType(target.name, `cast: invalid type symbol: ${target.name}`, target, call);
  cx.check(arg(call, 2));
  return t;
};

const ruleDo: Rule = (cx, call) => {
  cx.loopDepth++;
  cx.pushScope();
  cx.define("$iterations", INT_T);
  cx.check(arg(call, 1));
  cx.popScope();
  cx.loopDepth--;
  // The loop's value is only known at run time; the original checker calls it `:aberrant`.
  return ABERRANT_T;
};

const ruleDone: Rule = (cx, call) => {
  if (cx.loopDepth === 0) cx.fail("done called outside of do loop", call, call);
  cx.check(arg(call, 1));
  return NONE_T;
};

const ruleAt: Rule = (cx, call) => {
  if (!isCode(cx.check(arg(call, 1)), T_INT)) cx.fail("at: index must be an integer", arg(call, 1), call);
  const coll = cx.check(arg(call, 2)).code;
  if (coll !== T_PAREN && coll !== T_BRACKET && coll !== T_BRACE && coll !== T_STR && coll !== POISON) {
    cx.fail("at: collection must be a list or string type", arg(call, 2), call);
  }
  return NONE_T;
};

const ruleEq: Rule = (cx, call) => {
  cx.check(arg(call, 1));
  cx.check(arg(call, 2));
  return INT_T;
};

const ruleEval: Rule = (cx, call) => {
  if (!isCode(cx.check(arg(call, 1)), T_STR)) cx.fail("eval: argument must be a string", arg(call, 1), call);
  return NONE_T;
};

const ruleApply: Rule = (cx, call) => {
  if (!isCode(cx.check(arg(call, 1)), T_ABERRANT)) cx.fail("apply: first argument must be a lambda (aberrant type)", arg(call, 1), call);
  if (!isCode(cx.check(arg(call, 2)), T_BRACE)) cx.fail("apply: second argument must be a brace list of arguments", arg(call, 2), call);
  return NONE_T;
};

/** Every built-in instruction and directive with its declared parameters (§7.5 table). */
export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ["def", { params: [symbol("symbol"), any("value")], variadic: false, rule: ruleDef }],
  ["fn", { params: [typed("params", T_PAREN), symbol("return_type"), typed("body", T_BRACKET)], variadic: false, rule: ruleFn }],
  ["debug", { params: [], variadic: true, rule: ruleDebug }],
  ["export", { params: [symbol("name"), any("value")], variadic: false, rule: ruleExport }],
  ["if", { params: [any("condition"), any("true_branch"), any("false_branch")], variadic: false, rule: ruleIf }],
  ["reflect", { params: [any("value"), typed("handler", T_PAREN)], variadic: true, rule: ruleReflect }],
  ["match", { params: [any("value"), typed("handler", T_PAREN)], variadic: true, rule: ruleMatch }],
  ["try", { params: [any("body"), any("handler")], variadic: false, rule: ruleTry }],
  ["assert", { params: [typed("condition", T_INT), typed("message", T_STR)], variadic: false, rule: ruleAssert }],
  ["recover", { params: [typed("body", T_BRACKET), typed("handler", T_BRACKET)], variadic: false, rule: ruleRecover }],
  ["eval", { params: [typed("code", T_STR)], variadic: false, rule: ruleEval }],
  ["apply", { params: [any("lambda"), typed("args", T_BRACE)], variadic: false, rule: ruleApply }],
  ["cast", { params: [symbol("type"), any("value")], variadic: false, rule: ruleCast }],
  ["do", { params: [typed("body", T_BRACKET)], variadic: false, rule: ruleDo }],
  ["done", { params: [any("value")], variadic: false, rule: ruleDone }],
  ["at", { params: [typed("index", T_INT), any("collection")], variadic: false, rule: ruleAt }],
  ["eq", { params: [any("lhs"), any("rhs")], variadic: false, rule: ruleEq }],
  ["import", { params: [symbol("symbol"), typed("file_path", T_STR)], variadic: true, rule: ruleImport }],
  ["load", { params: [typed("kernel_name", T_STR)], variadic: true, rule: ruleLoad }],
  ["define-form", { params: [symbol("name"), typed("elements", T_BRACE)], variadic: false, rule: ruleDefineForm }],
]);
