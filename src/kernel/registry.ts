/**
 * The kernel registry of one runtime: resolves kernel names through the search path, reads
 * manifests, loads TypeScript (built-in or project) and native kernels, and keeps them as versions.
 *
 * Every load of a name makes a KernelVersion. Sessions acquire the current version and release it
 * when they end; `replace` loads a new version from disk and makes it current only once it fully
 * loaded, and `unload` takes the name out of the runtime. A version that is no longer current
 * (retired) stays alive while any session holds it and is shut down with its last release, so a
 * program that started on a version finishes on it and no library is closed under a running
 * session. Any failed load, replace or unload leaves the registry as it was.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { SupError } from "../errors.ts";
import { parseManifest, type LoadedKernel, type Manifest, type SourceFile } from "../lang/mod.ts";
import { log } from "../log.ts";
import { builtinKernelCode } from "./builtin-table.ts";
import type { NativeBuildOptions } from "./native-build.ts";
import { loadTsKernel } from "./ts-kernel.ts";

/** A kernel failed to load or reload; the message says why (the program sees `load: failed …`). */
export class KernelLoadError extends SupError {
  constructor(message: string) {
    super("kernel-load", message);
  }
}

/** A kernel name was used that this runtime has not loaded (unload, reload, or acquire without autoload). */
export class KernelNotLoadedError extends SupError {
  constructor(message: string) {
    super("kernel-not-loaded", message);
  }
}

/** Where kernels are looked for, in order (after an absolute path). */
export interface KernelSearchPath {
  /** `-i` directories, in order. */
  readonly includePaths: readonly string[];
  /** The program's working directory: `<wd>/N` and the project's `<wd>/kernels/N`. */
  readonly workingDir: string;
  /** `$SUP_HOME`, whose `kernels/` holds user-installed kernels; null when unset. */
  readonly supHome: string | null;
  /** Directory of the standard kernels shipped with sup. */
  readonly builtinDir: string;
}

/** How a registry behaves beyond its search path. */
export interface KernelRegistryOptions {
  /**
   * Whether a program's `#(load "x")` loads a kernel the runtime does not have (default true, as
   * `sup run` needs). A node turns it off so only explicitly loaded kernels are capabilities.
   */
  readonly autoload?: boolean;
  /** Compiler and cache for native kernels (default: from the environment). */
  readonly nativeBuild?: NativeBuildOptions;
}

/** What `list()` reports about one version (the REPL's `:kernels`). */
export interface KernelInfo {
  readonly name: string;
  /** 1 for the first load of the name in this registry, then one more per successful load. */
  readonly version: number;
  readonly kind: "typescript" | "native";
  /** The kernel directory. */
  readonly dir: string;
  /** True for a standard kernel shipped with this sup (its directory is the standard kernels' one). */
  readonly builtin: boolean;
  /** True when a directory on the search path has a standard kernel's name and was loaded instead of it. */
  readonly shadowsBuiltin: boolean;
  /** Where the code came from: `builtin:<name>`, a module path, a library path or `tinycc:<dir>`. */
  readonly origin: string;
  /** Sessions holding this version. */
  readonly refs: number;
  /** Retired versions are no longer current and live only until their last session releases them. */
  readonly state: "current" | "retired";
  /** When the version was loaded (ms since the epoch). */
  readonly loadedAt: number;
}

/** One load of a kernel name: its code, who holds it, and how to shut it down. */
class KernelVersion {
  refs = 0;
  retired = false;
  readonly loadedAt = Date.now();

  constructor(
    readonly name: string,
    readonly version: number,
    readonly dir: string,
    readonly place: Place,
    readonly kind: KernelInfo["kind"],
    readonly origin: string,
    readonly kernel: LoadedKernel,
    readonly shutdown: () => void,
  ) {}

  info(): KernelInfo {
    const { name, version, kind, dir, origin, refs, loadedAt } = this;
    const { builtin, shadowsBuiltin } = this.place;
    return { name, version, kind, dir, builtin, shadowsBuiltin, origin, refs, state: this.retired ? "retired" : "current", loadedAt };
  }
}

/** Where a resolved kernel directory stands with respect to the standard kernels. */
type Place = Pick<KernelInfo, "builtin" | "shadowsBuiltin">;

/** Code as loaded, before it becomes a version. */
type Loaded = Pick<KernelVersion, "kind" | "origin" | "kernel" | "shutdown">;

/** True when two paths name the same directory (symbolic links resolved). */
function sameDir(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));
/** Ascending load name, then version: the original's shutdown order, and `:kernels`'. */
const byNameThenVersion = (a: KernelVersion, b: KernelVersion): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version - b.version);

/** Loaded kernels of one runtime, by load name, with their versions and reference counts. */
export class KernelRegistry {
  private readonly current = new Map<string, KernelVersion>();
  /** Retired versions still held by a session. */
  private readonly retired = new Set<KernelVersion>();
  /** Every version not yet shut down, by the kernel it handed out (release finds it here). */
  private readonly versions = new Map<LoadedKernel, KernelVersion>();
  /** Kernels shut down by `shutdown()` while still held: their late releases are expected. */
  private readonly forced = new WeakSet<LoadedKernel>();
  private readonly lastVersion = new Map<string, number>();
  private readonly autoload: boolean;

  constructor(
    private readonly search: KernelSearchPath,
    private readonly options: KernelRegistryOptions = {},
  ) {
    this.autoload = options.autoload ?? true;
  }

  /**
   * The directory a kernel name resolves to, or null: kernels spec §1.1's order (`-i` paths, then the
   * standard kernels, then the working directory), with sup's `$SUP_HOME/kernels` beside the standard
   * ones and `<wd>/kernels` after `<wd>`. Only an explicit include path can take a built-in's name.
   */
  resolve(name: string): string | null {
    const has = (dir: string) => existsSync(join(dir, "kernel.sxs"));
    if (isAbsolute(name)) return has(name) ? name : null;
    if (name.length === 0 || name.includes("\0")) return null;
    const s = this.search;
    const candidates = [
      ...s.includePaths.map((p) => join(p, name)),
      join(s.builtinDir, name),
      ...(s.supHome !== null ? [join(s.supHome, "kernels", name)] : []),
      join(s.workingDir, name),
      join(s.workingDir, "kernels", name),
    ];
    for (const c of candidates) if (has(c)) return c;
    return null;
  }

  /** Reads a kernel's manifest without loading code (for the checker). */
  findManifest(name: string): SourceFile | null {
    const dir = this.resolve(name);
    if (dir === null) return null;
    const path = join(dir, "kernel.sxs");
    try {
      return { path, text: readFileSync(path, "latin1") };
    } catch {
      return null;
    }
  }

  /** Makes `name` loaded (from disk, unless it already is) without taking a reference; returns its kernel. */
  load(name: string): LoadedKernel {
    return (this.current.get(name) ?? this.install(name)).kernel;
  }

  /** Takes a reference to the current version of `name` (loading it when autoload allows); pair with release. */
  acquire(name: string): LoadedKernel {
    let v = this.current.get(name);
    if (v === undefined) {
      if (!this.autoload) throw new KernelNotLoadedError(`Kernel "${name}" is not loaded in this runtime`);
      v = this.install(name);
    }
    v.refs++;
    return v.kernel;
  }

  /** Drops a reference taken by acquire; the last release of a retired version shuts it down. */
  release(name: string, kernel: LoadedKernel): void {
    const v = this.versions.get(kernel);
    if (v === undefined) {
      if (this.forced.has(kernel)) return;
      throw new Error(`bug: release of kernel "${name}" that this registry does not hold`);
    }
    if (v.name !== name || v.refs <= 0) throw new Error(`bug: unbalanced release of kernel "${name}" version ${v.version}`);
    v.refs--;
    if (v.retired && v.refs === 0) this.stop(v);
  }

  /**
   * Loads a new version of a loaded kernel from disk (manifest re-read, native code rebuilt when its
   * sources changed) and makes it current; the old version is retired. On failure nothing changes.
   */
  replace(name: string): KernelInfo {
    const old = this.current.get(name);
    if (old === undefined) throw new KernelNotLoadedError(`Cannot reload kernel "${name}": it is not loaded`);
    let next: KernelVersion;
    try {
      next = this.loadVersion(name);
    } catch (e) {
      if (e instanceof SupError) throw new KernelLoadError(`Cannot reload kernel "${name}": ${e.message}`);
      throw e;
    }
    this.makeCurrent(next);
    this.retire(old);
    return next.info();
  }

  /**
   * Takes `name` out of the runtime: its version is retired (sessions holding it finish on it), and a
   * later load or acquire reads it from disk again.
   */
  unload(name: string): void {
    const v = this.current.get(name);
    if (v === undefined) throw new KernelNotLoadedError(`Cannot unload kernel "${name}": it is not loaded`);
    this.current.delete(name);
    this.retire(v);
  }

  /** The current version of `name`, or null. */
  info(name: string): KernelInfo | null {
    return this.current.get(name)?.info() ?? null;
  }

  /** Every live version, current and retired, by name then version. */
  list(): KernelInfo[] {
    return [...this.current.values(), ...this.retired].sort(byNameThenVersion).map((v) => v.info());
  }

  /** Names of the loaded (current) kernels. */
  loaded(): string[] {
    return [...this.current.keys()];
  }

  /**
   * Shuts every version down in ascending load-name order (as the original does), held or not, and
   * forgets them: for the end of the runtime. Every version is shut down even if one throws.
   */
  shutdown(): void {
    const all = [...this.current.values(), ...this.retired].sort(byNameThenVersion);
    this.current.clear();
    this.retired.clear();
    let failure: unknown = null;
    for (const v of all) {
      if (v.refs > 0) this.forced.add(v.kernel);
      try {
        this.stop(v);
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== null) throw failure;
  }

  /** Loads `name` from disk and makes it current (nothing was current). */
  private install(name: string): KernelVersion {
    return this.makeCurrent(this.loadVersion(name));
  }

  private makeCurrent(v: KernelVersion): KernelVersion {
    this.current.set(v.name, v);
    this.versions.set(v.kernel, v);
    return v;
  }

  private retire(v: KernelVersion): void {
    v.retired = true;
    if (v.refs === 0) this.stop(v);
    else this.retired.add(v);
  }

  private stop(v: KernelVersion): void {
    this.versions.delete(v.kernel);
    this.retired.delete(v);
    v.shutdown();
  }

  /** Loads `name` from disk as a new version (not yet registered); throws a SupError saying why. */
  private loadVersion(name: string): KernelVersion {
    const dir = this.resolve(name);
    if (dir === null) throw new KernelLoadError(`Could not resolve kernel: ${name}`);
    const manifestPath = join(dir, "kernel.sxs");
    let source: string;
    try {
      source = readFileSync(manifestPath, "latin1");
    } catch (e) {
      throw new KernelLoadError(`Cannot read ${manifestPath}: ${errorText(e)}`);
    }
    const parsed = parseManifest(source, "strict");
    if (!parsed.ok) throw new KernelLoadError(`Error processing ${manifestPath}: ${parsed.error}`);
    const manifest = parsed.manifest;
    const place = this.placeOf(name, dir);
    let loaded: Loaded;
    try {
      loaded = manifest.library.endsWith(".ts") ? this.loadTs(name, dir, manifest, place) : this.loadNative(dir, manifest);
    } catch (e) {
      if (e instanceof SupError && !(e instanceof KernelLoadError)) throw new KernelLoadError(e.message);
      throw e;
    }
    const version = (this.lastVersion.get(name) ?? 0) + 1;
    this.lastVersion.set(name, version);
    const v = new KernelVersion(name, version, dir, place, loaded.kind, loaded.origin, loaded.kernel, loaded.shutdown);
    log("debug", "kernel loaded", { name, version, kind: loaded.kind, from: place.builtin ? "built in" : dir, origin: loaded.origin });
    if (place.shadowsBuiltin) log("warn", `Loading kernel "${name}" from ${dir} instead of the built-in: its include path comes before the built-ins`);
    return v;
  }

  /** Whether `dir` (what `name` resolved to) is the standard kernel, or a directory taking its name. */
  private placeOf(name: string, dir: string): Place {
    if (isAbsolute(name)) return { builtin: false, shadowsBuiltin: false };
    const standard = join(this.search.builtinDir, name);
    if (sameDir(dir, standard)) return { builtin: true, shadowsBuiltin: false };
    return { builtin: false, shadowsBuiltin: existsSync(join(standard, "kernel.sxs")) };
  }

  private loadTs(name: string, dir: string, manifest: Manifest, place: Place): Loaded {
    const t = loadTsKernel(name, dir, manifest, place.builtin ? builtinKernelCode(name) : undefined);
    return { kind: "typescript", origin: t.origin, kernel: t.kernel, shutdown: t.shutdown };
  }

  private loadNative(dir: string, manifest: Manifest): Loaded {
    // Loaded on first use: programs without native kernels never pay for the FFI binding.
    const { loadNativeKernel } = require("./native-kernel.ts") as typeof import("./native-kernel.ts");
    const native = loadNativeKernel(dir, manifest, { workingDir: this.search.workingDir }, this.options.nativeBuild);
    return { kind: "native", origin: native.origin, kernel: native, shutdown: () => native.unload() };
  }
}
