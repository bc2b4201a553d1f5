/**
 * What the evaluator needs from the world, as interfaces: lang/ does no I/O itself. The kernel layer
 * and the CLI implement these; kernel functions receive a CallContext.
 */
import type { TypeCode, Value } from "./value.ts";

/** What a kernel function sees of the call it is serving. */
export interface CallContext {
  /** Evaluates an expression in the caller's scope, with full language semantics (may throw). */
  eval(expr: Value): Value;
  /** The program's working directory (`-w`, default the current directory at start). */
  readonly workingDir: string;
  /** Writes program output (latin1 bytes). */
  write(bytes: string): void;
  /** Who the running code belongs to and what its embedder provides; null outside a node. */
  readonly scope: SessionScope | null;
  /**
   * Milliseconds left of the session's time budget (Infinity when it has none): a kernel that must
   * wait (a network round trip) waits at most this long, so it never outlives its caller's budget.
   */
  remainingMs(): number;
}

/** A typed name for a service an embedder hands to kernels through a session's scope. */
export class ScopeKey<T> {
  /** Carries T for type inference only; never set. */
  declare readonly service?: T;
  constructor(readonly name: string) {}
}

/**
 * An embedder's import resolver: when a session's scope offers one, `#(import …)` paths resolve
 * through it instead of the host's file system (a node: the tenant's `mod:` code in its store).
 */
export const IMPORTS = new ScopeKey<(path: string) => SourceFile | null>("imports");

/**
 * What an embedding (a node) tells kernels about the code a session runs: the tenant it belongs to,
 * and services scoped to that tenant (the node's kv, its code store), so a kernel never reaches past
 * the tenant it was called for.
 */
export interface SessionScope {
  readonly tenant: string;
  /** The service registered under key, or undefined when this embedding offers none. */
  service<T>(key: ScopeKey<T>): T | undefined;
}

/**
 * A kernel function. `args` are the call's argument expressions, unevaluated, without the head
 * symbol; the function evaluates what it needs through `cx.eval` (spec kernels §1).
 */
export type KernelFn = ((cx: CallContext, args: readonly Value[]) => Value) & {
  /**
   * Optional fast path for a call written with exactly `arity` (1–3) arguments: the caller
   * evaluates them in order and passes the values (missing ones as NONE). Must behave exactly
   * like the general form on such a call.
   */
  eager?: EagerKernelFn;
  /**
   * The name of a scalar TypeScript equivalent (lang/intrinsics.ts) the JS tier may inline instead
   * of this function, declared `:pure NAME` in the kernel's manifest. Only for scalar functions
   * with an eager form; the equivalent must give exactly the function's results. (A value
   * function's equivalent is run by its wrapper instead: lang/pure.ts.)
   */
  pure?: string;
};

/** The eager form of a kernel function (see KernelFn); `cx` is the calling context, as the general form gets. */
export interface EagerKernelFn {
  readonly arity: 1 | 2 | 3;
  readonly call: (a: Value, b: Value, c: Value, cx: CallContext) => Value;
}

/** A kernel as loaded into a runtime: its functions by bare name and the forms its manifest defines. */
export interface LoadedKernel {
  readonly functions: ReadonlyMap<string, KernelFn>;
  readonly forms: ReadonlyMap<string, readonly TypeCode[]>;
}

/** A source file found for an import or a manifest. */
export interface SourceFile {
  /** Canonical absolute path (symlinks and `..` resolved), the file's identity. */
  readonly path: string;
  /** Contents as a latin1 byte string. */
  readonly text: string;
}

/** Services the evaluator and checker take from their host. */
export interface Host {
  readonly workingDir: string;
  /** Writes program output (latin1 bytes). */
  write(bytes: string): void;
  /**
   * Acquires the kernel for `#(load "name")` (loading it if needed); throws an Error with a reason.
   * The session holds it until it ends, then hands it back through releaseKernel, so a kernel that
   * was replaced meanwhile stays usable by the programs that started on it.
   */
  loadKernel(name: string): LoadedKernel;
  /** Gives back a kernel acquired with loadKernel (called once per acquisition, when the session ends). */
  releaseKernel?(name: string, kernel: LoadedKernel): void;
  /** Finds a kernel's manifest without loading code (for the checker), or null. */
  findManifest(name: string): SourceFile | null;
  /** Resolves and reads an import path (spec §6.1), or null when it cannot be found. */
  readImport(path: string): SourceFile | null;
  /** Logs a message about the run (stderr); never program output. */
  log(level: "debug" | "info" | "warn" | "error", message: string): void;
}
