/**
 * The whole tree type checks under the strict tsconfig (Bun runs TypeScript without checking it).
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

test("tsc --noEmit passes on the strict tsconfig", () => {
  const root = join(import.meta.dir, "..");
  const r = Bun.spawnSync([join(root, "node_modules", ".bin", "tsc"), "--noEmit", "-p", root], { stdout: "pipe", stderr: "pipe" });
  const out = r.stdout.toString() + r.stderr.toString();
  if (r.exitCode !== 0) console.error(out);
  expect(r.exitCode).toBe(0);
});
