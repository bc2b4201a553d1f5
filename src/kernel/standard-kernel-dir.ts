/**
 * Where the standard kernels' manifests (and the C kernels' sources) are: the checkout's `kernels/`,
 * or in a compiled binary the copy embedded in it (read in place; see embedded.ts). Their TypeScript
 * code is registered by the entry point (builtin-table.ts). A path, not an import: nothing here loads
 * kernels/.
 */
import { resolve } from "node:path";
import { embeddedPath } from "./embedded.ts";

/** Directory of the standard kernels. Not node:url: loading it costs more than a whole `sup run` of an empty program. */
export const STANDARD_KERNEL_DIR = embeddedPath("kernels") ?? resolve(import.meta.dir, "../../kernels");
