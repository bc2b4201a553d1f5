import type { CallContext, SessionScope } from "../../src/lang/host.ts";
import { SlpException } from "../../src/lang/errors.ts";
import { List, NONE, Sym, sym, T_BRACKET, T_PAREN, T_SOME, Wrap, type Value } from "../../src/lang/value.ts";

/** What `fakeContext` is built from; every field is optional. */
export interface FakeContextOptions {
  /** Symbol bindings the evaluator looks up; kept by reference, so a test may add to it later. */
  vars?: Map<Sym, Value>;
  /** The `workingDir` the context reports (default "/"). */
  workingDir?: string;
  /** The scope the context reports (default null: not running in a node). */
  scope?: SessionScope | null;
  /** What `remainingMs` reports (default Infinity: no time budget). */
  remainingMs?: () => number;
}

/** A fake context, with what it records for the test to inspect. */
export interface FakeContext {
  /** The context to pass to kernel functions. */
  cx: CallContext;
  /** The symbol bindings the evaluator looks up. */
  vars: Map<Sym, Value>;
  /** The value of each `(trace x)` evaluated, in order. */
  trace: Value[];
  /** Each chunk passed to `cx.write`, in order. */
  out: string[];
  /** All the output written so far, as one string. */
  printed: () => string;
  /** The exception `(boom)` throws (the same object every time). */
  boom: SlpException;
}

/**
 * A kernel `CallContext` with a minimal evaluator: numbers, strings and brace lists are themselves;
 * symbols look up `vars` (else themselves); `'x` gives x; `[a b]` evaluates each and gives the last
 * (NONE when empty); `(trace x)` records and returns x's value; `(boom)` throws; other paren lists
 * are themselves. Output written through the context is collected.
 */
export function fakeContext(options: FakeContextOptions = {}): FakeContext {
  const vars = options.vars ?? new Map<Sym, Value>();
  const trace: Value[] = [];
  const out: string[] = [];
  const boom = new SlpException("boom");
  const cx: CallContext = {
    workingDir: options.workingDir ?? "/",
    write: (bytes) => void out.push(bytes),
    scope: options.scope ?? null,
    remainingMs: options.remainingMs ?? (() => Infinity),
    eval(e: Value): Value {
      if (e instanceof Sym) return vars.get(e) ?? e;
      if (e instanceof Wrap && e.t === T_SOME) return e.inner;
      if (e instanceof List && e.t === T_BRACKET) {
        let last: Value = NONE;
        for (const it of e.items) last = cx.eval(it);
        return last;
      }
      if (e instanceof List && e.t === T_PAREN && e.items[0] === sym("trace")) {
        const v = cx.eval(e.items[1]!);
        trace.push(v);
        return v;
      }
      if (e instanceof List && e.t === T_PAREN && e.items[0] === sym("boom")) throw boom;
      return e;
    },
  };
  return { cx, vars, trace, out, printed: () => out.join(""), boom };
}
