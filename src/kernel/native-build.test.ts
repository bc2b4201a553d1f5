import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { CallContext } from "../lang/host.ts";
import { parseManifest, type Manifest } from "../lang/manifest.ts";
import { List, Real, T_BRACE, type Value } from "../lang/value.ts";
import {
  buildKernel,
  CompilerMissingError,
  kernelCacheState,
  KernelCompileError,
  openKernelLibrary,
  projectOfKernel,
  type BuildEvent,
  type NativeBuildOptions,
} from "./native-build.ts";
import { COMPILER_OUTPUT_LINES_MAX, displayOutput, parseDiagnostics } from "./native-compiler.ts";
import { loadNativeKernel, type NativeKernel } from "./native-kernel.ts";

const HAS_CC = ["cc", "gcc", "clang"].some((c) => Bun.which(c) !== null);
const HAS_CXX = ["c++", "g++", "clang++"].some((c) => Bun.which(c) !== null);

let work = "";
/** A directory with no compilers in it: a PATH that simulates a machine without any. */
let noCompilers = "";
const loaded: NativeKernel[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sup-native-build-"));
  noCompilers = join(work, "empty-bin");
  mkdirSync(noCompilers);
});
afterAll(() => {
  for (const k of loaded) k.unload();
  rmSync(work, { recursive: true, force: true });
});

/** A C kernel with one scalar function (`twice`) and one value function (`total` of a brace list). */
function cKernel(name: string): Record<string, string> {
  return {
    "kernel.sxs": `#(define-kernel ${name} "libkernel_${name}.so" [ (define-function twice (x :int) :int) (define-function total (xs :list-c) :int) ])`,
    [`${name}.c`]: `#include "sup_kernel.h"
#include "sup_value.h"
static const sup_api *g_api;
static int64_t twice(int32_t argc, int64_t x) { return argc < 1 ? 0 : 2 * x; }
static const uint8_t *total(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[1], item;
    if (argc < 1 || sv_args(g_api, ctx, args, len, a, 1) < 1) return NULL;
    int64_t t = 0;
    sv_iter it = sv_items(&a[0]);
    while (sv_next(&it, &item)) t += sv_as_int(&item);
    sv_builder b;
    sv_builder_init(&b);
    sv_put_int(&b, t);
    return sv_return(&b, g_api, ctx);
}
int32_t kernel_init(const sup_api *api) {
    g_api = api;
    api->register_function(api->host, "twice", (sup_fn)twice, SUP_CALL_SCALAR);
    api->register_function(api->host, "total", (sup_fn)total, SUP_CALL_VALUE);
    return 0;
}
void kernel_shutdown(const sup_api *api) { (void)api; sv_release(); }
`,
  };
}

/** The same kernel in C++: the standard library behind the C ABI. */
function cxxKernel(name: string): Record<string, string> {
  return {
    "kernel.sxs": `#(define-kernel ${name} "libkernel_${name}.so" [ (define-function twice (x :int) :int) (define-function mean (xs :list-c) :real) ])`,
    [`${name}.cpp`]: `#include <numeric>
#include <vector>
#include "sup_kernel.h"
#include "sup_value.h"
static const sup_api *g_api;
static int64_t twice(int32_t argc, int64_t x) { return argc < 1 ? 0 : 2 * x; }
static const uint8_t *mean(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[1], item;
    if (argc < 1 || sv_args(g_api, ctx, args, len, a, 1) < 1) return nullptr;
    std::vector<double> xs;
    sv_iter it = sv_items(&a[0]);
    while (sv_next(&it, &item)) xs.push_back(item.tag == SV_INT ? (double)item.i : sv_as_real(&item));
    sv_builder b;
    sv_builder_init(&b);
    sv_put_real(&b, xs.empty() ? 0.0 : std::accumulate(xs.begin(), xs.end(), 0.0) / xs.size());
    return sv_return(&b, g_api, ctx);
}
int32_t kernel_init(const sup_api *api) {
    g_api = api;
    api->register_function(api->host, "twice", (sup_fn)twice, SUP_CALL_SCALAR);
    api->register_function(api->host, "mean", (sup_fn)mean, SUP_CALL_VALUE);
    return 0;
}
void kernel_shutdown(const sup_api *) { sv_release(); }
`,
  };
}

let counter = 0;
/** Writes a kernel directory; `project` puts it in `<project>/kernels/<name>` with an init.sxs. */
function kernelDir(name: string, files: Record<string, string>, project?: string): string {
  const dir = project !== undefined ? join(project, "kernels", name) : join(work, `k${counter++}`, name);
  mkdirSync(dir, { recursive: true });
  if (project !== undefined) writeFileSync(join(project, "init.sxs"), "[]\n");
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

function manifestOf(dir: string): Manifest {
  const parsed = parseManifest(readFileSync(join(dir, "kernel.sxs"), "latin1"), "strict");
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.manifest;
}

function freshCache(): string {
  return mkdtempSync(join(work, "cache-"));
}

/** Loads through the real path (build, dlopen or TinyCC, kernel_init) and calls functions with constant arguments. */
function load(dir: string, options: NativeBuildOptions): NativeKernel {
  const k = loadNativeKernel(dir, manifestOf(dir), { workingDir: work }, options);
  loaded.push(k);
  return k;
}

const cx: CallContext = { eval: (v: Value) => v, workingDir: "/", write: () => {}, scope: null, remainingMs: () => Infinity };
function call(k: NativeKernel, fn: string, ...args: Value[]): Value {
  return k.functions.get(fn)!(cx, args);
}
const braces = (...xs: number[]) => new List(T_BRACE, xs);

/** Libraries (not build records) anywhere under a cache root. */
function librariesIn(cache: string): string[] {
  const kernels = join(cache, "kernels");
  if (!existsSync(kernels)) return [];
  return readdirSync(kernels).flatMap((d) => readdirSync(join(kernels, d)).filter((f) => f !== "build.json").map((f) => join(d, f)));
}

describe.skipIf(!HAS_CC)("cache", () => {
  test("the second build is a cache hit with the same library", () => {
    const dir = kernelDir("hit", cKernel("hit"));
    const cacheDir = freshCache();
    const first = buildKernel(dir, manifestOf(dir), { cacheDir, compiler: "system" });
    const second = buildKernel(dir, manifestOf(dir), { cacheDir, compiler: "system" });
    expect(first.status).toBe("built");
    expect(second.status).toBe("cached");
    expect(second.library).toBe(first.library);
    expect(first.library!.startsWith(join(cacheDir, "kernels", "hit-"))).toBe(true);
    expect(kernelCacheState(dir, manifestOf(dir), { cacheDir, compiler: "system" })).toEqual({ state: "cached", library: first.library });
  });

  test("changing one source of one kernel rebuilds only that kernel, and replaces its old entry", () => {
    const project = join(work, "selective");
    const a = kernelDir("ka", cKernel("ka"), project);
    const b = kernelDir("kb", cKernel("kb"), project);
    const builds = () => [a, b].map((d) => buildKernel(d, manifestOf(d), { compiler: "system" }));
    const before = builds();
    expect(before.map((r) => r.status)).toEqual(["built", "built"]);
    writeFileSync(join(a, "ka.c"), readFileSync(join(a, "ka.c"), "latin1") + "\n/* changed */\n");
    expect(kernelCacheState(a, manifestOf(a)).state).toBe("stale");
    const after = builds();
    expect(after.map((r) => r.status)).toEqual(["built", "cached"]);
    expect(after[0]!.library).not.toBe(before[0]!.library);
    expect(after[1]!.library).toBe(before[1]!.library);
    // Project kernels live in the project's cache; the replaced entry is gone.
    expect(librariesIn(join(project, ".sup-cache")).sort()).toEqual([after[0]!.library!, after[1]!.library!].map((l) => join(basename(dirname(l)), basename(l))).sort());
  });

  test("progress: a compile announces itself before the result; a cache hit only reports", () => {
    const dir = kernelDir("prog", cKernel("prog"));
    const cacheDir = freshCache();
    const events: BuildEvent[] = [];
    buildKernel(dir, manifestOf(dir), { cacheDir, compiler: "system", onEvent: (e) => events.push(e) });
    buildKernel(dir, manifestOf(dir), { cacheDir, compiler: "system", onEvent: (e) => events.push(e) });
    expect(events.map((e) => (e.kind === "start" ? `start ${e.name} ${e.sources}` : `done ${e.report.status}`))).toEqual(["start prog 1", "done built", "done cached"]);
  });

  test("a compile error reports file:line relative to the project and leaves no library", () => {
    const project = join(work, "broken-project");
    const dir = kernelDir("broken", { "kernel.sxs": `#(define-kernel broken "libkernel_broken.so" [])`, "broken.c": `#include "sup_kernel.h"\nint32_t kernel_init(const sup_api *api) {\n  return undefined_name;\n}\n` }, project);
    let err: unknown;
    try {
      buildKernel(dir, manifestOf(dir), { compiler: "system" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelCompileError);
    const e = err as KernelCompileError;
    expect(e.code).toBe("kernel-compile");
    expect(e.message).toStartWith('Cannot build kernel "broken": ');
    expect(e.message).toContain("kernels/broken/broken.c:3:");
    expect(e.message).not.toContain(project);
    expect(e.diagnostics[0]).toMatchObject({ file: "kernels/broken/broken.c", line: 3, severity: "error" });
    expect(librariesIn(join(project, ".sup-cache"))).toEqual([]);
    expect(kernelCacheState(dir, manifestOf(dir)).state).toBe("not built");
  });

  test("without a system compiler, a build another compiler made from the same sources is used as it is", () => {
    const dir = kernelDir("reuse", cKernel("reuse"));
    const cacheDir = freshCache();
    const built = buildKernel(dir, manifestOf(dir), { cacheDir, compiler: "system" });
    const events: BuildEvent[] = [];
    const k = load(dir, { cacheDir, searchPath: noCompilers, onEvent: (e) => events.push(e) });
    expect(k.origin).toBe(built.library!);
    expect(call(k, "twice", 21)).toBe(42);
    expect(events.map((e) => (e.kind === "done" ? `${e.report.status} ${e.report.compiler}` : e.kind))).toEqual(["cached null"]);
    expect(buildKernel(dir, manifestOf(dir), { cacheDir, searchPath: noCompilers })).toMatchObject({ status: "cached", library: built.library, compiler: null });
    expect(kernelCacheState(dir, manifestOf(dir), { cacheDir, searchPath: noCompilers })).toEqual({ state: "cached", library: built.library });
    // Asked for TinyCC, TinyCC it is; and once a source changes, nothing can be reused.
    expect(buildKernel(dir, manifestOf(dir), { cacheDir, searchPath: noCompilers, compiler: "tinycc" }).status).toBe("tinycc");
    writeFileSync(join(dir, "reuse.c"), readFileSync(join(dir, "reuse.c"), "latin1") + "\n/* changed */\n");
    expect(buildKernel(dir, manifestOf(dir), { cacheDir, searchPath: noCompilers }).status).toBe("tinycc");
    expect(kernelCacheState(dir, manifestOf(dir), { cacheDir, searchPath: noCompilers }).state).toBe("tinycc");
  });

  test("a build record without a source key (an older sup's) is never reused without a compiler", () => {
    const dir = kernelDir("oldrec", cKernel("oldrec"));
    const cacheDir = freshCache();
    const built = buildKernel(dir, manifestOf(dir), { cacheDir, compiler: "system" });
    const record = join(dirname(built.library!), "build.json");
    const info = JSON.parse(readFileSync(record, "utf8")) as Record<string, unknown>;
    expect(typeof info.sourceKey).toBe("string");
    delete info.sourceKey;
    writeFileSync(record, JSON.stringify(info));
    expect(buildKernel(dir, manifestOf(dir), { cacheDir, searchPath: noCompilers }).status).toBe("tinycc");
  });

  test("SUP_CFLAGS reaches the compiler after the standard flags and keys a separate cache entry", () => {
    const files = cKernel("flagged");
    files["flagged.c"] = files["flagged.c"]!.replace("2 * x", "2 * x + FLAGGED_EXTRA").replace('#include "sup_kernel.h"', '#include "sup_kernel.h"\n#ifndef FLAGGED_EXTRA\n#define FLAGGED_EXTRA 0\n#endif');
    const dir = kernelDir("flagged", files);
    const cacheDir = freshCache();
    const saved = process.env.SUP_CFLAGS;
    const withFlags = (flags: string | undefined, f: () => void) => {
      if (flags === undefined) delete process.env.SUP_CFLAGS;
      else process.env.SUP_CFLAGS = flags;
      try {
        f();
      } finally {
        if (saved === undefined) delete process.env.SUP_CFLAGS;
        else process.env.SUP_CFLAGS = saved;
      }
    };
    withFlags(undefined, () => expect(call(load(dir, { cacheDir, compiler: "system" }), "twice", 21)).toBe(42));
    withFlags("  -DFLAGGED_EXTRA=5\t-O0 ", () => {
      const k = load(dir, { cacheDir, compiler: "system" });
      expect(call(k, "twice", 21)).toBe(47);
      expect(kernelCacheState(dir, manifestOf(dir), { cacheDir, compiler: "system" })).toEqual({ state: "cached", library: k.origin });
    });
    // The unflagged entry was replaced by the flagged one, so it is stale again without the flags.
    withFlags(undefined, () => expect(kernelCacheState(dir, manifestOf(dir), { cacheDir, compiler: "system" }).state).toBe("stale"));
    withFlags("-fno-such-flag-for-sup", () => {
      expect(() => buildKernel(dir, manifestOf(dir), { cacheDir, compiler: "system" })).toThrow(/no-such-flag-for-sup/);
    });
  });

  test("a kernel outside a project uses the given cache, and is not taken for a project kernel", () => {
    const dir = kernelDir("loose", cKernel("loose"));
    expect(projectOfKernel(dir)).toBeNull();
    expect(projectOfKernel(join(work, "selective", "kernels", "ka"))).toBe(join(work, "selective"));
  });
});

describe("compiler identity", () => {
  test("is asked of a compiler once and kept in the cache, and asked again once the compiler file changes", () => {
    // A fake compiler that counts how often it is asked for its version.
    const dir = join(work, "identity");
    mkdirSync(dir, { recursive: true });
    const counter = join(dir, "asked");
    const cc = join(dir, "fake-cc");
    const script = (version: string) => `#!/bin/sh\necho x >> ${JSON.stringify(counter)}\necho "fake cc ${version}"\n`;
    writeFileSync(cc, script("1"), { mode: 0o755 });
    const root = join(dir, "cache");
    // Each ask is a fresh process: the per-process identity map must not be what answers.
    const ask = () => {
      const r = Bun.spawnSync([process.execPath, "-e", `import { compilerIdentityKept } from ${JSON.stringify(join(import.meta.dir, "native-cache.ts"))}; process.stdout.write(compilerIdentityKept(${JSON.stringify(cc)}, ${JSON.stringify(root)}));`], { stdout: "pipe", stderr: "pipe" });
      expect(r.exitCode).toBe(0);
      return r.stdout.toString();
    };
    const asked = () => readFileSync(counter, "utf8").split("\n").filter((l) => l !== "").length;
    expect(ask()).toBe(`${cc}\nfake cc 1`);
    expect(ask()).toBe(`${cc}\nfake cc 1`);
    expect(asked()).toBe(1);
    writeFileSync(cc, script("22"), { mode: 0o755 });
    expect(ask()).toBe(`${cc}\nfake cc 22`);
    expect(asked()).toBe(2);
  });
});

describe("TinyCC", () => {
  test("forced TinyCC gives a working kernel and caches nothing", () => {
    const dir = kernelDir("tcc", cKernel("tcc"));
    const cacheDir = freshCache();
    const report = buildKernel(dir, manifestOf(dir), { cacheDir, compiler: "tinycc" });
    expect(report).toMatchObject({ status: "tinycc", library: null, compiler: "TinyCC" });
    const k = load(dir, { cacheDir, compiler: "tinycc" });
    expect(k.origin).toBe(`tinycc:${dir}`);
    expect(call(k, "twice", 21)).toBe(42);
    expect(call(k, "total", braces(1, 2, 3))).toBe(6);
    expect(librariesIn(cacheDir)).toEqual([]);
  });

  test("SUP_CC=tinycc forces it too", () => {
    const dir = kernelDir("tccenv", cKernel("tccenv"));
    const saved = process.env.SUP_CC;
    process.env.SUP_CC = "tinycc";
    try {
      expect(buildKernel(dir, manifestOf(dir), { cacheDir: freshCache() }).status).toBe("tinycc");
    } finally {
      if (saved === undefined) delete process.env.SUP_CC;
      else process.env.SUP_CC = saved;
    }
  });

  test("with no system compiler on the search path, C falls back to TinyCC and works", () => {
    const dir = kernelDir("nocc", cKernel("nocc"));
    const options = { cacheDir: freshCache(), searchPath: noCompilers };
    expect(kernelCacheState(dir, manifestOf(dir), options).state).toBe("tinycc");
    const k = load(dir, options);
    expect(k.origin.startsWith("tinycc:")).toBe(true);
    expect(call(k, "total", braces(4, 5))).toBe(9);
  });

  test("a TinyCC compile error has file:line and is a KernelCompileError", () => {
    const dir = kernelDir("tccbad", { "kernel.sxs": `#(define-kernel tccbad "x.so" [])`, "bad.c": `int kernel_init(void *api) {\n  return nope;\n}\n` });
    expect(() => openKernelLibrary(dir, manifestOf(dir), { compiler: "tinycc" })).toThrow(KernelCompileError);
    expect(() => openKernelLibrary(dir, manifestOf(dir), { compiler: "tinycc" })).toThrow(/bad\.c:2: error/);
  });
});

describe("C++", () => {
  test.skipIf(!HAS_CXX)("a C++ kernel builds with the C++ compiler, loads, and its functions work", () => {
    const dir = kernelDir("cxx", cxxKernel("cxx"));
    const cacheDir = freshCache();
    const report = buildKernel(dir, manifestOf(dir), { cacheDir });
    expect(report.status).toBe("built");
    expect(report.compiler).toMatch(/\+\+/);
    const k = load(dir, { cacheDir });
    expect(k.origin).toBe(report.library!);
    expect(call(k, "twice", 8)).toBe(16);
    expect(call(k, "mean", braces(1, 2, 3, 4))).toEqual(new Real(2.5));
    // SUP_CC=tinycc is about C: a C++ kernel still uses the C++ compiler (and its cached library).
    expect(buildKernel(dir, manifestOf(dir), { cacheDir, compiler: "tinycc" }).status).toBe("cached");
  });

  test("without a C++ compiler the error names the tool and its package", () => {
    const dir = kernelDir("geo", cxxKernel("geo"));
    let err: unknown;
    try {
      buildKernel(dir, manifestOf(dir), { cacheDir: freshCache(), searchPath: noCompilers });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CompilerMissingError);
    expect((err as CompilerMissingError).code).toBe("compiler-missing");
    expect((err as Error).message).toBe('Cannot build kernel "geo": no C++ compiler found (tried c++, g++, clang++; install g++, Debian package "g++")');
    expect(kernelCacheState(dir, manifestOf(dir), { searchPath: noCompilers }).state).toBe("no compiler");
  });

  test("asking for a system C compiler when there is none names gcc", () => {
    const dir = kernelDir("needcc", cKernel("needcc"));
    expect(() => buildKernel(dir, manifestOf(dir), { compiler: "system", searchPath: noCompilers })).toThrow('Cannot build kernel "needcc": no C compiler found (tried cc, gcc, clang; install gcc, Debian package "gcc")');
  });
});

describe("compiler output", () => {
  test("gcc, clang and TinyCC diagnostics are parsed", () => {
    const out = "k.c: In function 'f':\nk.c:3:5: error: 'x' undeclared\nk.c:9: warning: unused\nk.c:4:1: fatal error: h.h: No such file\n";
    expect(parseDiagnostics(out)).toEqual([
      { file: "k.c", line: 3, column: 5, severity: "error", message: "'x' undeclared" },
      { file: "k.c", line: 9, column: null, severity: "warning", message: "unused" },
      { file: "k.c", line: 4, column: 1, severity: "error", message: "h.h: No such file" },
    ]);
  });

  test("paths under the root become relative, other paths stay", () => {
    expect(displayOutput("/p/x/kernels/a/a.c:1:2: error: e\nIn file included from /usr/include/x.h:3,", "/p/x")).toBe("kernels/a/a.c:1:2: error: e\nIn file included from /usr/include/x.h:3,");
  });

  test("output is cut at the line limit, saying how much was left out", () => {
    const lines = Array.from({ length: COMPILER_OUTPUT_LINES_MAX + 2 }, (_, i) => `l${i}`);
    expect(displayOutput(lines.slice(0, COMPILER_OUTPUT_LINES_MAX).join("\n"), null).split("\n")).toHaveLength(COMPILER_OUTPUT_LINES_MAX);
    const cut = displayOutput(lines.join("\n"), null).split("\n");
    expect(cut).toHaveLength(COMPILER_OUTPUT_LINES_MAX + 1);
    expect(cut.at(-1)).toBe("… 2 more lines");
  });
});
