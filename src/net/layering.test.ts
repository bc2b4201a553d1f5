import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

test("net/ imports only itself, lang/, errors.ts, log.ts, node:/bun built-ins and tweetnacl", () => {
  const allowed = [/^\.\/[\w-]+\.ts$/, /^\.\.\/lang\/[\w-]+\.ts$/, /^\.\.\/errors\.ts$/, /^\.\.\/log\.ts$/, /^node:/, /^bun$/, /^tweetnacl$/];
  const bad: string[] = [];
  for (const f of readdirSync(import.meta.dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    const text = readFileSync(join(import.meta.dir, f), "utf8");
    for (const m of text.matchAll(/^import\s[^;]*?from\s+"([^"]+)"/gm)) if (!allowed.some((a) => a.test(m[1]!))) bad.push(`${f}: ${m[1]}`);
  }
  expect(bad).toEqual([]);
});
