/**
 * Projects through the real CLI: `sup project new|build|run|clean` and `sup deps`, with a temporary
 * SUP_HOME so the user's global cache is never touched.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_NAME_LENGTH_MAX, templateOutput } from "../src/project/mod.ts";

const ROOT = join(import.meta.dir, "..");
const SUP = join(ROOT, "bin", "sup");
const BUN = process.execPath;
const work = mkdtempSync(join(tmpdir(), "sup-project-"));
const supHome = join(work, "sup-home");
/** A PATH with no compilers: the machine "without a system compiler". */
const noCompilers = join(work, "empty-bin");
mkdirSync(noCompilers);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const HAS_CC = ["cc", "gcc", "clang"].some((c) => Bun.which(c) !== null);
const HAS_CXX = ["c++", "g++", "clang++"].some((c) => Bun.which(c) !== null);

function env(extra: Record<string, string> = {}): Record<string, string> {
  const e: Record<string, string> = { ...(process.env as Record<string, string>), SUP_HOME: supHome, ...extra };
  delete e.SUP_CC;
  delete e.SUP_CXX;
  return e;
}

/** Runs `sup ARGS` in the work directory. */
function sup(args: string[], extra: Record<string, string> = {}) {
  const r = Bun.spawnSync([SUP, ...args], { cwd: work, env: env(extra), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** Runs the CLI with Bun directly and a PATH without compilers (bin/sup itself needs bash on PATH). */
function supWithoutCompilers(args: string[]) {
  const r = Bun.spawnSync([BUN, join(ROOT, "src", "cli", "main.ts"), ...args], { cwd: work, env: env({ PATH: noCompilers }), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

/** Library files in a project's cache. */
function cachedLibraries(project: string): string[] {
  const cache = join(project, ".sup-cache");
  if (!existsSync(cache)) return [];
  return readdirSync(cache, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".so"));
}

function newProject(name: string): string {
  const r = sup(["project", "new", name, work]);
  expect(r.code).toBe(0);
  return join(work, name);
}

describe.skipIf(!HAS_CC)("a new project", () => {
  let demo = "";

  test("`project new NAME DIR` creates it, and `project run` works the first time", () => {
    const r = sup(["project", "new", "demo", work]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain(`Created project demo in ${join(work, "demo")}`);
    demo = join(work, "demo");
    for (const f of ["init.sxs", "kernels/demo/kernel.sxs", "kernels/demo/demo.c", "modules/greeting/greeting.sxs", "README.md", ".gitignore"]) {
      expect(existsSync(join(demo, f))).toBe(true);
    }
    const run = sup(["project", "run", demo]);
    expect(run.out).toBe(templateOutput("demo"));
    expect(run.code).toBe(0);
    expect(run.err).toContain("Building kernel demo (1 source)…");
    expect(run.err).toContain("Built kernel demo in ");
    expect(existsSync(join(supHome, "cache"))).toBe(false);
  });

  test("a cached `project run` is quiet: stdout is the program's, stderr is empty", () => {
    expect(sup(["project", "run", demo])).toEqual({ code: 0, out: templateOutput("demo"), err: "" });
  });

  test("`project build` twice: built, then cached", () => {
    sup(["project", "clean", demo]);
    const first = sup(["project", "build", demo]);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^kernel demo: built in (\d+ ms|\d+\.\d+ s) \(\S+\) → \.sup-cache\/kernels\/demo-[0-9a-f]{16}\/libkernel_demo\.so\n$/);
    const second = sup(["project", "build", demo]);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/^kernel demo: cached \(\.sup-cache\/kernels\/demo-[0-9a-f]{16}\/libkernel_demo\.so\)\n$/);
    expect(second.err).toBe("");
  });

  test("editing one kernel's source rebuilds only that kernel", () => {
    const extra = join(demo, "kernels", "extra");
    cpSync(join(demo, "kernels", "demo"), extra, { recursive: true });
    renameSync(join(extra, "demo.c"), join(extra, "extra.c"));
    writeFileSync(join(extra, "kernel.sxs"), readFileSync(join(extra, "kernel.sxs"), "latin1").replace("define-kernel demo", "define-kernel extra"));
    expect(sup(["project", "build", demo]).out).toContain("kernel extra: built");
    const source = join(demo, "kernels", "demo", "demo.c");
    writeFileSync(source, readFileSync(source, "latin1").replace("return x;", "return x; /* edited */"));
    const r = sup(["project", "build", demo]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("kernel demo: built");
    expect(r.out).toContain("kernel extra: cached");
    expect(r.err).toBe("Building kernel demo (1 source)…\n");
  });

  test("`deps` lists the project kernel, the standard kernel and the module with their states", () => {
    const r = sup(["deps", demo]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}demo +kernels\/demo +cached$/m);
    expect(r.out).toMatch(/^ {2}io +\S+\/kernels\/io +standard$/m);
    expect(r.out).toMatch(/^ {2}extra +kernels\/extra +cached \(not loaded by any file\)$/m);
    expect(r.out).toMatch(/^ {2}greeting +modules\/greeting\/greeting\.sxs +found$/m);
    const source = join(demo, "kernels", "demo", "demo.c");
    writeFileSync(source, readFileSync(source, "latin1") + "\n");
    expect(sup(["deps", demo]).out).toMatch(/^ {2}demo +kernels\/demo +stale$/m);
  });

  test("`project clean` removes .sup-cache; then deps says not built", () => {
    const r = sup(["project", "clean", demo]);
    expect(r.code).toBe(0);
    expect(r.out).toStartWith(`Removed ${join(demo, ".sup-cache")} (`);
    expect(existsSync(join(demo, ".sup-cache"))).toBe(false);
    expect(sup(["project", "clean", demo]).out).toBe(`Nothing to clean in ${demo}\n`);
    expect(sup(["deps", demo]).out).toMatch(/^ {2}demo +kernels\/demo +not built$/m);
  });

  test("a compile error shows file:line and `project run` exits 1 without running anything", () => {
    const broken = newProject("broken");
    const source = join(broken, "kernels", "broken", "broken.c");
    const lines = readFileSync(source, "latin1").split("\n");
    const at = lines.findIndex((l) => l.includes("if (x > hi) return hi;"));
    lines[at] = "    if (x > hi) return no_such_name;";
    writeFileSync(source, lines.join("\n"));
    const r = sup(["project", "run", broken]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`kernels/broken/broken.c:${at + 1}:`);
    expect(r.err).toContain('error: Cannot run project "broken": 1 kernel did not build');
    expect(cachedLibraries(broken)).toEqual([]);
    const build = sup(["project", "build", broken]);
    expect(build.code).toBe(1);
    expect(build.out).toBe("kernel broken: failed\n");
    expect(build.err).toContain("error: Build failed: 1 of 1 kernel did not build");
  });

  test("deps reports missing kernels and modules, and standard native kernels' cache state", () => {
    const p = newProject("wide");
    writeFileSync(join(p, "init.sxs"), `[ #(load "io" "alu" "nothere") #(import m "modules/none.sxs") (io/put "x") ]\n`);
    const r = sup(["deps", p]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}alu +\S+\/kernels\/alu +standard, (cached|not built)$/m);
    expect(r.out).toMatch(/^ {2}nothere +- +missing$/m);
    expect(r.out).toMatch(/^ {2}m +modules\/none\.sxs +missing \(imported by init\.sxs\)$/m);
  });
});

describe.skipIf(!HAS_CC)("native/README.md", () => {
  test("the example kernel builds as a project and prints what the README says", () => {
    const readme = readFileSync(join(ROOT, "native", "README.md"), "utf8");
    const example = readme.slice(readme.indexOf("## Example"));
    const blocks = [...example.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks).toHaveLength(4);
    const [manifest, source, program, output] = blocks as [string, string, string, string];
    const p = newProject("geo");
    writeFileSync(join(p, "kernels", "geo", "kernel.sxs"), manifest);
    writeFileSync(join(p, "kernels", "geo", "geo.c"), source);
    writeFileSync(join(p, "init.sxs"), program);
    const r = sup(["project", "run", p]);
    expect(r.out).toBe(output);
    expect(r.code).toBe(0);
  });
});

describe.skipIf(!HAS_CXX)("a C++ project", () => {
  test("a project whose kernel is C++ builds and runs", () => {
    const p = newProject("cxxdemo");
    const k = join(p, "kernels", "cxxdemo");
    // The template's C is valid C++ once the C-style casts of function pointers are kept; use it as C++.
    const cxx = readFileSync(join(k, "cxxdemo.c"), "latin1").replace('#include "sup_kernel.h"', '#include <algorithm>\n#include "sup_kernel.h"').replace("if (x < lo) return lo;\n    if (x > hi) return hi;\n    return x;", "return std::clamp(x, lo, hi);");
    rmSync(join(k, "cxxdemo.c"));
    writeFileSync(join(k, "cxxdemo.cpp"), cxx);
    const r = sup(["project", "run", p]);
    expect(r.out).toBe(templateOutput("cxxdemo"));
    expect(r.code).toBe(0);
    expect(r.err).toContain("Building kernel cxxdemo (1 source)…");
  });

  test("without a C++ compiler the project does not run and the error names g++", () => {
    const p = join(work, "cxxdemo");
    rmSync(join(p, ".sup-cache"), { recursive: true, force: true });
    const r = supWithoutCompilers(["project", "run", p]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain('Cannot build kernel "cxxdemo": no C++ compiler found (tried c++, g++, clang++; install g++, Debian package "g++")');
  });
});

describe("without a system C compiler", () => {
  test("a new project runs through TinyCC and caches nothing", () => {
    const p = newProject("tiny");
    const r = supWithoutCompilers(["project", "run", p]);
    expect(r.out).toBe(templateOutput("tiny"));
    expect(r.code).toBe(0);
    const build = supWithoutCompilers(["project", "build", p]);
    expect(build.out).toMatch(/^kernel tiny: compiled by TinyCC in \d+ ms/);
    expect(cachedLibraries(p)).toEqual([]);
    expect(supWithoutCompilers(["deps", p]).out).toMatch(/^ {2}tiny +kernels\/tiny +TinyCC \(compiled at load\)$/m);
  });
});

describe("errors and exit codes", () => {
  test("a bad project name is a usage error (2) saying what a name may hold", () => {
    for (const bad of ["1demo", "my demo", "_x", "x.y", "dé", "a".repeat(PROJECT_NAME_LENGTH_MAX + 1)]) {
      const r = sup(["project", "new", bad, work]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`Invalid project name "${bad}"`);
      expect(existsSync(join(work, bad))).toBe(false);
    }
    expect(sup(["project", "new", "io", work]).err).toContain('Invalid project name "io": "io" is a standard kernel\'s name');
  });

  test("the longest name is accepted", () => {
    const name = "n".repeat(PROJECT_NAME_LENGTH_MAX);
    expect(sup(["project", "new", name, work]).code).toBe(0);
    expect(existsSync(join(work, name, "kernels", name, `${name}.c`))).toBe(true);
  });

  test("an existing directory is refused (1) and left alone", () => {
    mkdirSync(join(work, "taken"));
    writeFileSync(join(work, "taken", "keep.txt"), "mine");
    const r = sup(["project", "new", "taken", work]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: Cannot create project "taken": "${join(work, "taken")}" already exists\n`);
    expect(readFileSync(join(work, "taken", "keep.txt"), "utf8")).toBe("mine");
  });

  test("missing or unknown subcommands and missing names are usage errors", () => {
    expect(sup(["project"])).toMatchObject({ code: 2, err: expect.stringContaining("Missing project subcommand") });
    expect(sup(["project", "frob"])).toMatchObject({ code: 2, err: expect.stringContaining('Unknown project subcommand "frob"') });
    expect(sup(["project", "new"])).toMatchObject({ code: 2, err: expect.stringContaining("Missing project name") });
    expect(sup(["project", "build", "a", "b"])).toMatchObject({ code: 2, err: expect.stringContaining("Too many arguments: b") });
    expect(sup(["deps", "--frob"]).code).toBe(2);
  });

  test("a directory that is not a project fails with 1 and says why", () => {
    mkdirSync(join(work, "plain"));
    for (const cmd of [["project", "run"], ["project", "build"], ["project", "clean"], ["deps"]]) {
      const r = sup([...cmd, join(work, "plain")]);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`Cannot open project "${join(work, "plain")}": init.sxs not found`);
    }
    expect(sup(["project", "run", join(work, "nowhere")]).err).toContain("directory does not exist");
  });
});
