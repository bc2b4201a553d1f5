/**
 * The two execution tiers and when code moves from the first to the second.
 *
 * Code that runs once (a top-level program, most `eval`ed text) is walked (walk.ts) and makes
 * nothing; run again, code runs as closures (compile.ts), cheap to make. Code that runs often is
 * a *unit*: a lambda body, a `do` loop body, an `eval`ed program, a module, a stored handler or
 * job. A unit counts its runs; at its kind's threshold (PROMOTE_AFTER) it is compiled to one
 * JavaScript function (jit.ts) that replaces its closure code, so the engine optimises the whole
 * body at once.
 * `SUP_TIER` (set through setTierMode by the entry point) forces a tier: `closure` never
 * promotes, `js` promotes every unit on its first run (top-level programs too), `auto` is the
 * default. Promotions are logged at debug level and counted (tierStats).
 */
import type { Code, Interp } from "./interp.ts";
import { compile } from "./compile.ts";
import { compileUnit } from "./jit-unit.ts";
import type { List, Sym, Value, Wrap } from "./value.ts";

/** Which tier runs code: `auto` promotes hot units, the others force one tier. */
export type TierMode = "auto" | "closure" | "js";
export const TIER_MODES: readonly TierMode[] = ["auto", "closure", "js"];

/** What a unit is; each kind has its own promotion threshold. */
export type UnitKind = "lambda" | "loop" | "eval" | "module" | "program" | "handler" | "job";

/**
 * Runs of a unit after which `auto` compiles it to JavaScript. Compiling a small body costs 0.05–0.5
 * ms (the first one in a process about 2 ms), and the engine needs many runs of new code before it
 * optimises it, so lambda and loop bodies are promoted as soon as they have shown they repeat
 * (measured on fib, loop and calls: 20 runs beat 100, cold and hot). Text passed to `eval` is
 * usually built fresh each time, so it waits a little longer. A top-level program runs once, so it never is (its loops and lambdas
 * are units of their own). Handlers and jobs are stored to be run again and again: they compile
 * on their first run, once per code version. A module runs once per session that imports it, so
 * in a node once per request: the second import compiles it.
 */
export const PROMOTE_AFTER: Readonly<Record<UnitKind, number>> = {
  lambda: 20,
  loop: 20,
  eval: 20,
  module: 2,
  program: Infinity,
  handler: 1,
  job: 1,
};

let mode: TierMode = "auto";

/** Selects the tier policy for units made from now on (existing units keep theirs). */
export function setTierMode(m: TierMode): void {
  mode = m;
}

/** The tier policy in force. */
export function tierMode(): TierMode {
  return mode;
}

/**
 * Runs of one `eval` text (counted on its parse cache entry) after which it becomes a unit, which
 * then compiles on its first run: text evaluated once, the common case, makes no unit at all.
 */
export function evalUnitAfter(): number {
  return mode === "closure" ? Infinity : mode === "js" ? 1 : PROMOTE_AFTER.eval;
}

/** Counts of the JS tier's work since the process started: observable by tests, logs and metrics. */
export const tierStats = { compiledUnits: 0, failedUnits: 0, compileMs: 0 };

/** A unit of code that may be promoted; `code` is what runs it now. */
export class Unit {
  code: Code;
  runs = 0;
  /** True once `code` is the JavaScript tier's. */
  js = false;
  /**
   * True once `code` is a lambda body that pushes its scope and binds its parameters itself, only
   * if something could observe them (jit.ts, Gen.observe): callers then enter it without pushing a
   * scope (Interp.enterLambda, generated lambda calls). Bodies of up to two parameters, which the
   * generated code receives as a0 and a1.
   */
  selfBinding = false;

  /** The closure tier's code of the unit. */
  private readonly closure: Code;
  /** Times the unit was compiled again for another kernel table (see elsewhere). */
  private recompiles = 0;

  constructor(
    readonly node: List | Wrap,
    readonly kind: UnitKind,
    readonly mode: TierMode,
    /** A lambda body's parameter names (fixed by its `fn` node), which the JS tier may keep in locals. */
    readonly params: readonly Sym[] | null = null,
  ) {
    const closure = compile(node);
    this.closure = closure;
    // `eval` text counted its runs before it became a unit (see evalUnitAfter).
    const after = mode === "closure" ? Infinity : mode === "js" || kind === "eval" ? 1 : PROMOTE_AFTER[kind];
    this.code =
      after === Infinity
        ? closure
        : (it, a0, a1) => {
            if (++this.runs < after) return closure(it);
            const code = this.promote(it, closure);
            // The caller entered this run the old way, its scope already pushed: closures run it.
            return this.selfBinding ? closure(it) : code(it, a0, a1);
          };
  }

  /** Compiles this unit to JavaScript (or, if that fails, settles on its closure code). */
  private promote(it: Interp, closure: Code): Code {
    const t0 = performance.now();
    const host = it.session.host;
    try {
      const selfBinding = this.kind === "lambda" && this.params !== null && this.params.length <= 2;
      this.code = compileUnit(this.node, it.session.kernelSet.fns, { params: this.params, selfBinding, elsewhere: this });
      this.js = true;
      this.selfBinding = selfBinding;
      const ms = performance.now() - t0;
      tierStats.compiledUnits++;
      tierStats.compileMs += ms;
      host.log("debug", `tier: compiled ${this.kind} unit at ${it.file}@${this.node.pos} after ${this.runs} runs in ${ms.toFixed(3)} ms (${tierStats.compiledUnits} compiled)`);
    } catch (e) {
      // A unit too large or deep for the engine's parser stays on closures: same behaviour, slower.
      this.code = closure;
      tierStats.failedUnits++;
      host.log("debug", `tier: ${this.kind} unit at ${it.file}@${this.node.pos} stays on closures: ${e instanceof Error ? e.message : String(e)}`);
    }
    return this.code;
  }

  /**
   * Runs the unit for a session whose kernel function table resolves its kernel calls otherwise
   * than the one `code` was made for (its generated code checks at entry, jit-calls.ts): the unit
   * is compiled again for that table, up to UNIT_RECOMPILES_MAX times, then runs its closures. A
   * self-binding body is entered without its scope, so for closures the scope is pushed and the
   * parameters bound here.
   */
  elsewhere(it: Interp, a0: Value | undefined, a1: Value | undefined): Value {
    if (this.recompiles < UNIT_RECOMPILES_MAX) {
      this.recompiles++;
      try {
        this.code = compileUnit(this.node, it.session.kernelSet.fns, { params: this.params, selfBinding: this.selfBinding, elsewhere: this });
        tierStats.compiledUnits++;
        return this.code(it, a0, a1);
      } catch {
        // As in promote: a unit the engine refuses stays on closures.
      }
    }
    this.code = this.selfBinding ? this.closureBinding : this.closure;
    return this.code(it, a0, a1);
  }

  /** A self-binding body's closures, with the scope its callers no longer push. */
  private readonly closureBinding: Code = (it, a0, a1) => {
    it.pushScope();
    const params = this.params!;
    if (params.length > 0) it.define(params[0]!, a0!);
    if (params.length > 1) it.define(params[1]!, a1!);
    const r = this.closure(it);
    it.popScope();
    return r;
  };
}

/**
 * Times a unit is compiled again for a kernel table that resolves its kernel calls otherwise (a
 * kernel replaced by one without the same eager or pure functions, or code that programs loading
 * different kernels under one name share); past this, it runs closures, which resolve per session,
 * rather than being compiled back and forth.
 */
export const UNIT_RECOMPILES_MAX = 8;

const units: Record<TierMode, WeakMap<List | Wrap, Map<UnitKind, Unit>>> = { auto: new WeakMap(), closure: new WeakMap(), js: new WeakMap() };

/** The unit of a node as a given kind under the current tier mode, made on first use. */
export function unitOf(node: List | Wrap, kind: UnitKind, params: readonly Sym[] | null = null): Unit {
  const byNode = units[mode];
  let byKind = byNode.get(node);
  if (byKind === undefined) byNode.set(node, (byKind = new Map()));
  let u = byKind.get(kind);
  if (u === undefined) byKind.set(kind, (u = new Unit(node, kind, mode, params)));
  return u;
}
