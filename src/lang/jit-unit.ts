/**
 * A unit's JavaScript function (jit.ts generates its statements): which parameters it keeps in
 * locals, the function's layout (`unit`, which checks the session's kernel table, then `body`)
 * and its compilation with `new Function`.
 */
import type { KernelFn } from "./host.ts";
import type { Code, Interp } from "./interp.ts";
import { Gen, JS_UNIT_DEPTH_MAX } from "./jit.ts";
import { RUNTIME } from "./jit-runtime.ts";
import { List, Sym, Wrap, T_PAREN, type Value } from "./value.ts";

/** Names of RUNTIME's members the generated code uses unqualified. */
const RUNTIME_NAMES = Object.keys(RUNTIME).join(", ");

/** A unit's generated source and the constants it names. */
export interface GeneratedUnit {
  readonly source: string;
  readonly constants: readonly unknown[];
}

/**
 * The parameters (at most the first two, which a lambda body's code receives as `a0`, `a1`) whose
 * reads may use the argument instead of a lookup. Inside the body the innermost binding of a
 * parameter is its own, bound in the lambda's scope, unless something binds the name again: `def`
 * or `export` of it in the body or a scope the body pushes (excluded here by name, anywhere in the
 * body), a construct's own binding (`$iterations`, `$error`, `$exception`, `apply-temp-…`: names
 * excluded), or an `export` reached some other way (a kernel evaluating code in the caller's
 * scope), which generated code detects through Interp.rebinds and then looks up instead.
 */
function localParams(body: Value, params: readonly Sym[] | null): Map<Sym, string> {
  const locals = new Map<Sym, string>();
  if (params === null) return locals;
  // Duplicate names: the last binding wins (spec §3.4), so a later index replaces an earlier one.
  params.forEach((p, i) => {
    if (i < 2 && !p.name.startsWith("$") && !p.name.startsWith("apply-temp-")) locals.set(p, `a${i}`);
    else locals.delete(p);
  });
  const scan = (v: Value, depth: number): void => {
    if (locals.size === 0 || depth > JS_UNIT_DEPTH_MAX * 4) {
      locals.clear(); // too deep to be sure: no locals
      return;
    }
    const items = v instanceof List ? v.items : v instanceof Wrap ? [v.inner] : null;
    if (items === null) return;
    const head = items[0];
    if (v instanceof List && v.t === T_PAREN && head instanceof Sym && (head.name === "def" || head.name === "export") && items[1] instanceof Sym) locals.delete(items[1]);
    for (const x of items) scan(x, depth + 1);
  };
  scan(body, 0);
  return locals;
}

/** How a unit is generated. */
export interface UnitOptions {
  /** A lambda body's parameter names. */
  readonly params?: readonly Sym[] | null;
  /** The body binds its parameters itself (see Gen.observe; callers then enter it without its scope). */
  readonly selfBinding?: boolean;
  /**
   * The unit the code is made for (tier.ts, Unit): runs it for a session whose kernel table
   * resolves its kernel calls otherwise (Unit.elsewhere), and a lambda calling a body of this unit
   * is a call of itself (jit-calls.ts). Without it the unit checks the table at its first direct
   * call instead.
   */
  readonly elsewhere?: { elsewhere(it: Interp, a0: Value | undefined, a1: Value | undefined): Value } | null;
}

/** Generates the source of one unit (for tests and `compileUnit`). */
export function generateUnit(node: List | Wrap, hint: ReadonlyMap<string, KernelFn> | null, options: UnitOptions = {}): GeneratedUnit {
  const params = options.params ?? null;
  const selfBinding = options.selfBinding === true;
  const locals = localParams(node, params);
  const g = new Gen(hint, locals, selfBinding ? params : null, options.elsewhere ?? null);
  const result = g.expr(node);
  const temps = g.tempCount;
  // A session whose kernel table resolves the unit's kernel calls otherwise runs elsewhere.
  const sites = g.sites !== null ? g.k(g.sites) : null;
  const elsewhere = options.elsewhere !== undefined && options.elsewhere !== null && sites !== null ? g.k(options.elsewhere) : null;
  const constants = g.constants.map((_, i) => `k${i} = K[${i}]`).join(", ");
  // The unit is `unit`, which checks the session's kernel table and runs `body`; a recursive call
  // made while that check still holds (jit-calls.ts, lambdaCall) calls `body` directly. `body`
  // keeps the call depth it runs at in `cd` and passes cd + 1 to such calls, writing it to the
  // interpreter only before calling out (Gen.depthOut): `unit` puts back the depth it was entered
  // with, as every call leaves it. Such a call also passes the symbol it called through and the
  // lambda it found, still what that symbol names (jit-calls.ts): `hs`, `hd`.
  const source = [
    '"use strict";',
    `const { ${RUNTIME_NAMES} } = R;`,
    constants.length > 0 ? `const ${constants};` : "",
    "const unit = function unit(it, a0, a1) {",
    "const S = it.session;",
    elsewhere !== null ? `if (S.kernelSet.fns !== ${sites}.table && !${sites}.accept(S.kernelSet.fns)) return ${elsewhere}.elsewhere(it, a0, a1);` : "",
    "const cd = it.callDepth;",
    "const r = body(it, a0, a1, S, cd);",
    "it.callDepth = cd;",
    "return r;",
    "};",
    "function body(it, a0, a1, S, cd, hs, hd) {",
    // Whether the session's table is still the one the sites are resolved against (jit-calls.ts).
    elsewhere !== null ? "let kok = true;" : "let kok = false;",
    locals.size > 0 ? "const rebinds = it.rebinds;" : "",
    selfBinding ? "let sc = 0;" : "",
    temps > 0 ? `let ${Array.from({ length: temps }, (_, i) => `t${i}`).join(", ")};` : "",
    ...g.lines,
    selfBinding ? "if (sc !== 0) it.popScope();" : "",
    `return ${result};`,
    "}",
    "return unit;",
  ].join("\n");
  return { source, constants: g.constants };
}

/** Compiles a unit to a JavaScript function; throws when the engine refuses the source. */
export function compileUnit(node: List | Wrap, hint: ReadonlyMap<string, KernelFn> | null, options: UnitOptions = {}): Code {
  const { source, constants } = generateUnit(node, hint, options);
  const factory = new Function("R", "K", source) as (r: typeof RUNTIME, k: readonly unknown[]) => Code;
  return factory(RUNTIME, constants);
}
