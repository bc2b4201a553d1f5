/**
 * The interpreter state: dynamic scopes, lambdas and their lifetimes, loop contexts and the step
 * count. (The Session its interpreters share, one program run, is in session.ts.)
 *
 * Scoping is dynamic (spec §3.3), so lookups use shallow binding: each interpreter keeps, per
 * symbol id, the innermost binding with a link to the one it shadows. Lookup is O(1) whatever the
 * call depth; pushing a scope records which symbols it bound so popping restores them. When its
 * session ends an interpreter hands its arrays on to the next one (see recycle).
 */
import { BUDGET_CLOCK } from "./budget-clock.ts";
import { BudgetExceeded, SlpException } from "./errors.ts";
import type { CallContext, SessionScope } from "./host.ts";
import { compile, WALKED } from "./compile.ts";
import { moduleValue } from "./modules.ts";
import type { Session } from "./session.ts";
import type { Unit } from "./tier.ts";
import { walk } from "./walk.ts";
import { Aberrant, List, NONE, NoneValue, Sym, T_NONE, Wrap, typeOf, type TypeCode, type Value, errorValue, symbolCount, TYPE_NAMES } from "./value.ts";

/**
 * A compiled expression: evaluates in an interpreter. A lambda body's code is also given the
 * first two argument values (already bound as its parameters); closure code ignores them.
 */
export type Code = (it: Interp, a0?: Value, a1?: Value) => Value;

/** Throws the closure tier's exception when an argument's value is not of its parameter's type. */
export function checkArgType(t: TypeCode, i: number, v: Value, pos: number): void {
  if (t !== T_NONE && typeOf(v) !== t) throw new SlpException(`Argument ${i + 1} type mismatch: expected ${t}, got ${typeOf(v)}`, pos);
}

/** A lambda created by `fn`. It dies when the scope it was created in is popped (spec §3.4). */
export class LambdaDef {
  alive = true;
  constructor(
    readonly id: number,
    readonly interp: Interp,
    readonly params: readonly Sym[],
    readonly types: readonly TypeCode[],
    readonly ret: TypeCode,
    /** The body as a unit: its code is the closure tier's until it is promoted (tier.ts). */
    readonly unit: Unit,
    readonly depth: number,
    readonly signature: string,
  ) {}
}

/**
 * Deepest nesting of lambda calls and evals. The original crashed near 10,000; 1,000 must work.
 * Bounded so a runaway recursion becomes a clean error instead of exhausting the JS stack.
 */
export const CALL_DEPTH_MAX = 2_500;

/** The arrays an interpreter works in; recycled together when its session ends (see recycle). */
interface InterpArrays {
  /** Per symbol id: the innermost bound value, and the depth of its scope (0 = unbound). */
  readonly vals: Value[];
  readonly deps: number[];
  /**
   * The trail: entries of three slots (symbol, shadowed value, shadowed depth), one per binding
   * made. It holds the symbol, not its id, so a bound symbol stays alive and its id is not reused
   * while the binding exists (symbols.ts: ids of collected symbols are reused).
   */
  readonly trail: (number | Value)[];
  /** marks[d] is the trail length when the scope at depth d was pushed (global scope is depth 1). */
  readonly marks: number[];
  /** Lambdas alive in this interpreter, ordered by the depth they die at. */
  readonly liveLambdas: LambdaDef[];
  readonly loops: LoopContext[];
}

/**
 * Interpreter arrays kept for reuse. Handlers run one at a time on the server's thread (a session
 * inside a session, or a module, needs one more), so a few sets cover the steady state.
 */
const RECYCLED_ARRAYS_MAX = 8;
/**
 * Longest trail (3 slots per binding) whose arrays are recycled. Clearing a trail costs its length,
 * so one that a deep recursion grew is left to the garbage collector rather than cleared again by
 * every run that inherits it.
 */
const RECYCLED_TRAIL_MAX = 3 * 1024;
const recycledArrays: InterpArrays[] = [];

const freeze = <T>(a: T[]): T[] => Object.freeze(a) as T[];
/**
 * What a recycled interpreter keeps: empty, frozen arrays. Anything still holding it (a kernel
 * that kept a CallContext) finds no bindings, and any attempt to bind throws instead of touching
 * the arrays the next interpreter got.
 */
const DETACHED: InterpArrays = Object.freeze({ vals: freeze<Value>([]), deps: freeze<number>([]), trail: freeze<number | Value>([]), marks: freeze<number>([]), liveLambdas: freeze<LambdaDef>([]), loops: freeze<LoopContext>([]) });

/**
 * The value slot of a binding made by defineLazy whose value has not been made yet. Lookups check
 * for it and make the value; programs never see it.
 */
const UNMADE: Value = new NoneValue();

interface LoopContext {
  done: boolean;
  value: Value;
}

/**
 * One interpreter: its own scopes, lambda table and loop contexts (a module gets its own). It is
 * also the CallContext its kernel calls receive (`cx`), so it allocates nothing for that.
 */
export class Interp implements CallContext {
  /** The arrays below, as one set for recycling; the fields are there for direct access. */
  private arrays: InterpArrays;
  /** See InterpArrays for these. */
  private vals: Value[];
  private deps: number[];
  private trail: (number | Value)[];
  private marks: number[];
  private liveLambdas: LambdaDef[];
  loops: LoopContext[];
  /** Number of live trail entries; the arrays are never shrunk, only overwritten. */
  private tp = 0;
  depth = 1;
  /** Lambdas by id; made with the first lambda (most handlers make none). */
  private lambdas: Map<number, LambdaDef> | null = null;
  private nextLambdaId = 1;
  /** Set once this interpreter evaluated a non-datum statement of a bracket list (spec §5.4). */
  locked = false;
  callDepth = 0;
  /**
   * Bindings replaced in place (by `export` of a name already bound in the innermost scope), the
   * only way a binding changes without a new scope. The JS tier keeps a lambda's parameters in
   * locals while this count stands still (jit.ts).
   */
  rebinds = 0;
  /** Steps left before the next budget check. */
  stepsLeft: number;
  /** What the session granted at the last check; stepsGranted - stepsLeft is what was used since. */
  private stepsGranted: number;
  /** The session's deadlineTick as of this interpreter's last check: read at every step and kernel call. */
  private deadlineTick: number;
  private exportSet: Set<Sym> | null = null;
  readonly cx: CallContext;
  /** Makes the value of the one lazy binding (see defineLazy), until it has been made. */
  private lazyMake: (() => Value) | null = null;
  private lazyValue: Value = NONE;

  constructor(
    readonly session: Session,
    readonly file: string,
  ) {
    this.stepsLeft = this.stepsGranted = session.stepsBeforeCheck();
    this.deadlineTick = session.deadlineTick;
    const a = recycledArrays.pop() ?? { vals: [], deps: [], trail: [], marks: [0, 0], liveLambdas: [], loops: [] };
    this.arrays = a;
    this.vals = a.vals;
    this.deps = a.deps;
    this.trail = a.trail;
    this.marks = a.marks;
    this.liveLambdas = a.liveLambdas;
    this.loops = a.loops;
    this.grow();
    session.attach(this);
    this.cx = this;
  }

  /** CallContext: evaluates an expression in this interpreter's current scope. */
  eval(e: Value): Value {
    return this.evalValue(e);
  }

  /** CallContext: the program's working directory. */
  get workingDir(): string {
    return this.session.host.workingDir;
  }

  /** CallContext: writes program output. */
  write(bytes: string): void {
    this.session.host.write(bytes);
  }

  /** CallContext: the session's tenant and services. */
  get scope(): SessionScope | null {
    return this.session.scope;
  }

  /** CallContext: milliseconds left of the session's time budget. */
  remainingMs(): number {
    const d = this.session.deadline;
    return d === Infinity ? Infinity : Math.max(0, d - performance.now());
  }

  /** Symbols this interpreter (a module) exports. */
  get exports(): Set<Sym> {
    return (this.exportSet ??= new Set());
  }

  /**
   * Counts one step of work (a call or a loop turn) against the budget, and looks at the budget
   * clock: the one place both tiers count steps.
   */
  step(): void {
    if (--this.stepsLeft <= 0 || BUDGET_CLOCK[0]! >= this.deadlineTick) this.refillSteps();
  }

  /**
   * Looks at the budget clock before a kernel call or an `eval`, which are not steps (steps are
   * lambda calls and loop turns) but may do far more work than one: the deadline is watched
   * between any two of them, however long each takes (session.ts, budget-clock.ts).
   */
  tick(): void {
    if (BUDGET_CLOCK[0]! >= this.deadlineTick) this.refillSteps();
  }

  /** Reports the steps taken since the last check; the session checks the budget and grants the next stretch. */
  private refillSteps(): void {
    this.stepsLeft = this.stepsGranted = this.session.checkBudget(this.stepsGranted - this.stepsLeft);
    this.deadlineTick = this.session.deadlineTick;
  }

  /** The value bound to a symbol, or undefined. */
  lookup(s: Sym): Value | undefined {
    const id = s.id;
    if (id >= this.deps.length || this.deps[id] === 0) return undefined;
    const v = this.vals[id]!;
    return v === UNMADE ? this.made(id) : v;
  }

  /**
   * Binds s in the innermost scope to the value `make` returns, made on the first read, if any.
   * For a value that is costly to build and often unused (a handler's `$request`); reading it
   * gives the same value every time, exactly as if it had been bound directly. One per interpreter.
   */
  defineLazy(s: Sym, make: () => Value): void {
    if (this.lazyMake !== null || this.lazyValue !== NONE) throw new Error("bug: an interpreter has one lazy binding at most");
    this.lazyMake = make;
    this.define(s, UNMADE);
  }

  /** The lazy binding's value, made once; stored in its slot so later reads skip this. */
  private made(id: number): Value {
    const make = this.lazyMake;
    if (make !== null) {
      this.lazyMake = null;
      this.lazyValue = make();
    }
    this.vals[id] = this.lazyValue;
    return this.lazyValue;
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
    if (k === trail.length) trail.push(s, this.vals[id]!, this.deps[id]!);
    else {
      trail[k] = s;
      trail[k + 1] = this.vals[id]!;
      trail[k + 2] = this.deps[id]!;
    }
    this.vals[id] = v;
    this.deps[id] = this.depth;
  }

  /** Makes room for symbols interned since the tables were sized. */
  private grow(): void {
    const from = this.deps.length;
    const n = symbolCount() + 64;
    if (n <= from) return;
    // Sized in one step: a program that read a large file may have made many thousand symbols.
    this.deps.length = n;
    this.deps.fill(0, from);
    this.vals.length = n;
    this.vals.fill(NONE, from);
  }

  /**
   * Called when the session ends: undoes every binding (the trail records them all, so the tables
   * return to all-unbound) and hands its arrays to the next interpreter, which saves allocating
   * them, and filling tables sized to every interned symbol, per request. This interpreter is
   * left with DETACHED, so anything still holding it can neither see nor change the bindings of
   * whoever gets the arrays next.
   */
  recycle(): void {
    const a = this.arrays;
    if (a === DETACHED) return;
    const { vals, deps, trail } = a;
    const keep = trail.length <= RECYCLED_TRAIL_MAX;
    if (keep) {
      for (let k = this.tp - 3; k >= 0; k -= 3) {
        const id = (trail[k] as Sym).id;
        vals[id] = trail[k + 1] as Value;
        deps[id] = trail[k + 2] as number;
      }
      // Popped entries still hold values this run shadowed: drop them, and the rest of its state.
      for (let k = 0; k < trail.length; k++) trail[k] = 0;
      if (a.liveLambdas.length !== 0) a.liveLambdas.length = 0;
      if (a.loops.length !== 0) a.loops.length = 0;
    }
    this.tp = 0;
    this.depth = 1;
    this.lazyMake = null;
    this.lazyValue = NONE;
    this.arrays = DETACHED;
    this.vals = DETACHED.vals;
    this.deps = DETACHED.deps;
    this.trail = DETACHED.trail;
    this.marks = DETACHED.marks;
    this.liveLambdas = DETACHED.liveLambdas;
    this.loops = DETACHED.loops;
    if (keep && recycledArrays.length < RECYCLED_ARRAYS_MAX) recycledArrays.push(a);
  }

  /** Binds s in the innermost scope, replacing a binding already there (export semantics). */
  redefine(s: Sym, v: Value): void {
    if (this.deps[s.id] === this.depth) {
      this.vals[s.id] = v;
      this.rebinds++;
    } else this.define(s, v);
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
        const id = (trail[k] as Sym).id;
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
      this.lambdas?.delete(l.id);
    }
  }

  /** Pops scopes and loop contexts back to a saved state (used when an exception is caught). */
  unwindTo(depth: number, loops: number, callDepth: number): void {
    while (this.depth > depth) this.popScope();
    this.loops.length = loops;
    this.callDepth = callDepth;
  }

  /** Creates a lambda in the current scope and returns its ABERRANT value. */
  makeLambda(params: readonly Sym[], types: readonly TypeCode[], ret: TypeCode, body: Unit): Aberrant {
    const id = this.nextLambdaId++;
    const sig = `:fn<${types.map((t) => TYPE_NAMES[t]).join(",")}>${TYPE_NAMES[ret]}`;
    const def = new LambdaDef(id, this, params, types, ret, body, this.depth, sig);
    (this.lambdas ??= new Map()).set(id, def);
    this.liveLambdas.push(def);
    const a = new Aberrant(id);
    a.ref = def;
    return a;
  }

  /** The live lambda an ABERRANT value names in this interpreter, if any. */
  lambdaOf(f: Aberrant): LambdaDef | undefined {
    const r = f.ref;
    if (r !== undefined && r.alive && r.interp === this) return r;
    return f.id > 0 ? this.lambdas?.get(f.id) : undefined;
  }

  /** Calls a lambda with argument expressions evaluated here (spec §3.4). */
  callLambda(f: Aberrant, argCodes: readonly Code[], pos: number): Value {
    const n = argCodes.length;
    const def = this.lambdaToCall(f, n, pos);
    const types = def.types;
    let v0: Value = NONE;
    let v1: Value = NONE;
    let rest: Value[] | undefined;
    for (let i = 0; i < n; i++) {
      const v = argCodes[i]!(this);
      checkArgType(types[i]!, i, v, pos);
      if (i === 0) v0 = v;
      else if (i === 1) v1 = v;
      else (rest ??= [])[i - 2] = v;
    }
    return this.enterLambda(def, v0, v1, rest);
  }

  /** The live lambda f names, checked for a call of n arguments (before any is evaluated). */
  lambdaToCall(f: Aberrant, n: number, pos: number): LambdaDef {
    const def = this.lambdaOf(f);
    if (def === undefined) throw new SlpException("Unknown function", pos);
    if (n !== def.params.length) throw new SlpException(`Function expects ${def.params.length} arguments, got ${n}`, pos);
    return def;
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
    return this.enterLambda(def, values[0] ?? NONE, values[1] ?? NONE, values.slice(2));
  }

  /**
   * Runs a lambda whose arguments were evaluated and checked: counts the step, binds the
   * parameters in a new scope, runs the body and checks the result type (spec §3.4 steps 4–7).
   * Both tiers call lambdas through here, except that the JS tier writes these same steps inline
   * for calls of up to two arguments (jit.ts, lambdaCall): a change here goes there too. The
   * budget itself is only ever counted by step().
   */
  enterLambda(def: LambdaDef, v0: Value, v1: Value, rest: readonly Value[] | undefined): Value {
    this.step();
    if (++this.callDepth > CALL_DEPTH_MAX) {
      this.callDepth--;
      throw new BudgetExceeded("depth", CALL_DEPTH_MAX);
    }
    const unit = def.unit;
    let r: Value;
    // A self-binding body (tier.ts) pushes its scope and binds its parameters itself, when needed.
    if (unit.selfBinding) r = unit.code(this, v0, v1);
    else {
      this.pushScope();
      const params = def.params;
      const n = params.length;
      if (n > 0) this.define(params[0]!, v0);
      if (n > 1) this.define(params[1]!, v1);
      for (let i = 2; i < n; i++) this.define(params[i]!, rest![i - 2]!);
      r = unit.code(this, v0, v1);
      this.popScope();
    }
    this.callDepth--;
    if (def.ret !== T_NONE && typeOf(r) !== def.ret) return errorValue("internal function error: returned unexpected type");
    return r;
  }

  /**
   * Evaluates any value as an expression (used by kernels, `eval` and top-level programs). A node
   * is walked the first time (walk.ts: most such code runs once, fresh `eval` text always) and
   * marked; the second time it is compiled to closures, which later runs reuse.
   */
  evalValue(e: Value): Value {
    if (typeof e === "number" || typeof e === "bigint") return e;
    if (e instanceof List || e instanceof Wrap) {
      const c = e.compiled;
      if (typeof c === "function") return (c as Code)(this);
      if (c === WALKED) return compile(e)(this);
      e.compiled = WALKED;
      return walk(this, e);
    }
    if (e instanceof Sym) {
      const id = e.id;
      if (id < this.deps.length && this.deps[id]! > 0) {
        const v = this.vals[id]!;
        return v === UNMADE ? this.made(id) : v;
      }
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
