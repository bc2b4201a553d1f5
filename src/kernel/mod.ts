/**
 * Kernels: the registry that resolves, loads and unloads capability sets, the built-in TypeScript
 * kernels and the native (C, bun:ffi) binding. Imports lang/ only; never node/ or cli/.
 */
export { KernelRegistry, KernelLoadError, KernelNotLoadedError, type KernelSearchPath, type KernelInfo, type KernelRegistryOptions } from "./registry.ts";
export { BUILTIN_KERNELS, STANDARD_KERNEL_DIR } from "./builtins.ts";
export type { BuiltinKernel, BuiltinKernelFactory } from "./builtin-kernel.ts";
