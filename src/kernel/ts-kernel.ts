/**
 * Loading a TypeScript kernel: its module's default export, a KernelDefinition, comes from the code
 * the entry point registered for a standard kernel, or else from the module file its manifest names.
 * A module file is imported with `sup/kernel` resolved to this runtime's own API module (a Bun plugin
 * installed on the first such load), so a kernel loaded from disk shares the runtime's values.
 *
 * Invariants: no kernel runs on a second copy of the runtime — a module that pulls in files of a sup
 * source tree other than the one running (a checkout's `src/lang/value.ts`) is refused, its modules
 * dropped again; a kernel built for another kernel API version is refused before its factory runs.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { SupError } from "../errors.ts";
import type { KernelFn, LoadedKernel, Manifest, TypeCode } from "../lang/mod.ts";
import { KERNEL_API_VERSION, type KernelDefinition, type KernelInstance } from "./api/definition.ts";
import { EMBEDDED_ROOT } from "./embedded.ts";

/** The specifier kernels import the API by. */
export const KERNEL_API_SPECIFIER = "sup/kernel";

/** A TypeScript kernel could not be loaded; the message is the reason (callers name the kernel). */
export class TsKernelError extends SupError {
  constructor(message: string) {
    super("ts-kernel", message);
  }
}

/** A TypeScript kernel as loaded: its functions for the runtime, where its code came from, how to shut it down. */
export interface LoadedTsKernel {
  readonly kernel: LoadedKernel;
  /** `builtin:<name>` for registered code, else the module file. */
  readonly origin: string;
  readonly shutdown: () => void;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

let pluginInstalled = false;

/**
 * Makes `sup/kernel` resolve to this runtime's API module for every module imported from now on.
 * Done on the first load of a module file, not at start-up: a run that loads only built-in kernels
 * never pays for it. A virtual module takes precedence over a tsconfig.json `paths` entry that a
 * kernel's folder (a sup checkout) might map `sup/kernel` with.
 */
function installApiPlugin(): void {
  if (pluginInstalled) return;
  // Required here, not imported: the API pulls in the codec and printer, which a run may not need.
  const api = require("./api/mod.ts") as Record<string, unknown>;
  Bun.plugin({
    name: "sup-kernel-api",
    setup(build) {
      build.module(KERNEL_API_SPECIFIER, () => ({ exports: api, loader: "object" }));
    },
  });
  pluginInstalled = true;
}

/** The sup checkout this process runs from, or null in a compiled binary (its code is embedded). */
const OWN_SOURCE_ROOT: string | null = EMBEDDED_ROOT !== null ? null : resolve(import.meta.dir, "../..");

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * The root of the sup source tree `file` belongs to (a folder with `src/lang/value.ts` and
 * `src/cli/main.ts`) when that tree is not the running one, else null.
 */
function foreignRuntimeRoot(file: string): string | null {
  const at = file.lastIndexOf(`${sep}src${sep}`);
  if (at < 0) return null;
  const root = file.slice(0, at);
  if (!existsSync(join(root, "src", "lang", "value.ts")) || !existsSync(join(root, "src", "cli", "main.ts"))) return null;
  if (OWN_SOURCE_ROOT !== null && realOrSelf(root) === realOrSelf(OWN_SOURCE_ROOT)) return null;
  return root;
}

/** Imports a kernel module file afresh (a reload sees the edited file; its own imports stay cached). */
function importModule(file: string): unknown {
  installApiPlugin();
  delete require.cache[file];
  const before = new Set(Object.keys(require.cache));
  let mod: { default?: unknown };
  try {
    // Bun's require loads TypeScript synchronously; the load directive is synchronous.
    mod = require(file) as { default?: unknown };
  } catch (e) {
    const text = errorText(e);
    // A name this runtime's API lacks fails the import before any of the kernel's code runs.
    const hint = text.includes(`'${KERNEL_API_SPECIFIER}'`) ? ` (this sup provides kernel API ${KERNEL_API_VERSION}; was the kernel written for another version?)` : "";
    throw new TsKernelError(`Cannot import kernel module ${file}: ${text}${hint}`);
  } finally {
    // Checked even when the import failed: a second runtime's modules must not stay cached.
    refuseSecondRuntime(file, before);
  }
  return mod.default;
}

/** Throws (after dropping every module the import added) when it loaded a sup source tree's files. */
function refuseSecondRuntime(file: string, before: ReadonlySet<string>): void {
  const added = Object.keys(require.cache).filter((k) => !before.has(k));
  for (const k of added) {
    const root = foreignRuntimeRoot(k);
    if (root === null) continue;
    for (const a of added) delete require.cache[a];
    throw new TsKernelError(
      `Cannot use kernel module ${file}: it imports ${k}, a second copy of sup whose values are not this runtime's: import the kernel API from "${KERNEL_API_SPECIFIER}" instead (docs/kernels.md)`,
    );
  }
}

/** Checks a module's default export is a KernelDefinition for this runtime's kernel API version. */
function definitionOf(exported: unknown, where: string): KernelDefinition {
  const d = exported as Partial<KernelDefinition> | null;
  if (typeof d !== "object" || d === null || typeof d.create !== "function") {
    throw new TsKernelError(`${where} must default-export a kernel definition { apiVersion, create } (kernel API ${KERNEL_API_VERSION}, docs/kernels.md)`);
  }
  if (typeof d.apiVersion !== "number" || !Number.isInteger(d.apiVersion)) {
    throw new TsKernelError(`${where} declares no kernel API version (apiVersion); this sup provides kernel API ${KERNEL_API_VERSION}`);
  }
  if (d.apiVersion !== KERNEL_API_VERSION) {
    throw new TsKernelError(`${where} was built for kernel API ${d.apiVersion}, but this sup provides kernel API ${KERNEL_API_VERSION}`);
  }
  return d as KernelDefinition;
}

/**
 * Loads the TypeScript kernel `name` from `dir`: `code` is the registered code of a standard kernel
 * (or undefined: the manifest's module file is imported). Checks the definition, makes an instance
 * and checks that it registered every function the manifest declares.
 */
export function loadTsKernel(name: string, dir: string, manifest: Manifest, code: (() => unknown) | undefined): LoadedTsKernel {
  let exported: unknown;
  let origin: string;
  if (code !== undefined) {
    origin = `builtin:${name}`;
    exported = code();
  } else {
    origin = join(dir, manifest.library);
    if (!existsSync(origin) || !statSync(origin).isFile()) throw new TsKernelError(`Kernel dylib not found: ${origin}`);
    exported = importModule(origin);
  }
  const definition = definitionOf(exported, code !== undefined ? `the built-in kernel "${name}"` : `Kernel module ${origin}`);
  let instance: KernelInstance;
  try {
    instance = definition.create();
  } catch (e) {
    throw new TsKernelError(`Kernel factory of ${origin} failed: ${errorText(e)}`);
  }
  const functions = new Map<string, KernelFn>(Object.entries(instance.functions));
  for (const f of manifest.functions) {
    if (!functions.has(f.name)) {
      instance.shutdown?.();
      throw new TsKernelError(`kernel.sxs declares function '${f.name}' but dylib did not register it`);
    }
  }
  const kernel: LoadedKernel = { functions, forms: manifest.forms as ReadonlyMap<string, readonly TypeCode[]> };
  return { kernel, origin, shutdown: () => instance.shutdown?.() };
}
