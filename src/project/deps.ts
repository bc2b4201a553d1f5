/**
 * A project's dependencies: the kernels and modules `init.sxs` uses (and, recursively, the modules
 * it imports), each resolved the way `sup project run` would resolve it, with its build state.
 * Reads files and the build cache only; never builds or runs anything.
 */
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { KernelRegistry, STANDARD_KERNEL_DIR } from "../kernel/mod.ts";
import { kernelCacheState, type CacheState } from "../kernel/native-build.ts";
import { parseManifest } from "../lang/manifest.ts";
import { read } from "../lang/reader.ts";
import { List, Str, Sym, T_DATUM, T_PAREN, Wrap, type Value } from "../lang/value.ts";
import { projectKernels } from "./build.ts";
import { PROJECT_ENTRY_FILE, projectIncludePaths } from "./project-dir.ts";

/** A kernel's state as `sup deps` shows it. */
export type KernelState = CacheState | "standard" | "TypeScript" | "missing" | "bad manifest";

/** One kernel a project uses or holds. */
export interface KernelDep {
  readonly name: string;
  /** The kernel directory, or null when the name does not resolve. */
  readonly dir: string | null;
  readonly state: KernelState;
  /** True for the kernels shipped with sup. */
  readonly standard: boolean;
  /** The library a run would load, when there is one on disk. */
  readonly library: string | null;
  /** Files (relative to the project) whose `#(load …)` names it; empty for an unused project kernel. */
  readonly loadedBy: readonly string[];
}

/** One `#(import sym "path")`. */
export interface ModuleDep {
  readonly symbol: string;
  readonly path: string;
  /** The file a run would import, or null when it does not resolve. */
  readonly file: string | null;
  readonly state: "found" | "missing" | "parse error";
  /** The importing file, relative to the project. */
  readonly importedBy: string;
}

/** Everything `sup deps` reports. */
export interface ProjectDeps {
  readonly kernels: readonly KernelDep[];
  readonly modules: readonly ModuleDep[];
  /** Files that do not parse (the entry point or a module): their dependencies are unknown. */
  readonly unreadable: readonly string[];
}

/** Collects and resolves the dependencies of the project at `root`. */
export function projectDeps(root: string): ProjectDeps {
  const loads = new Map<string, string[]>();
  const modules: ModuleDep[] = [];
  const unreadable: string[] = [];
  const seen = new Set<string>();
  const queue = [join(root, PROJECT_ENTRY_FILE)];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const real = realpathSync(file);
    if (seen.has(real)) continue;
    seen.add(real);
    const shown = relative(root, file) || file;
    const parsed = read(readFileSync(file, "latin1"));
    if (parsed.value === null) {
      unreadable.push(shown);
      continue;
    }
    for (const d of directives(parsed.value)) {
      if (d.kind === "load") {
        const by = loads.get(d.name) ?? [];
        if (!by.includes(shown)) by.push(shown);
        loads.set(d.name, by);
        continue;
      }
      const target = resolveImport(root, d.path);
      const readable = target !== null && read(readFileSync(target, "latin1")).value !== null;
      modules.push({ symbol: d.symbol, path: d.path, file: target, state: target === null ? "missing" : readable ? "found" : "parse error", importedBy: shown });
      if (target !== null) queue.push(target);
    }
  }
  const registry = new KernelRegistry({ includePaths: projectIncludePaths(root), workingDir: root, supHome: process.env.SUP_HOME ?? null, builtinDir: STANDARD_KERNEL_DIR });
  const kernels = [...loads.entries()].map(([name, by]) => describeKernel(name, registry.resolve(name), by));
  // Project kernels that nothing loads are listed too: they are built by `project build` all the same.
  for (const k of projectKernels(root)) {
    if (!loads.has(k.name)) kernels.push(describeKernel(k.name, k.dir, []));
  }
  return { kernels, modules, unreadable };
}

type Directive = { kind: "load"; name: string } | { kind: "import"; symbol: string; path: string };

/** The `#(load …)` names and `#(import …)` pairs anywhere in a program, in source order. */
function directives(v: Value): Directive[] {
  const out: Directive[] = [];
  const visit = (x: Value): void => {
    if (x instanceof Wrap) {
      if (x.t === T_DATUM && x.inner instanceof List && x.inner.t === T_PAREN) collect(x.inner.items, out);
      visit(x.inner);
    } else if (x instanceof List) {
      for (const item of x.items) visit(item);
    }
  };
  visit(v);
  return out;
}

function collect(items: readonly Value[], out: Directive[]): void {
  const head = items[0];
  if (!(head instanceof Sym)) return;
  if (head.name === "load") {
    for (const a of items.slice(1)) if (a instanceof Str) out.push({ kind: "load", name: a.s });
  } else if (head.name === "import") {
    for (let i = 1; i + 1 < items.length; i += 2) {
      const s = items[i];
      const p = items[i + 1];
      if (s instanceof Sym && p instanceof Str) out.push({ kind: "import", symbol: s.name, path: p.s });
    }
  }
}

/** Resolves an import as a project run does: an absolute path as is, else relative to the project. */
function resolveImport(root: string, path: string): string | null {
  const candidate = isAbsolute(path) ? path : join(root, path);
  try {
    return existsSync(candidate) && statSync(candidate).isFile() ? realpathSync(candidate) : null;
  } catch {
    return null;
  }
}

function describeKernel(name: string, dir: string | null, loadedBy: readonly string[]): KernelDep {
  if (dir === null) return { name, dir, state: "missing", standard: false, library: null, loadedBy };
  const standard = dir === join(STANDARD_KERNEL_DIR, name);
  const parsed = parseManifest(readFileSync(join(dir, "kernel.sxs"), "latin1"), "strict");
  if (!parsed.ok) return { name, dir, state: "bad manifest", standard, library: null, loadedBy };
  if (parsed.manifest.library.endsWith(".ts")) return { name, dir, state: standard ? "standard" : "TypeScript", standard, library: null, loadedBy };
  const { state, library } = kernelCacheState(dir, parsed.manifest);
  return { name, dir, state, standard, library, loadedBy };
}
