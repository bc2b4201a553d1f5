/**
 * `sup deps [DIR]`: the kernels and modules a project uses, where each resolves from (as
 * `sup project run` would resolve it), and its state: cached, stale, not built, TypeScript,
 * standard, missing… Reads only; builds nothing. Exit 0, or 1 when DIR is not a project.
 */
import { join, relative } from "node:path";
import { directorySize, openProject, PROJECT_CACHE_DIR_NAME, projectDeps, type KernelDep } from "../project/mod.ts";
import { EXIT_OK, UsageError, parse } from "./args.ts";
import { writeOut } from "./output.ts";

export const DEPS_USAGE = "Usage: sup deps [DIR]";

/** Bytes in a kilobyte, for sizes shown to people. */
const KB = 1024;

/** Runs the `deps` subcommand. */
export function depsCommand(argv: string[]): number {
  const { positionals } = parse(argv, {});
  if (positionals.length > 1) throw new UsageError(`Too many arguments: ${positionals.slice(1).join(" ")}\n${DEPS_USAGE}`);
  const project = openProject(positionals[0] ?? ".");
  const root = project.root;
  const deps = projectDeps(root);
  const shown = (p: string) => (p.startsWith(root + "/") ? relative(root, p) : p);
  const out: string[] = [`Project ${project.name} (${root})`, "", "Kernels"];
  out.push(...table(deps.kernels.map((k) => [k.name, k.dir !== null ? shown(k.dir) : "-", kernelState(k)])));
  if (deps.kernels.length === 0) out.push("  (none)");
  out.push("", "Modules");
  out.push(...table(deps.modules.map((m) => [m.symbol, m.file !== null ? shown(m.file) : m.path, m.state === "found" ? "found" : `${m.state} (imported by ${m.importedBy})`])));
  if (deps.modules.length === 0) out.push("  (none)");
  for (const f of deps.unreadable) out.push(`  ${f}: does not parse, its dependencies are not listed (run "sup check ${f}")`);
  const cache = join(root, PROJECT_CACHE_DIR_NAME);
  const size = directorySize(cache);
  out.push("", "Cache", size.files === 0 ? `  ${PROJECT_CACHE_DIR_NAME}: empty` : `  ${PROJECT_CACHE_DIR_NAME}: ${size.files} file${size.files === 1 ? "" : "s"}, ${formatBytes(size.bytes)}`);
  writeOut(out.join("\n") + "\n");
  return EXIT_OK;
}

/** The state column: `cached`, `standard`, `standard, not built`, `not built (unused)`… */
function kernelState(k: KernelDep): string {
  const state = k.state === "tinycc" ? "TinyCC (compiled at load)" : k.state;
  const base = k.standard && k.state !== "standard" ? `standard, ${state}` : state;
  return k.loadedBy.length === 0 ? `${base} (not loaded by any file)` : base;
}

/** Rows as aligned columns, indented by two spaces. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join("")}`);
}

/** A size for people: `512 B`, `25.4 KB`, `3.1 MB`. */
export function formatBytes(n: number): string {
  if (n < KB) return `${n} B`;
  if (n < KB * KB) return `${(n / KB).toFixed(1)} KB`;
  return `${(n / (KB * KB)).toFixed(1)} MB`;
}
