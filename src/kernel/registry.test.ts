/**
 * KernelRegistry versions: acquire/release reference counts, replace and unload while a session
 * holds the old version, and every bad kernel rejected with its exact message and no change.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cc } from "bun:ffi";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeContext } from "../../test/support/fake-context.ts";
import type { LoadedKernel } from "../lang/host.ts";
import type { Value } from "../lang/value.ts";
import { STANDARD_KERNEL_DIR } from "./standard-kernel-dir.ts";
import { KernelLoadError, KernelNotLoadedError, KernelRegistry, type KernelRegistryOptions } from "./registry.ts";

let root = "";
let cacheDir = "";
const registries: KernelRegistry[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "sup-registry-"));
  cacheDir = mkdtempSync(join(tmpdir(), "sup-registry-cache-"));
});
afterAll(() => {
  for (const r of registries) r.shutdown();
  rmSync(root, { recursive: true, force: true });
  rmSync(cacheDir, { recursive: true, force: true });
});

/**
 * The bad-kernel cases rebuild their kernel several times; TinyCC compiles in milliseconds where the
 * system compiler takes a third of a second, and the registry behaves the same with either.
 */
const FAST_COMPILER = typeof cc === "function" ? "tinycc" : "auto";

/** A registry that finds kernels in the temp root and builds into the temp cache. */
function registry(options: KernelRegistryOptions = {}): KernelRegistry {
  const r = new KernelRegistry({ includePaths: [root], workingDir: root, supHome: null, builtinDir: STANDARD_KERNEL_DIR }, {
    nativeBuild: { cacheDir },
    ...options,
  });
  registries.push(r);
  return r;
}

const MANIFEST = (name: string, fns = "(define-function version () :int)") => `#(define-kernel ${name} "libkernel_${name}.so" [ ${fns} ])\n`;

/** The C source of a one-function native kernel; each field bends one thing for a bad-kernel case. */
interface NativeSource {
  version?: number;
  convention?: "SUP_CALL_SCALAR" | "SUP_CALL_VALUE";
  initStatus?: number;
  initRaise?: string;
  noInit?: boolean;
  syntaxError?: boolean;
}

function cSource(s: NativeSource): string {
  const init = s.noInit
    ? ""
    : `int32_t kernel_init(const sup_api *api) {
    if (api->register_function(api->host, "version", (sup_fn)k_version, ${s.convention ?? "SUP_CALL_SCALAR"}) != 0) return 2;
    ${s.initRaise !== undefined ? `api->raise(NULL, "${s.initRaise}", ${s.initRaise.length});` : ""}
    return ${s.initStatus ?? 0};
}`;
  return `#include "sup_kernel.h"
static int64_t k_version(int32_t argc) { (void)argc; return ${s.version ?? 1}${s.syntaxError ? "" : ";"} }
${init}
`;
}

/** Writes (or rewrites) a native kernel directory under the temp root. */
function writeNative(name: string, source: NativeSource = {}, manifest = MANIFEST(name)): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.sxs"), manifest);
  writeFileSync(join(dir, "k.c"), cSource(source));
  return dir;
}

/** Writes a TypeScript kernel whose `version` returns `version` and whose shutdown is recorded. */
function writeTs(name: string, version: number, body?: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.sxs"), `#(define-kernel ${name} "mod.ts" [ (define-function version () :int) ])\n`);
  const factory = body ?? `() => ({ functions: { version: () => ${version} }, shutdown: () => shutdowns.push("${name}@${version}") })`;
  const exported = body === undefined || body.startsWith("(") ? `{ apiVersion: 1, create: ${factory} }` : factory;
  writeFileSync(join(dir, "mod.ts"), `const shutdowns: string[] = ((globalThis as Record<string, unknown>).supRegistryTestShutdowns ??= []) as string[];\nexport default ${exported};\n`);
  return dir;
}

const shutdowns = (): string[] => ((globalThis as Record<string, unknown>).supRegistryTestShutdowns ??= []) as string[];

function call(k: LoadedKernel, fn = "version"): Value {
  return k.functions.get(fn)!(fakeContext().cx, []);
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a throw");
}

describe("versions and references", () => {
  test("acquire loads once and counts references; load does not", () => {
    writeTs("ts-a", 1);
    const r = registry();
    const k1 = r.acquire("ts-a");
    const k2 = r.acquire("ts-a");
    expect(k2).toBe(k1);
    expect(r.load("ts-a")).toBe(k1);
    expect(r.list().map((k) => [k.name, k.version, k.refs, k.state])).toEqual([["ts-a", 1, 2, "current"]]);
    r.release("ts-a", k1);
    r.release("ts-a", k2);
    expect(r.info("ts-a")?.refs).toBe(0);
    expect(thrown(() => r.release("ts-a", k1)).message).toBe('bug: unbalanced release of kernel "ts-a" version 1');
  });

  test("replace makes a new version current; the held old one lives until its last release", () => {
    writeTs("ts-b", 1);
    const r = registry();
    const old = r.acquire("ts-b");
    writeTs("ts-b", 2);
    const info = r.replace("ts-b");
    expect(info).toMatchObject({ name: "ts-b", version: 2, refs: 0, state: "current", kind: "typescript" });
    expect(r.list().map((k) => [k.version, k.refs, k.state])).toEqual([
      [1, 1, "retired"],
      [2, 0, "current"],
    ]);
    expect(call(old)).toBe(1);
    expect(call(r.acquire("ts-b"))).toBe(2);
    expect(shutdowns()).not.toContain("ts-b@1");
    r.release("ts-b", old);
    expect(shutdowns()).toContain("ts-b@1");
    expect(r.list().map((k) => k.version)).toEqual([2]);
  });

  test("replace of an unheld version shuts the old one down at once", () => {
    writeTs("ts-c", 1);
    const r = registry();
    r.load("ts-c");
    writeTs("ts-c", 2);
    r.replace("ts-c");
    expect(shutdowns()).toContain("ts-c@1");
  });

  test("unload retires the version; the next acquire loads it afresh from disk", () => {
    writeTs("ts-d", 1);
    const r = registry();
    const held = r.acquire("ts-d");
    r.unload("ts-d");
    expect(r.list().map((k) => [k.version, k.state])).toEqual([[1, "retired"]]);
    expect(r.loaded()).toEqual([]);
    expect(call(held)).toBe(1);
    writeTs("ts-d", 2);
    expect(call(r.acquire("ts-d"))).toBe(2);
    r.release("ts-d", held);
    expect(shutdowns()).toContain("ts-d@1");
    expect(r.list().map((k) => [k.version, k.state])).toEqual([[2, "current"]]);
  });

  test("without autoload only explicitly loaded kernels can be acquired", () => {
    writeTs("ts-e", 1);
    const r = registry({ autoload: false });
    const e = thrown(() => r.acquire("ts-e"));
    expect(e).toBeInstanceOf(KernelNotLoadedError);
    expect(e.message).toBe('Kernel "ts-e" is not loaded in this runtime');
    r.load("ts-e");
    expect(call(r.acquire("ts-e"))).toBe(1);
    r.unload("ts-e");
    expect(thrown(() => r.acquire("ts-e")).message).toBe('Kernel "ts-e" is not loaded in this runtime');
  });

  test("unload and replace of a kernel that is not loaded say so", () => {
    const r = registry();
    expect(thrown(() => r.unload("io")).message).toBe('Cannot unload kernel "io": it is not loaded');
    expect(thrown(() => r.replace("io")).message).toBe('Cannot reload kernel "io": it is not loaded');
  });

  test("shutdown stops held versions too; their late releases are accepted", () => {
    writeTs("ts-f", 1);
    const r = registry();
    const k = r.acquire("ts-f");
    r.shutdown();
    expect(shutdowns()).toContain("ts-f@1");
    expect(r.list()).toEqual([]);
    r.release("ts-f", k);
    expect(thrown(() => r.release("ts-f", { functions: new Map(), forms: new Map() })).message).toBe('bug: release of kernel "ts-f" that this registry does not hold');
  });

  test("a held native version keeps working after replace and refuses calls once released", () => {
    writeNative("nat-a", { version: 1 });
    const r = registry();
    const old = r.acquire("nat-a");
    writeNative("nat-a", { version: 2 });
    expect(r.replace("nat-a")).toMatchObject({ version: 2, kind: "native" });
    expect(call(old)).toBe(1);
    expect(call(r.load("nat-a"))).toBe(2);
    r.release("nat-a", old);
    expect(thrown(() => call(old)).message).toBe("native kernel function 'version' was called after its kernel was unloaded");
    expect(call(r.load("nat-a"))).toBe(2);
  });
});

/** One bad kernel: what to write, and the reason the load must give (a RegExp where it names compiler output). */
interface BadCase {
  readonly title: string;
  readonly write: (name: string) => void;
  readonly reason: (name: string) => string | RegExp;
}

const manifestPath = (name: string) => join(root, name, "kernel.sxs");

const BAD_NATIVE: BadCase[] = [
  {
    title: "a manifest that does not parse",
    write: (n) => writeNative(n, {}, `#(define-kernel ${n} "libkernel_${n}.so" [`),
    reason: (n) => `Error processing ${manifestPath(n)}: kernel.sxs: parse error: Unclosed environment`,
  },
  {
    title: "a manifest with an invalid type",
    write: (n) => writeNative(n, {}, MANIFEST(n, "(define-function version () :integer)")),
    reason: (n) => `Error processing ${manifestPath(n)}: define-function: invalid return type: :integer`,
  },
  {
    title: "a declared function the library does not register",
    write: (n) => writeNative(n, {}, MANIFEST(n, "(define-function version () :int) (define-function missing () :int)")),
    reason: () => "kernel.sxs declares function 'missing' but dylib did not register it",
  },
  {
    title: "a function registered with another convention than its signature implies",
    write: (n) => writeNative(n, { convention: "SUP_CALL_VALUE" }),
    reason: () => "kernel.sxs declares function 'version' with the scalar convention but dylib registered it as value",
  },
  {
    title: "an unknown signature attribute",
    write: (n) => writeNative(n, {}, MANIFEST(n, "(define-function version () :int :fast)")),
    reason: () => "kernel.sxs: function 'version' has an unknown attribute :fast: expected :value or :raw",
  },
  {
    title: "a kernel_init that fails",
    write: (n) => writeNative(n, { initStatus: 3, initRaise: "no licence" }),
    reason: () => /^kernel_init of \S+ failed with status 3: no licence$/,
  },
  {
    title: "a library without kernel_init",
    write: (n) => writeNative(n, { noInit: true }),
    reason: () => /^Failed to find kernel_init in (dylib: \S+libkernel_bad\.so|kernel "bad" \(TinyCC\))$/,
  },
  {
    title: "sources that do not compile",
    write: (n) => writeNative(n, { syntaxError: true }),
    reason: (n) => new RegExp(`^Cannot build kernel "${n}"(: \\S+ exited with status 1:| with TinyCC:)\\n[^]*k\\.c:2`),
  },
  {
    title: "a prebuilt library that cannot be opened",
    write: (n) => {
      const dir = writeNative(n);
      rmSync(join(dir, "k.c"));
      writeFileSync(join(dir, `libkernel_${n}.so`), "not a shared library");
    },
    reason: () => /^Failed to load kernel dylib: .*libkernel_bad\.so/,
  },
];

const BAD_TS: BadCase[] = [
  {
    title: "a TypeScript kernel missing a declared function",
    write: (n) => writeTs(n, 9, "() => ({ functions: {} })"),
    reason: () => "kernel.sxs declares function 'version' but dylib did not register it",
  },
  {
    title: "a TypeScript kernel whose factory throws",
    write: (n) => writeTs(n, 9, '() => { throw new Error("no database"); }'),
    reason: (n) => `Kernel factory of ${join(root, n, "mod.ts")} failed: no database`,
  },
  {
    title: "a TypeScript kernel without a default factory",
    write: (n) => writeTs(n, 9, "42"),
    reason: (n) => `Kernel module ${join(root, n, "mod.ts")} must default-export a kernel definition { apiVersion, create } (kernel API 1, docs/kernels.md)`,
  },
  {
    title: "a TypeScript kernel built for another kernel API version",
    write: (n) => writeTs(n, 9, "{ apiVersion: 2, create: () => ({ functions: { version: () => 9 } }) }"),
    reason: (n) => `Kernel module ${join(root, n, "mod.ts")} was built for kernel API 2, but this sup provides kernel API 1`,
  },
  {
    title: "a TypeScript kernel that declares no kernel API version",
    write: (n) => writeTs(n, 9, "{ create: () => ({ functions: { version: () => 9 } }) }"),
    reason: (n) => `Kernel module ${join(root, n, "mod.ts")} declares no kernel API version (apiVersion); this sup provides kernel API 1`,
  },
  {
    title: "a TypeScript kernel importing a name the kernel API lacks",
    write: (n) => writeTs(n, 9, '{ apiVersion: 1, create: () => ({ functions: { version: () => Number(gone) } }) };\nimport { gone } from "sup/kernel"'),
    reason: (n) => new RegExp(`^Cannot import kernel module ${join(root, n, "mod.ts")}: .*gone.*sup/kernel.*\\(this sup provides kernel API 1; was the kernel written for another version\\?\\)$`),
  },
];

/** Expects `f` to throw a KernelLoadError whose message is `prefix` + the case's reason. */
function expectLoadError(f: () => unknown, prefix: string, reason: string | RegExp): void {
  const e = thrown(f);
  expect(e).toBeInstanceOf(KernelLoadError);
  if (typeof reason === "string") expect(e.message).toBe(prefix + reason);
  else {
    expect(e.message.startsWith(prefix)).toBe(true);
    expect(e.message.slice(prefix.length)).toMatch(reason);
  }
}

function badSuite(cases: readonly BadCase[], writeGood: (name: string) => void) {
  for (const c of cases) {
    test(`${c.title}: a first load fails and loads nothing`, () => {
      c.write("bad");
      const r = registry({ nativeBuild: { cacheDir, compiler: FAST_COMPILER } });
      expectLoadError(() => r.acquire("bad"), "", c.reason("bad"));
      expect(r.list()).toEqual([]);
    });
    test(`${c.title}: a reload fails and the old version stays current and working`, () => {
      writeGood("bad");
      const r = registry({ nativeBuild: { cacheDir, compiler: FAST_COMPILER } });
      const held = r.acquire("bad");
      const before = r.list();
      c.write("bad");
      expectLoadError(() => r.replace("bad"), 'Cannot reload kernel "bad": ', c.reason("bad"));
      expect(r.list()).toEqual(before);
      expect(call(held)).toBe(1);
      expect(call(r.acquire("bad"))).toBe(1);
      writeGood("bad");
      expect(r.replace("bad").version).toBe(2);
    });
  }
}

describe("bad native kernels are rejected precisely and change nothing", () => {
  badSuite(BAD_NATIVE, (n) => writeNative(n, { version: 1 }));
});

describe("bad TypeScript kernels are rejected precisely and change nothing", () => {
  badSuite(BAD_TS, (n) => writeTs(n, 1));
});

test("an unresolvable name is a load error naming it", () => {
  const r = registry();
  expectLoadError(() => r.acquire("no-such-kernel"), "", "Could not resolve kernel: no-such-kernel");
  expect(r.list()).toEqual([]);
});
