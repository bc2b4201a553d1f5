/**
 * The walk: evaluates a value by walking it directly, for code that runs once (a top-level
 * program, `eval` of fresh text, an argument a kernel evaluates), so it pays for no closures.
 * Compiling a node costs more than running it once (a closure per node, call-site records), and
 * `eval` of text built anew each time (kv designators need it) compiled every text only to throw it
 * away.
 *
 * It walks only the structure that compile.ts turns into closures (symbols, wrappers, sequences
 * and calls of kernels, modules and lambdas), in the same order with the same checks and
 * exception texts. A built-in instruction, a directive or any node that already has compiled code
 * runs that node's closure code (compiled and cached on the node by compile.ts), so the closure
 * tier keeps the one definition of every instruction, as the JS tier does for those it does not
 * write inline.
 */
import { SlpException } from "./errors.ts";
import { compile } from "./compile.ts";
import { INSTRUCTIONS } from "./instructions.ts";
import { checkArgType, type Code, type Interp } from "./interp.ts";
import { moduleCall } from "./modules.ts";
import { Aberrant, List, NONE, Sym, Wrap, T_BRACKET, T_DATUM, T_ERROR, T_PAREN, T_SOME, type Value, typeOf } from "./value.ts";

/** Evaluates v in it's current scope by walking it (see the file's comment). */
export function walk(it: Interp, v: Value): Value {
  if (typeof v !== "object") return v;
  if (v instanceof List) {
    const c = v.compiled;
    if (typeof c === "function") return (c as Code)(it);
    if (v.t === T_PAREN) return v.items.length === 0 ? v : walkCall(it, v);
    if (v.t === T_BRACKET) return walkSequence(it, v.items);
    return v; // brace lists are data
  }
  if (v instanceof Sym) return it.evalValue(v);
  if (v instanceof Wrap) {
    if (v.t === T_SOME) return v.inner;
    if (v.t === T_ERROR) return v;
    const inner = v.inner;
    // A datum call runs an instruction or directive: its closure code (compile.ts) is the definition.
    if (inner instanceof List && inner.t === T_PAREN && inner.items[0] instanceof Sym) return compile(v)(it);
    return v;
  }
  return v;
}

/** A bracket list's elements in order, with the lock rule (spec §5.4), as compile.ts's compileSequence. */
function walkSequence(it: Interp, items: readonly Value[]): Value {
  let r: Value = NONE;
  for (let i = 0; i < items.length; i++) {
    const v = items[i]!;
    if (!(v instanceof Wrap && v.t === T_DATUM)) it.locked = true;
    r = walk(it, v);
  }
  return r;
}

/** A paren-list call (spec §3.2), resolved as compile.ts's compileCall resolves it, per run. */
function walkCall(it: Interp, l: List): Value {
  const items = l.items;
  const head = items[0]!;
  const pos = l.pos;
  if (!(head instanceof Sym)) throw new SlpException(`Cannot call non-symbol type: ${typeOf(head)}`, pos);
  const name = head.name;
  if (INSTRUCTIONS.has(name)) return compile(l)(it);
  const slash = name.indexOf("/");
  if (slash >= 0) {
    // A kernel call may do far more work than a step: the time budget is watched before each.
    it.tick();
    const k = it.session.kernelSet.fns.get(name);
    if (k !== undefined) {
      const nargs = items.length - 1;
      const e = k.eager;
      if (e !== undefined && e.arity === nargs) {
        const a = walk(it, items[1]!);
        if (nargs === 1) return e.call(a, NONE, NONE, it.cx);
        const b = walk(it, items[2]!);
        return e.call(a, b, nargs === 2 ? NONE : walk(it, items[3]!), it.cx);
      }
      return k(it.cx, items.slice(1));
    }
    if (slash > 0) {
      const r = moduleCall(it, name.slice(0, slash), name.slice(slash + 1), items.slice(1), pos);
      if (r !== undefined) return r;
    }
  }
  const f = it.lookup(head);
  if (f instanceof Aberrant) return callLambda(it, f, items, pos);
  throw new SlpException(`Unknown callable symbol: ${name}`, pos);
}

/** Interp.callLambda with the arguments walked: each evaluated and checked before the next. */
function callLambda(it: Interp, f: Aberrant, items: readonly Value[], pos: number): Value {
  const n = items.length - 1;
  const def = it.lambdaToCall(f, n, pos);
  const types = def.types;
  let v0: Value = NONE;
  let v1: Value = NONE;
  let rest: Value[] | undefined;
  for (let i = 0; i < n; i++) {
    const v = walk(it, items[i + 1]!);
    checkArgType(types[i]!, i, v, pos);
    if (i === 0) v0 = v;
    else if (i === 1) v1 = v;
    else (rest ??= [])[i - 2] = v;
  }
  return it.enterLambda(def, v0, v1, rest);
}
