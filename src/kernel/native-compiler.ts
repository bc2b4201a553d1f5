/**
 * The system compilers behind native-build.ts: which compiler builds a kernel's C or C++ sources,
 * its identity (part of the cache key), the command line, and its output turned into
 * `file:line: message` diagnostics with paths relative to a project.
 *
 * Pure helpers: nothing here writes files or keeps state besides a per-process identity cache.
 */
import { basename } from "node:path";
import { SupError } from "../errors.ts";

/** The languages a kernel directory may be written in. */
export type SourceLanguage = "c" | "c++";

/** Source file extensions by language; a kernel with any C++ source is built by the C++ compiler. */
export const C_EXTENSIONS: readonly string[] = [".c"];
export const CXX_EXTENSIONS: readonly string[] = [".cpp", ".cc", ".cxx"];

/** How to find, and how to tell a user to install, the compiler of one language. */
interface LanguageTools {
  /** Shown in messages: "C", "C++". */
  readonly label: string;
  /** Environment variable naming a compiler command (SUP_CC=tinycc is handled by the caller). */
  readonly envVar: string;
  /** Commands tried in order on the search path. */
  readonly candidates: readonly string[];
  /** What to install when none is found, and the Debian package that provides it. */
  readonly installTool: string;
  readonly debianPackage: string;
}

const TOOLS: Readonly<Record<SourceLanguage, LanguageTools>> = {
  c: { label: "C", envVar: "SUP_CC", candidates: ["cc", "gcc", "clang"], installTool: "gcc", debianPackage: "gcc" },
  "c++": { label: "C++", envVar: "SUP_CXX", candidates: ["c++", "g++", "clang++"], installTool: "g++", debianPackage: "g++" },
};

/**
 * Flags of every system compile; part of the cache key, so changing them rebuilds every kernel.
 * The ABI needs position-independent shared code; -O2 because kernels exist to be fast.
 */
export const SYSTEM_COMPILE_FLAGS: readonly string[] = ["-O2", "-shared", "-fPIC"];
export const SYSTEM_LINK_LIBS: readonly string[] = ["-lm"];

/**
 * Extra flags for every system compile, C and C++ (`SUP_CFLAGS`, split at whitespace), placed after
 * SYSTEM_COMPILE_FLAGS so they can override them: a debug or sanitizer build (`scripts/sanitize`).
 * Part of the cache key. TinyCC takes no flags, so they do not apply to it.
 */
export function extraCompileFlags(): string[] {
  return (process.env.SUP_CFLAGS ?? "").split(/\s+/).filter((f) => f !== "");
}

/**
 * Lines of compiler output kept in an error message. A broken header can produce thousands of
 * lines; the first errors are the ones that explain the failure.
 */
export const COMPILER_OUTPUT_LINES_MAX = 40;

/** A native kernel could not be built or opened; the message carries the compiler's output. */
export class NativeBuildError extends SupError {
  constructor(message: string, code = "native-build") {
    super(code, message);
  }
}

/** No compiler can build the kernel; the message names the tool to install and its package. */
export class CompilerMissingError extends NativeBuildError {
  constructor(message: string) {
    super(message, "compiler-missing");
  }
}

/** The compiler rejected the kernel's sources; `diagnostics` holds its `file:line` lines. */
export class KernelCompileError extends NativeBuildError {
  constructor(
    message: string,
    readonly diagnostics: readonly CompilerDiagnostic[],
  ) {
    super(message, "kernel-compile");
  }
}

/** One `file:line[:col]: severity: message` line of compiler output. */
export interface CompilerDiagnostic {
  readonly file: string;
  readonly line: number;
  /** Null when the compiler gives no column (TinyCC). */
  readonly column: number | null;
  readonly severity: "error" | "warning" | "note";
  readonly message: string;
}

/** The language of a source file by its extension, or null when it is not a kernel source. */
export function languageOf(file: string): SourceLanguage | null {
  const dot = file.lastIndexOf(".");
  if (dot < 0) return null;
  const ext = file.slice(dot);
  if (C_EXTENSIONS.includes(ext)) return "c";
  if (CXX_EXTENSIONS.includes(ext)) return "c++";
  return null;
}

/** The compiler command named by SUP_CC / SUP_CXX, or null (unset, empty, or SUP_CC=tinycc). */
export function compilerFromEnv(language: SourceLanguage): string | null {
  const value = process.env[TOOLS[language].envVar];
  if (value === undefined || value === "" || (language === "c" && value === "tinycc")) return null;
  return value;
}

/**
 * The system compiler for `language`: the command the environment names when it exists, else the
 * first candidate found on `searchPath` (default: $PATH). Null when there is none.
 */
export function findSystemCompiler(language: SourceLanguage, searchPath?: string): string | null {
  const opts = searchPath === undefined ? undefined : { PATH: searchPath };
  const named = compilerFromEnv(language);
  if (named !== null) {
    const found = Bun.which(named, opts);
    if (found !== null) return found;
  }
  for (const candidate of TOOLS[language].candidates) {
    const found = Bun.which(candidate, opts);
    if (found !== null) return found;
  }
  return null;
}

/** Why no compiler was found, with what to install: `no C++ compiler found (install g++, Debian package "g++")`. */
export function missingCompilerDetail(language: SourceLanguage): string {
  const t = TOOLS[language];
  const named = compilerFromEnv(language);
  const tried = named !== null ? `"${named}" named by ${t.envVar} and ${t.candidates.join(", ")}` : t.candidates.join(", ");
  return `no ${t.label} compiler found (tried ${tried}; install ${t.installTool}, Debian package "${t.debianPackage}")`;
}

/** What to install for a language, for messages about other failures (TinyCC's missing headers). */
export function installHint(language: SourceLanguage): string {
  const t = TOOLS[language];
  return `install ${t.installTool}, Debian package "${t.debianPackage}"`;
}

const identities = new Map<string, string>();

/** The compiler's path and first `--version` line, cached per process (one spawn per compiler). */
export function compilerIdentity(compiler: string): string {
  let id = identities.get(compiler);
  if (id === undefined) {
    let banner = "";
    try {
      const r = Bun.spawnSync([compiler, "--version"], { stdout: "pipe", stderr: "pipe" });
      banner = r.stdout.toString().split("\n")[0] ?? "";
    } catch {
      // A compiler that cannot even report its version fails the build itself, with a clear message.
    }
    id = `${compiler}\n${banner}`;
    identities.set(compiler, id);
  }
  return id;
}

/** The sources of one compile, by language, plus the helper sources (always C) and include dirs. */
export interface CompileInputs {
  readonly cSources: readonly string[];
  readonly cxxSources: readonly string[];
  readonly helperSources: readonly string[];
  readonly includeDirs: readonly string[];
  readonly output: string;
  /** Flags after SYSTEM_COMPILE_FLAGS (extraCompileFlags()); none when absent. */
  readonly extraFlags?: readonly string[];
}

/**
 * The command line of one system compile. A C++ build names each file's language with `-x`, so the
 * C++ driver compiles the C helpers as C (their symbols keep C linkage) and links the C++ runtime.
 */
export function compileCommand(compiler: string, language: SourceLanguage, inputs: CompileInputs): string[] {
  const includes = inputs.includeDirs.flatMap((d) => ["-I", d]);
  const head = [compiler, ...SYSTEM_COMPILE_FLAGS, ...(inputs.extraFlags ?? []), ...includes];
  const tail = ["-o", inputs.output, ...SYSTEM_LINK_LIBS];
  if (language === "c") return [...head, ...inputs.cSources, ...inputs.helperSources, ...tail];
  const cxx = ["-x", "c++", ...inputs.cxxSources];
  const c = ["-x", "c", ...inputs.cSources, ...inputs.helperSources];
  return [...head, ...cxx, ...c, "-x", "none", ...tail];
}

/** A short name for a compiler in messages: `gcc`, `g++`, `TinyCC`. */
export function compilerLabel(compiler: string | null): string {
  return compiler === null ? "TinyCC" : basename(compiler);
}

const DIAGNOSTIC_LINE = /^(.+?):(\d+):(?:(\d+):)? (fatal error|error|warning|note): (.*)$/;

/** The `file:line` diagnostics of gcc, clang or TinyCC output, in order. */
export function parseDiagnostics(output: string): CompilerDiagnostic[] {
  const out: CompilerDiagnostic[] = [];
  for (const line of output.split("\n")) {
    const m = DIAGNOSTIC_LINE.exec(line.trimEnd());
    if (m === null) continue;
    const severity = m[4] === "fatal error" ? "error" : (m[4] as CompilerDiagnostic["severity"]);
    out.push({ file: m[1]!, line: Number(m[2]), column: m[3] !== undefined ? Number(m[3]) : null, severity, message: m[5]! });
  }
  return out;
}

/**
 * Compiler output as shown to a user: paths under `root` made relative to it (so a project's
 * errors read `kernels/geo/geo.c:3:5: error: …`), and cut to COMPILER_OUTPUT_LINES_MAX lines.
 */
export function displayOutput(output: string, root: string | null): string {
  let text = output.trim();
  if (root !== null && root.length > 1) {
    const escaped = root.replace(/\/+$/, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    text = text.replace(new RegExp(`(^|[\\s'"(\`‘])${escaped}/`, "gm"), "$1");
  }
  const lines = text.split("\n");
  if (lines.length <= COMPILER_OUTPUT_LINES_MAX) return text;
  const more = lines.length - COMPILER_OUTPUT_LINES_MAX;
  return [...lines.slice(0, COMPILER_OUTPUT_LINES_MAX), `… ${more} more line${more === 1 ? "" : "s"}`].join("\n");
}
