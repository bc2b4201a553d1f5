/**
 * The Host a program runs against outside a node (`sup run`, `sup check`, the REPL): files from
 * disk, kernels from a registry, output to a sink. Import resolution follows spec §6.1.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { KernelRegistry, BUILTIN_KERNELS, STANDARD_KERNEL_DIR } from "../kernel/mod.ts";
import type { Host, LoadedKernel, SourceFile } from "../lang/mod.ts";
import { log } from "../log.ts";

export interface ProgramHostOptions {
  readonly workingDir: string;
  readonly includePaths: readonly string[];
  /** Receives program output (latin1 byte strings). */
  readonly write: (bytes: string) => void;
}

/** A Host backed by the local filesystem and a fresh kernel registry. */
export class ProgramHost implements Host {
  readonly workingDir: string;
  readonly registry: KernelRegistry;
  readonly write: (bytes: string) => void;
  private readonly includePaths: readonly string[];

  constructor(opts: ProgramHostOptions) {
    this.workingDir = opts.workingDir;
    this.includePaths = opts.includePaths;
    this.write = opts.write;
    const supHome = process.env.SUP_HOME ?? null;
    this.registry = new KernelRegistry({ includePaths: opts.includePaths, workingDir: opts.workingDir, supHome, builtinDir: STANDARD_KERNEL_DIR }, BUILTIN_KERNELS);
  }

  loadKernel(name: string): LoadedKernel {
    return this.registry.load(name);
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

  /** Shuts down every loaded kernel. */
  close(): void {
    this.registry.shutdown();
  }
}
