/**
 * A runtime as a program uses it: one kernel registry plus the programs run against it. Kernels
 * can be loaded, unloaded and replaced while the runtime lives; each run (and each open session)
 * keeps the versions it acquired until it ends, and the next run gets the current ones. This is the
 * programmatic face of live kernels, used by the REPL and, later, by the node.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SupError } from "../errors.ts";
import { KernelLoadError, KernelRegistry, STANDARD_KERNEL_DIR } from "../kernel/mod.ts";
import type { NativeBuildOptions } from "../kernel/native-build.ts";
import type { KernelInfo } from "../kernel/mod.ts";
import { checkProgram } from "../lang/checker.ts";
import { BudgetExceeded, SlpException, parseFile, runProgram, type Budget, type SourceDiagnostic, type SourceFile, type Value } from "../lang/mod.ts";
import { ProgramHost } from "./program-host.ts";

/** How a Runtime finds kernels and where its programs' output goes by default. */
export interface RuntimeOptions {
  /** Working directory of its programs (default: the current directory). */
  readonly workingDir?: string;
  /** `-i` directories for kernels and imports. */
  readonly includePaths?: readonly string[];
  /** `$SUP_HOME` for user kernels (default: the environment's); null for none. */
  readonly supHome?: string | null;
  /** Whether `#(load "x")` loads kernels the runtime does not have yet (default true). */
  readonly autoload?: boolean;
  /** Compiler and cache for native kernels (default: from the environment). */
  readonly nativeBuild?: NativeBuildOptions;
  /** Default sink of program output (latin1 bytes); default: collected into each RunResult. */
  readonly write?: (bytes: string) => void;
}

/** A program to run: a file on disk, or source text (named by `path` in diagnostics). */
export type ProgramInput = { readonly file: string } | { readonly source: string; readonly path?: string };

/** Per-run settings. */
export interface RunOptions {
  readonly budget?: Budget;
  /** Type check before running (default true), as `sup run` does. */
  readonly check?: boolean;
  /** Sink for this run's output; overrides the runtime's. */
  readonly write?: (bytes: string) => void;
}

/** What a run came to, as data. `output` holds the program's output when no sink was given. */
export type RunResult =
  | { readonly ok: true; readonly value: Value; readonly output: string }
  | { readonly ok: false; readonly stage: "parse" | "check"; readonly diagnostics: readonly SourceDiagnostic[]; readonly output: string }
  | {
      readonly ok: false;
      readonly stage: "run";
      readonly exception: SlpException | BudgetExceeded;
      readonly where: SourceDiagnostic | null;
      readonly output: string;
    };

/** The outcome of a reload: the new current version and how long the swap took. */
export interface KernelSwap {
  readonly kernel: KernelInfo;
  /** Wall time of loading the new version and retiring the old one, in milliseconds. */
  readonly swapMs: number;
}

/** The runtime was used in a way its state does not allow (closed, or closed while running). */
export class RuntimeStateError extends SupError {
  constructor(message: string) {
    super("runtime-state", message);
  }
}

/** A program file could not be read. */
export class ProgramReadError extends SupError {
  constructor(message: string) {
    super("program-read", message);
  }
}

function readProgramFile(path: string): SourceFile {
  const abs = resolve(path);
  try {
    return { path: abs, text: readFileSync(abs, "latin1") };
  } catch (e) {
    throw new ProgramReadError(`Cannot read program "${path}": ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** One set of loaded kernels and the programs that run against it. */
export class Runtime {
  readonly registry: KernelRegistry;
  /** The host for sessions the caller opens itself (the REPL's); it writes to the runtime's sink. */
  readonly host: ProgramHost;
  private readonly workingDir: string;
  private readonly includePaths: readonly string[];
  private readonly write: ((bytes: string) => void) | undefined;
  /** Runs in progress: closing under them would unload code they are calling. */
  private running = 0;
  private closed = false;

  constructor(options: RuntimeOptions = {}) {
    this.workingDir = resolve(options.workingDir ?? process.cwd());
    this.includePaths = (options.includePaths ?? []).map((p) => resolve(p));
    this.write = options.write;
    const supHome = options.supHome === undefined ? (process.env.SUP_HOME ?? null) : options.supHome;
    const search = { includePaths: this.includePaths, workingDir: this.workingDir, supHome, builtinDir: STANDARD_KERNEL_DIR };
    this.registry = new KernelRegistry(search, { autoload: options.autoload, nativeBuild: options.nativeBuild });
    this.host = this.hostWriting(this.write ?? ((bytes) => process.stdout.write(Buffer.from(bytes, "latin1"))));
  }

  /** Parses, checks (unless told not to) and runs a program in a fresh session against the current kernels. */
  run(input: ProgramInput, options: RunOptions = {}): RunResult {
    this.assertOpen("run a program");
    const file = "file" in input ? readProgramFile(input.file) : { path: input.path ?? "<source>", text: input.source };
    const parts: string[] = [];
    const write = options.write ?? this.write ?? ((bytes: string) => void parts.push(bytes));
    const output = () => parts.join("");
    const host = this.hostWriting(write);
    const parsed = parseFile(file);
    if (!parsed.ok) return { ok: false, stage: "parse", diagnostics: parsed.diagnostics, output: "" };
    if (options.check ?? true) {
      const errors = checkProgram(parsed.value, file, host).filter((d) => d.severity === "error");
      const diagnostics = errors.map(({ file, line, col, message }) => ({ file, line, col, message }));
      if (errors.length > 0) return { ok: false, stage: "check", diagnostics, output: "" };
    }
    this.running++;
    try {
      const r = runProgram(parsed.value, file, host, options.budget);
      return r.ok ? { ok: true, value: r.value, output: output() } : { ok: false, stage: "run", exception: r.exception, where: r.where, output: output() };
    } finally {
      this.running--;
    }
  }

  /** Makes a kernel available (loading it from disk unless it is loaded) and returns its current version. */
  loadKernel(name: string): KernelInfo {
    this.assertOpen(`load kernel "${name}"`);
    try {
      this.registry.load(name);
    } catch (e) {
      if (e instanceof SupError) throw new KernelLoadError(`Cannot load kernel "${name}": ${e.message}`);
      throw e;
    }
    return this.registry.info(name)!;
  }

  /** Takes a kernel out of the runtime; sessions holding it keep it until they end. */
  unloadKernel(name: string): void {
    this.assertOpen(`unload kernel "${name}"`);
    this.registry.unload(name);
  }

  /** Replaces a loaded kernel with a new version read from disk; on failure the old one stays current. */
  reloadKernel(name: string): KernelSwap {
    this.assertOpen(`reload kernel "${name}"`);
    const t0 = performance.now();
    const kernel = this.registry.replace(name);
    return { kernel, swapMs: performance.now() - t0 };
  }

  /** Every live kernel version, current and retired. */
  kernels(): KernelInfo[] {
    return this.registry.list();
  }

  /** Shuts every kernel down; the runtime cannot be used afterwards. */
  close(): void {
    if (this.closed) return;
    if (this.running > 0) throw new RuntimeStateError(`Cannot close the runtime: ${this.running} program(s) are running`);
    this.closed = true;
    this.registry.shutdown();
  }

  private hostWriting(write: (bytes: string) => void): ProgramHost {
    return new ProgramHost({ workingDir: this.workingDir, includePaths: this.includePaths, write, registry: this.registry });
  }

  private assertOpen(action: string): void {
    if (this.closed) throw new RuntimeStateError(`Cannot ${action}: the runtime is closed`);
  }
}
