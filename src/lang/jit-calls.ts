/**
 * The calls the JS tier writes inline (jit.ts): lambda calls, with exactly the checks and steps of
 * Interp.enterLambda, and kernel calls specialised on the kernel function table the unit was made
 * for.
 *
 * A kernel call is resolved now, against that table: a function with an eager form for this many
 * arguments is called directly, and one with a scalar pure equivalent (intrinsics.ts) runs it
 * inline. Sessions share tables (kernel-set.ts), so the table is usually the session's; the unit
 * checks at entry (KernelSites accepts another table that resolves its calls the same way, else
 * the unit runs elsewhere, tier.ts) and a local flag, `kok`, says it still is. Only code the unit
 * calls out to can change a session's kernels (a kernel swapped under running code), so the flag
 * is cleared after every call out and the next direct call checks the table again; while the
 * session's table resolves a call otherwise, the call runs its closure code, which resolves per
 * session as the closure tier always does. Either way a call is resolved before its arguments are
 * evaluated, as in compile.ts.
 */
import { compile } from "./compile.ts";
import type { EagerKernelFn, KernelFn } from "./host.ts";
import { INTRINSICS, type Intrinsic } from "./intrinsics.ts";
import { CALL_DEPTH_MAX } from "./interp.ts";
import type { Gen } from "./jit.ts";
import { T_INT, type List, type Sym, type Value } from "./value.ts";

/** `(f a…)` where f names a lambda (spec §3.4): same checks, in the same order, as Interp.callLambda. */
export function lambdaCall(g: Gen, head: Sym, args: readonly Value[], pos: number): string {
  const f = g.t();
  const d = g.t();
  const n = args.length;
  const kh = g.k(head);
  if (g.isParam(head)) g.observe();
  // A body entered by a call of itself through this same symbol, with no binding changed since
  // (FlowState.pristine), is given the lambda its caller found (hd): the lookup would find it.
  const given = g.selfCall && g.flow.pristine;
  if (given) g.emit(`if (hs === ${kh}) ${d} = hd; else {`);
  g.emit(`${f} = it.lookup(${kh});`);
  g.emit(`if (!(${f} instanceof Aberrant)) throw unknownCallable(${kh}.name, ${pos});`);
  g.emit(`${d} = it.lambdaOf(${f});`);
  g.emit(`if (${d} === undefined) throw fail("Unknown function", ${pos});`);
  if (given) g.emit("}");
  const found = g.changes;
  g.emit(`if (${d}.params.length !== ${n}) throw arity(${d}, ${n}, ${pos});`);
  const values: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = g.expr(args[i]!);
    // An argument known to be an integer (Gen.isInt) needs no look at its value.
    const type = g.isInt(a) ? String(T_INT) : `typeOf(${a})`;
    g.emit(`if (${d}.types[${i}] !== 0 && ${type} !== ${d}.types[${i}]) throw argType(${i + 1}, ${d}.types[${i}], ${a}, ${pos});`);
    values.push(a);
  }
  const r = g.t();
  // Whether nothing written since the lookup may have changed what the symbol names: the
  // arguments, or binding this body's parameters when one of them is the symbol.
  const unchanged = g.changes === found;
  // The callee may read this body's parameters through dynamic scoping, unless its own shadow them.
  g.observeUnlessCovered(d, n);
  const passes = unchanged && !g.ownParam(head);
  if (n > 2) {
    g.depthOut();
    g.emit(`${r} = it.enterLambda(${d}, ${values[0]}, ${values[1]}, [${values.slice(2).join(", ")}]);`);
    g.calledOut();
    return r;
  }
  // Interp.enterLambda, step for step, inline for the common arities so the engine sees the
  // whole call (measured: 6% of a call on fib); a change there comes here too. The call depth is
  // the body's `cd` (jit-unit.ts): the callee runs at cd + 1.
  const v0 = values[0] ?? "NONE";
  const v1 = values[1] ?? "NONE";
  g.emit("it.step();");
  g.emit(`if (cd >= ${CALL_DEPTH_MAX}) throw depthExceeded(${CALL_DEPTH_MAX});`);
  // A call of a body of this very unit (any code of the unit runs it alike, and the session's
  // kernel table is still the one this code's sites were checked against) skips the entry check
  // and keeps the depth in locals: `body` is the unit without them (jit-unit.ts). A body that binds its
  // own parameters is entered directly; the others (closure code) in a scope bound here, by a
  // helper, which keeps the generated function small.
  const handOver = passes ? `, ${kh}, ${d}` : "";
  const self = g.selfCall ? `${g.kokKnown ? "" : "kok && "}${d}.unit === ${g.unitName} ? body(it, ${v0}, ${v1}, S, cd + 1${handOver}) : ` : "";
  g.emit(`${r} = ${self}(it.callDepth = cd + 1, ${d}.unit.selfBinding ? ${d}.unit.code(it, ${v0}, ${v1}) : enterScoped(it, ${d}, ${v0}, ${v1}));`);
  g.depthChanged();
  g.calledOut();
  g.emit(`if (${d}.ret !== 0 && typeOf(${r}) !== ${d}.ret) ${r} = returnedUnexpectedType();`);
  return r;
}

/**
 * The kernel calls of one unit as resolved against a kernel function table, and the table they are
 * resolved against now. Generated code checks the session's table against `table`; another table
 * is accepted when it resolves every call the same way (the same arity taken eagerly, the same
 * pure equivalent), and the eager functions are then taken from it. A table that resolves some
 * call otherwise is refused, and the unit runs elsewhere (tier.ts).
 */
export class KernelSites {
  /** The eager function of each direct call, as `table` resolves it. */
  readonly eager: EagerKernelFn["call"][] = [];
  private readonly needs: { readonly name: string; readonly arity: number; readonly pure: string | undefined; readonly slot: number }[] = [];
  private readonly accepted = new WeakSet<KernelTable>();
  private readonly refused = new WeakSet<KernelTable>();

  constructor(public table: KernelTable) {
    this.accepted.add(table);
  }

  /** Records a call made direct at generation; returns its slot in `eager` (-1 for an inlined pure one). */
  add(name: string, arity: number, fn: KernelFn, inlined: boolean): number {
    const slot = inlined ? -1 : this.eager.length;
    if (!inlined) this.eager.push(fn.eager!.call);
    this.needs.push({ name, arity, pure: fn.pure, slot });
    return slot;
  }

  /** Makes `fns` the table when it resolves every call the same way; false when it does not. */
  accept(fns: KernelTable): boolean {
    if (this.refused.has(fns)) return false;
    if (!this.accepted.has(fns)) {
      for (const n of this.needs) {
        const k = fns.get(n.name);
        if (k?.eager?.arity !== n.arity || (n.slot < 0 && k.pure !== n.pure)) {
          this.refused.add(fns);
          return false;
        }
      }
      this.accepted.add(fns);
    }
    for (const n of this.needs) if (n.slot >= 0) this.eager[n.slot] = fns.get(n.name)!.eager!.call;
    this.table = fns;
    return true;
  }
}

type KernelTable = ReadonlyMap<string, KernelFn>;

/**
 * `(k/f a…)`: while the session's kernel table resolves it as the unit's did, a kernel taking
 * exactly these arguments eagerly is called directly with them evaluated here, or its scalar pure
 * equivalent runs inline; any other case (a kernel taking unevaluated arguments, a module call, a
 * lambda named with a slash, a table that resolves it otherwise) is the closure code's.
 */
export function kernelCall(g: Gen, l: List, name: string, args: readonly Value[]): string {
  const n = args.length;
  const known = g.hint?.get(name);
  if (g.sites === null || known?.eager === undefined || known.eager.arity !== n) return g.fallback(l);
  const pure = known.pure !== undefined ? INTRINSICS.get(known.pure) : undefined;
  const inlined = pure !== undefined && pure.params.length === n && n === 2;
  const slot = g.sites.add(name, n, known, inlined);
  const sites = g.k(g.sites);
  const r = g.t();
  // Where kok is certainly true, the table is the sites' and the closure branch could never run.
  if (g.kokKnown) {
    direct(g, args, r, inlined, pure, sites, slot);
    // An integer equivalent's value is an integer (intrinsics.ts), here on the only path.
    if (inlined && pure!.ret === "int") g.knownInt(r);
    return r;
  }
  g.emit(`if (kok || (kok = S.kernelSet.fns === ${sites}.table || ${sites}.accept(S.kernelSet.fns))) {`);
  g.branch(
    () => {
      g.kokChecked();
      direct(g, args, r, inlined, pure, sites, slot);
      g.emit("} else {");
    },
    () => {
      g.observe();
      g.depthOut();
      g.emit(`${r} = ${g.k(compile(l))}(it);`);
      g.calledOut();
      g.emit("}");
    },
  );
  return r;
}

/** A direct kernel call: its arguments evaluated here, then its pure equivalent inline or its eager function. */
function direct(g: Gen, args: readonly Value[], r: string, inlined: boolean, pure: Intrinsic | undefined, sites: string, slot: number): void {
  const a = args.map((x) => g.expr(x));
  if (inlined) {
    // An inlined pure operation is a step's worth of work at most: no budget check, no call out.
    const slow = g.k(pure!.fn);
    g.emit(`${r} = ${pure!.inline !== undefined ? pure!.inline(a[0]!, a[1]!, g.t(), slow) : `${slow}(${a[0]}, ${a[1]})`};`);
  } else {
    // As in compile.ts: a kernel call may do far more work than a step, so the time budget is
    // watched before each (Interp.tick). A kernel may evaluate code in this scope (its
    // CallContext), so the scope is observed first.
    g.observe();
    g.depthOut();
    g.emit("it.tick();");
    g.emit(`${r} = ${sites}.eager[${slot}](${a[0]}, ${a[1] ?? "NONE"}, ${a[2] ?? "NONE"}, it);`);
    g.calledOut();
  }
}
