/**
 * Builds and opens the code of a native kernel. A kernel directory with C sources (`*.c`) is
 * compiled with the system C compiler into a shared library cached by content hash under
 * `${SUP_HOME:-$HOME/.sup}/cache/kernels/<name>-<hash>/`, or, when there is no system compiler, with
 * Bun's built-in TinyCC straight into memory. A directory without sources must hold the prebuilt
 * library its manifest names. Either way the caller gets the same KernelLibrary.
 *
 * Invariant: a library is only ever loaded from its final cache path, which is written by an atomic
 * rename after a successful compile, so a failed or partial build is never loaded.
 */
import { cc, dlopen, type Pointer } from "bun:ffi";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import { SupError } from "../errors.ts";
import type { Manifest } from "../lang/manifest.ts";

/** The C ABI headers and helpers shared by every native kernel (`native/` at the repository root). */
export const NATIVE_DIR = resolve(import.meta.dir, "../../native");

/** Helper sources linked into every kernel, and the files whose contents key the cache besides the kernel's own. */
const NATIVE_HELPER_SOURCES = ["sup_value.c"];
const NATIVE_KEY_FILES = ["sup_kernel.h", "sup_value.h", "sup_value.c"];

/** System compiler flags; part of the cache key, so changing them rebuilds every kernel. */
const SYSTEM_CC_FLAGS = ["-O2", "-shared", "-fPIC"];
const SYSTEM_CC_LIBS = ["-lm"];
/** Compilers tried in order when SUP_CC does not name one. */
const SYSTEM_CC_CANDIDATES = ["cc", "gcc", "clang"];
/** Hex digits of the content hash kept in a cache directory name: 64 bits, ample for one user's kernels. */
const CACHE_HASH_HEX_DIGITS = 16;
/** Bumped when the build recipe changes in a way the other key parts would not show. */
const BUILD_RECIPE_VERSION = "sup-native-build-1";

/** Which compiler builds C sources: the system one when found, or Bun's TinyCC. */
export type CompilerChoice = "auto" | "system" | "tinycc";

/** Options for building; the defaults come from the environment (SUP_CC, SUP_HOME). */
export interface NativeBuildOptions {
  /** "auto" (default, or SUP_CC=tinycc to force TinyCC) tries the system compiler first. */
  readonly compiler?: CompilerChoice;
  /** Cache root (default `${SUP_HOME:-$HOME/.sup}/cache`). */
  readonly cacheDir?: string;
}

/** A kernel's code, opened: entry points bound, ready for kernel_init. */
export interface KernelLibrary {
  /** `int32_t kernel_init(const sup_api *api)`. */
  readonly kernelInit: (api: Pointer) => number;
  /** `void kernel_shutdown(const sup_api *api)`, or null when the kernel does not export it. */
  readonly kernelShutdown: ((api: Pointer) => void) | null;
  /** Where the code came from: the library path, or `tinycc:<dir>`. */
  readonly origin: string;
  /** Unloads the code; every function pointer taken from it becomes invalid. */
  close(): void;
}

/** A native kernel could not be built or opened; the message carries the compiler's output. */
export class NativeBuildError extends SupError {
  constructor(message: string) {
    super("native-build", message);
  }
}

const ENTRY_SYMBOLS = {
  kernel_init: { args: ["ptr"], returns: "i32" },
  kernel_shutdown: { args: ["ptr"], returns: "void" },
} as const;
const INIT_ONLY = { kernel_init: ENTRY_SYMBOLS.kernel_init } as const;

/** Builds (or finds in the cache) and opens the code of the kernel in `dir`. */
export function openKernelLibrary(dir: string, manifest: Manifest, options: NativeBuildOptions = {}): KernelLibrary {
  const sources = kernelSources(dir);
  if (sources.length === 0) {
    const path = join(dir, manifest.library);
    if (!existsSync(path)) throw new NativeBuildError(`Kernel dylib not found: ${path}`);
    return openSharedLibrary(path);
  }
  const name = kernelNameOf(dir, manifest);
  const compiler = chooseCompiler(options.compiler);
  if (compiler === null) return compileWithTinyCc(name, dir, sources);
  const cacheRoot = options.cacheDir ?? defaultCacheDir();
  return openSharedLibrary(buildSharedLibrary(name, dir, manifest, sources, compiler, cacheRoot));
}

/** The C sources of a kernel directory (`*.c`, not recursive), sorted so builds are reproducible. */
export function kernelSources(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".c") && statSync(join(dir, f)).isFile())
    .sort()
    .map((f) => join(dir, f));
}

/** The default cache root: `${SUP_HOME:-$HOME/.sup}/cache`. */
export function defaultCacheDir(): string {
  const home = process.env.SUP_HOME;
  return join(home !== undefined && home !== "" ? home : join(homedir(), ".sup"), "cache");
}

function kernelNameOf(dir: string, manifest: Manifest): string {
  const raw = manifest.kernelName !== "" ? manifest.kernelName : basename(dir);
  return raw.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** The system compiler's path, or null for TinyCC. */
function chooseCompiler(choice: CompilerChoice | undefined): string | null {
  const env = process.env.SUP_CC;
  const wanted = choice ?? (env === "tinycc" ? "tinycc" : "auto");
  if (wanted === "tinycc") return null;
  if (env !== undefined && env !== "" && env !== "tinycc") {
    const named = Bun.which(env);
    if (named !== null) return named;
    if (wanted === "system") throw new NativeBuildError(`Cannot find the C compiler "${env}" named by SUP_CC`);
  }
  for (const candidate of SYSTEM_CC_CANDIDATES) {
    const found = Bun.which(candidate);
    if (found !== null) return found;
  }
  if (wanted === "system") throw new NativeBuildError(`Cannot find a system C compiler: tried ${SYSTEM_CC_CANDIDATES.join(", ")}`);
  return null;
}

const compilerIds = new Map<string, string>();

/** The compiler's path and `--version` banner, cached per process (one spawn per compiler). */
function compilerIdentity(compiler: string): string {
  let id = compilerIds.get(compiler);
  if (id === undefined) {
    const r = Bun.spawnSync([compiler, "--version"], { stdout: "pipe", stderr: "pipe" });
    id = `${compiler}\n${r.stdout.toString().split("\n")[0] ?? ""}`;
    compilerIds.set(compiler, id);
  }
  return id;
}

/**
 * The cache key: recipe, kernel directory, compiler, flags, kernel sources and headers, manifest,
 * native helpers. The directory is part of it so two kernel directories never share one library
 * file, which would make them share one instance (and its C globals) in a process.
 */
function buildKey(dir: string, manifest: Manifest, sources: readonly string[], compiler: string): string {
  const h = new Bun.CryptoHasher("sha256");
  const part = (label: string, data: string | Uint8Array) => {
    h.update(`${label}\0${data.length}\0`);
    h.update(data);
  };
  part("recipe", BUILD_RECIPE_VERSION);
  part("dir", resolve(dir));
  part("compiler", compilerIdentity(compiler));
  part("flags", [...SYSTEM_CC_FLAGS, ...SYSTEM_CC_LIBS].join(" "));
  const headers = readdirSync(dir).filter((f) => f.endsWith(".h")).sort();
  for (const f of [...sources.map((s) => basename(s)), ...headers]) part(`kernel/${f}`, readFileSync(join(dir, f)));
  const manifestPath = join(dir, "kernel.sxs");
  part("manifest", existsSync(manifestPath) ? readFileSync(manifestPath) : JSON.stringify({ library: manifest.library, functions: manifest.functions }));
  for (const f of NATIVE_KEY_FILES) part(`native/${f}`, readFileSync(join(NATIVE_DIR, f)));
  return h.digest("hex").slice(0, CACHE_HASH_HEX_DIGITS);
}

/** Compiles into the cache unless the library is already there; returns its path. */
function buildSharedLibrary(name: string, dir: string, manifest: Manifest, sources: readonly string[], compiler: string, cacheRoot: string): string {
  const outDir = join(cacheRoot, "kernels", `${name}-${buildKey(dir, manifest, sources, compiler)}`);
  const libName = basename(manifest.library) || `libkernel_${name}.so`;
  const target = join(outDir, libName);
  if (existsSync(target)) return target;
  mkdirSync(outDir, { recursive: true });
  const temp = join(outDir, `.${libName}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const helpers = NATIVE_HELPER_SOURCES.map((f) => join(NATIVE_DIR, f));
  const argv = [compiler, ...SYSTEM_CC_FLAGS, "-I", NATIVE_DIR, "-I", dir, ...sources, ...helpers, "-o", temp, ...SYSTEM_CC_LIBS];
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) {
    rmSync(temp, { force: true });
    const output = (r.stderr.toString() + r.stdout.toString()).trim();
    throw new NativeBuildError(`Cannot build kernel "${name}": ${basename(compiler)} exited with status ${r.exitCode}:\n${output}`);
  }
  renameSync(temp, target);
  return target;
}

function openSharedLibrary(path: string): KernelLibrary {
  let lib: { symbols: { kernel_init: (api: Pointer) => number; kernel_shutdown?: (api: Pointer) => void }; close(): void };
  try {
    lib = dlopen(path, ENTRY_SYMBOLS);
  } catch (withShutdown) {
    const why = String(withShutdown);
    if (!why.includes('"kernel_shutdown"')) throw openError(path, why);
    try {
      lib = dlopen(path, INIT_ONLY);
    } catch (initOnly) {
      throw openError(path, String(initOnly));
    }
  }
  const { kernel_init, kernel_shutdown } = lib.symbols;
  return { kernelInit: (api) => kernel_init(api), kernelShutdown: kernel_shutdown ?? null, origin: path, close: () => lib.close() };
}

function openError(path: string, why: string): NativeBuildError {
  if (why.includes('"kernel_init"')) return new NativeBuildError(`Failed to find kernel_init in dylib: ${path}`);
  return new NativeBuildError(`Failed to load kernel dylib: ${why}`);
}

/** Compiles the kernel in memory with Bun's TinyCC (no cache: it takes milliseconds). */
function compileWithTinyCc(name: string, dir: string, sources: readonly string[]): KernelLibrary {
  // Bun's cc() accepts several sources (each its own translation unit, as with the system compiler).
  const source = [...sources, ...NATIVE_HELPER_SOURCES.map((f) => join(NATIVE_DIR, f))] as unknown as string;
  const base = { source, include: [NATIVE_DIR, dir] };
  let lib: { symbols: { kernel_init: (api: Pointer) => number; kernel_shutdown?: (api: Pointer) => void }; close(): void };
  try {
    lib = cc({ ...base, symbols: ENTRY_SYMBOLS });
  } catch (withShutdown) {
    const why = withShutdown instanceof Error ? withShutdown.message : String(withShutdown);
    if (!why.includes('"kernel_shutdown" is missing')) throw tinyCcError(name, why);
    try {
      lib = cc({ ...base, symbols: INIT_ONLY });
    } catch (initOnly) {
      throw tinyCcError(name, initOnly instanceof Error ? initOnly.message : String(initOnly));
    }
  }
  const { kernel_init, kernel_shutdown } = lib.symbols;
  return { kernelInit: (api) => kernel_init(api), kernelShutdown: kernel_shutdown ?? null, origin: `tinycc:${dir}`, close: () => lib.close() };
}

function tinyCcError(name: string, why: string): NativeBuildError {
  if (why.includes('"kernel_init" is missing')) return new NativeBuildError(`Failed to find kernel_init in kernel "${name}" (TinyCC)`);
  return new NativeBuildError(`Cannot build kernel "${name}" with TinyCC:\n${why.trim()}`);
}
