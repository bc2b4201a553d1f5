/**
 * Conformance: every `test/conformance/**\/NAME.sxs` runs through the real CLI (`bin/sup run`) in a
 * fresh temp directory and must print exactly `NAME.expected` on stdout. Header comment lines at
 * the top of a program set expectations: `; exit: N` (default 0), `; args: …` (extra CLI
 * arguments), `; stderr: text` (a substring stderr must contain; repeatable). The whole suite runs
 * once per execution tier (SUP_TIER=closure, SUP_TIER=js): both must behave identically.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Glob } from "bun";
import { conformanceHeader } from "./support/conformance-header.ts";

const ROOT = join(import.meta.dir, "..");
const SUP = join(ROOT, "bin", "sup");
const DIR = join(import.meta.dir, "conformance");

const files = [...new Glob("**/*.sxs").scanSync(DIR)].sort();

const TIERS = ["closure", "js"] as const;

for (const tier of TIERS) describe(`conformance (SUP_TIER=${tier})`, () => {
  for (const rel of files) {
    const path = join(DIR, rel);
    const expectedPath = path.replace(/\.sxs$/, ".expected");
    if (!existsSync(expectedPath)) continue; // helper modules imported by other programs
    test(relative(DIR, path), () => {
      const src = readFileSync(path, "latin1");
      const want = conformanceHeader(src);
      const work = mkdtempSync(join(tmpdir(), "sup-conf-"));
      try {
        const r = Bun.spawnSync([SUP, "run", path, "-w", work, "-i", join(DIR, rel, ".."), ...want.args], {
          cwd: work,
          env: { ...process.env, SUP_LOG: "warn", SUP_TIER: tier },
          stdout: "pipe",
          stderr: "pipe",
        });
        const stdout = r.stdout.toString("latin1");
        const stderr = r.stderr.toString();
        const expected = readFileSync(expectedPath, "latin1");
        if (stdout !== expected || r.exitCode !== want.exit) console.error(`--- ${rel} (${tier}) stderr:\n${stderr}`);
        expect(stdout).toBe(expected);
        expect(r.exitCode).toBe(want.exit);
        for (const s of want.stderr) expect(stderr).toContain(s);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  }
});
