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
 * Without a usable system compiler, a library that another compiler built into the cache from
 * exactly the same sources (same `sourceKey`) is used as it is: a project built on one machine runs
 * on a server that has only the `sup` binary. In a compiled binary, a standard C kernel is opened
 * from the prebuilt library embedded for the binary's target, or, when the build had none, its
 * embedded sources are extracted and built like any other kernel (embedded.ts).
 *
 * Invariant: a library is only ever loaded from its final cache path, which is written by an atomic
 * rename after a successful compile, so a failed or partial build is never loaded.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import type { Manifest } from "../lang/manifest.ts";
import { embeddedKernel, embeddedPath, EmbeddedExtractError, extractEmbeddedDir, extractEmbeddedFile, isEmbeddedPath } from "./embedded.ts";
import { buildIntoCache, cacheKey, findBuildBySource, findOtherBuilds, sourceKey } from "./native-cache.ts";
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

/**
 * The C ABI headers and helpers shared by every native kernel: `native/` at the repository root, or
 * in a compiled binary its embedded copy (readable in place; extracted when a compiler needs it).
 */
export const NATIVE_DIR = embeddedPath("native") ?? resolve(import.meta.dir, "../../native");
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
  /** A cached library built from these exact sources by another compiler, used when no system compiler is found. */
  readonly reuse: string | null;
  /** The native ABI folder the build reads (NATIVE_DIR, possibly embedded). */
  readonly nativeDir: string;
  readonly cacheRoot: string;
  /** Where embedded files are extracted: `${SUP_HOME:-$HOME/.sup}/cache`, whatever the kernel's own cache. */
  readonly embeddedCacheRoot: string;
  readonly displayRoot: string | null;
}

/** Helper sources linked into every kernel (compiled as C). */
const NATIVE_HELPER_SOURCES = ["sup_value.c"];

/** Builds (or finds in the cache) and opens the code of the kernel in `dir`. */
export function openKernelLibrary(dir: string, manifest: Manifest, options: NativeBuildOptions = {}): KernelLibrary {
  const embedded = embeddedBuild(dir, options);
  if (embedded?.kind === "library") return openSharedLibrary(embedded.path);
  const plan = planBuild(embedded?.path ?? dir, manifest, options);
  if (plan.sources.length === 0) return openSharedLibrary(prebuiltLibrary(plan));
  if (plan.reuse !== null) {
    options.onEvent?.({ kind: "done", report: reportOf(plan, "cached", plan.reuse, performance.now()) });
    return openSharedLibrary(plan.reuse);
  }
  if (plan.compiler === null) {
    const started = performance.now();
    const lib = compileWithTinyCc({ ...plan, ...compileDirs(plan) });
    options.onEvent?.({ kind: "done", report: reportOf(plan, "tinycc", null, started) });
    return lib;
  }
  return openSharedLibrary(buildWithSystemCompiler(plan, plan.compiler, options).library!);
}

/** Builds the kernel in `dir` without loading it (TinyCC compiles it to check it, then discards it). */
export function buildKernel(dir: string, manifest: Manifest, options: NativeBuildOptions = {}): KernelBuildReport {
  const started = performance.now();
  const embedded = embeddedBuild(dir, options);
  if (embedded?.kind === "library") {
    const abs = resolve(dir);
    const report: KernelBuildReport = { name: kernelNameOf(abs, manifest), dir: abs, status: "prebuilt", library: embedded.path, compiler: null, sources: 0, ms: performance.now() - started };
    options.onEvent?.({ kind: "done", report });
    return report;
  }
  const plan = planBuild(embedded?.path ?? dir, manifest, options);
  let report: KernelBuildReport;
  if (plan.sources.length === 0) report = reportOf(plan, "prebuilt", prebuiltLibrary(plan), started);
  else if (plan.reuse !== null) report = reportOf(plan, "cached", plan.reuse, started);
  else if (plan.compiler !== null) return buildWithSystemCompiler(plan, plan.compiler, options);
  else {
    compileWithTinyCc({ ...plan, ...compileDirs(plan) }).close();
    report = reportOf(plan, "tinycc", null, started);
  }
  options.onEvent?.({ kind: "done", report });
  return report;
}

/** A kernel's build state without building: for `sup deps`. */
export type CacheState = "cached" | "stale" | "not built" | "built" | "missing library" | "tinycc" | "no compiler";

/** Where the kernel in `dir` stands: its library is cached, stale (sources changed), not built, … */
export function kernelCacheState(dir: string, manifest: Manifest, options: NativeBuildOptions = {}): { state: CacheState; library: string | null } {
  if (isEmbeddedPath(resolve(dir))) {
    // A prebuilt embedded library is "built" as shipped; embedded sources are judged once extracted.
    const library = embeddedKernel(basename(dir))?.library ?? null;
    if (library !== null) return { state: "built", library: embeddedPath(library) };
  }
  let plan: BuildPlan;
  try {
    plan = planBuild(embeddedBuild(dir, options)?.path ?? dir, manifest, options);
  } catch (e) {
    if (e instanceof CompilerMissingError) return { state: "no compiler", library: null };
    if (e instanceof EmbeddedExtractError) return { state: "not built", library: null };
    throw e;
  }
  if (plan.sources.length === 0) {
    const path = join(plan.dir, manifest.library);
    return existsSync(path) ? { state: "built", library: path } : { state: "missing library", library: null };
  }
  if (plan.reuse !== null) return { state: "cached", library: plan.reuse };
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

/**
 * For a standard kernel embedded in a compiled binary: its prebuilt library, extracted, or else its
 * sources, extracted to a real folder to be built from. Null for any other kernel directory.
 */
function embeddedBuild(dir: string, options: NativeBuildOptions): { kind: "library" | "sources"; path: string } | null {
  if (!isEmbeddedPath(resolve(dir))) return null;
  const name = basename(dir);
  const cacheRoot = options.cacheDir ?? defaultCacheDir();
  const library = embeddedKernel(name)?.library ?? null;
  if (library !== null) return { kind: "library", path: extractEmbeddedFile(library, cacheRoot) };
  return { kind: "sources", path: extractEmbeddedDir(`kernels/${name}`, cacheRoot) };
}

/** Decides sources, language, compiler and cache; throws CompilerMissingError when nothing can build it. */
function planBuild(dir: string, manifest: Manifest, options: NativeBuildOptions = {}): BuildPlan {
  const abs = resolve(dir);
  const sources = kernelSources(abs);
  const language: SourceLanguage = sources.some((s) => languageOf(s) === "c++") ? "c++" : "c";
  const name = kernelNameOf(abs, manifest);
  const project = projectOfKernel(abs);
  const cacheRoot = options.cacheDir ?? (project !== null ? join(project, PROJECT_CACHE_DIR_NAME) : defaultCacheDir());
  let compiler: string | null = null;
  let reuse: string | null = null;
  if (sources.length > 0) {
    // Only an unforced choice may fall back on another compiler's build; SUP_CC=tinycc or
    // compiler "system" say how the kernel must be built.
    const auto = wantedCompiler(options) === "auto";
    const reusable = () => findBuildBySource(cacheRoot, name, abs, sourceKey({ dir: abs, manifest, sources, language, nativeDir: NATIVE_DIR }), libraryFileName(manifest, name));
    try {
      compiler = chooseCompiler(name, language, options);
    } catch (e) {
      if (!(e instanceof CompilerMissingError) || !auto) throw e;
      reuse = reusable();
      if (reuse === null) throw e;
    }
    if (compiler === null && reuse === null && auto) reuse = reusable();
  }
  return {
    name,
    dir: abs,
    manifest,
    sources,
    language,
    compiler,
    reuse,
    nativeDir: NATIVE_DIR,
    cacheRoot,
    embeddedCacheRoot: options.cacheDir ?? defaultCacheDir(),
    displayRoot: options.displayRoot ?? project,
  };
}

/**
 * The helper sources and include folders of a compile. A compiler cannot read the binary's embedded
 * files, so in a compiled binary the native ABI folder is extracted first.
 */
function compileDirs(plan: BuildPlan): { helperSources: string[]; includeDirs: string[] } {
  const native = isEmbeddedPath(plan.nativeDir) ? extractEmbeddedDir("native", plan.embeddedCacheRoot) : plan.nativeDir;
  return { helperSources: NATIVE_HELPER_SOURCES.map((f) => join(native, f)), includeDirs: [native, plan.dir] };
}

function wantedCompiler(options: NativeBuildOptions): CompilerChoice {
  return options.compiler ?? (process.env.SUP_CC === "tinycc" ? "tinycc" : "auto");
}

function libraryFileName(manifest: Manifest, name: string): string {
  return basename(manifest.library) || `libkernel_${name}.so`;
}

function kernelNameOf(dir: string, manifest: Manifest): string {
  const raw = manifest.kernelName !== "" ? manifest.kernelName : basename(dir);
  return raw.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** The system compiler's path, or null for TinyCC (C only). */
function chooseCompiler(name: string, language: SourceLanguage, options: NativeBuildOptions): string | null {
  const wanted = wantedCompiler(options);
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
  const key = cacheKey({ dir: plan.dir, manifest: plan.manifest, sources: plan.sources, language: plan.language, compiler, nativeDir: plan.nativeDir, cacheRoot: plan.cacheRoot });
  return join(plan.cacheRoot, "kernels", `${plan.name}-${key}`, libraryFileName(plan.manifest, plan.name));
}

function reportOf(plan: BuildPlan, status: BuildStatus, library: string | null, started: number): KernelBuildReport {
  // A reused build was made elsewhere: which compiler made it is not this run's to say.
  const compiler = status === "prebuilt" || (plan.reuse !== null && library === plan.reuse) ? null : compilerLabel(plan.compiler);
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
    ...compileDirs(plan),
    sourceKey: sourceKey({ dir: plan.dir, manifest: plan.manifest, sources: plan.sources, language: plan.language, nativeDir: plan.nativeDir }),
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

