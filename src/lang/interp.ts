/**
 * The interpreter state: dynamic scopes, lambdas and their lifetimes, loop contexts and the budget.
 *
 * Scoping is dynamic (spec §3.3), so lookups use shallow binding: each interpreter keeps, per
 * symbol id, the innermost binding with a link to the one it shadows. Lookup is O(1) whatever the
 * call depth; pushing a scope records which symbols it bound so popping restores them.
 * A Session is one program run: the kernels, forms, modules and budget its interpreters share.
 */
import { BudgetExceeded, SlpException } from "./errors.ts";
import type { CallContext, Host, KernelFn, LoadedKernel, SessionScope } from "./host.ts";
import { compile } from "./compile.ts";
import { moduleValue } from "./modules.ts";
import { Aberrant, List, NONE, Sym, T_NONE, Wrap, typeOf, type TypeCode, type Value, errorValue, symbolCount, TYPE_NAMES } from "./value.ts";

/** A compiled expression: evaluates in an interpreter. */
export type Code = (it: Interp) => Value;

/** A lambda created by `fn`. It dies when the scope it was created in is popped (spec §3.4). */
export class LambdaDef {
  alive = true;
  constructor(
    readonly id: number,
    readonly interp: Interp,
    readonly params: readonly Sym[],
    readonly types: readonly TypeCode[],
    readonly ret: TypeCode,
    readonly body: Code,
    readonly depth: number,
    readonly signature: string,
  ) {}
}

/** Limits for one run. Defaults are unlimited steps/time and the nesting limit below. */
export interface Budget {
  readonly steps?: number;
  readonly timeMs?: number;
}

/**
 * Deepest nesting of lambda calls and evals. The original crashed near 10,000; 1,000 must work.
 * Bounded so a runaway recursion becomes a clean error instead of exhausting the JS stack.
 */
export const CALL_DEPTH_MAX = 2_500;

/** Steps between two clock reads when a time budget is set; clock reads are not free. */
const STEPS_PER_CLOCK_CHECK = 1024;

/** Per-run state shared by the main interpreter and the interpreters of imported modules. */
export class Session {
  /** Kernel functions by full name (`load-name/fn`). */
  readonly kernelFns = new Map<string, KernelFn>();
  readonly kernels = new Map<string, LoadedKernel>();
  /** Bumped whenever kernelFns changes, so call sites can cache their resolution. */
  kernelGen = 0;
  readonly forms = new Map<string, readonly TypeCode[]>();
  readonly modules = new Map<Sym, Interp>();
  readonly importedFiles = new Set<string>();
  readonly importStack: string[] = [];
  stepsLimit: number;
  stepsUsed = 0;
  deadline: number;
  private readonly timeMs: number;

  constructor(
    readonly host: Host,
    budget: Budget = {},
    /** The tenant and services of the embedding (a node's request or job); null for plain runs. */
    readonly scope: SessionScope | null = null,
  ) {
    this.stepsLimit = budget.steps ?? Infinity;
    this.timeMs = budget.timeMs ?? Infinity;
    this.deadline = budget.timeMs === undefined ? Infinity : performance.now() + budget.timeMs;
  }

  /** Registers a loaded kernel's functions under its load name. */
  addKernel(name: string, k: LoadedKernel): void {
    this.kernels.set(name, k);
    for (const [fn, impl] of k.functions) this.kernelFns.set(`${name}/${fn}`, impl);
    for (const [form, types] of k.forms) this.forms.set(form, types);
    this.kernelGen++;
  }

  /** Swaps a kernel this session uses for another version (the REPL's reload); releases the old one. */
  replaceKernel(name: string, k: LoadedKernel): void {
    this.dropKernel(name);
    this.addKernel(name, k);
  }

  /** Stops using a kernel: its functions become unknown to this session, and it is released. */
  dropKernel(name: string): void {
    const old = this.kernels.get(name);
    if (old === undefined) return;
    this.kernels.delete(name);
    for (const fn of old.functions.keys()) this.kernelFns.delete(`${name}/${fn}`);
    this.kernelGen++;
    this.host.releaseKernel?.(name, old);
  }

  /** Ends the session: every kernel it acquired is released (once). */
  close(): void {
    for (const name of [...this.kernels.keys()]) this.dropKernel(name);
  }

  /** Called every STEPS_PER_CLOCK_CHECK steps (or fewer near the step limit); throws when a budget is spent. */
  checkBudget(spent: number): number {
    this.stepsUsed += spent;
    if (this.stepsUsed >= this.stepsLimit) throw new BudgetExceeded("steps", this.stepsLimit);
    if (this.deadline !== Infinity && performance.now() > this.deadline) throw new BudgetExceeded("time", this.timeMs);
    return Math.min(STEPS_PER_CLOCK_CHECK, this.stepsLimit - this.stepsUsed);
  }
}

interface LoopContext {
  done: boolean;
  value: Value;
}

/** One interpreter: its own scopes, lambda table and loop contexts (a module gets its own). */
export class Interp {
  /** Per symbol id: the innermost bound value, and the depth of its scope (0 = unbound). */
  private vals: Value[] = [];
  private deps: number[] = [];
  /** The trail: one entry per binding made, holding what it shadowed, so a pop can restore it. */
  /** Entries of three slots: symbol id, shadowed value, shadowed depth. */
  private readonly trail: (number | Value)[] = [];
  /** marks[d] is the trail length when the scope at depth d was pushed (global scope is depth 1). */
  private readonly marks: number[] = [0, 0];
  /** Number of live trail entries; the arrays are never shrunk, only overwritten. */
  private tp = 0;
  depth = 1;
  private readonly lambdas = new Map<number, LambdaDef>();
  private readonly liveLambdas: LambdaDef[] = [];
  private nextLambdaId = 1;
  readonly loops: LoopContext[] = [];
  /** Set once this interpreter evaluated a non-datum statement of a bracket list (spec §5.4). */
  locked = false;
  callDepth = 0;
  /** Steps left before the next budget check. */
  stepsLeft: number;
  readonly exports = new Set<Sym>();
  readonly cx: CallContext;

  constructor(
    readonly session: Session,
    readonly file: string,
  ) {
    this.stepsLeft = session.checkBudget(0);
    this.grow();
    const host = session.host;
    this.cx = {
      eval: (e: Value) => this.evalValue(e),
      workingDir: host.workingDir,
      write: (b: string) => host.write(b),
      scope: session.scope,
    };
  }

  /** Counts one step of work (a call or a loop turn) against the budget. */
  step(): void {
    if (--this.stepsLeft <= 0) this.stepsLeft = this.session.checkBudget(STEPS_PER_CLOCK_CHECK - this.stepsLeft);
  }

  /** The value bound to a symbol, or undefined. */
  lookup(s: Sym): Value | undefined {
    const id = s.id;
    if (id >= this.deps.length) return undefined;
    return this.deps[id]! > 0 ? this.vals[id] : undefined;
  }

  /** True when the innermost scope binds s. */
  definedHere(s: Sym): boolean {
    return s.id < this.deps.length && this.deps[s.id] === this.depth;
  }

  /** Binds s in the innermost scope. */
  define(s: Sym, v: Value): void {
    const id = s.id;
    if (id >= this.deps.length) this.grow();
    const k = this.tp;
    this.tp = k + 3;
    const trail = this.trail;
    if (k === trail.length) trail.push(id, this.vals[id]!, this.deps[id]!);
    else {
      trail[k] = id;
      trail[k + 1] = this.vals[id]!;
      trail[k + 2] = this.deps[id]!;
    }
    this.vals[id] = v;
    this.deps[id] = this.depth;
  }

  /** Makes room for symbols interned since the tables were sized. */
  private grow(): void {
    const n = symbolCount() + 64;
    for (let i = this.deps.length; i < n; i++) {
      this.deps.push(0);
      this.vals.push(NONE);
    }
  }

  /** Binds s in the innermost scope, replacing a binding already there (export semantics). */
  redefine(s: Sym, v: Value): void {
    if (this.deps[s.id] === this.depth) this.vals[s.id] = v;
    else this.define(s, v);
  }

  pushScope(): void {
    this.marks[++this.depth] = this.tp;
  }

  popScope(): void {
    const d = this.depth;
    const mark = this.marks[d]!;
    let k = this.tp;
    if (k > mark) {
      const vals = this.vals;
      const deps = this.deps;
      const trail = this.trail;
      while (k > mark) {
        k -= 3;
        const id = trail[k] as number;
        vals[id] = trail[k + 1] as Value;
        deps[id] = trail[k + 2] as number;
      }
      this.tp = mark;
    }
    this.depth = d - 1;
    const live = this.liveLambdas;
    while (live.length > 0 && live[live.length - 1]!.depth >= d) {
      const l = live.pop()!;
      l.alive = false;
      this.lambdas.delete(l.id);
    }
  }

  /** Pops scopes and loop contexts back to a saved state (used when an exception is caught). */
  unwindTo(depth: number, loops: number, callDepth: number): void {
    while (this.depth > depth) this.popScope();
    this.loops.length = loops;
    this.callDepth = callDepth;
  }

  /** Creates a lambda in the current scope and returns its ABERRANT value. */
  makeLambda(params: readonly Sym[], types: readonly TypeCode[], ret: TypeCode, body: Code): Aberrant {
    const id = this.nextLambdaId++;
    const sig = `:fn<${types.map((t) => TYPE_NAMES[t]).join(",")}>${TYPE_NAMES[ret]}`;
    const def = new LambdaDef(id, this, params, types, ret, body, this.depth, sig);
    this.lambdas.set(id, def);
    this.liveLambdas.push(def);
    const a = new Aberrant(id);
    a.ref = def;
    return a;
  }

  /** The live lambda an ABERRANT value names in this interpreter, if any. */
  lambdaOf(f: Aberrant): LambdaDef | undefined {
    const r = f.ref;
    if (r !== undefined && r.alive && r.interp === this) return r;
    return f.id > 0 ? this.lambdas.get(f.id) : undefined;
  }

  /** Calls a lambda with argument expressions evaluated here (spec §3.4). */
  callLambda(f: Aberrant, argCodes: readonly Code[], pos: number): Value {
    const def = this.lambdaOf(f);
    if (def === undefined) throw new SlpException("Unknown function", pos);
    const n = argCodes.length;
    if (n !== def.params.length) throw new SlpException(`Function expects ${def.params.length} arguments, got ${n}`, pos);
    const types = def.types;
    let v0: Value = NONE;
    let v1: Value = NONE;
    let rest: Value[] | undefined;
    for (let i = 0; i < n; i++) {
      const v = argCodes[i]!(this);
      const t = types[i]!;
      if (t !== T_NONE && typeOf(v) !== t) throw new SlpException(`Argument ${i + 1} type mismatch: expected ${t}, got ${typeOf(v)}`, pos);
      if (i === 0) v0 = v;
      else if (i === 1) v1 = v;
      else (rest ??= [])[i - 2] = v;
    }
    return this.enterLambda(def, v0, v1, rest, pos);
  }

  /** Calls a lambda with already evaluated argument values (used by `apply`). */
  callLambdaWithValues(f: Aberrant, values: readonly Value[], pos: number): Value {
    const def = this.lambdaOf(f);
    if (def === undefined) throw new SlpException("Unknown function", pos);
    const n = values.length;
    if (n !== def.params.length) throw new SlpException(`Function expects ${def.params.length} arguments, got ${n}`, pos);
    for (let i = 0; i < n; i++) {
      const t = def.types[i]!;
      const v = values[i]!;
      if (t !== T_NONE && typeOf(v) !== t) throw new SlpException(`Argument ${i + 1} type mismatch: expected ${t}, got ${typeOf(v)}`, pos);
    }
    return this.enterLambda(def, values[0] ?? NONE, values[1] ?? NONE, values.slice(2), pos);
  }

  private enterLambda(def: LambdaDef, v0: Value, v1: Value, rest: Value[] | undefined, pos: number): Value {
    if (--this.stepsLeft <= 0) this.stepsLeft = this.session.checkBudget(STEPS_PER_CLOCK_CHECK - this.stepsLeft);
    if (++this.callDepth > CALL_DEPTH_MAX) {
      this.callDepth--;
      throw new BudgetExceeded("depth", CALL_DEPTH_MAX);
    }
    this.pushScope();
    const params = def.params;
    const n = params.length;
    if (n > 0) this.define(params[0]!, v0);
    if (n > 1) this.define(params[1]!, v1);
    for (let i = 2; i < n; i++) this.define(params[i]!, rest![i - 2]!);
    const r = def.body(this);
    this.popScope();
    this.callDepth--;
    if (def.ret !== T_NONE && typeOf(r) !== def.ret) return errorValue("internal function error: returned unexpected type");
    void pos;
    return r;
  }

  /** Evaluates any value as an expression (used by kernels and `eval`). */
  evalValue(e: Value): Value {
    if (typeof e === "number" || typeof e === "bigint") return e;
    if (e instanceof List || e instanceof Wrap) {
      const c = e.compiled as Code | undefined;
      return c !== undefined ? c(this) : compile(e)(this);
    }
    if (e instanceof Sym) {
      if (e.id < this.deps.length && this.deps[e.id]! > 0) return this.vals[e.id]!;
      const slash = e.name.indexOf("/");
      return slash > 0 ? (moduleValue(this, e.name.slice(0, slash), e.name.slice(slash + 1)) ?? e) : e;
    }
    return e;
  }

  /** Enters an `eval`-like nested evaluation with the depth guard. */
  enterNested(): void {
    if (++this.callDepth > CALL_DEPTH_MAX) {
      this.callDepth--;
      throw new BudgetExceeded("depth", CALL_DEPTH_MAX);
    }
  }
}
