/**
 * The compiled `sup` binary for black-box tests, and a sandbox that runs it the way a machine with
 * only that file would. The binary is built by scripts/build into a temp folder, once per kind until
 * releaseBinaries() (call it in the test file's afterAll: `bun test` runs no exit handlers). A sandbox gives it a clean environment, a PATH holding a few basic tools
 * and no Bun or C compiler, its own HOME and SUP_HOME, and a working folder outside the checkout;
 * where `unshare -m` is allowed (root, as in CI containers) each run also gets a private mount
 * namespace in which the checkout (with the pinned Bun and node_modules), the C headers and gcc's
 * own files are hidden behind empty tmpfs mounts, so nothing can be read from there or compiled.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
/** Building takes a few seconds (bundling, three gcc compiles); far longer means something is wrong. */
export const BUILD_TIMEOUT_MS = 120_000;
/** Tools a sandbox's PATH offers: enough for a shell script, nothing that compiles or runs JavaScript. */
const BASIC_TOOLS = ["sh", "env", "cat", "ls", "true"];
/** Commands that must not be found on a sandbox's PATH. */
export const FORBIDDEN_TOOLS = ["bun", "node", "cc", "gcc", "clang", "tcc", "c++", "g++"];

/** The two builds tests use: the standard C kernels prebuilt (the default), or embedded as sources. */
export type BinaryKind = "prebuilt" | "sources";
const building = new Map<BinaryKind, Promise<string>>();
const buildDirs: string[] = [];

/** Builds the binary once per kind (later calls share the build) and returns its path. */
export function builtBinary(kind: BinaryKind = "prebuilt"): Promise<string> {
  let b = building.get(kind);
  if (b === undefined) building.set(kind, (b = build(kind)));
  return b;
}

/** Removes every binary built so far, once their builds have settled; the next builtBinary builds anew. */
export async function releaseBinaries(): Promise<void> {
  await Promise.allSettled(building.values());
  building.clear();
  for (const dir of buildDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

async function build(kind: BinaryKind): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "sup-binary-"));
  buildDirs.push(dir);
  const out = join(dir, "sup");
  const extra = kind === "sources" ? ["--sources-only"] : [];
  const proc = Bun.spawn(["bash", join(ROOT, "scripts", "build"), "--outfile", out, "--stage-dir", join(dir, "stage"), ...extra], { stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => proc.kill("SIGKILL"), BUILD_TIMEOUT_MS);
  const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  clearTimeout(killer);
  if (code !== 0) throw new Error(`scripts/build failed (${code}):\n${err}`);
  return out;
}

const mountCommand = Bun.which("mount");
const unshareCommand = Bun.which("unshare");
const setprivCommand = Bun.which("setpriv");

/** True when this process may make a private mount namespace (and so hide folders from the binary). */
export const CAN_HIDE =
  process.platform === "linux" && mountCommand !== null && unshareCommand !== null && Bun.spawnSync([unshareCommand, "-m", "true"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

/** The C headers and gcc's own files: hidden, nothing can compile (not even Bun's TinyCC, which needs the headers). */
export const COMPILER_DIRS: readonly string[] = ["/usr/include", "/usr/local/include", "/usr/lib/gcc", "/usr/libexec/gcc"];

/** Folders hidden from the binary when CAN_HIDE: the checkout, the Bun running the tests, and COMPILER_DIRS. */
export const HIDDEN_DIRS: readonly string[] = [ROOT, dirname(process.execPath), ...COMPILER_DIRS].filter(
  // A folder inside another hidden one is gone already (and cannot be mounted on); the tool folders
  // and a folder holding the sandboxes themselves (a TMPDIR inside the checkout) stay visible.
  (d, i, all) =>
    all.indexOf(d) === i &&
    !all.some((o) => o !== d && d.startsWith(o + "/")) &&
    !["/usr/bin", "/bin", "/usr/local/bin"].includes(d) &&
    !(tmpdir() + "/").startsWith(d + "/") &&
    existsSync(d),
);

/** Whether the tests run as root and can drop to an unprivileged user for a run. */
export const CAN_DROP_PRIVILEGES = process.getuid?.() === 0 && setprivCommand !== null;
/** The unprivileged user a run drops to (nobody). */
export const NOBODY_UID = 65534;

/** How to run the binary once. */
export interface RunOptions {
  /** Arguments after the binary. */
  readonly args: readonly string[];
  /** Working folder (default: the sandbox's `work`). */
  readonly cwd?: string;
  /** Variables added to (or replacing) the sandbox's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run as NOBODY_UID (needs CAN_DROP_PRIVILEGES). */
  readonly asNobody?: boolean;
  /** Shell commands run just before the binary, e.g. `ulimit -f 4`. */
  readonly prelude?: string;
  /** Leave the C headers and gcc visible (COMPILER_DIRS), for a run that may compile. */
  readonly allowCompiler?: boolean;
}

/** A scratch machine for the binary. */
export class BinarySandbox {
  readonly dir = mkdtempSync(join(tmpdir(), "sup-sandbox-"));
  readonly bin = join(this.dir, "bin");
  readonly home = join(this.dir, "home");
  readonly supHome = join(this.dir, "sup-home");
  readonly work = join(this.dir, "work");
  /** The binary's copy inside the sandbox. */
  readonly sup = join(this.dir, "sup");
  private readonly procs: Bun.Subprocess[] = [];

  constructor(binary: string) {
    // Readable by all, so a run that drops to an unprivileged user still reaches the binary.
    chmodSync(this.dir, 0o755);
    for (const d of [this.bin, this.home, this.work]) mkdirSync(d, { mode: 0o755 });
    for (const t of BASIC_TOOLS) {
      const found = Bun.which(t, { PATH: "/usr/bin:/bin" });
      if (found !== null) symlinkSync(found, join(this.bin, t));
    }
    copyFileSync(binary, this.sup);
    chmodSync(this.sup, 0o755);
  }

  /** The clean environment of every run. */
  env(extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    return { PATH: this.bin, HOME: this.home, SUP_HOME: this.supHome, SUP_LOG: "warn", ...extra };
  }

  /** The argv that runs the binary with `options` (through unshare, setpriv and a shell as needed). */
  argv(options: RunOptions): string[] {
    const drop = options.asNobody === true ? `${setprivCommand} --reuid=${NOBODY_UID} --regid=${NOBODY_UID} --clear-groups -- ` : "";
    const hidden = options.allowCompiler === true ? HIDDEN_DIRS.filter((d) => !COMPILER_DIRS.includes(d)) : HIDDEN_DIRS;
    const hide = CAN_HIDE ? hidden.map((d) => `${mountCommand} -t tmpfs -o size=64k,mode=0755 none ${shellQuote(d)} && `).join("") : "";
    const prelude = options.prelude !== undefined ? `${options.prelude}; ` : "";
    const script = `${hide}${prelude}exec ${drop}"$0" "$@"`;
    const sh = ["/bin/sh", "-c", script, this.sup, ...options.args];
    return CAN_HIDE ? [unshareCommand!, "-m", ...sh] : sh;
  }

  /** Runs the binary to completion. */
  run(options: RunOptions): { code: number; out: string; err: string } {
    const r = Bun.spawnSync(this.argv(options), { cwd: options.cwd ?? this.work, env: this.env(options.env), stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode ?? -1, out: r.stdout.toString("latin1"), err: r.stderr.toString() };
  }

  /** Starts the binary (a node); the sandbox kills it at cleanup if it still runs. */
  spawn(options: RunOptions): Bun.Subprocess<"ignore", "pipe", "pipe"> {
    const proc = Bun.spawn(this.argv(options), { cwd: options.cwd ?? this.work, env: this.env(options.env), stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    this.procs.push(proc);
    return proc;
  }

  /** Kills what is still running and removes the sandbox. */
  cleanup(): void {
    for (const p of this.procs) p.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}
