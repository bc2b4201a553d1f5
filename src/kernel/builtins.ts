/**
 * The TypeScript kernels shipped with sup. Each is required on first load (kv pulls in SQLite, which
 * a program that never loads kv should not pay for at start-up); the literal paths keep them in a
 * bundled or compiled binary. Native standard kernels (alu, random, forge) live beside them as C.
 */
import { resolve } from "node:path";
import type { BuiltinKernelFactory } from "./builtin-kernel.ts";
import { embeddedPath } from "./embedded.ts";

type Loader = () => BuiltinKernelFactory;

/** Loaders of the built-in TypeScript kernels' factories, by name. */
export const BUILTIN_KERNELS: ReadonlyMap<string, Loader> = new Map<string, Loader>([
  ["io", () => (require("../../kernels/io/mod.ts") as { default: BuiltinKernelFactory }).default],
  ["kv", () => (require("../../kernels/kv/mod.ts") as { default: BuiltinKernelFactory }).default],
  ["fs", () => (require("../../kernels/fs/mod.ts") as { default: BuiltinKernelFactory }).default],
  ["json", () => (require("../../kernels/json/mod.ts") as { default: BuiltinKernelFactory }).default],
  ["code", () => (require("../../kernels/code/mod.ts") as { default: BuiltinKernelFactory }).default],
  ["http", () => (require("../../kernels/http/mod.ts") as { default: BuiltinKernelFactory }).default],
]);

/**
 * Directory holding the standard kernels' manifests and sources: the checkout's `kernels/`, or in a
 * compiled binary the copy embedded in it (read in place; see embedded.ts). Not node:url: loading
 * it costs more than a whole `sup run` of an empty program.
 */
export const STANDARD_KERNEL_DIR = embeddedPath("kernels") ?? resolve(import.meta.dir, "../../kernels");
