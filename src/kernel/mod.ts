/**
 * Kernels: the registry that resolves, loads and unloads capability sets, the TypeScript kernel
 * loader and the public kernel API it hands kernels (`sup/kernel`, api/mod.ts), and the native (C,
 * bun:ffi) binding. Imports lang/ and the logger only; never node/, cli/ or the kernels/ folder (the
 * entry point registers the standard TypeScript kernels' code, builtin-table.ts).
 */
export { KernelRegistry, KernelLoadError, KernelNotLoadedError, type KernelSearchPath, type KernelInfo, type KernelRegistryOptions } from "./registry.ts";
export { STANDARD_KERNEL_DIR } from "./standard-kernel-dir.ts";
export { registerBuiltinKernels, type BuiltinKernelCode } from "./builtin-table.ts";
export { KERNEL_API_VERSION, type KernelDefinition, type KernelInstance } from "./api/definition.ts";
export { CLUSTER, CODE_STORE, KV_TABLE, type ClusterExecResult, type ClusterNodeInfo, type ClusterService, type CodeRefusal, type CodeStoreService, type KvStore, type KvTable, type StoreRead } from "./api/services.ts";
export { valueEquals } from "./api/values.ts";
