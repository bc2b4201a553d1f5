/**
 * The built-in instructions (spec §4) and directives (§5) as compilers: each takes the call node
 * and its unevaluated arguments and returns the code that runs it. Arity and shape errors are
 * raised when the code runs, not when it is compiled, because the original only fails on code
 * that actually executes.
 */
import { compile, compileAll } from "./compile.ts";
import { castValue, matchEq, valuesEq } from "./convert.ts";
import { BudgetExceeded, SlpException } from "./errors.ts";
import type { Code, Interp } from "./interp.ts";
import { importModules } from "./modules.ts";
import { debugForm } from "./printer.ts";
import { read } from "./reader.ts";
import { evalUnitAfter, tierMode, unitOf, type Unit } from "./tier.ts";
import {
  Aberrant,
  List,
  NONE,
  Str,
  Sym,
  Wrap,
  T_ABERRANT,
  T_BRACE,
  T_BRACKET,
  T_ERROR,
  T_PAREN,
  type TypeCode,
  type Value,
  errorValue,
  isInt,
  sym,
  typeOf,
  typeSymbolCode,
} from "./value.ts";

/** Compiles one instruction call: the whole call node and its argument expressions. */
export type InstructionCompiler = (node: List, args: readonly Value[]) => Code;

const fail =
  (text: string, pos: number): Code =>
  () => {
    throw new SlpException(text, pos);
  };

const S_ITERATIONS = sym("$iterations");
const S_ERROR = sym("$error");
const S_EXCEPTION = sym("$exception");
const S_APPLY_LAMBDA = sym("apply-temp-lambda");

function isBracket(v: Value | undefined): v is List {
  return v instanceof List && v.t === T_BRACKET;
}

/** Resolves a type symbol in the session's forms; undefined when it is not a type symbol. */
function typeCode(it: Interp, name: string): TypeCode | undefined {
  return typeSymbolCode(name, it.session.forms);
}

function isFormName(it: Interp, name: string): boolean {
  const base = name.endsWith("..") ? name.slice(0, -2) : name;
  return base.startsWith(":") && it.session.forms.has(base.slice(1)) && typeSymbolCode(base) === undefined;
}

const def: InstructionCompiler = (node, args) => {
  if (args.length !== 2) return fail("def requires exactly 2 arguments", node.pos);
  const name = args[0];
  if (!(name instanceof Sym)) return fail("def requires first argument to be a symbol", node.pos);
  const value = compile(args[1]!);
  return (it) => {
    if (it.definedHere(name)) throw new SlpException(`Symbol '${name.name}' is already defined in current scope`, node.pos);
    it.define(name, value(it));
    return NONE;
  };
};

const fn: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length !== 3) return fail("fn requires exactly 3 arguments: (params) :return-type [body]", pos);
  const [params, ret, body] = args;
  if (!(params instanceof List) || params.t !== T_PAREN) return fail("fn: first argument must be parameter list", pos);
  if (!(ret instanceof Sym)) return fail("fn: second argument must be return type symbol", pos);
  if (!isBracket(body)) return fail("fn: third argument must be bracket list (function body)", pos);
  let unit: Unit | undefined;
  return (it) => {
    const retCode = typeCode(it, ret.name);
    if (retCode === undefined) throw new SlpException(`fn: invalid return type: ${ret.name}`, pos);
    const items = params.items;
    if (items.length % 2 !== 0) throw new SlpException("fn: parameters must be in pairs (name :type)", pos);
    const names: Sym[] = [];
    const types: TypeCode[] = [];
    for (let i = 0; i < items.length; i += 2) {
      const pn = items[i];
      const pt = items[i + 1];
      if (!(pn instanceof Sym)) throw new SlpException("fn: parameter name must be a symbol", pos);
      if (!(pt instanceof Sym)) throw new SlpException("fn: parameter type must be a type symbol", pos);
      const code = typeCode(it, pt.name);
      if (code === undefined) throw new SlpException(`fn: invalid parameter type: ${pt.name}`, pos);
      names.push(pn);
      types.push(code);
    }
    if (unit === undefined || unit.mode !== tierMode()) unit = unitOf(body, "lambda", names);
    return it.makeLambda(names, types, retCode, unit);
  };
};

const debug: InstructionCompiler = (_node, args) => {
  const codes = compileAll(args);
  return (it) => {
    const host = it.session.host;
    host.write("[DEBUG]");
    for (const c of codes) host.write(" " + debugForm(c(it)));
    host.write("\n");
    return NONE;
  };
};

const exportInstr: InstructionCompiler = (node, args) => {
  if (args.length !== 2) return fail("export requires exactly 2 arguments: name and value", node.pos);
  const name = args[0];
  if (!(name instanceof Sym)) return fail("export: first argument must be a symbol (export name)", node.pos);
  const value = compile(args[1]!);
  return (it) => {
    it.redefine(name, value(it));
    it.exports.add(name);
    return NONE;
  };
};

const ifInstr: InstructionCompiler = (node, args) => {
  if (args.length !== 3) return fail("if requires exactly 3 arguments: condition, true-branch, false-branch", node.pos);
  const [c, t, e] = compileAll(args) as [Code, Code, Code];
  return (it) => (c(it) === 0 ? e(it) : t(it));
};

const reflect: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length < 2) return fail("reflect requires at least 2 arguments: value and one handler", pos);
  const value = compile(args[0]!);
  const handlers = args.slice(1);
  return (it) => {
    const v = value(it);
    const t = typeOf(v);
    for (const h of handlers) {
      if (!(h instanceof List) || h.t !== T_PAREN) throw new SlpException("reflect: handlers must be paren lists like (:type body)", pos);
      if (h.items.length !== 2) throw new SlpException("reflect: handler must have exactly 2 elements: (:type body)", pos);
      const ts = h.items[0];
      if (!(ts instanceof Sym)) throw new SlpException("reflect: handler type must be a symbol like :int", pos);
      if (t === T_ABERRANT && ts.name.startsWith(":fn<")) {
        const lam = it.lambdaOf(v as Aberrant);
        if (lam !== undefined && lam.signature === ts.name) return compile(h.items[1]!)(it);
        continue;
      }
      const code = typeCode(it, ts.name);
      if (code === undefined) throw new SlpException(`reflect: invalid type symbol: ${ts.name}`, pos);
      if (code === t) return compile(h.items[1]!)(it);
    }
    return errorValue("handler not supplied for given type");
  };
};

const tryInstr: InstructionCompiler = (node, args) => {
  if (args.length !== 2) return fail("try requires exactly 2 arguments: body and handler", node.pos);
  const body = compile(args[0]!);
  const handler = compile(args[1]!);
  const scoped = isBracket(args[1]);
  return (it) => {
    const v = body(it);
    if (!(v instanceof Wrap) || v.t !== T_ERROR) return v;
    if (!scoped) return handler(it);
    it.pushScope();
    it.define(S_ERROR, v.inner);
    const r = handler(it);
    it.popScope();
    return r;
  };
};

const assertInstr: InstructionCompiler = (node, args) => {
  if (args.length !== 2) return fail("assert requires exactly 2 arguments: condition and message", node.pos);
  const cond = compile(args[0]!);
  const msg = compile(args[1]!);
  return (it) => {
    const c = cond(it);
    const m = msg(it);
    if (!isInt(c)) throw new SlpException("assert: condition must evaluate to an integer", node.pos);
    if (!(m instanceof Str)) throw new SlpException("assert: message must be a string", node.pos);
    if (c === 0) throw new SlpException(m.s, node.pos);
    return NONE;
  };
};

const recover: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length !== 2) return fail("recover requires exactly 2 arguments: body and handler", pos);
  if (!isBracket(args[0])) return fail("recover: body must be a bracket list", pos);
  if (!isBracket(args[1])) return fail("recover: handler must be a bracket list", pos);
  const body = compile(args[0]);
  const handler = compile(args[1]);
  return (it) => {
    const depth = it.depth;
    const loops = it.loops.length;
    const calls = it.callDepth;
    let text: string;
    try {
      return body(it);
    } catch (e) {
      if (!(e instanceof SlpException) || e instanceof BudgetExceeded) throw e;
      text = e.text;
    }
    // Unlike the original, scopes the failed body pushed are popped (docs/compat.md).
    it.unwindTo(depth, loops, calls);
    // The original re-parses the message as a string literal, escapes and all (spec §4.9).
    const parsed = read('"' + text + '"').value;
    if (!(parsed instanceof Str)) throw new SlpException("recover: failed to parse exception string", pos);
    it.pushScope();
    it.define(S_EXCEPTION, parsed);
    const r = handler(it);
    it.popScope();
    return r;
  };
};

/**
 * Small cache of parsed `eval` strings: handlers often evaluate the same text repeatedly. Each
 * entry counts its runs, so text evaluated often becomes a unit of the JS tier (tier.ts) while
 * text evaluated once costs nothing more than its parse.
 */
const EVAL_CACHE_ENTRIES_MAX = 512;
/**
 * Longest text whose parse is cached. `eval` texts may come from requests (up to the 1 MiB body
 * limit), so without it 512 entries could keep hundreds of MiB of parsed values alive; the texts a
 * handler evaluates over and over are short.
 */
const EVAL_CACHE_TEXT_CHARS_MAX = 1024;
const evalCache = new Map<string, EvalEntry>();

interface EvalEntry {
  readonly value: Value;
  runs: number;
}

/** Parses source for `eval` (or finds it parsed), throwing the original's exception texts. */
function parseForEval(src: string, pos: number): EvalEntry {
  const hit = evalCache.get(src);
  if (hit !== undefined) return hit;
  const r = read(src);
  if (r.value === null) {
    const d = r.diagnostics[0]!;
    if (d.code === 7) throw new SlpException(d.message.slice(0, d.message.indexOf(":")), pos);
    if (d.code === 8) throw new SlpException("bad optional access", pos);
    throw new SlpException(`eval: parse error: ${d.message}`, pos);
  }
  if (src.length > EVAL_CACHE_TEXT_CHARS_MAX) return { value: r.value, runs: 0 };
  if (evalCache.size >= EVAL_CACHE_ENTRIES_MAX) evalCache.clear();
  const entry: EvalEntry = { value: r.value, runs: 0 };
  evalCache.set(src, entry);
  return entry;
}

const evalInstr: InstructionCompiler = (node, args) => {
  if (args.length !== 1) return fail("eval requires exactly 1 argument: code string", node.pos);
  const code = compile(args[0]!);
  return (it) => {
    const s = code(it);
    if (!(s instanceof Str)) throw new SlpException("eval: argument must be a string", node.pos);
    // Parsing costs as much as the text is long, like a kernel call: the time budget is watched first.
    it.tick();
    const entry = parseForEval(s.s, node.pos);
    const program = entry.value;
    it.enterNested();
    it.pushScope();
    // Text evaluated again and again (the parse is cached) becomes a unit of the JS tier.
    const r = ++entry.runs >= evalUnitAfter() && (program instanceof List || program instanceof Wrap) ? unitOf(program, "eval").code(it) : it.evalValue(program);
    it.popScope();
    it.callDepth--;
    return r;
  };
};

const apply: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length !== 2) return fail("apply requires exactly 2 arguments: lambda and args-list", pos);
  const f = compile(args[0]!);
  const list = compile(args[1]!);
  return (it) => {
    const fv = f(it);
    if (!(fv instanceof Aberrant)) throw new SlpException("apply: first argument must be a lambda (aberrant type)", pos);
    const lv = list(it);
    if (!(lv instanceof List) || lv.t !== T_BRACE) throw new SlpException("apply: second argument must be a brace list of arguments", pos);
    it.pushScope();
    // The original's helper bindings are visible to the callee through dynamic scoping.
    it.define(S_APPLY_LAMBDA, fv);
    lv.items.forEach((v, i) => it.define(sym(`apply-temp-arg-${i}`), v));
    const r = it.callLambdaWithValues(fv, lv.items, pos);
    it.popScope();
    return r;
  };
};

const match: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length < 2) return fail("match requires at least 2 arguments: value and one handler", pos);
  const value = compile(args[0]!);
  const handlers = args.slice(1);
  return (it) => {
    const v = value(it);
    for (const h of handlers) {
      if (!(h instanceof List) || h.t !== T_PAREN) throw new SlpException("match: handlers must be paren lists like (pattern result)", pos);
      if (h.items.length !== 2) throw new SlpException("match: handler must have exactly 2 elements: (pattern result)", pos);
      const p = compile(h.items[0]!)(it);
      if (matchEq(v, p)) return compile(h.items[1]!)(it);
    }
    return errorValue("no matching handler found");
  };
};

const cast: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length !== 2) return fail("cast requires exactly 2 arguments: type and value", pos);
  const ts = args[0];
  if (!(ts instanceof Sym)) return fail("cast: first argument must be a type symbol", pos);
  const value = compile(args[1]!);
  const fixed = typeSymbolCode(ts.name);
  if (fixed !== undefined) return (it) => castValue(fixed, false, value(it), pos);
  return (it) => {
    const code = typeCode(it, ts.name);
    if (code === undefined) throw new SlpException(`cast: invalid type symbol: ${ts.name}`, pos);
    return castValue(code, isFormName(it, ts.name), value(it), pos);
  };
};

const doInstr: InstructionCompiler = (node, args) => {
  if (args.length !== 1) return fail("do requires exactly 1 argument: body", node.pos);
  if (!isBracket(args[0])) return fail("do: argument must be a bracket list", node.pos);
  const bodyNode = args[0];
  let unit: Unit | undefined;
  return (it) => {
    if (unit === undefined || unit.mode !== tierMode()) unit = unitOf(bodyNode, "loop");
    const body = unit;
    const ctx = { done: false, value: NONE as Value };
    it.loops.push(ctx);
    for (let i = 1; ; i++) {
      it.step();
      it.pushScope();
      it.define(S_ITERATIONS, i);
      body.code(it);
      it.popScope();
      if (ctx.done) break;
    }
    it.loops.pop();
    return ctx.value;
  };
};

const done: InstructionCompiler = (node, args) => {
  if (args.length !== 1) return fail("done requires exactly 1 argument: return value", node.pos);
  const value = compile(args[0]!);
  return (it) => {
    const ctx = it.loops[it.loops.length - 1];
    if (ctx === undefined) throw new SlpException("done called outside of do loop", node.pos);
    ctx.value = value(it);
    ctx.done = true;
    return NONE;
  };
};

const OUT_OF_BOUNDS = errorValue("index out of bounds");

const at: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length !== 2) return fail("at requires exactly 2 arguments: index and collection", pos);
  const index = compile(args[0]!);
  const coll = compile(args[1]!);
  return (it) => {
    const i = index(it);
    if (!isInt(i)) throw new SlpException("at: index must be an integer", pos);
    if (i < 0) return OUT_OF_BOUNDS;
    const c = coll(it);
    if (c instanceof Str) return typeof i === "number" && i < c.s.length ? c.s.charCodeAt(i) : OUT_OF_BOUNDS;
    if (c instanceof List) return typeof i === "number" && i < c.items.length ? c.items[i]! : OUT_OF_BOUNDS;
    throw new SlpException("at: collection must be a list or string type", pos);
  };
};

const eq: InstructionCompiler = (node, args) => {
  if (args.length !== 2) return fail("eq requires exactly 2 arguments: lhs and rhs", node.pos);
  const a = compile(args[0]!);
  const b = compile(args[1]!);
  return (it) => {
    const av = a(it);
    return valuesEq(av, b(it)) ? 1 : 0;
  };
};

/** Built-in instructions by name; they cannot be shadowed (spec §3.2). */
export const INSTRUCTIONS: ReadonlyMap<string, InstructionCompiler> = new Map([
  ["def", def],
  ["fn", fn],
  ["debug", debug],
  ["export", exportInstr],
  ["if", ifInstr],
  ["reflect", reflect],
  ["try", tryInstr],
  ["assert", assertInstr],
  ["recover", recover],
  ["eval", evalInstr],
  ["apply", apply],
  ["match", match],
  ["cast", cast],
  ["do", doInstr],
  ["done", done],
  ["at", at],
  ["eq", eq],
]);

const load: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length < 1) return fail("load requires at least 1 argument: kernel_name", pos);
  return (it) => {
    if (it.locked) throw new SlpException("load: kernel loading is locked (must occur at start of program)", pos);
    const session = it.session;
    for (const a of args) {
      if (!(a instanceof Str)) throw new SlpException("load: all arguments must be strings (kernel names)", pos);
      if (session.kernels.has(a.s)) continue;
      try {
        session.addKernel(a.s, session.host.loadKernel(a.s));
      } catch (e) {
        if (e instanceof BudgetExceeded) throw e;
        session.host.log("error", `Cannot load kernel "${a.s}": ${e instanceof Error ? e.message : String(e)}`);
        throw new SlpException(`load: failed to load kernel ${a.s}`, pos);
      }
    }
    return NONE;
  };
};

const importDirective: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length < 2) return fail("import requires at least 2 arguments: symbol and file_path", pos);
  if (args.length % 2 !== 0) return fail("import requires pairs of arguments: symbol file_path [symbol file_path ...]", pos);
  return (it) => {
    if (it.locked) throw new SlpException("import: imports are locked (must occur at start of program)", pos);
    importModules(it, args, pos);
    return NONE;
  };
};

const defineForm: InstructionCompiler = (node, args) => {
  const pos = node.pos;
  if (args.length !== 2) return fail("define-form requires exactly 2 arguments: name and elements", pos);
  const [name, elems] = args;
  if (!(name instanceof Sym)) return fail("define-form: first argument must be a symbol (form name)", pos);
  if (!(elems instanceof List) || elems.t !== T_BRACE) return fail("define-form: second argument must be a brace list of type symbols", pos);
  return (it) => {
    const codes: TypeCode[] = [];
    for (const e of elems.items) {
      if (!(e instanceof Sym)) throw new SlpException("define-form: all elements must be type symbols", pos);
      const c = typeCode(it, e.name);
      if (c === undefined) throw new SlpException(`define-form: invalid type symbol: ${e.name}`, pos);
      codes.push(c);
    }
    it.session.defineForm(name.name, codes);
    return NONE;
  };
};

/** Directives: only reachable through a datum `#(name …)` (spec §5.1). */
export const DIRECTIVES: ReadonlyMap<string, InstructionCompiler> = new Map([
  ["load", load],
  ["import", importDirective],
  ["define-form", defineForm],
]);
