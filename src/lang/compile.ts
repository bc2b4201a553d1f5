/**
 * Compiles SLP values into closures, once per node: the closure is cached on the (immutable) List
 * or Wrap node, so a program, a lambda body or a stored handler is compiled the first time it runs
 * and reused after. Call heads that are built-in instructions are fixed at compile time (they cannot
 * be shadowed); kernel functions are resolved at run time and cached per call site against the
 * session's (immutable, shared) kernel function table, so the cache holds from one session to the
 * next while they load the same kernel versions.
 */
import { SlpException } from "./errors.ts";
import type { EagerKernelFn, KernelFn } from "./host.ts";
import { DIRECTIVES, INSTRUCTIONS } from "./instructions.ts";
import type { Code, Interp } from "./interp.ts";
import { moduleCall, moduleValue } from "./modules.ts";
import { Aberrant, List, NONE, Sym, Wrap, T_BRACKET, T_DATUM, T_ERROR, T_PAREN, T_SOME, type Value, typeOf } from "./value.ts";

/**
 * What a List's or Wrap's `compiled` holds once the node was walked (walk.ts) and not compiled yet:
 * evaluated again, it is compiled (Interp.evalValue).
 */
export const WALKED: unknown = Object.freeze({ walked: true });

/** Returns the compiled code of a value, compiling (and caching) it on first use. */
export function compile(v: Value): Code {
  if (v instanceof List || v instanceof Wrap) {
    const c = v.compiled;
    if (typeof c === "function") return c as Code;
    const made = v instanceof List ? compileList(v) : compileWrap(v);
    v.compiled = made;
    return made;
  }
  if (v instanceof Sym) return (v.compiled as Code | undefined) ?? (v.compiled = compileSymbol(v));
  return () => v;
}

function compileSymbol(s: Sym): Code {
  const slash = s.name.indexOf("/");
  if (slash <= 0) {
    return (it) => {
      const v = it.lookup(s);
      return v === undefined ? s : v;
    };
  }
  const prefix = s.name.slice(0, slash);
  const rest = s.name.slice(slash + 1);
  return (it) => {
    const v = it.lookup(s);
    if (v !== undefined) return v;
    return moduleValue(it, prefix, rest) ?? s;
  };
}

function compileWrap(w: Wrap): Code {
  if (w.t === T_SOME) {
    const inner = w.inner;
    return () => inner;
  }
  if (w.t === T_ERROR) return () => w;
  // A datum (spec §5.1): `#(name …)` runs an instruction or directive; anything else is itself.
  const inner = w.inner;
  if (w.t === T_DATUM && inner instanceof List && inner.t === T_PAREN && inner.items[0] instanceof Sym) {
    const name = inner.items[0].name;
    const instr = INSTRUCTIONS.get(name);
    if (instr !== undefined) return instr(inner, inner.items.slice(1));
    const dir = DIRECTIVES.get(name);
    if (dir !== undefined) return dir(inner, inner.items.slice(1));
    return () => {
      throw new SlpException(`Unknown datum callable symbol: ${name}`, w.pos);
    };
  }
  return () => w;
}

function compileList(l: List): Code {
  if (l.t === T_PAREN) return l.items.length === 0 ? () => l : compileCall(l);
  if (l.t === T_BRACKET) return compileSequence(l);
  return () => l; // brace lists are data
}

/** A bracket list: its elements in order in the current scope, with the lock rule (spec §5.4). */
function compileSequence(l: List): Code {
  const items = l.items;
  const n = items.length;
  if (n === 0) return () => noneValue;
  const codes = compileAll(items);
  const datum = items.map((v) => v instanceof Wrap && v.t === T_DATUM);
  if (n === 1) {
    const c0 = codes[0]!;
    if (datum[0]) return c0;
    return (it) => {
      it.locked = true;
      return c0(it);
    };
  }
  return (it) => {
    let r: Value = noneValue;
    for (let i = 0; i < n; i++) {
      if (!datum[i]) it.locked = true;
      r = codes[i]!(it);
    }
    return r;
  };
}

const noneValue: Value = NONE;

interface CallSite {
  /**
   * The kernel function table the call was resolved against. Tables are immutable and shared by
   * sessions holding the same kernel versions, so a resolution stays valid across sessions.
   */
  fns: ReadonlyMap<string, KernelFn> | undefined;
  kernel: KernelFn | undefined;
  /** The kernel's eager form when this call has exactly its arity. */
  eager: EagerKernelFn["call"] | undefined;
}

/** A paren-list call (spec §3.2). */
function compileCall(l: List): Code {
  const head = l.items[0]!;
  const pos = l.pos;
  if (!(head instanceof Sym)) {
    const code = typeOf(head);
    return () => {
      throw new SlpException(`Cannot call non-symbol type: ${code}`, pos);
    };
  }
  const args = l.items.slice(1);
  const instr = INSTRUCTIONS.get(head.name);
  if (instr !== undefined) return instr(l, args);

  if (!head.name.includes("/")) {
    // Kernel functions are always named `load-name/fn` and module calls `m/fn`, so a head without
    // a slash can only name a lambda: skip the kernel and module lookups entirely.
    const codes = compileAll(args);
    const name = head.name;
    return (it: Interp) => {
      const f = it.lookup(head);
      if (f instanceof Aberrant) return it.callLambda(f, codes, pos);
      throw new SlpException(`Unknown callable symbol: ${name}`, pos);
    };
  }
  let argCodes: Code[] | undefined;
  const site: CallSite = { fns: undefined, kernel: undefined, eager: undefined };
  const name = head.name;
  const slash = name.indexOf("/");
  const mayBeModule = slash > 0;
  // A leading slash (an absolute kernel path) cannot be a module prefix.
  const nargs = args.length;
  // Argument code is made when first needed: a kernel taking its arguments unevaluated (kv's
  // designators, eval'd text run once) never runs it, and compiling has no effects.
  let c0: Code | undefined;
  let c1: Code | undefined;
  let c2: Code | undefined;
  const compileArgs = (): void => {
    c0 = nargs >= 1 ? compile(args[0]!) : undefined;
    c1 = nargs >= 2 ? compile(args[1]!) : undefined;
    c2 = nargs >= 3 ? compile(args[2]!) : undefined;
  };

  return (it: Interp) => {
    // A kernel call may do far more work than a step: the time budget is watched before each.
    it.tick();
    const fns = it.session.kernelSet.fns;
    if (site.fns !== fns) {
      site.fns = fns;
      const k = fns.get(name);
      site.kernel = k;
      site.eager = k?.eager !== undefined && k.eager.arity === nargs ? k.eager.call : undefined;
    }
    const e = site.eager;
    if (e !== undefined) {
      if (c0 === undefined) compileArgs();
      if (nargs === 2) {
        const a = c0!(it);
        return e(a, c1!(it), NONE, it.cx);
      }
      if (nargs === 1) return e(c0!(it), NONE, NONE, it.cx);
      const a = c0!(it);
      const b = c1!(it);
      return e(a, b, c2!(it), it.cx);
    }
    const k = site.kernel;
    if (k !== undefined) return k(it.cx, args);
    if (mayBeModule) {
      const r = moduleCall(it, name.slice(0, slash), name.slice(slash + 1), args, pos);
      if (r !== undefined) return r;
    }
    const f = it.lookup(head);
    if (f instanceof Aberrant) return it.callLambda(f, (argCodes ??= compileAll(args)), pos);
    throw new SlpException(`Unknown callable symbol: ${name}`, pos);
  };
}

/**
 * Compiles each item, by a plain loop: `map` adds its own frames per nesting level, and code nested
 * as deep as the reader allows must compile within the stack a handler has.
 */
export function compileAll(items: readonly Value[]): Code[] {
  const codes = new Array<Code>(items.length);
  for (let i = 0; i < items.length; i++) codes[i] = compile(items[i]!);
  return codes;
}
