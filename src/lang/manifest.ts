/**
 * Kernel manifests (`kernel.sxs`, kernels spec §2): R1 `#(define-kernel …)` and R2 bracket lists of
 * datums with `#(define-form …)`. Two readings: "strict" is the run-time loader's (any fault fails
 * the load with the original's message); "lenient" is the checker's (bad entries are skipped with a
 * warning). Pure: takes source text, returns data.
 */
import { pureMismatch } from "./pure.ts";
import { read } from "./reader.ts";
import { List, Str, Sym, Wrap, T_BRACE, T_BRACKET, T_DATUM, T_PAREN, typeSymbolCode, type TypeCode, type Value } from "./value.ts";

/** One declared kernel function. Types are the type symbols as written (e.g. `:int`, `:any..`). */
export interface ManifestFunction {
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly type: string }[];
  readonly ret: string;
  readonly variadic: boolean;
  /** sup extension: symbols written after the return type, e.g. `:value` (native calling convention). */
  readonly attributes: readonly string[];
  /**
   * sup extension: `:pure NAME` after the return type names a TypeScript equivalent
   * (lang/intrinsics.ts) the JS tier may inline instead of calling the kernel.
   */
  readonly pure?: string;
}

export interface Manifest {
  readonly kernelName: string;
  /** The library file named by define-kernel (relative to the kernel directory). */
  readonly library: string;
  readonly functions: readonly ManifestFunction[];
  /** R2 forms defined by the manifest: name (no colon) → element type codes. */
  readonly forms: ReadonlyMap<string, readonly TypeCode[]>;
}

export type ManifestResult =
  | { readonly ok: true; readonly manifest: Manifest; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: string; readonly warnings: readonly string[] };

class ManifestError extends Error {}

/** The attribute that names a function's TypeScript equivalent: `:pure int-add`. */
const PURE_ATTRIBUTE = ":pure";

/** Parses manifest source (latin1) in the given mode. */
export function parseManifest(src: string, mode: "strict" | "lenient"): ManifestResult {
  const warnings: string[] = [];
  const parsed = read(src);
  if (parsed.value === null) {
    const d = parsed.diagnostics[0]!;
    return { ok: false, error: `kernel.sxs: parse error: ${d.message}`, warnings };
  }
  const top = parsed.value;
  const forms = new Map<string, readonly TypeCode[]>();
  let kernel: { name: string; library: string; functions: ManifestFunction[] } | null = null;

  const defineForm = (args: readonly Value[]): void => {
    if (args.length !== 2) throw new ManifestError("define-form requires exactly 2 arguments: name and elements");
    const [name, elems] = args;
    if (!(name instanceof Sym)) throw new ManifestError("define-form: first argument must be a symbol (form name)");
    if (!(elems instanceof List) || elems.t !== T_BRACE) throw new ManifestError("define-form: second argument must be a brace list of type symbols");
    const codes: TypeCode[] = [];
    for (const e of elems.items) {
      if (!(e instanceof Sym)) throw new ManifestError("define-form: all elements must be type symbols");
      const code = typeSymbolCode(e.name, forms);
      if (code === undefined) throw new ManifestError(`define-form: invalid type symbol: ${e.name}`);
      codes.push(code);
    }
    forms.set(name.name, codes);
  };

  const defineFunction = (args: readonly Value[]): ManifestFunction => {
    if (args.length < 3) throw new ManifestError("define-function requires at least 3 arguments: name (params) :return-type");
    const [name, params, ret, ...rest] = args;
    if (!(name instanceof Sym)) throw new ManifestError("define-function: name must be a symbol");
    if (!(params instanceof List) || params.t !== T_PAREN) throw new ManifestError("define-function: parameters must be a paren list");
    if (!(ret instanceof Sym)) throw new ManifestError("define-function: return type must be a symbol");
    if (typeSymbolCode(ret.name, forms) === undefined) throw new ManifestError(`define-function: invalid return type: ${ret.name}`);
    if (params.items.length % 2 !== 0) throw new ManifestError("define-function: parameters must be in pairs (name :type)");
    const ps: { name: string; type: string }[] = [];
    let variadic = false;
    for (let i = 0; i < params.items.length; i += 2) {
      const pn = params.items[i]!;
      const pt = params.items[i + 1]!;
      if (!(pt instanceof Sym)) throw new ManifestError("define-function: parameter type must be a symbol");
      if (typeSymbolCode(pt.name, forms) === undefined) throw new ManifestError(`define-function: invalid parameter type: ${pt.name}`);
      if (pt.name.endsWith("..")) variadic = true;
      ps.push({ name: pn instanceof Sym ? pn.name : String(pn), type: pt.name });
    }
    const attributes = rest.filter((r): r is Sym => r instanceof Sym).map((r) => r.name);
    const at = attributes.indexOf(PURE_ATTRIBUTE);
    if (at < 0) return { name: name.name, params: ps, ret: ret.name, variadic, attributes };
    const pure = attributes[at + 1];
    if (pure === undefined) throw new ManifestError(`define-function: ${PURE_ATTRIBUTE} must be followed by the name of a TypeScript equivalent`);
    const mismatch = pureMismatch(pure, ps.map((p) => p.type), ret.name);
    if (mismatch !== null) throw new ManifestError(`define-function: ${name.name}: ${mismatch}`);
    attributes.splice(at, 2);
    return { name: name.name, params: ps, ret: ret.name, variadic, attributes, pure };
  };

  const defineKernel = (args: readonly Value[]): void => {
    if (args.length < 3) throw new ManifestError("define-kernel requires 3 arguments: name dylib [functions]");
    const [name, lib, fns] = args;
    if (!(lib instanceof Str)) throw new ManifestError("define-kernel: dylib name must be a string");
    if (!(fns instanceof List) || fns.t !== T_BRACKET) throw new ManifestError("define-kernel: functions must be a bracket list");
    const functions: ManifestFunction[] = [];
    for (const item of fns.items) {
      if (!(item instanceof List) || item.t !== T_PAREN || item.items.length === 0) continue;
      const head = item.items[0];
      if (!(head instanceof Sym) || head.name !== "define-function") {
        if (mode === "strict" && head instanceof Sym) throw new ManifestError(`Unknown callable symbol: ${head.name}`);
        if (mode === "strict") throw new ManifestError(`Cannot call non-symbol type: ${typeof head === "object" ? head.t : 9}`);
        continue;
      }
      try {
        functions.push(defineFunction(item.items.slice(1)));
      } catch (e) {
        if (mode === "strict" || !(e instanceof ManifestError)) throw e;
        warnings.push(`skipping malformed define-function: ${e.message}`);
      }
    }
    kernel = { name: name instanceof Sym ? name.name : "", library: lib.s, functions };
  };

  const datum = (d: Value): void => {
    if (!(d instanceof Wrap) || d.t !== T_DATUM) {
      if (mode === "strict") throw new ManifestError("kernel.sxs must contain datum declarations");
      return;
    }
    const inner = d.inner;
    if (!(inner instanceof List) || inner.t !== T_PAREN || !(inner.items[0] instanceof Sym)) return;
    const head = inner.items[0].name;
    const args = inner.items.slice(1);
    if (head === "define-kernel") defineKernel(args);
    else if (head === "define-form") defineForm(args);
    else if (mode === "strict") throw new ManifestError(`Unknown datum callable symbol: ${head}`);
  };

  try {
    if (top instanceof Wrap && top.t === T_DATUM) datum(top);
    else if (top instanceof List && top.t === T_BRACKET) for (const d of top.items) datum(d);
    else
      throw new ManifestError(
        mode === "strict" ? "kernel.sxs must start with #(define-kernel ...)" : "kernel.sxs has no #(define-kernel ...) declaration",
      );
  } catch (e) {
    if (e instanceof ManifestError) return { ok: false, error: e.message, warnings };
    throw e;
  }
  const k = kernel as { name: string; library: string; functions: ManifestFunction[] } | null;
  if (k === null) return { ok: false, error: "kernel.sxs did not specify dylib name", warnings };
  return { ok: true, manifest: { kernelName: k.name, library: k.library, functions: k.functions, forms }, warnings };
}
