/**
 * What a TypeScript kernel's module hands the runtime: a definition naming the kernel API version it
 * was written against and a factory. The runtime calls `create` once per load, so a kernel's state
 * (stores, file tables) belongs to that load and dies with its `shutdown`.
 */
import type { KernelFn } from "../../lang/host.ts";

/**
 * The version of the kernel API ("sup/kernel") this runtime provides. It changes when an export is
 * removed or changes meaning; a kernel built for another version is refused at load (docs/kernels.md).
 */
export const KERNEL_API_VERSION = 1;

/** One live instance of a TypeScript kernel. */
export interface KernelInstance {
  /** The kernel's functions by bare name (the manifest's `define-function` names). */
  readonly functions: Readonly<Record<string, KernelFn>>;
  /** Releases resources (open files, databases) when the runtime unloads this instance. */
  shutdown?(): void;
}

/** The default export of a TypeScript kernel's module. */
export interface KernelDefinition {
  /** The kernel API version the kernel was written for, as a literal (not KERNEL_API_VERSION). */
  readonly apiVersion: number;
  /** Makes a fresh instance with its own state. */
  create(): KernelInstance;
}
