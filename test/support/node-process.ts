/**
 * Real `sup start` processes for black-box tests: each listens on 127.0.0.1 port 0, its stderr is
 * drained into a string (so a chatty node never blocks on a full pipe), and `stopAll` kills every
 * node a test file started. Also the CLI against a node's data directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SUP = join(import.meta.dir, "..", "..", "bin", "sup");

/** A started node. */
export interface NodeProcess {
  readonly proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly data: string;
  /** Everything the node wrote to stderr so far. */
  stderr(): string;
  /**
   * Resolves with stderr once it contains `pattern` (a node writes info lines at the end of an
   * event-loop turn, so a line may trail the event it reports); rejects with stderr after `ms`.
   */
  waitForStderr(pattern: string | RegExp, ms?: number): Promise<string>;
}

/** How a node is started (NodeSandbox.start). */
export interface StartOptions {
  /** A command that runs first and then execs the node (e.g. `setpriv --regid N --clear-groups`). */
  readonly prefix?: readonly string[];
  /** How long to wait for the node to print its address. */
  readonly startMs?: number;
}

/** How long a start may take by default. */
const START_WAIT_MS = 20_000;

/** How long waitForStderr waits by default: generous, for a loaded CI machine. */
const STDERR_WAIT_MS = 10_000;

/** A scratch directory for one test file, with the nodes it starts. */
export class NodeSandbox {
  readonly dir = mkdtempSync(join(tmpdir(), "sup-node-"));
  private readonly procs: Bun.Subprocess[] = [];

  /** A data directory path inside the sandbox. */
  dataDir(name = "data"): string {
    return join(this.dir, name);
  }

  /** Writes a file into the sandbox and returns its path. */
  file(name: string, text: string): string {
    const p = join(this.dir, name);
    writeFileSync(p, text);
    return p;
  }

  /**
   * Starts `sup start` on `data` and resolves once it prints its address (`startMs`, default 20 s,
   * at most). `prefix` runs it through another command that then execs it (e.g. `setpriv --regid N
   * --clear-groups`).
   */
  async start(data: string, extra: string[] = [], env: Record<string, string> = {}, options: StartOptions = {}): Promise<NodeProcess> {
    const proc = Bun.spawn([...(options.prefix ?? []), SUP, "start", "--data", data, "--http", "127.0.0.1:0", ...extra], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, ...env },
    });
    this.procs.push(proc);
    const { url, stderr } = await startedNode(proc, options.startMs);
    const waitForStderr = async (pattern: string | RegExp, ms = STDERR_WAIT_MS): Promise<string> => {
      const found = () => (typeof pattern === "string" ? stderr().includes(pattern) : pattern.test(stderr()));
      const deadline = Date.now() + ms;
      while (!found()) {
        if (Date.now() > deadline) throw new Error(`node stderr has no ${String(pattern)} after ${ms} ms:\n${stderr()}`);
        await Bun.sleep(10);
      }
      return stderr();
    };
    return { proc, url, data, stderr, waitForStderr };
  }

  /** Runs the CLI synchronously against a data directory. */
  cli(data: string, args: string[]): { code: number; out: string; err: string } {
    const r = Bun.spawnSync([SUP, ...args, "--data", data], { stdout: "pipe", stderr: "pipe" });
    return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
  }

  /** Kills every node still running and removes the sandbox. */
  cleanup(): void {
    for (const p of this.procs) p.kill("SIGKILL");
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves with a starting node's base URL once it prints `http://HOST:PORT/` (`ms` at most); its stderr keeps draining. */
export async function startedNode(proc: Bun.Subprocess<"ignore", "pipe", "pipe">, ms = START_WAIT_MS): Promise<{ url: string; stderr: () => string }> {
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  let err = "";
  let url: string | null = null;
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      err += decoder.decode(value, { stream: true });
      url ??= /running: .*(http:\/\/[\d.]+:\d+)\//.exec(err)?.[1] ?? null;
    }
  })();
  const deadline = Date.now() + ms;
  while (url === null && Date.now() < deadline && proc.exitCode === null) await Bun.sleep(10);
  if (url === null) {
    proc.kill("SIGKILL");
    await Promise.race([pump, Bun.sleep(500)]);
    throw new Error(`node did not start:\n${err}`);
  }
  return { url, stderr: () => err };
}
