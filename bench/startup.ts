/**
 * `bun run bench --only startup` (or `bun bench/startup.ts`): what the compiled binary costs to start.
 *
 * 1. Start-up: `sup run empty.sxs` and `sup check empty.sxs` next to bare Bun measured in the same
 *    run: `bun -e ''` (Bun exits before it creates a JavaScript VM for an empty script, so this is
 *    process start-up only), `bun -e 0` (the smallest script that starts the VM) and an empty
 *    script compiled like sup (`bun build --compile --bytecode`: the floor of any such binary).
 *    With hyperfine when installed (no shell, warm-up runs), else an interleaved timing loop.
 * 2. `sup start` until the first HTTP 200 on `/` (a new data directory, then a restart on the same
 *    one), next to a bare `Bun.serve` answering its first request.
 * 3. The binary's size (and the Bun runtime's, which it contains), and the peak RSS of an idle node
 *    (VmHWM after start-up, a health check and a second of idling).
 *
 * Options: --sup PATH (default dist/sup, built first when missing), --build (rebuild it first),
 * --runs N (start-up runs, default 40), --starts N (node starts, default 8).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const ROOT = resolve(import.meta.dir, "..");
/** The Bun running this script: the same runtime the binary was compiled with. */
const BUN = process.execPath;
/** A node that has not answered by then is broken, not slow. */
const START_TIMEOUT_MS = 20_000;
/** How long the node idles before its peak RSS is read. */
const IDLE_MS = 1_000;

interface Timing {
  readonly label: string;
  readonly medianMs: number;
  readonly meanMs: number;
  readonly minMs: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timingOf(label: string, ms: readonly number[]): Timing {
  return { label, medianMs: median(ms), meanMs: ms.reduce((a, b) => a + b, 0) / ms.length, minMs: Math.min(...ms) };
}

/**
 * hyperfine runs one command's runs back to back, so a burst of other work on a shared machine can
 * land on one command only; the runs are split into this many rounds, each timing every command.
 */
const HYPERFINE_ROUNDS = 4;

/** Times each command `runs` times with hyperfine (no shell, warm-up runs), in rounds. */
function withHyperfine(commands: readonly { label: string; argv: string[] }[], runs: number, work: string, env: Record<string, string>): Timing[] {
  const json = join(work, "hyperfine.json");
  const times = commands.map(() => [] as number[]);
  for (let round = 0; round < HYPERFINE_ROUNDS; round++) {
    const n = Math.max(1, Math.round(runs / HYPERFINE_ROUNDS));
    // hyperfine -N splits its command strings on spaces: quote nothing, keep the arguments plain.
    const r = Bun.spawnSync(["hyperfine", "-N", "--warmup", "3", "--runs", String(n), "--export-json", json, ...commands.map((c) => c.argv.join(" "))], {
      cwd: work,
      env,
      stdout: "pipe",
      stderr: "pipe",
    });
    if (r.exitCode !== 0) throw new Error(`hyperfine failed:\n${r.stderr.toString()}`);
    const results = (JSON.parse(readFileSync(json, "utf8")) as { results: { times: number[] }[] }).results;
    results.forEach((res, i) => times[i]!.push(...res.times.map((sec) => sec * 1000)));
  }
  return commands.map((c, i) => timingOf(c.label, times[i]!));
}

/** Times each command `runs` times, interleaved so background load hits them alike. */
function withLoop(commands: readonly { label: string; argv: string[] }[], runs: number, work: string, env: Record<string, string>): Timing[] {
  const times = commands.map(() => [] as number[]);
  for (let r = 0; r < runs + 3; r++) {
    commands.forEach((c, i) => {
      const t0 = performance.now();
      const p = Bun.spawnSync(c.argv, { cwd: work, env, stdout: "ignore", stderr: "ignore" });
      const ms = performance.now() - t0;
      if (p.exitCode !== 0) throw new Error(`${c.argv.join(" ")} exited with ${p.exitCode}`);
      if (r >= 3) times[i]!.push(ms);
    });
  }
  return commands.map((c, i) => timingOf(c.label, times[i]!));
}

/** Spawns `argv`, waits for `http://HOST:PORT/` on stderr, then polls `/` until it answers 200. */
async function timeToFirst200(argv: string[], env: Record<string, string>): Promise<{ ms: number; url: string; proc: Bun.Subprocess<"ignore", "ignore", "pipe"> }> {
  const t0 = performance.now();
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe", env });
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  let err = "";
  let url: string | null = null;
  const deadline = t0 + START_TIMEOUT_MS;
  while (url === null) {
    const { done, value } = await Promise.race([reader.read(), Bun.sleep(deadline - performance.now()).then(() => ({ done: true, value: undefined }))]);
    if (done) {
      proc.kill("SIGKILL");
      throw new Error(`${argv.join(" ")} did not print its address:\n${err}`);
    }
    err += decoder.decode(value, { stream: true });
    url = /(http:\/\/[\d.]+:\d+)\//.exec(err)?.[1] ?? null;
  }
  // Keep draining stderr so a chatty node never blocks on a full pipe.
  void (async () => {
    for (;;) if ((await reader.read()).done) return;
  })();
  for (;;) {
    try {
      const res = await fetch(`${url}/`);
      await res.arrayBuffer();
      if (res.status === 200) return { ms: performance.now() - t0, url, proc };
    } catch {
      // Not accepting yet.
    }
    if (performance.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`${argv.join(" ")} never answered 200`);
    }
    await Bun.sleep(1);
  }
}

async function stop(proc: Bun.Subprocess): Promise<void> {
  proc.kill("SIGTERM");
  const killer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
  await proc.exited;
  clearTimeout(killer);
}

/** Peak and current RSS of a running process, in MiB, from /proc (Linux). */
function rssOf(pid: number): { peakMiB: number; nowMiB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { peakMiB: kib("VmHWM") / 1024, nowMiB: kib("VmRSS") / 1024 };
  } catch {
    return null;
  }
}

function ensureBinary(sup: string, rebuild: boolean): void {
  if (!rebuild && existsSync(sup)) return;
  console.log(`building ${sup} …`);
  const r = Bun.spawnSync(["bash", join(ROOT, "scripts", "build"), "--outfile", sup], { stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("bun run build failed");
}

/** An empty script compiled with sup's options: what any `bun build --compile` binary costs to start. */
function compileEmptyBinary(work: string): string {
  const src = join(work, "floor.ts");
  const out = join(work, "floor");
  writeFileSync(src, "process.exitCode = 0;\n");
  const r = Bun.spawnSync([BUN, "build", "--compile", "--bytecode", "--minify", "--format=esm", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", src, "--outfile", out], {
    stdout: "ignore",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`cannot compile the empty binary:\n${r.stderr.toString()}`);
  return out;
}

/** The column titles over row()'s columns. */
function heading(label: string, ratios: readonly string[]): string {
  return `${label.padEnd(34)} ${"median".padStart(8)} ${"mean".padStart(8)} ${"min".padStart(8)}${ratios.map((r) => r.padStart(11)).join("")}`;
}

function row(t: Timing, bases: readonly Timing[]): string {
  const ratios = bases.map((b) => `${(t.medianMs / b.medianMs).toFixed(1)}x`.padStart(11)).join("");
  return `${t.label.padEnd(34)} ${t.medianMs.toFixed(1).padStart(8)} ${t.meanMs.toFixed(1).padStart(8)} ${t.minMs.toFixed(1).padStart(8)}${ratios}`;
}

/** What to measure and how often. */
export interface StartupBenchOptions {
  /** The binary (default dist/sup, built first when missing). */
  readonly sup?: string;
  /** Rebuild the binary first. */
  readonly build?: boolean;
  /** Start-up runs per command (default 40). */
  readonly runs?: number;
  /** Node starts (default 8). */
  readonly starts?: number;
}

/** Runs the start-up benchmark and prints its tables; returns the number of failures (0: it throws on any). */
export async function startupBench(options: StartupBenchOptions = {}): Promise<number> {
  const sup = resolve(options.sup ?? join(ROOT, "dist", "sup"));
  const runs = options.runs ?? 40;
  const starts = options.starts ?? 8;
  ensureBinary(sup, options.build === true);
  const work = mkdtempSync(join(tmpdir(), "sup-bench-startup-"));
  // A private SUP_HOME: the first native load extracts the embedded libraries there, not in ~/.sup.
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, SUP_HOME: join(work, "sup-home"), SUP_LOG: "warn" };
  try {
    writeFileSync(join(work, "empty.sxs"), "[ ]\n");
    writeFileSync(join(work, "native.sxs"), '[ #(load "alu") (alu/add 1 2) ]\n');
    Bun.spawnSync([sup, "run", "native.sxs"], { cwd: work, env }); // extract once, so the timing is the cached path
    const version = Bun.spawnSync([sup, "version"], { env, stdout: "pipe" }).stdout.toString().trim().split("\n");
    const floor = compileEmptyBinary(work);
    console.log(`sup start-up benchmark: ${sup}\n${version.map((l) => `  ${l}`).join("\n")}\n`);

    const commands = [
      { label: "bun -e ''   (no VM: exits early)", argv: [BUN, "-e", "''"] },
      { label: "bun -e 0    (starts the VM)", argv: [BUN, "-e", "0"] },
      { label: "empty script, compiled like sup", argv: [floor] },
      { label: "sup run empty.sxs", argv: [sup, "run", "empty.sxs"] },
      { label: "sup check empty.sxs", argv: [sup, "check", "empty.sxs"] },
      { label: "sup run native.sxs (alu, cached)", argv: [sup, "run", "native.sxs"] },
    ];
    const hyperfine = Bun.which("hyperfine") !== null;
    // hyperfine runs its commands through exec with arguments split on spaces: `-e ''` must stay two
    // arguments there, while a direct spawn passes the quotes literally, so fix the argv per method.
    const timed = hyperfine ? commands : commands.map((c) => ({ ...c, argv: c.argv.map((a) => (a === "''" ? "" : a)) }));
    const t = (hyperfine ? withHyperfine : withLoop)(timed, runs, work, env);
    const [bare, vm] = [t[0]!, t[1]!];
    console.log(`start-up, ms (${hyperfine ? `hyperfine -N, ${HYPERFINE_ROUNDS} rounds of` : "interleaved loop,"} ${runs} runs)`);
    console.log(heading("", ["/bun -e ''", "/bun -e 0"]));
    for (const x of t) console.log(row(x, [bare, vm]));

    const firstStart: number[] = [];
    const restart: number[] = [];
    const bunServe: number[] = [];
    const serveScript = join(work, "serve.ts");
    writeFileSync(serveScript, 'const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });\nconsole.error(`http://127.0.0.1:${s.port}/`);\n');
    let idle: { peakMiB: number; nowMiB: number } | null = null;
    for (let i = 0; i < starts; i++) {
      const data = join(work, `data-${i}`);
      const argv = [sup, "start", "--data", data, "--http", "127.0.0.1:0"];
      const first = await timeToFirst200(argv, env);
      firstStart.push(first.ms);
      await stop(first.proc);
      const again = await timeToFirst200(argv, env);
      restart.push(again.ms);
      if (i === starts - 1) {
        await (await fetch(`${again.url}/_sup/health`)).arrayBuffer();
        await Bun.sleep(IDLE_MS);
        idle = rssOf(again.proc.pid);
      }
      await stop(again.proc);
      const bare = await timeToFirst200([BUN, serveScript], env);
      bunServe.push(bare.ms);
      await stop(bare.proc);
    }
    const serve = timingOf("bun: Bun.serve, first 200", bunServe);
    console.log(`\nfirst HTTP 200, ms (${starts} starts)`);
    console.log(heading("", ["/serve"]));
    for (const x of [serve, timingOf("sup start, new data dir", firstStart), timingOf("sup start, restart", restart)]) console.log(row(x, [serve]));

    const size = statSync(sup).size / 2 ** 20;
    const bunSize = statSync(BUN).size / 2 ** 20;
    console.log(`\nbinary size: ${size.toFixed(1)} MiB (the Bun runtime inside it: ${bunSize.toFixed(1)} MiB; sup's own share ${(size - bunSize).toFixed(1)} MiB)`);
    if (idle !== null) console.log(`idle node: peak RSS ${idle.peakMiB.toFixed(1)} MiB, RSS now ${idle.nowMiB.toFixed(1)} MiB (after start-up, one request and ${IDLE_MS} ms idle)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return 0;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { sup: { type: "string" }, build: { type: "boolean" }, runs: { type: "string" }, starts: { type: "string" } } });
  await startupBench({
    sup: values.sup,
    build: values.build === true,
    runs: values.runs !== undefined ? Number(values.runs) : undefined,
    starts: values.starts !== undefined ? Number(values.starts) : undefined,
  });
}
