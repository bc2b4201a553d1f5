/**
 * The `json` kernel: `(json/encode v)` → JSON text, `(json/decode s)` → value, with the mapping of
 * docs/node.md (objects ↔ brace lists of `("key" value)` pairs, arrays ↔ bracket lists, int64 ints
 * exact, reals always read back as reals, `true`/`false`/`null` symbols); `json/object` and
 * `json/array` build objects and arrays from computed values. Invariants: every failure is
 * an error value `@(json: …)`, never an exception; no state, so one instance could serve every runtime.
 * Imports only the kernel API.
 */
import { List, Str, T_BRACE, T_BRACKET, T_PAREN, type CallContext, type KernelDefinition, type KernelFn, type Value } from "sup/kernel";
import { decodeJson } from "./decode.ts";
import { encodeJson } from "./encode.ts";
import { jsonError } from "./reason.ts";

export { decodeJson } from "./decode.ts";
export { encodeJson, quoteJson, realJson, JSON_NESTING_MAX, TRUE, FALSE, NULL } from "./encode.ts";
export { jsonError } from "./reason.ts";

function encodeValue(v: Value): Value {
  const r = encodeJson(v);
  return typeof r === "string" ? new Str(r) : r;
}

function decodeValue(v: Value): Value {
  return v instanceof Str ? decodeJson(v.s) : jsonError("decode requires a string");
}

/** `(json/encode value)`. */
const encode: KernelFn = Object.assign((cx: CallContext, args: readonly Value[]) => (args.length === 1 ? encodeValue(cx.eval(args[0]!)) : jsonError("encode requires 1 argument")), {
  eager: { arity: 1 as const, call: (a: Value) => encodeValue(a) },
});

/** `(json/decode text)`. */
const decode: KernelFn = Object.assign((cx: CallContext, args: readonly Value[]) => (args.length === 1 ? decodeValue(cx.eval(args[0]!)) : jsonError("decode requires 1 argument")), {
  eager: { arity: 1 as const, call: (a: Value) => decodeValue(a) },
});

/**
 * `(json/object "k1" v1 "k2" v2 …)`: a brace list of pairs with the values evaluated — brace lists
 * written in code are data and are not evaluated, so a handler needs this to put computed values in
 * an object. Keys are evaluated too and must be strings.
 */
const object: KernelFn = (cx, args) => {
  if (args.length % 2 !== 0) return jsonError("object requires key value pairs");
  const pairs: Value[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const key = cx.eval(args[i]!);
    if (!(key instanceof Str)) return jsonError("object keys must be strings");
    pairs.push(new List(T_PAREN, [key, cx.eval(args[i + 1]!)]));
  }
  return new List(T_BRACE, pairs);
};

/** `(json/array v1 v2 …)`: a bracket list of the evaluated values (a bracket list in code is a sequence, not data). */
const array: KernelFn = (cx, args) => new List(T_BRACKET, args.map((a) => cx.eval(a)));

const json: KernelDefinition = { apiVersion: 1, create: () => ({ functions: { encode, decode, object, array } }) };

export default json;
