/**
 * The Host a program runs against outside a node (`sup run`, `sup check`, the REPL, a Runtime):
 * files from disk, kernels from a registry, output to a sink. Import resolution follows spec §6.1.
 * A session acquires each kernel it loads from the registry and releases it when it ends, so a
 * kernel replaced meanwhile stays alive for it.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { KernelRegistry, STANDARD_KERNEL_DIR } from "../kernel/mod.ts";
import type { Host, LoadedKernel, SourceFile } from "../lang/mod.ts";
import { log } from "../log.ts";

export interface ProgramHostOptions {
  readonly workingDir: string;
  readonly includePaths: readonly string[];
  /** Receives program output (latin1 byte strings). */
  readonly write: (bytes: string) => void;
  /** A registry shared with other hosts (a Runtime's); by default the host makes and owns its own. */
  readonly registry?: KernelRegistry;
}

/** A Host backed by the local filesystem and a kernel registry. */
export class ProgramHost implements Host {
  readonly workingDir: string;
  readonly registry: KernelRegistry;
  readonly write: (bytes: string) => void;
  private readonly includePaths: readonly string[];
  private readonly ownsRegistry: boolean;

  constructor(opts: ProgramHostOptions) {
    this.workingDir = opts.workingDir;
    this.includePaths = opts.includePaths;
    this.write = opts.write;
    this.ownsRegistry = opts.registry === undefined;
    const supHome = process.env.SUP_HOME ?? null;
    this.registry =
      opts.registry ?? new KernelRegistry({ includePaths: opts.includePaths, workingDir: opts.workingDir, supHome, builtinDir: STANDARD_KERNEL_DIR });
  }

  loadKernel(name: string): LoadedKernel {
    return this.registry.acquire(name);
  }

  releaseKernel(name: string, kernel: LoadedKernel): void {
    this.registry.release(name, kernel);
  }

  findManifest(name: string): SourceFile | null {
    return this.registry.findManifest(name);
  }

  readImport(path: string): SourceFile | null {
    const candidates = [...(isAbsolute(path) ? [path] : []), ...this.includePaths.map((p) => join(p, path)), join(this.workingDir, path)];
    for (const c of candidates) {
      try {
        if (existsSync(c) && statSync(c).isFile()) {
          const real = realpathSync(c);
          return { path: real, text: readFileSync(real, "latin1") };
        }
      } catch {
        // Unreadable candidates are skipped, as a missing one would be.
      }
    }
    return null;
  }

  log(level: "debug" | "info" | "warn" | "error", message: string): void {
    log(level, message);
  }

  /** Shuts down every loaded kernel when the registry is this host's own (a shared one belongs to its Runtime). */
  close(): void {
    if (this.ownsRegistry) this.registry.shutdown();
  }
}
