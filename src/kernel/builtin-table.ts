/**
 * The code of the standard TypeScript kernels, registered by the entry point (cli/main.ts registers
 * kernels/mod.ts's table), so nothing under src/kernel/ imports kernels/. A compiled binary carries
 * only the standard kernels' manifests, not their sources, so their code must come from here; from
 * source, a standard kernel with no registered code is loaded from its module file like any other
 * TypeScript kernel (the same file, resolving `sup/kernel` to the same module). Imports nothing: the
 * entry point loads it at every start.
 */

/** Returns a standard kernel module's default export; the loader checks it is a KernelDefinition. */
export type BuiltinKernelCode = () => unknown;

let registered: ReadonlyMap<string, BuiltinKernelCode> = new Map();

/** Registers the standard TypeScript kernels' code by name (replacing any earlier registration). */
export function registerBuiltinKernels(table: ReadonlyMap<string, BuiltinKernelCode>): void {
  registered = table;
}

/** The registered code of the standard TypeScript kernel `name`, or undefined. */
export function builtinKernelCode(name: string): BuiltinKernelCode | undefined {
  return registered.get(name);
}
