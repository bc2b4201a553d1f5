/**
 * The standard TypeScript kernels' code, by name, for the entry point to register (src/cli/main.ts,
 * src/kernel/builtin-table.ts). Each module is required on first load (kv pulls in SQLite, which a
 * program that never loads kv should not pay for at start-up); the literal paths keep them in a
 * bundled or compiled binary. Every kernel here imports sup only through `sup/kernel`.
 */

/** A standard kernel module's default export, by kernel name. */
export const STANDARD_TS_KERNELS: ReadonlyMap<string, () => unknown> = new Map<string, () => unknown>([
  ["io", () => (require("./io/mod.ts") as { default: unknown }).default],
  ["kv", () => (require("./kv/mod.ts") as { default: unknown }).default],
  ["fs", () => (require("./fs/mod.ts") as { default: unknown }).default],
  ["json", () => (require("./json/mod.ts") as { default: unknown }).default],
  ["code", () => (require("./code/mod.ts") as { default: unknown }).default],
  ["http", () => (require("./http/mod.ts") as { default: unknown }).default],
  ["cluster", () => (require("./cluster/mod.ts") as { default: unknown }).default],
]);
