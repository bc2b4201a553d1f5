/**
 * The static type checker (spec §7): computes a static type for every expression of a program
 * before it runs and reports what the original `sxs` checker reports, with the same texts.
 *
 * The first error is always the original's. After it the checker keeps checking the following
 * statements of the enclosing bracket list, but only in ways that cannot invent errors: every name
 * the failed statement might have defined becomes POISON (compatible with everything); if it holds
 * an import, names under that prefix become POISON too; if it holds a `load`, unknown `k/f` calls
 * stop being errors; if it holds a `define-form`, unknown type symbols do.
 *
 * Built-in rules live in checker-rules.ts, the load/import/define-form directives in
 * checker-modules.ts. Pure: files come from the Host.
 */
import type { Host, SourceFile } from "./host.ts";
import { Aberrant, List, NoneValue, Real, Str, Sym, Wrap, T_BRACKET, T_DATUM, T_PAREN, T_SOME, typeOf, typeSymbolCode, type Value } from "./value.ts";
import { BUILTINS, validateArguments } from "./checker-rules.ts";
import {
  ABERRANT_T,
  BRACE_T,
  CheckFailure,
  CheckStopped,
  ERROR_T,
  INT_T,
  NONE_T,
  PAREN_T,
  POISON,
  POISON_T,
  REAL_T,
  STR_T,
  SYMBOL_T,
  ok,
  typeFor,
  type Signature,
  type StaticType,
} from "./checker-types.ts";

export interface CheckDiagnostic {
  readonly file: string;
  readonly offset: number;
  readonly line: number;
  readonly col: number;
  readonly message: string;
  readonly severity: "error" | "warning";
}

export interface CheckOptions {
  /** sup implements the union of R1 and R2 (imports/export and forms); the only revision. */
  readonly revision?: "union";
}

/** Errors reported for one program before checking gives up, so a broken file stays readable. */
export const CHECK_ERRORS_MAX = 50;

interface RawDiagnostic {
  readonly file: SourceFile;
  readonly offset: number;
  readonly message: string;
  readonly severity: "error" | "warning";
}

/** State shared by the checker of a program and the fresh checkers of the files it imports. */
export interface Session {
  readonly host: Host;
  /** Files being checked, outermost first (the program itself included): the import chain. */
  readonly stack: string[];
  /** Exports of files that checked successfully, so diamond-shaped imports are checked once. */
  readonly memo: Map<string, ReadonlyMap<string, StaticType>>;
  readonly diagnostics: RawDiagnostic[];
  readonly seen: Set<string>;
  errors: number;
}

/**
 * Checks a parsed program; the result lists errors and warnings in source order (the order the
 * checker meets them, so the first error is always the one the original reports).
 */
export function checkProgram(program: Value, file: SourceFile, host: Host, options?: CheckOptions): CheckDiagnostic[] {
  const session: Session = { host, stack: [file.path], memo: new Map(), diagnostics: [], seen: new Set(), errors: 0 };
  const checker = new Checker(file, session, true);
  try {
    checker.check(program);
  } catch (e) {
    if (e instanceof CheckFailure) checker.record(e);
    else if (e instanceof RangeError) checker.record(new CheckFailure("Cannot check program: lists nest too deeply", file, 0));
    else if (!(e instanceof CheckStopped)) throw e;
  }
  return located(session.diagnostics);
}

/** One checker per file (spec §7.7: an imported file is checked by a fresh checker). */
export class Checker {
  readonly kernels = new Map<string, Signature>();
  /** R2 form names (no colon); each is a type symbol meaning `:list-c`. */
  readonly forms = new Set<string>();
  readonly exports = new Map<string, StaticType>();
  /** Files imported by this checker; importing one again binds nothing (spec §7.7). */
  readonly checkedFiles = new Set<string>();
  private readonly scopes: Map<string, StaticType>[] = [new Map()];
  /** Number of `do` bodies lexically around the expression being checked. */
  loopDepth = 0;
  /** What failed statements may have left undefined; see the file comment. */
  private readonly unsure = { prefixes: new Set<string>(), kernels: false, forms: false };

  constructor(
    readonly file: SourceFile,
    readonly session: Session,
    /** Whether to continue after an error (the program's checker) or stop (an imported file's). */
    private readonly recovers: boolean,
  ) {}

  /** A fresh checker for a file this one imports: same session, stops at its first error. */
  forImport(file: SourceFile): Checker {
    return new Checker(file, this.session, false);
  }

  /** The static type of an expression (spec §7.3). */
  check(v: Value): StaticType {
    if (typeof v === "number" || typeof v === "bigint") return INT_T;
    if (v instanceof Sym) return this.lookupValue(v.name);
    if (v instanceof List) {
      if (v.t === T_PAREN) return this.checkCall(v);
      if (v.t === T_BRACKET) return this.checkBracket(v);
      return BRACE_T;
    }
    if (v instanceof Wrap) {
      if (v.t === T_SOME) return typeFor(typeOf(v.inner));
      if (v.t === T_DATUM) return this.checkDatum(v);
      return ERROR_T;
    }
    if (v instanceof Str) return STR_T;
    if (v instanceof Real) return REAL_T;
    if (v instanceof Aberrant) return ABERRANT_T;
    if (v instanceof NoneValue) return NONE_T;
    return typeFor(typeOf(v));
  }

  /** Throws the check error `message` located at `node`, or at `within` when node is an atom. */
  fail(message: string, node: Value, within: List | Wrap): never {
    throw new CheckFailure(message, this.file, offsetOf(node, within));
  }

  /** Records a warning located like `fail`. */
  warn(message: string, node: Value, within: List | Wrap): void {
    this.add({ file: this.file, offset: offsetOf(node, within), message, severity: "warning" });
  }

  /** Records an error that was caught; stops checking when there are too many. */
  record(e: CheckFailure): void {
    this.add({ file: e.file, offset: e.offset, message: e.message, severity: "error" });
    if (++this.session.errors < CHECK_ERRORS_MAX) return;
    this.add({ file: e.file, offset: e.offset, message: `Stopped checking after ${CHECK_ERRORS_MAX} errors`, severity: "warning" });
    throw new CheckStopped();
  }

  /** A symbol as a value: its binding, or `:symbol` when unbound (§7.3). */
  private lookupValue(name: string): StaticType {
    if (this.unsure.prefixes.size > 0 && this.unsure.prefixes.has(prefixOf(name))) return POISON_T;
    return this.lookup(name) ?? SYMBOL_T;
  }

  lookup(name: string): StaticType | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const t = this.scopes[i]!.get(name);
      if (t !== undefined) return t;
    }
    return undefined;
  }

  lookupLocal(name: string): StaticType | undefined {
    return this.scopes[this.scopes.length - 1]!.get(name);
  }

  define(name: string, t: StaticType): void {
    this.scopes[this.scopes.length - 1]!.set(name, t);
  }

  pushScope(): void {
    this.scopes.push(new Map());
  }

  popScope(): void {
    this.scopes.pop();
  }

  /** The type a type symbol names (built-in or form), or undefined when it is not one. */
  typeSymbol(name: string): StaticType | undefined {
    const code = typeSymbolCode(name, this.forms);
    return code === undefined ? undefined : typeFor(code);
  }

  /**
   * Resolves a type symbol the construct requires, failing with `message` when it is not one.
   * After a failed `define-form` the symbol may name that form, so it is POISON instead.
   */
  requireType(name: string, message: string, node: Value, within: List | Wrap): StaticType {
    const t = this.typeSymbol(name);
    if (t !== undefined) return t;
    if (this.unsure.forms) return POISON_T;
    return this.fail(message, node, within);
  }

  private add(d: RawDiagnostic): void {
    // The double-check quirk (§7.5) checks some arguments twice; report what it finds once.
    const key = `${d.file.path}\0${d.offset}\0${d.severity}\0${d.message}`;
    if (this.session.seen.has(key)) return;
    this.session.seen.add(key);
    this.session.diagnostics.push(d);
  }

  /** `[a … z]`: each statement in order, the type of the last; `[]` is NONE. */
  private checkBracket(list: List): StaticType {
    let last = NONE_T;
    for (const item of list.items) {
      if (!this.recovers) {
        last = this.check(item);
        continue;
      }
      const depth = this.scopes.length;
      const loops = this.loopDepth;
      try {
        last = this.check(item);
      } catch (e) {
        if (!(e instanceof CheckFailure)) throw e;
        this.record(e);
        this.scopes.length = depth;
        this.loopDepth = loops;
        this.forgetFailed(item);
        last = POISON_T;
      }
    }
    return last;
  }

  /**
   * Makes later checks unsure of whatever a failed statement might have defined, had it been
   * checked to its end: names of every `def`/`export` inside it (outside data) become POISON in the
   * current scope, and its imports, loads and form definitions make their names unknown.
   */
  private forgetFailed(statement: Value): void {
    const todo: Value[] = [statement];
    for (let v = todo.pop(); v !== undefined; v = todo.pop()) {
      if (v instanceof Wrap && v.t === T_DATUM) todo.push(v.inner);
      if (!(v instanceof List) || (v.t !== T_PAREN && v.t !== T_BRACKET)) continue;
      const head = v.items[0];
      if (v.t === T_PAREN && head instanceof Sym) this.forgetCall(head.name, v.items);
      for (const item of v.items) todo.push(item);
    }
  }

  private forgetCall(head: string, items: readonly Value[]): void {
    const name = items[1];
    if ((head === "def" || head === "export") && name instanceof Sym) this.define(name.name, POISON_T);
    else if (head === "load") this.unsure.kernels = true;
    else if (head === "define-form") this.unsure.forms = true;
    else if (head === "import") {
      for (let i = 1; i < items.length; i += 2) {
        const prefix = items[i];
        if (prefix instanceof Sym) this.unsure.prefixes.add(prefix.name);
      }
    }
  }

  /** `#x`: a built-in or directive call when x is `(N …)` with N one of them, else `:datum`. */
  private checkDatum(w: Wrap): StaticType {
    const inner = w.inner;
    if (inner instanceof List && inner.t === T_PAREN && inner.items[0] instanceof Sym) {
      const builtin = BUILTINS.get(inner.items[0].name);
      if (builtin !== undefined) return this.checkBuiltin(inner, inner.items[0].name);
    }
    return typeFor(T_DATUM);
  }

  /** `(head …)` (spec §7.4). */
  private checkCall(call: List): StaticType {
    const head = call.items[0];
    if (head === undefined) return PAREN_T;
    if (!(head instanceof Sym)) return this.fail(`Cannot call non-symbol type: ${typeOf(head)}`, call, call);
    const name = head.name;
    if (BUILTINS.has(name)) return this.checkBuiltin(call, name);
    const slash = name.includes("/");
    if (slash && this.unsure.prefixes.size > 0 && this.unsure.prefixes.has(prefixOf(name))) return this.checkArgumentsOnly(call);
    const bound = this.lookup(name);
    if (bound !== undefined && bound.code === POISON) return this.checkArgumentsOnly(call);
    if (bound !== undefined && bound.code === ABERRANT_T.code) {
      if (bound.sig === undefined) return this.fail(`Lambda ${name} has no signature information`, call, call);
      return this.checkSignatureCall(call, `Lambda ${name}`, bound.sig);
    }
    const kernelSig = slash ? this.kernels.get(name) : undefined;
    if (kernelSig !== undefined) return this.checkSignatureCall(call, `Function ${name}`, kernelSig);
    if (slash && this.unsure.kernels) return this.checkArgumentsOnly(call);
    return this.fail(`Unknown callable symbol: ${name}`, call, call);
  }

  private checkBuiltin(call: List, name: string): StaticType {
    const builtin = BUILTINS.get(name)!;
    validateArguments(this, call, name, builtin);
    return builtin.rule(this, call);
  }

  /** A call whose callee is unknown after an earlier error: only its arguments are checked. */
  private checkArgumentsOnly(call: List): StaticType {
    for (let i = 1; i < call.items.length; i++) this.check(call.items[i]!);
    return POISON_T;
  }

  /** A lambda or kernel call: count, then each argument against its parameter (spec §7.4, §7.6). */
  private checkSignatureCall(call: List, label: string, sig: Signature): StaticType {
    const argc = call.items.length - 1;
    const params = sig.params;
    if (!sig.variadic && argc !== params.length) this.fail(`${label} expects ${params.length} arguments, got ${argc}`, call, call);
    const fixed = sig.variadic && params.length > 0 ? params.length - 1 : params.length;
    if (argc < fixed) this.fail(`${label} expects at least ${fixed} arguments, got ${argc}`, call, call);
    for (let i = 0; i < fixed; i++) {
      const arg = call.items[i + 1]!;
      const t = this.check(arg);
      if (!ok(params[i]!, t)) this.fail(`${label} argument ${i + 1} type mismatch: expected ${params[i]!.code}, got ${t.code}`, arg, call);
    }
    if (sig.variadic && params.length > 0) {
      const repeated = params[params.length - 1]!;
      for (let i = fixed; i < argc; i++) {
        const arg = call.items[i + 1]!;
        const t = this.check(arg);
        if (!ok(repeated, t)) this.fail(`${label} variadic argument ${i + 1} type mismatch: expected ${repeated.code}, got ${t.code}`, arg, call);
      }
    }
    return sig.ret;
  }
}

/** The part of a name before its first `/` (an import prefix or kernel name). */
function prefixOf(name: string): string {
  const slash = name.indexOf("/");
  return slash < 0 ? "" : name.slice(0, slash);
}

/** Where a diagnostic about `node` points: its own opening character, or its enclosing list's. */
function offsetOf(node: Value, within: List | Wrap): number {
  if ((node instanceof List || node instanceof Wrap) && node.pos >= 0) return node.pos;
  return Math.max(within.pos, 0);
}

/** Adds line and column to raw diagnostics, indexing each file's line starts once. */
function located(raw: readonly RawDiagnostic[]): CheckDiagnostic[] {
  const lineStarts = new Map<string, number[]>();
  return raw.map((d) => {
    let starts = lineStarts.get(d.file.path);
    if (starts === undefined) {
      starts = lineStartsOf(d.file.text);
      lineStarts.set(d.file.path, starts);
    }
    const { line, col } = lineColAt(starts, d.offset);
    return { file: d.file.path, offset: d.offset, line, col, message: d.message, severity: d.severity };
  });
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line and byte column of an offset (same numbering as reader's lineCol). */
function lineColAt(starts: readonly number[], offset: number): { line: number; col: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: offset - starts[lo]! + 1 };
}
