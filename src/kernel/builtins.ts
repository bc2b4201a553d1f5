/**
 * The TypeScript kernels shipped with sup, imported statically so a compiled binary carries them.
 * Native standard kernels (alu, random, forge) live beside them as C sources.
 */
import { fileURLToPath } from "node:url";
import fs from "../../kernels/fs/mod.ts";
import io from "../../kernels/io/mod.ts";
import kv from "../../kernels/kv/mod.ts";
import type { BuiltinKernelFactory } from "./builtin-kernel.ts";

/** Factories of the built-in TypeScript kernels by name. */
export const BUILTIN_KERNELS: ReadonlyMap<string, BuiltinKernelFactory> = new Map([
  ["io", io],
  ["kv", kv],
  ["fs", fs],
]);

/** Directory holding the standard kernels' manifests and sources. */
export const STANDARD_KERNEL_DIR = fileURLToPath(new URL("../../kernels", import.meta.url));
