/**
 * The public kernel API (issue 11): TypeScript kernels import sup only through `sup/kernel`, which
 * `bin/sup` and the compiled binary both resolve to the running runtime, so a kernel loaded from disk
 * shares its values; a kernel built for another API version, or one that brings a second copy of sup,
 * is refused with a message; which kernel was loaded (built in, or from which directory) is visible,
 * and a directory on the search path wins over a built-in of the same name in both. The binary runs
 * in the sandbox of test/support/binary.ts: outside the checkout, with no Bun.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { BinarySandbox, BUILD_TIMEOUT_MS, builtBinary, releaseBinaries, ROOT } from "./support/binary.ts";
import { NodeSandbox, SUP } from "./support/node-process.ts";

const EXAMPLE = join(ROOT, "examples", "tally-kernel");
const API_MODULE = join(ROOT, "src", "kernel", "api", "mod.ts");
const DEMO_OUTPUT = "apples 7\npears 2\n[DEBUG] 7\n[DEBUG] 1\n[DEBUG] 2.3333333333333335\n";
const HELLO = '[ #(load "io") (io/put "hello %d\\n" 42) ]\n';

/** Every `.ts` file under `dir`. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** The module specifiers a file names in import/export-from statements, import() and require(), type-only ones included. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const statement = /^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']|\b(?:import|require)\s*\(\s*["']([^"']+)["']/gm;
  return [...text.matchAll(statement)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const inside = (path: string, dir: string) => !relative(dir, path).startsWith("..");

describe("kernels import sup only through the kernel API", () => {
  /**
   * What a file under kernels/ or examples/ may import: `sup/kernel`, Node and Bun modules, files of
   * its own tree (kernels/ or its example folder), and, in a test, the black-box test support.
   */
  function forbiddenImports(tree: string, file: string): string[] {
    return specifiers(file).filter((s) => {
      if (s === "sup/kernel" || s.startsWith("node:") || s.startsWith("bun:")) return false;
      if (!s.startsWith(".")) return true;
      const target = resolve(dirname(file), s);
      if (inside(target, tree)) return false;
      return !(file.endsWith(".test.ts") && inside(target, join(ROOT, "test", "support")));
    });
  }

  test("no file under kernels/ imports src/ (or anything but sup/kernel, node:, bun: and its own files)", () => {
    const files = tsFiles(join(ROOT, "kernels"));
    expect(files.length).toBeGreaterThanOrEqual(15);
    const bad = files.flatMap((f) => forbiddenImports(join(ROOT, "kernels"), f).map((s) => `${relative(ROOT, f)}: ${s}`));
    expect(bad).toEqual([]);
  });

  test("the example kernel imports only sup/kernel", () => {
    const bad = tsFiles(EXAMPLE).flatMap((f) => forbiddenImports(EXAMPLE, f).map((s) => `${relative(ROOT, f)}: ${s}`));
    expect(bad).toEqual([]);
    expect(specifiers(join(EXAMPLE, "tally", "mod.ts"))).toEqual(["sup/kernel"]);
  });

  test("the scan catches a kernel file that reaches into src/ (type-only imports too)", () => {
    const tree = mkdtempSync(join(tmpdir(), "sup-kernel-scan-"));
    try {
      mkdirSync(join(tree, "k"));
      const file = join(tree, "k", "mod.ts");
      writeFileSync(file, 'import type { Value } from "../../src/lang/value.ts";\nimport { x } from "sup/kernel";\nimport { y } from "./y.ts";\nconst z = require("../../src/log.ts");\n');
      expect(forbiddenImports(tree, file)).toEqual(["../../src/lang/value.ts", "../../src/log.ts"]);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  test("nothing under src/kernel/ imports kernels/ (the entry point registers the built-in table)", () => {
    const bad = tsFiles(join(ROOT, "src", "kernel")).flatMap((f) =>
      specifiers(f)
        .filter((s) => s.startsWith(".") && inside(resolve(dirname(f), s), join(ROOT, "kernels")))
        .map((s) => `${relative(ROOT, f)}: ${s}`),
    );
    expect(bad).toEqual([]);
  });
});

describe("docs/kernels.md", () => {
  /** Every name the API module exports, values and types. */
  async function apiExports(): Promise<string[]> {
    const values = Object.keys(await import(API_MODULE));
    const text = readFileSync(API_MODULE, "utf8");
    const types = [...text.matchAll(/\btype\s+(\w+)/g)].map((m) => m[1]!);
    const typeBlocks = [...text.matchAll(/export type \{([^}]*)\}/g)].flatMap((m) => m[1]!.split(",").map((n) => n.trim()));
    const renamed = [...text.matchAll(/\bas\s+(\w+)/g)].map((m) => m[1]!);
    return [...new Set([...values, ...types, ...typeBlocks, ...renamed])].filter((n) => !["encode", "decode"].includes(n)).sort();
  }

  test("lists every export of sup/kernel, and nothing else, in its API table", async () => {
    const doc = readFileSync(join(ROOT, "docs", "kernels.md"), "utf8");
    // Table rows of the API section: | `Name`, `Other` | what it is |
    const section = doc.slice(doc.indexOf("## The API"), doc.indexOf("\n## ", doc.indexOf("## The API") + 1));
    const documented = [...section.matchAll(/^\| ([^|]+)\|/gm)].flatMap((m) => [...m[1]!.matchAll(/`(\w+)`/g)].map((n) => n[1]!));
    expect([...new Set(documented)].sort()).toEqual(await apiExports());
  });
});

/** Runs a sup (bin/sup, or the binary in its sandbox) once. */
type Runner = (args: string[], cwd: string, env?: Record<string, string>) => { code: number; out: string; err: string };

const sourceRunner: Runner = (args, cwd, env = {}) => {
  const r = Bun.spawnSync([SUP, ...args], { cwd, env: { ...process.env, SUP_LOG: "warn", ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString("latin1"), err: r.stderr.toString() };
};

/** Copies the example outside the checkout into `dir`, optionally editing its mod.ts. */
function copyExample(dir: string, edit: (mod: string) => string = (m) => m): string {
  const to = join(dir, "tally-kernel");
  cpSync(EXAMPLE, to, { recursive: true });
  const mod = join(to, "tally", "mod.ts");
  writeFileSync(mod, edit(readFileSync(mod, "utf8")));
  return to;
}

/** A directory `kernels/io` holding a different `io` (its put writes a marker), shadowing the built-in. */
function writeShadowIo(dir: string): void {
  const io = join(dir, "kernels", "io");
  mkdirSync(io, { recursive: true });
  cpSync(join(ROOT, "kernels", "io", "kernel.sxs"), join(io, "kernel.sxs"));
  writeFileSync(
    join(io, "mod.ts"),
    'import { Str, type KernelDefinition } from "sup/kernel";\n' +
      "const io: KernelDefinition = { apiVersion: 1, create: () => ({ functions: { put: (cx, args) => { const f = cx.eval(args[0]!); cx.write(f instanceof Str ? `shadow: ${f.s}` : \"shadow: not a Str\\n\"); return 0; } } }) };\n" +
      "export default io;\n",
  );
}

/** A folder that looks like a sup checkout and a kernel importing its value module directly. */
function writeSecondCopyKernel(dir: string): void {
  mkdirSync(join(dir, "fake-sup", "src", "lang"), { recursive: true });
  mkdirSync(join(dir, "fake-sup", "src", "cli"), { recursive: true });
  writeFileSync(join(dir, "fake-sup", "src", "lang", "value.ts"), "export class Str { constructor(readonly s: string) {} }\n");
  writeFileSync(join(dir, "fake-sup", "src", "cli", "main.ts"), "\n");
  mkdirSync(join(dir, "k", "old"), { recursive: true });
  writeFileSync(join(dir, "k", "old", "kernel.sxs"), '#(define-kernel old "mod.ts" [ (define-function f () :int) ])\n');
  writeFileSync(
    join(dir, "k", "old", "mod.ts"),
    'import { Str } from "../../fake-sup/src/lang/value.ts";\nexport default { apiVersion: 1, create: () => ({ functions: { f: () => (new Str("x") ? 1 : 0) } }) };\n',
  );
  writeFileSync(join(dir, "old.sxs"), '[ #(load "old") (old/f) ]\n');
}

/** The same behaviour asked of bin/sup and of the compiled binary; `scratch()` is a fresh folder it can read. */
function sharedSuite(run: () => Runner, scratch: () => string): void {
  test("runs a third-party TS kernel copied outside the checkout, from its own folder", () => {
    const dir = copyExample(scratch());
    expect(run()(["run", "demo.sxs"], dir)).toEqual({ code: 0, out: DEMO_OUTPUT, err: "" });
  });

  test("SUP_LOG=debug says which kernels are built in and which came from which directory", () => {
    const dir = copyExample(scratch());
    writeFileSync(join(dir, "both.sxs"), '[ #(load "tally" "io") (io/put "%d\\n" (tally/add "a" 2)) ]\n');
    const r = run()(["run", "both.sxs"], dir, { SUP_LOG: "debug" });
    expect(r.out).toBe("2\n");
    expect(r.code).toBe(0);
    expect(r.err).toContain(`debug kernel loaded name=tally version=1 kind=typescript from=${join(dir, "tally")} origin=${join(dir, "tally", "mod.ts")}\n`);
    expect(r.err).toContain('debug kernel loaded name=io version=1 kind=typescript from="built in" origin=builtin:io\n');
  });

  test("a kernel built for another kernel API version is refused, naming both versions", () => {
    const dir = copyExample(scratch(), (m) => m.replace("apiVersion: 1", "apiVersion: 2"));
    const r = run()(["run", "demo.sxs"], dir);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`error Cannot load kernel "tally": Kernel module ${join(dir, "tally", "mod.ts")} was built for kernel API 2, but this sup provides kernel API 1\n`);
  });

  test("a kernels/io in the working directory does not replace the built-in (kernels spec §1.1)", () => {
    const dir = scratch();
    writeShadowIo(dir);
    writeFileSync(join(dir, "hello.sxs"), HELLO);
    expect(run()(["run", "hello.sxs"], dir)).toEqual({ code: 0, out: "hello 42\n", err: "" });
  });

  test("an include path (-i) comes before the built-ins: its io is loaded, with a warning", () => {
    const dir = scratch();
    writeShadowIo(dir);
    writeFileSync(join(dir, "hello.sxs"), HELLO);
    const r = run()(["run", "-i", join(dir, "kernels"), "hello.sxs"], dir);
    expect(r).toMatchObject({ code: 0, out: "shadow: hello %d\n" });
    expect(r.err).toBe(`warn Loading kernel "io" from ${join(dir, "kernels", "io")} instead of the built-in: its include path comes before the built-ins\n`);
  });

  test("the built-in io's own source, loaded from an include path, shares the runtime (issue 11's silent failure)", () => {
    const dir = scratch();
    cpSync(join(ROOT, "kernels", "io"), join(dir, "kernels", "io"), { recursive: true, filter: (f) => !f.endsWith(".test.ts") });
    writeFileSync(join(dir, "hello.sxs"), HELLO);
    const r = run()(["run", "-i", join(dir, "kernels"), "hello.sxs"], dir);
    expect(r).toMatchObject({ code: 0, out: "hello 42\n" });
    expect(r.err).toContain(`warn Loading kernel "io" from ${join(dir, "kernels", "io")}`);
  });

  test("a kernel that imports a sup checkout's files (a second runtime) is refused", () => {
    const dir = scratch();
    writeSecondCopyKernel(dir);
    const r = run()(["run", "-i", join(dir, "k"), "old.sxs"], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      `error Cannot load kernel "old": Cannot use kernel module ${join(dir, "k", "old", "mod.ts")}: it imports ${join(dir, "fake-sup", "src", "lang", "value.ts")}, a second copy of sup whose values are not this runtime's: import the kernel API from "sup/kernel" instead (docs/kernels.md)\n`,
    );
  });
}

describe("bin/sup (from source)", () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });
  sharedSuite(
    () => sourceRunner,
    () => {
      const d = mkdtempSync(join(tmpdir(), "sup-kernel-api-"));
      roots.push(d);
      return d;
    },
  );
});

describe("the compiled binary, in a sandbox outside the checkout", () => {
  let box: BinarySandbox;
  let n = 0;
  beforeAll(async () => {
    box = new BinarySandbox(await builtBinary());
  }, BUILD_TIMEOUT_MS);
  afterAll(async () => {
    box?.cleanup();
    await releaseBinaries();
  });
  sharedSuite(
    () => (args, cwd, env = {}) => box.run({ args, cwd, env }),
    () => {
      const d = join(box.work, `case-${n++}`);
      mkdirSync(d);
      return d;
    },
  );
});

describe("sup kernels ls on a node", () => {
  const nodes = new NodeSandbox();
  afterAll(() => nodes.cleanup());

  test("shows built-in kernels as built in and a node-local kernel with its directory", async () => {
    const data = nodes.dataDir();
    mkdirSync(join(data, "kernels"), { recursive: true });
    cpSync(join(EXAMPLE, "tally"), join(data, "kernels", "tally"), { recursive: true });
    const node = await nodes.start(data, ["--kernels", "http,io"]);
    expect(nodes.cli(data, ["kernels", "load", "tally"]).code).toBe(0);
    const ls = nodes.cli(data, ["kernels", "ls"]);
    expect(ls.code).toBe(0);
    const lines = ls.out.trimEnd().split("\n");
    expect(lines).toContain("http\tv1\ttypescript\tcurrent\trefs 0\tbuilt in");
    expect(lines).toContain(`tally\tv1\ttypescript\tcurrent\trefs 0\tfrom ${join(data, "kernels", "tally")}`);
    expect(statSync(join(data, "kernels", "tally", "mod.ts")).isFile()).toBe(true);
    node.proc.kill("SIGTERM");
    expect(await node.proc.exited).toBe(0);
  });
});
