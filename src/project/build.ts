/**
 * Building a project: every native kernel under `<project>/kernels/` is compiled (or found in the
 * project's cache); TypeScript kernels need no build. One kernel's failure does not stop the others,
 * so a single run reports every broken kernel.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SupError } from "../errors.ts";
import { buildKernel, type BuildEvent, type CompilerChoice, type KernelBuildReport } from "../kernel/native-build.ts";
import { parseManifest, type Manifest } from "../lang/manifest.ts";
import { PROJECT_KERNELS_DIR, ProjectError } from "./project-dir.ts";

/** A kernel folder of a project. */
export interface ProjectKernel {
  readonly name: string;
  readonly dir: string;
}

/** What happened to one kernel: built/cached (report), TypeScript (nothing to do), or failed (error). */
export type KernelOutcome =
  | { readonly kind: "native"; readonly kernel: ProjectKernel; readonly report: KernelBuildReport }
  | { readonly kind: "typescript"; readonly kernel: ProjectKernel }
  | { readonly kind: "failed"; readonly kernel: ProjectKernel; readonly error: SupError };

/** Options of a project build. */
export interface ProjectBuildOptions {
  /** Progress of each compile, for the caller to print. */
  readonly onEvent?: (event: BuildEvent) => void;
  readonly compiler?: CompilerChoice;
  /** Where compilers are looked for (default $PATH). */
  readonly searchPath?: string;
}

/** The kernel folders of a project (sub-directories of `kernels/` with a `kernel.sxs`), by name. */
export function projectKernels(root: string): ProjectKernel[] {
  const dir = join(root, PROJECT_KERNELS_DIR);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, dir: join(dir, name) }))
    .filter((k) => existsSync(join(k.dir, "kernel.sxs")));
}

/** Reads a project kernel's manifest; throws ProjectError naming the file on a bad one. */
export function readKernelManifest(kernel: ProjectKernel): Manifest {
  const path = join(kernel.dir, "kernel.sxs");
  const parsed = parseManifest(readFileSync(path, "latin1"), "strict");
  if (!parsed.ok) throw new ProjectError("project-manifest", `Cannot build kernel "${kernel.name}": ${path}: ${parsed.error}`);
  return parsed.manifest;
}

/** Builds every kernel of the project at `root`; the outcomes are in kernel-name order. */
export function buildProject(root: string, options: ProjectBuildOptions = {}): KernelOutcome[] {
  const outcomes: KernelOutcome[] = [];
  for (const kernel of projectKernels(root)) {
    try {
      const manifest = readKernelManifest(kernel);
      if (manifest.library.endsWith(".ts")) {
        outcomes.push({ kind: "typescript", kernel });
        continue;
      }
      const report = buildKernel(kernel.dir, manifest, { onEvent: options.onEvent, compiler: options.compiler, searchPath: options.searchPath, displayRoot: root });
      outcomes.push({ kind: "native", kernel, report });
    } catch (e) {
      if (!(e instanceof SupError)) throw e;
      outcomes.push({ kind: "failed", kernel, error: e });
    }
  }
  return outcomes;
}

/** True when every kernel built. */
export function buildSucceeded(outcomes: readonly KernelOutcome[]): boolean {
  return outcomes.every((o) => o.kind !== "failed");
}
