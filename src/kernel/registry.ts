/**
 * The kernel registry of one runtime: resolves kernel names through the search path, reads
 * manifests, loads TypeScript (built-in or project) and native kernels, and shuts them down.
 * A failed load leaves the registry as it was.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { SupError } from "../errors.ts";
import { parseManifest, type KernelFn, type LoadedKernel, type Manifest, type SourceFile, type TypeCode } from "../lang/mod.ts";
import type { BuiltinKernel, BuiltinKernelFactory } from "./builtin-kernel.ts";

/** A kernel failed to load; the message says why (shown in logs, the program sees `load: failed …`). */
export class KernelLoadError extends SupError {
  constructor(message: string) {
    super("kernel-load", message);
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

/** A kernel instance held by the registry. */
interface Held {
  readonly kernel: LoadedKernel;
  readonly shutdown: () => void;
}

/** Loaded kernels of one runtime. */
export class KernelRegistry {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly search: KernelSearchPath,
    private readonly builtins: ReadonlyMap<string, () => BuiltinKernelFactory>,
  ) {}

  /** The directory a kernel name resolves to (kernels spec §1.1 plus sup's project and home dirs), or null. */
  resolve(name: string): string | null {
    const has = (dir: string) => existsSync(join(dir, "kernel.sxs"));
    if (isAbsolute(name)) return has(name) ? name : null;
    if (name.length === 0 || name.includes("\0")) return null;
    const s = this.search;
    const candidates = [
      ...s.includePaths.map((p) => join(p, name)),
      join(s.workingDir, name),
      join(s.workingDir, "kernels", name),
      ...(s.supHome !== null ? [join(s.supHome, "kernels", name)] : []),
      join(s.builtinDir, name),
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

  /** Loads a kernel under its load name (once; later calls return the same instance). */
  load(name: string): LoadedKernel {
    const have = this.held.get(name);
    if (have !== undefined) return have.kernel;
    const dir = this.resolve(name);
    if (dir === null) throw new KernelLoadError(`Could not resolve kernel: ${name}`);
    const source = readFileSync(join(dir, "kernel.sxs"), "latin1");
    const parsed = parseManifest(source, "strict");
    if (!parsed.ok) throw new KernelLoadError(`Error processing ${join(dir, "kernel.sxs")}: ${parsed.error}`);
    const manifest = parsed.manifest;
    const held = manifest.library.endsWith(".ts") ? this.loadTs(name, dir, manifest) : this.loadNative(dir, manifest);
    this.held.set(name, held);
    return held.kernel;
  }

  private loadTs(name: string, dir: string, manifest: Manifest): Held {
    const builtin = dir === join(this.search.builtinDir, name) ? this.builtins.get(name) : undefined;
    let factory: BuiltinKernelFactory | undefined = builtin?.();
    if (factory === undefined) {
      const file = join(dir, manifest.library);
      if (!existsSync(file) || !statSync(file).isFile()) throw new KernelLoadError(`Kernel dylib not found: ${file}`);
      // Bun's require loads TypeScript synchronously; the load directive is synchronous.
      const mod = require(file) as { default?: unknown };
      if (typeof mod.default !== "function") throw new KernelLoadError(`Kernel module ${file} must export a default factory function`);
      factory = mod.default as BuiltinKernelFactory;
    }
    const instance: BuiltinKernel = factory();
    const functions = new Map<string, KernelFn>(Object.entries(instance.functions));
    for (const f of manifest.functions) {
      if (!functions.has(f.name)) {
        instance.shutdown?.();
        throw new KernelLoadError(`kernel.sxs declares function '${f.name}' but dylib did not register it`);
      }
    }
    const kernel: LoadedKernel = { functions, forms: manifest.forms as ReadonlyMap<string, readonly TypeCode[]> };
    return { kernel, shutdown: () => instance.shutdown?.() };
  }

  private loadNative(dir: string, manifest: Manifest): Held {
    try {
      // Loaded on first use: programs without native kernels never pay for the FFI binding.
      const { loadNativeKernel } = require("./native-kernel.ts") as typeof import("./native-kernel.ts");
      const native = loadNativeKernel(dir, manifest, { workingDir: this.search.workingDir });
      return { kernel: native, shutdown: () => native.unload() };
    } catch (e) {
      if (e instanceof SupError) throw new KernelLoadError(e.message);
      throw e;
    }
  }

  /** Names of the loaded kernels. */
  loaded(): string[] {
    return [...this.held.keys()];
  }

  /** Shuts every kernel down in ascending load-name order (as the original does) and forgets them. */
  shutdown(): void {
    for (const name of [...this.held.keys()].sort()) {
      try {
        this.held.get(name)!.shutdown();
      } finally {
        this.held.delete(name);
      }
    }
  }
}
