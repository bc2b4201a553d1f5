/**
 * `bun run build`: compiles sup into one executable (default `dist/sup`) that needs no Bun, no
 * node_modules and no C compiler. It stages what the binary embeds — every standard kernel's
 * manifest and C sources, the native ABI folder, and the standard C kernels prebuilt as shared
 * libraries for the binary's target — and bakes a BuildInfo (embedded.ts) naming the hash of each
 * staged file, then runs `Bun.build` with bytecode, minification and code splitting (so `sup run`
 * does not load the HTTP stack that only `sup start` needs).
 *
 * Build-time only: nothing the binary runs imports this file. Prebuilt libraries are made by the
 * system C compiler when the target is this machine's, or by the compiler SUP_BUILD_CC names (a
 * cross compiler); otherwise the binary carries sources only and compiles them on first use.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { SupError } from "../errors.ts";
import { parseManifest } from "../lang/manifest.ts";
import type { BuildInfo, EmbeddedKernel } from "./embedded.ts";
import { compileCommand, compilerIdentity, findSystemCompiler, languageOf } from "./native-compiler.ts";

/** The checkout being built. */
const ROOT = resolve(import.meta.dir, "../..");
/** The files of native/ a kernel build needs (README.md stays out). */
const NATIVE_FILES = ["sup_kernel.h", "sup_value.h", "sup_value.c"];
/** Helper source compiled into every native kernel, as at run time (native-build.ts). */
const NATIVE_HELPER = "sup_value.c";
/** Files of a standard native kernel's folder that the binary embeds besides the manifest. */
const KERNEL_SOURCE_EXTENSIONS = [".c", ".h", ".cpp", ".cc", ".cxx", ".hpp"];

/** The build failed: a compiler, Bun's bundler, or the finished binary's self-check. */
export class BinaryBuildError extends SupError {
  constructor(message: string) {
    super("binary-build", message);
  }
}

/** How to build the binary. */
export interface BinaryBuildOptions {
  /** The executable to write. */
  readonly outfile: string;
  /** Bun's compile target (`bun-linux-arm64`, `bun-linux-x64-musl`, …), or null for this machine. */
  readonly target: string | null;
  /** Scratch folder holding the files to embed; emptied first. */
  readonly stageDir: string;
  /** Embed the standard C kernels as sources only, even when they could be prebuilt. */
  readonly sourcesOnly?: boolean;
  /** Receives one line per step. */
  readonly log?: (line: string) => void;
}

/** A target as sup names it: `linux-x64-glibc`. */
interface TargetParts {
  readonly os: string;
  readonly arch: string;
  readonly libc: "glibc" | "musl" | null;
}

/** Builds the binary and returns what it baked into it. */
export async function buildBinary(options: BinaryBuildOptions): Promise<BuildInfo> {
  const log = options.log ?? (() => {});
  const host = hostTarget();
  const target = options.target === null ? host : parseTarget(options.target);
  const stage = resolve(options.stageDir);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(join(stage, "kernels"), { recursive: true });
  mkdirSync(join(stage, "native"), { recursive: true });
  for (const f of NATIVE_FILES) copyFileSync(join(ROOT, "native", f), join(stage, "native", f));

  const compiler = options.sourcesOnly === true ? null : prebuildCompiler(target, host);
  if (compiler === null) {
    const why = options.sourcesOnly === true ? "--sources-only" : `no C compiler for ${targetName(target)}`;
    log(`${why}: the standard C kernels are embedded as sources, compiled on first use`);
  }
  const kernels: EmbeddedKernel[] = [];
  for (const name of readdirSync(join(ROOT, "kernels")).sort()) {
    const dir = join(ROOT, "kernels", name);
    const manifestPath = join(dir, "kernel.sxs");
    if (!existsSync(manifestPath)) continue;
    const parsed = parseManifest(readFileSync(manifestPath, "latin1"), "strict");
    if (!parsed.ok) throw new BinaryBuildError(`Cannot embed kernel "${name}": ${manifestPath}: ${parsed.error}`);
    const out = join(stage, "kernels", name);
    mkdirSync(out);
    copyFileSync(manifestPath, join(out, "kernel.sxs"));
    if (parsed.manifest.library.endsWith(".ts")) {
      kernels.push({ name, kind: "typescript", library: null });
      continue;
    }
    const sources = readdirSync(dir).filter((f) => KERNEL_SOURCE_EXTENSIONS.some((e) => f.endsWith(e)) && statSync(join(dir, f)).isFile());
    for (const f of sources) copyFileSync(join(dir, f), join(out, f));
    let library: string | null = null;
    if (compiler !== null) {
      const lib = join(out, basename(parsed.manifest.library));
      prebuild(compiler, dir, sources.map((f) => join(dir, f)), lib);
      library = relative(stage, lib);
      log(`prebuilt kernel ${name} with ${basename(compiler)} → ${library}`);
    }
    kernels.push({ name, kind: "native", library });
  }

  const files: Record<string, string> = {};
  for (const f of walk(stage)) files[relative(stage, f)] = new Bun.CryptoHasher("sha256").update(readFileSync(f)).digest("hex");
  const info: BuildInfo = {
    version: pkg.version,
    commit: gitCommit(),
    target: targetName(target),
    compiler: compiler === null ? null : compilerIdentity(compiler).split("\n").pop()!.trim() || basename(compiler),
    kernels,
    files,
  };

  const outfile = resolve(options.outfile);
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await Bun.build({
    // The exec worker is its own entry point: a compiled binary starts workers only from its entry points.
    entrypoints: [join(ROOT, "src", "cli", "main.ts"), join(ROOT, "src", "node", "exec-worker.ts")],
    compile: {
      outfile,
      ...(options.target !== null ? { target: options.target as Bun.Build.CompileTarget } : {}),
      assets: [join(stage, "kernels"), join(stage, "native")],
      // A server binary must not pick up whatever .env or bunfig.toml its working directory holds.
      autoloadDotenv: false,
      autoloadBunfig: false,
    },
    bytecode: true,
    minify: true,
    format: "esm",
    splitting: true,
    define: { SUP_BUILD_INFO: JSON.stringify(info) },
  });
  if (!result.success) throw new BinaryBuildError(`Cannot compile the sup binary:\n${result.logs.map((l) => String(l)).join("\n")}`);
  if (sameTarget(target, host)) selfCheck(outfile);
  const shown = relative(process.cwd(), outfile);
  log(`built ${shown === "" || shown.startsWith("..") ? outfile : shown} (${targetName(target)}, ${(statSync(outfile).size / 1e6).toFixed(1)} MB, commit ${info.commit})`);
  return info;
}

/** This machine's target. */
function hostTarget(): TargetParts {
  const libc = process.platform !== "linux" ? null : existsSync("/lib") && readdirSync("/lib").some((f) => f.startsWith("ld-musl-")) ? "musl" : "glibc";
  return { os: process.platform, arch: process.arch, libc };
}

/** Bun's `bun-linux-x64-baseline-musl` as sup names it; the CPU profile does not change the libraries. */
function parseTarget(bunTarget: string): TargetParts {
  const parts = bunTarget.split("-");
  if (parts[0] !== "bun" || parts.length < 3) throw new BinaryBuildError(`Cannot build for target "${bunTarget}": expected bun-OS-ARCH[-baseline|-modern][-musl], e.g. bun-linux-arm64`);
  const os = parts[1]!;
  return { os, arch: parts[2]!, libc: os !== "linux" ? null : parts.includes("musl") ? "musl" : "glibc" };
}

function targetName(t: TargetParts): string {
  return t.libc === null ? `${t.os}-${t.arch}` : `${t.os}-${t.arch}-${t.libc}`;
}

function sameTarget(a: TargetParts, b: TargetParts): boolean {
  return targetName(a) === targetName(b);
}

/** SUP_BUILD_CC (a cross compiler for the target), else the system compiler when the target is this machine. */
function prebuildCompiler(target: TargetParts, host: TargetParts): string | null {
  const named = process.env.SUP_BUILD_CC;
  if (named !== undefined && named !== "") {
    const found = Bun.which(named);
    if (found === null) throw new BinaryBuildError(`Cannot prebuild the standard C kernels: the compiler "${named}" named by SUP_BUILD_CC was not found`);
    return found;
  }
  return sameTarget(target, host) ? findSystemCompiler("c") : null;
}

/** Compiles one standard kernel with the run-time recipe (native-compiler.ts) into `output`. */
function prebuild(compiler: string, dir: string, sources: string[], output: string): void {
  const argv = compileCommand(compiler, sources.some((s) => languageOf(s) === "c++") ? "c++" : "c", {
    cSources: sources.filter((s) => languageOf(s) === "c"),
    cxxSources: sources.filter((s) => languageOf(s) === "c++"),
    helperSources: [join(ROOT, "native", NATIVE_HELPER)],
    includeDirs: [join(ROOT, "native"), dir],
    output,
  });
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new BinaryBuildError(`Cannot prebuild kernel "${basename(dir)}": ${basename(compiler)} exited with status ${r.exitCode}:\n${r.stderr.toString()}`);
}

/** Every file under `dir`, sorted. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** SUP_COMMIT when set (a Docker build has no .git), else the checkout's HEAD, `+dirty` with uncommitted changes. */
function gitCommit(): string {
  const given = process.env.SUP_COMMIT;
  if (given !== undefined && given !== "") return given;
  const git = (args: string[]) => {
    try {
      const r = Bun.spawnSync(["git", "-C", ROOT, ...args], { stdout: "pipe", stderr: "pipe" });
      return r.exitCode === 0 ? r.stdout.toString().trim() : null;
    } catch {
      return null;
    }
  };
  const head = git(["rev-parse", "--short=12", "HEAD"]);
  if (head === null) return "unknown";
  const status = git(["status", "--porcelain", "--untracked-files=no"]);
  return status !== null && status !== "" ? `${head}+dirty` : head;
}

/** Runs the new binary's `version`: a binary that cannot start must not pass for a build. */
function selfCheck(outfile: string): void {
  const r = Bun.spawnSync([outfile, "version"], { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin" } });
  if (r.exitCode !== 0 || !r.stdout.toString().startsWith("sup ")) {
    throw new BinaryBuildError(`The built binary does not run: "${outfile} version" exited with status ${r.exitCode}:\n${r.stderr.toString()}`);
  }
}

/** `bun src/kernel/embedded-build.ts [--outfile F] [--target T] [--stage-dir D] [--sources-only]` (scripts/build). */
async function main(argv: string[]): Promise<number> {
  const { parseArgs } = await import("node:util");
  const { values } = parseArgs({
    args: argv,
    options: { outfile: { type: "string" }, target: { type: "string" }, "stage-dir": { type: "string" }, "sources-only": { type: "boolean" } },
    strict: true,
  });
  const outfile = values.outfile ?? join(ROOT, "dist", "sup");
  try {
    await buildBinary({
      outfile,
      target: values.target ?? null,
      stageDir: values["stage-dir"] ?? join(dirname(resolve(outfile)), `.${basename(outfile)}-stage`),
      sourcesOnly: values["sources-only"] === true,
      log: (line) => process.stderr.write(`sup build: ${line}\n`),
    });
    return 0;
  } catch (e) {
    if (!(e instanceof SupError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
}

if (import.meta.main) void main(process.argv.slice(2)).then((code) => process.exit(code));
