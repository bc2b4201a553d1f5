/**
 * The servers `bench/http.ts` loads, each in its own process: the bare Elysia baseline and real
 * `bin/sup start` nodes. Every start is bounded in time, and stop always ends the process
 * (SIGTERM, then SIGKILL after a grace period).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

const ROOT = resolve(import.meta.dir, "..");
/** How long a server may take to start listening. */
const START_MS_MAX = 20_000;
/** How long a stopping server may drain before it is killed. */
const STOP_MS_MAX = 15_000;
const POLL_MS = 50;

/** A running server process. */
export interface BenchServer {
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly proc: Subprocess;
  /** Stops the process (SIGTERM, SIGKILL after STOP_MS_MAX); resolves with its exit code. */
  stop(): Promise<number | null>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function stopper(proc: Subprocess): () => Promise<number | null> {
  return async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill("SIGTERM");
    const done = await Promise.race([proc.exited.then(() => true), sleep(STOP_MS_MAX).then(() => false)]);
    if (!done) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
    return proc.exitCode;
  };
}

/** Starts the bare Elysia server (bench/http-bare-server.ts) on a free port. */
export async function startBare(): Promise<BenchServer> {
  const proc = Bun.spawn([process.execPath, join(ROOT, "bench", "http-bare-server.ts"), "0"], { stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  const stop = stopper(proc);
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + START_MS_MAX;
  while (Date.now() < deadline) {
    const next = await Promise.race([reader.read(), sleep(deadline - Date.now()).then(() => null)]);
    if (next === null || next.done) break;
    text += new TextDecoder().decode(next.value);
    const m = /listening (\d+)/.exec(text);
    if (m !== null) {
      reader.releaseLock();
      return { base: `http://127.0.0.1:${m[1]}`, proc, stop };
    }
  }
  await stop();
  throw new Error(`The bare Elysia server did not start: ${text}`);
}

/**
 * Starts `bin/sup start` with a fresh data dir on 127.0.0.1 and a free port, its stderr (the
 * request log) going to `logPath`. `env` adds to (or, with undefined, removes from) the environment.
 */
export async function startNode(dataDir: string, logPath: string, env: Readonly<Record<string, string | undefined>>): Promise<BenchServer> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
  const proc = Bun.spawn([join(ROOT, "bin", "sup"), "start", "--data", dataDir, "--http", "127.0.0.1:0"], {
    stdout: "ignore",
    stderr: Bun.file(logPath),
    stdin: "ignore",
    env: childEnv,
  });
  const stop = stopper(proc);
  const deadline = Date.now() + START_MS_MAX;
  while (Date.now() < deadline && proc.exitCode === null) {
    const log = existsSync(logPath) ? readFileSync(logPath, "utf8") : "";
    const m = /running: .*http:\/\/([\d.]+:\d+)\//.exec(log);
    if (m !== null && existsSync(join(dataDir, "admin.sock"))) return { base: `http://${m[1]}`, proc, stop };
    await sleep(POLL_MS);
  }
  await stop();
  throw new Error(`The sup node in ${dataDir} did not start:\n${existsSync(logPath) ? readFileSync(logPath, "utf8") : "(no output)"}`);
}

/** Stores `source` as route `name` through the CLI (`sup code put`), as an operator would. */
export function putWithCli(dataDir: string, name: string, file: string): void {
  const r = Bun.spawnSync([join(ROOT, "bin", "sup"), "code", "put", name, file, "--data", dataDir], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`sup code put "${name}" failed: ${r.stderr.toString()}`);
}

/** Stores `source` as route `name` (with `meta`) through the admin socket (cheaper than a CLI process); returns the version. */
export async function putWithAdmin(dataDir: string, name: string, source: string, meta?: Record<string, unknown>): Promise<number> {
  const res = await fetch("http://localhost/code/put", {
    unix: join(dataDir, "admin.sock"),
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, source, meta, author: "bench" }),
  });
  const payload = (await res.json()) as { ok?: { version?: number }; error?: { message?: string } };
  if (!res.ok || payload.ok?.version === undefined) throw new Error(`Admin put of "${name}" failed: ${payload.error?.message ?? res.status}`);
  return payload.ok.version;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux everywhere in practice). */
const PROC_TICKS_PER_S = 100;

/**
 * CPU milliseconds (user + system) the main thread of process `pid` has used, from /proc; NaN where
 * there is no /proc. The main thread is where a server answers requests: the collector's and other
 * helper threads are left out.
 */
export function mainThreadCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / PROC_TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** Requests the node has answered, from its metrics (the sum of sup_http_requests_total). */
export async function answeredRequests(base: string): Promise<number> {
  const text = await (await fetch(`${base}/_sup/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(/^sup_http_requests_total\{[^}]*\} (\d+)$/gm)) total += Number(m[1]);
  return total;
}
