/**
 * The contract between the loader and a built-in (TypeScript) kernel: a folder `kernels/<name>/`
 * whose manifest names the library "mod.ts" and whose `mod.ts` default-exports a factory. Each
 * runtime calls the factory once per loaded kernel, so kernel state (stores, file tables) belongs to
 * that runtime and dies with it.
 */
import type { KernelFn } from "../lang/host.ts";

/** One live instance of a built-in kernel. */
export interface BuiltinKernel {
  readonly functions: Readonly<Record<string, KernelFn>>;
  /** Releases resources (open files, databases) when the runtime unloads the kernel. */
  shutdown?(): void;
}

/** Creates a fresh kernel instance with its own state; the default export of a kernel's `mod.ts`. */
export type BuiltinKernelFactory = () => BuiltinKernel;
