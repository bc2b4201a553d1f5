/**
 * Builds and opens the code of a native kernel. A kernel directory with C sources (`*.c`) is
 * compiled with the system C compiler, and one with any C++ source (`*.cpp`, `*.cc`, `*.cxx`) with
 * the system C++ compiler, into a shared library cached by content hash under
 * `<cache>/kernels/<name>-<hash>/`. Without a system C compiler, C is compiled by Bun's built-in
 * TinyCC straight into memory. A directory without sources must hold the prebuilt library its
 * manifest names. Either way the caller gets the same KernelLibrary.
 *
 * The cache is `<project>/.sup-cache` for a kernel in a project's `kernels/` folder (so
 * `sup project clean` removes it) and `${SUP_HOME:-$HOME/.sup}/cache` for every other kernel.
 *
 * Invariant: a library is only ever loaded from its final cache path, which is written by an atomic
 * rename after a successful compile, so a failed or partial build is never loaded.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import type { Manifest } from "../lang/manifest.ts";
import { buildIntoCache, cacheKey, findOtherBuilds } from "./native-cache.ts";
import {
  compilerFromEnv,
  compilerLabel,
  CompilerMissingError,
  displayOutput,
  findSystemCompiler,
  KernelCompileError,
  languageOf,
  missingCompilerDetail,
  NativeBuildError,
  parseDiagnostics,
  type SourceLanguage,
} from "./native-compiler.ts";
import { compileWithTinyCc, openSharedLibrary, type KernelLibrary } from "./native-library.ts";

export { CompilerMissingError, KernelCompileError, NativeBuildError, type CompilerDiagnostic, type SourceLanguage } from "./native-compiler.ts";
export type { KernelLibrary } from "./native-library.ts";

/** The C ABI headers and helpers shared by every native kernel (`native/` at the repository root). */
export const NATIVE_DIR = resolve(import.meta.dir, "../../native");
/** A project's build cache folder, inside the project so cleaning the project removes it. */
export const PROJECT_CACHE_DIR_NAME = ".sup-cache";

/** Which compiler builds C sources: the system one when found, or Bun's TinyCC. C++ always needs the system C++ compiler. */
export type CompilerChoice = "auto" | "system" | "tinycc";

/** What a build did: compiled now, found in the cache, used a prebuilt library, or compiled in memory by TinyCC. */
export type BuildStatus = "built" | "cached" | "prebuilt" | "tinycc";

/** The outcome of building one kernel, for callers to print. */
export interface KernelBuildReport {
  readonly name: string;
  readonly dir: string;
  readonly status: BuildStatus;
  /** The library file, or null for TinyCC (compiled into memory at every load). */
  readonly library: string | null;
  /** Compiler label (`gcc`, `g++`, `TinyCC`), or null for a prebuilt library. */
  readonly compiler: string | null;
  /** Kernel sources compiled (not counting native/sup_value.c). */
  readonly sources: number;
  /** Time spent, including the cache lookup. */
  readonly ms: number;
}

/** Progress of a build: `start` before a system compile (they take a while), `done` after every build. */
export type BuildEvent = { readonly kind: "start"; readonly name: string; readonly sources: number; readonly compiler: string } | { readonly kind: "done"; readonly report: KernelBuildReport };

/** Options for building; the defaults come from the environment (SUP_CC, SUP_CXX, SUP_HOME, PATH). */
export interface NativeBuildOptions {
  /** "auto" (default, or SUP_CC=tinycc to force TinyCC) tries the system compiler first. */
  readonly compiler?: CompilerChoice;
  /** Cache root (default: the project's `.sup-cache`, else `${SUP_HOME:-$HOME/.sup}/cache`). */
  readonly cacheDir?: string;
  /** Where compilers are looked for (default $PATH). */
  readonly searchPath?: string;
  /** Compiler output paths are shown relative to this directory (default: the kernel's project). */
  readonly displayRoot?: string;
  /** Receives progress; the caller decides what to print. */
  readonly onEvent?: (event: BuildEvent) => void;
}

/** Everything decided before compiling: sources, language, compiler, cache and display roots. */
interface BuildPlan {
  readonly name: string;
  readonly dir: string;
  readonly manifest: Manifest;
  /** Absolute source paths, sorted; empty for a prebuilt kernel. */
  readonly sources: readonly string[];
  readonly language: SourceLanguage;
  /** The system compiler's path, or null for TinyCC. */
  readonly compiler: string | null;
  /** native/sup_value.c, compiled as C into every kernel. */
  readonly helperSources: readonly string[];
  readonly includeDirs: readonly string[];
  readonly cacheRoot: string;
  readonly displayRoot: string | null;
}

/** Helper sources linked into every kernel (compiled as C). */
const NATIVE_HELPER_SOURCES = ["sup_value.c"];

/** Builds (or finds in the cache) and opens the code of the kernel in `dir`. */
export function openKernelLibrary(dir: string, manifest: Manifest, options: NativeBuildOptions = {}): KernelLibrary {
  const plan = planBuild(dir, manifest, options);
  if (plan.sources.length === 0) return openSharedLibrary(prebuiltLibrary(plan));
  if (plan.compiler === null) {
    const started = performance.now();
    const lib = compileWithTinyCc(plan);
    options.onEvent?.({ kind: "done", report: reportOf(plan, "tinycc", null, started) });
    return lib;
  }
  return openSharedLibrary(buildWithSystemCompiler(plan, plan.compiler, options).library!);
}

/** Builds the kernel in `dir` without loading it (TinyCC compiles it to check it, then discards it). */
export function buildKernel(dir: string, manifest: Manifest, options: NativeBuildOptions = {}): KernelBuildReport {
  const started = performance.now();
  const plan = planBuild(dir, manifest, options);
  let report: KernelBuildReport;
  if (plan.sources.length === 0) report = reportOf(plan, "prebuilt", prebuiltLibrary(plan), started);
  else if (plan.compiler !== null) return buildWithSystemCompiler(plan, plan.compiler, options);
  else {
    compileWithTinyCc(plan).close();
    report = reportOf(plan, "tinycc", null, started);
  }
  options.onEvent?.({ kind: "done", report });
  return report;
}

/** A kernel's build state without building: for `sup deps`. */
export type CacheState = "cached" | "stale" | "not built" | "built" | "missing library" | "tinycc" | "no compiler";

/** Where the kernel in `dir` stands: its library is cached, stale (sources changed), not built, … */
export function kernelCacheState(dir: string, manifest: Manifest, options: NativeBuildOptions = {}): { state: CacheState; library: string | null } {
  let plan: BuildPlan;
  try {
    plan = planBuild(dir, manifest, options);
  } catch (e) {
    if (e instanceof CompilerMissingError) return { state: "no compiler", library: null };
    throw e;
  }
  if (plan.sources.length === 0) {
    const path = join(dir, manifest.library);
    return existsSync(path) ? { state: "built", library: path } : { state: "missing library", library: null };
  }
  if (plan.compiler === null) return { state: "tinycc", library: null };
  const target = cachedLibraryPath(plan, plan.compiler);
  if (existsSync(target)) return { state: "cached", library: target };
  const others = findOtherBuilds(plan.cacheRoot, plan.name, plan.dir, dirname(target));
  return { state: others.length > 0 ? "stale" : "not built", library: null };
}

/** The sources of a kernel directory (`*.c`, `*.cpp`, `*.cc`, `*.cxx`, not recursive), sorted so builds are reproducible. */
export function kernelSources(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => languageOf(f) !== null && statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => join(dir, f));
}

/** The default cache root: `${SUP_HOME:-$HOME/.sup}/cache`. */
export function defaultCacheDir(): string {
  const home = process.env.SUP_HOME;
  return join(home !== undefined && home !== "" ? home : join(homedir(), ".sup"), "cache");
}

/** The project a kernel directory belongs to (`<project>/kernels/<k>` with `<project>/init.sxs`), or null. */
export function projectOfKernel(dir: string): string | null {
  const abs = resolve(dir);
  const parent = dirname(abs);
  if (basename(parent) !== "kernels") return null;
  const project = dirname(parent);
  return existsSync(join(project, "init.sxs")) ? project : null;
}

/** Decides sources, language, compiler and cache; throws CompilerMissingError when nothing can build it. */
function planBuild(dir: string, manifest: Manifest, options: NativeBuildOptions = {}): BuildPlan {
  const abs = resolve(dir);
  const sources = kernelSources(abs);
  const language: SourceLanguage = sources.some((s) => languageOf(s) === "c++") ? "c++" : "c";
  const name = kernelNameOf(abs, manifest);
  const project = projectOfKernel(abs);
  const compiler = sources.length === 0 ? null : chooseCompiler(name, language, options);
  return {
    name,
    dir: abs,
    manifest,
    sources,
    language,
    compiler,
    helperSources: NATIVE_HELPER_SOURCES.map((f) => join(NATIVE_DIR, f)),
    includeDirs: [NATIVE_DIR, abs],
    cacheRoot: options.cacheDir ?? (project !== null ? join(project, PROJECT_CACHE_DIR_NAME) : defaultCacheDir()),
    displayRoot: options.displayRoot ?? project,
  };
}

function kernelNameOf(dir: string, manifest: Manifest): string {
  const raw = manifest.kernelName !== "" ? manifest.kernelName : basename(dir);
  return raw.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** The system compiler's path, or null for TinyCC (C only). */
function chooseCompiler(name: string, language: SourceLanguage, options: NativeBuildOptions): string | null {
  const wanted = options.compiler ?? (process.env.SUP_CC === "tinycc" ? "tinycc" : "auto");
  // TinyCC compiles C only: a C++ kernel needs the system C++ compiler whatever was asked for C.
  if (language === "c" && wanted === "tinycc") return null;
  const named = compilerFromEnv(language);
  if (wanted === "system" && named !== null && Bun.which(named, options.searchPath === undefined ? undefined : { PATH: options.searchPath }) === null) {
    throw new CompilerMissingError(`Cannot build kernel "${name}": the compiler "${named}" named by ${language === "c" ? "SUP_CC" : "SUP_CXX"} was not found`);
  }
  const found = findSystemCompiler(language, options.searchPath);
  if (found !== null) return found;
  if (language === "c" && wanted === "auto") return null;
  throw new CompilerMissingError(`Cannot build kernel "${name}": ${missingCompilerDetail(language)}`);
}

function prebuiltLibrary(plan: BuildPlan): string {
  const path = join(plan.dir, plan.manifest.library);
  if (!existsSync(path)) throw new NativeBuildError(`Kernel dylib not found: ${path}`);
  return path;
}

function cachedLibraryPath(plan: BuildPlan, compiler: string): string {
  const key = cacheKey({ dir: plan.dir, manifest: plan.manifest, sources: plan.sources, language: plan.language, compiler, nativeDir: NATIVE_DIR });
  const libName = basename(plan.manifest.library) || `libkernel_${plan.name}.so`;
  return join(plan.cacheRoot, "kernels", `${plan.name}-${key}`, libName);
}

function reportOf(plan: BuildPlan, status: BuildStatus, library: string | null, started: number): KernelBuildReport {
  const compiler = status === "prebuilt" ? null : compilerLabel(plan.compiler);
  return { name: plan.name, dir: plan.dir, status, library, compiler, sources: plan.sources.length, ms: performance.now() - started };
}

/** Compiles into the cache unless the library is already there. */
function buildWithSystemCompiler(plan: BuildPlan, compiler: string, options: NativeBuildOptions): KernelBuildReport {
  const started = performance.now();
  const target = cachedLibraryPath(plan, compiler);
  if (existsSync(target)) {
    const report = reportOf(plan, "cached", target, started);
    options.onEvent?.({ kind: "done", report });
    return report;
  }
  options.onEvent?.({ kind: "start", name: plan.name, sources: plan.sources.length, compiler: compilerLabel(compiler) });
  const failure = buildIntoCache({
    name: plan.name,
    dir: plan.dir,
    target,
    compiler,
    language: plan.language,
    sources: plan.sources,
    helperSources: plan.helperSources,
    includeDirs: plan.includeDirs,
  });
  if (failure !== null) {
    if (failure.kind === "io") throw new NativeBuildError(`Cannot build kernel "${plan.name}": ${failure.detail}`);
    const output = displayOutput(failure.detail, plan.displayRoot);
    throw new KernelCompileError(`Cannot build kernel "${plan.name}": ${compilerLabel(compiler)} exited with status ${failure.status}:\n${output}`, parseDiagnostics(output));
  }
  const report = reportOf(plan, "built", target, started);
  options.onEvent?.({ kind: "done", report });
  return report;
}

