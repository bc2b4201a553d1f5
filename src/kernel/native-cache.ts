/**
 * The native build cache: the content hash that names a kernel's library, and the compile that
 * fills one cache entry. An entry is `<root>/kernels/<name>-<hash>/` holding the library and
 * `build.json` (which kernel directory it was built from, so `sup deps` can tell a stale entry).
 *
 * Invariant: the library appears at its final path only by an atomic rename after the compiler
 * succeeded; a failed build removes its temporary file and leaves no library behind.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Manifest } from "../lang/manifest.ts";
import { compileCommand, compilerIdentity, extraCompileFlags, languageOf, SYSTEM_COMPILE_FLAGS, SYSTEM_LINK_LIBS, type SourceLanguage } from "./native-compiler.ts";

/** Hex digits of the content hash kept in a cache directory name: 64 bits, ample for one user's kernels. */
const CACHE_HASH_HEX_DIGITS = 16;
/** Bumped when the build recipe changes in a way the other key parts would not show. */
const BUILD_RECIPE_VERSION = "sup-native-build-2";
/** The record of what an entry was built from. */
const BUILD_INFO_FILE = "build.json";
/** The files of native/ whose contents key every kernel's cache entry. */
const NATIVE_KEY_FILES = ["sup_kernel.h", "sup_value.h", "sup_value.c"];
/** Headers of a kernel directory that key its entry besides its sources. */
const HEADER_EXTENSIONS = [".h", ".hpp", ".hh", ".hxx"];

/** What keys a cache entry. */
export interface CacheKeyInputs {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly sources: readonly string[];
  readonly language: SourceLanguage;
  readonly compiler: string;
  readonly nativeDir: string;
  /** The cache root, where the compiler's identity is kept between processes (see compilerIdentityKept). */
  readonly cacheRoot?: string;
}

/**
 * The cache key: recipe, kernel directory, compiler identity, language, flags (SUP_CFLAGS too), kernel sources and
 * headers, manifest, native helpers. The directory is part of it so two kernel directories never
 * share one library file, which would make them share one instance (and its C globals) in a process.
 */
export function cacheKey(k: CacheKeyInputs): string {
  return keyOf(k, (part) => part("compiler", k.cacheRoot !== undefined ? compilerIdentityKept(k.compiler, k.cacheRoot) : compilerIdentity(k.compiler)));
}

/** Where compiler identities are kept, under the cache root. */
const COMPILERS_DIR = "compilers";

/**
 * compilerIdentity, kept in `<root>/compilers/` with the compiler file's inode, size and
 * modification time: asking the compiler (a process spawned, about 8 ms) then happens once per
 * installed compiler instead of in every process that opens a cached kernel, and a replaced or
 * upgraded compiler (another file) is asked again. Failing to read or write the record only
 * costs the spawn.
 */
export function compilerIdentityKept(compiler: string, root: string): string {
  let stamp: string;
  try {
    const st = statSync(compiler);
    stamp = `${st.ino} ${st.size} ${st.mtimeMs}`;
  } catch {
    return compilerIdentity(compiler);
  }
  const record = join(root, COMPILERS_DIR, new Bun.CryptoHasher("sha256").update(compiler).digest("hex").slice(0, CACHE_HASH_HEX_DIGITS));
  try {
    const text = readFileSync(record, "utf8");
    const nl = text.indexOf("\n");
    if (nl > 0 && text.slice(0, nl) === stamp) return text.slice(nl + 1);
  } catch {
    // Not recorded yet.
  }
  const id = compilerIdentity(compiler);
  try {
    mkdirSync(dirname(record), { recursive: true });
    const temp = `${record}.${process.pid}.tmp`;
    writeFileSync(temp, `${stamp}\n${id}`);
    renameSync(temp, record);
  } catch {
    // A read-only cache: the next process asks the compiler again.
  }
  return id;
}

/**
 * The cache key without the compiler: everything the library was built from, plus the platform it
 * runs on. Recorded in an entry's build.json so a machine without a compiler (a `sup` binary on a
 * server) can use a library that another compiler built from exactly these sources.
 */
export function sourceKey(k: Omit<CacheKeyInputs, "compiler">): string {
  return keyOf(k, (part) => part("platform", `${process.platform}-${process.arch}`));
}

type KeyPart = (label: string, data: string | Uint8Array) => void;

function keyOf(k: Omit<CacheKeyInputs, "compiler">, extra: (part: KeyPart) => void): string {
  const h = new Bun.CryptoHasher("sha256");
  const part: KeyPart = (label, data) => {
    h.update(`${label}\0${data.length}\0`);
    h.update(data);
  };
  part("recipe", BUILD_RECIPE_VERSION);
  part("dir", k.dir);
  extra(part);
  part("language", k.language);
  part("flags", [...SYSTEM_COMPILE_FLAGS, ...extraCompileFlags(), ...SYSTEM_LINK_LIBS].join(" "));
  const headers = readdirSync(k.dir)
    .filter((f) => HEADER_EXTENSIONS.some((e) => f.endsWith(e)))
    .sort();
  for (const f of [...k.sources.map((s) => basename(s)), ...headers]) part(`kernel/${f}`, readFileSync(join(k.dir, f)));
  const manifestPath = join(k.dir, "kernel.sxs");
  part("manifest", existsSync(manifestPath) ? readFileSync(manifestPath) : JSON.stringify({ library: k.manifest.library, functions: k.manifest.functions }));
  for (const f of NATIVE_KEY_FILES) part(`native/${f}`, readFileSync(join(k.nativeDir, f)));
  return h.digest("hex").slice(0, CACHE_HASH_HEX_DIGITS);
}

/** One compile into the cache. */
export interface CacheBuild {
  readonly name: string;
  readonly dir: string;
  /** The library's final path: `<root>/kernels/<name>-<hash>/<library>`. */
  readonly target: string;
  readonly compiler: string;
  readonly language: SourceLanguage;
  readonly sources: readonly string[];
  readonly helperSources: readonly string[];
  readonly includeDirs: readonly string[];
  /** The entry's sourceKey, recorded in build.json. */
  readonly sourceKey: string;
}

/** Why a compile failed: the compiler's exit status and output, or an I/O problem with the cache. */
export type CacheBuildFailure = { readonly kind: "compile"; readonly status: number; readonly detail: string } | { readonly kind: "io"; readonly detail: string };

/**
 * Compiles into a temporary file next to the target and renames it into place; then records the
 * entry and removes older entries of the same kernel directory. Returns null on success.
 */
export function buildIntoCache(b: CacheBuild): CacheBuildFailure | null {
  const outDir = dirname(b.target);
  const temp = join(outDir, `.${basename(b.target)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    return { kind: "io", detail: `cannot create the cache directory "${outDir}": ${(e as Error).message}` };
  }
  const argv = compileCommand(b.compiler, b.language, {
    cSources: b.sources.filter((s) => languageOf(s) === "c"),
    cxxSources: b.sources.filter((s) => languageOf(s) === "c++"),
    helperSources: b.helperSources,
    includeDirs: b.includeDirs,
    output: temp,
    extraFlags: extraCompileFlags(),
  });
  let status: number;
  let output: string;
  try {
    const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
    status = r.exitCode ?? -1;
    output = r.stderr.toString() + r.stdout.toString();
  } catch (e) {
    status = -1;
    output = `cannot run ${b.compiler}: ${(e as Error).message}`;
  }
  if (status !== 0 || !existsSync(temp)) {
    rmSync(temp, { force: true });
    removeIfEmpty(outDir);
    return { kind: "compile", status, detail: output };
  }
  try {
    writeFileSync(join(outDir, BUILD_INFO_FILE), JSON.stringify({ dir: b.dir, compiler: b.compiler, sources: b.sources.map((s) => basename(s)), sourceKey: b.sourceKey }) + "\n");
    renameSync(temp, b.target);
  } catch (e) {
    rmSync(temp, { force: true });
    return { kind: "io", detail: `cannot write "${b.target}": ${(e as Error).message}` };
  }
  pruneOtherBuilds(dirname(dirname(outDir)), b.name, b.dir, outDir);
  return null;
}

/** Other cache entries (under `<root>/kernels`) built from the same kernel directory as `keep`. */
export function findOtherBuilds(root: string, name: string, dir: string, keep: string): string[] {
  const kernels = join(root, "kernels");
  let entries: string[];
  try {
    entries = readdirSync(kernels);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const entry = join(kernels, e);
    if (!e.startsWith(`${name}-`) || entry === keep) continue;
    try {
      const info = JSON.parse(readFileSync(join(entry, BUILD_INFO_FILE), "utf8")) as { dir?: unknown };
      if (info.dir === dir) out.push(entry);
    } catch {
      // Entries without a readable record were made by older versions; they are not ours to judge.
    }
  }
  return out;
}

/**
 * The library of an entry (under `<root>/kernels`) built from the kernel directory `dir` whose
 * build.json records `key` as its sourceKey, or null. Any compiler's build will do.
 */
export function findBuildBySource(root: string, name: string, dir: string, key: string, libName: string): string | null {
  const kernels = join(root, "kernels");
  let entries: string[];
  try {
    entries = readdirSync(kernels);
  } catch {
    return null;
  }
  for (const e of entries.sort()) {
    if (!e.startsWith(`${name}-`)) continue;
    const entry = join(kernels, e);
    try {
      const info = JSON.parse(readFileSync(join(entry, BUILD_INFO_FILE), "utf8")) as { dir?: unknown; sourceKey?: unknown };
      const library = join(entry, libName);
      if (info.dir === dir && info.sourceKey === key && existsSync(library)) return library;
    } catch {
      // An entry without a readable record cannot be vouched for.
    }
  }
  return null;
}

/**
 * Removes the entries a new build replaced. A process that still has the old library open keeps
 * its mapping (unlinking does not unmap), so this is safe while other runs are going.
 */
function pruneOtherBuilds(root: string, name: string, dir: string, keep: string): void {
  for (const entry of findOtherBuilds(root, name, dir, keep)) {
    rmSync(entry, { recursive: true, force: true });
  }
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  } catch {
    // Another build may be using the directory; leaving it is harmless.
  }
}
