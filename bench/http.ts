/**
 * `bun run bench --only http`, or `bun bench/http.ts [options]`: HTTP throughput of a stored SLP
 * route against a bare Elysia route returning the same small JSON body, measured side by side in
 * one run with wrk, and a live-replacement check. Needs wrk on the PATH; takes about a minute with
 * the defaults, so it is not part of the default benchmark set.
 *
 * 1. Throughput: a bare Elysia app (bench/http-bare-server.ts, its own `bun` process) and two real
 *    `bin/sup start` nodes serving `GET /hello` stored with `sup code put`: one with SUP_LOG at its
 *    default (a request log line each, to a file), one with SUP_LOG=warn. Each is warmed up, then
 *    loaded with `wrk -t2 -c50 -d10s --latency`, in turn, for `--rounds` rounds; requests/s, p99
 *    and the ratio to bare within each round are printed, and the median round is judged.
 *    The targets: a ratio of at least 0.90 with the default log level, p99 within 1.5x of bare's. The logging node's log is
 *    then checked after SIGTERM: one request line for every request its metrics counted.
 * 2. Live replacement: while wrk loads `GET /live`, its code is replaced `--swaps` times over the
 *    run through the admin socket, version N answering {"v":N}. A wrk script records every status
 *    and body: the check passes when no response was non-2xx and every body is one a written
 *    version returns.
 * 3. A runaway neighbour (bench/http-runaway.ts): the p99 of a cheap route alone, then while a
 *    second client keeps requesting a route that runs to its time budget; and how long after its
 *    start each runaway request was stopped.
 * 4. In one process (bench/http-inprocess.ts): CPU per request of the stored route's dispatch
 *    against a bare Elysia app's, without sockets (less moved by the machine's load).
 *
 * Part 1 also reports the CPU time each server's main thread used per request (from /proc), and
 * bare's as a share of the stored route's: what the request-rate ratio would be with each server
 * bound by its thread, which a shared machine's load moves less than the rates themselves.
 *
 * Options: --rounds N (default 3), --duration S (per measurement, default 10), --warmup S (default 2), --threads N
 * (default 2), --connections N (default 50), --swaps N (default 100).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { inProcessBench } from "./http-inprocess.ts";
import { runawayBench } from "./http-runaway.ts";
import { answeredRequests, mainThreadCpuMs, putWithAdmin, putWithCli, startBare, startNode, type BenchServer } from "./http-servers.ts";
import { runWrk, writeRecordingScript, type WrkResult } from "./wrk.ts";

/** The targets (issue 16): a stored route's requests/s as a share of the bare route's, and its p99 as a multiple of bare's. */
const TARGET_RATIO = 0.9;
const TARGET_P99_RATIO = 1.5;
const HELLO_SOURCE = `[ #(load "http" "json") (http/json 200 (json/object "hello" "world")) ]\n`;
const versionSource = (n: number) => `[ #(load "http" "json") (http/json 200 (json/object "v" ${n})) ]\n`;
const versionBody = (n: number) => JSON.stringify({ v: n });

interface Options {
  readonly rounds: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly threads: number;
  readonly connections: number;
  readonly swaps: number;
}

const USAGE = `Usage: bun bench/http.ts [--rounds N] [--duration S] [--warmup S] [--threads N] [--connections N] [--swaps N]
  --rounds N       rounds of measurements, each server once per round in turn (default 3)
  --duration S     seconds of each wrk measurement (default 10)
  --warmup S       seconds of warm-up load per server (default 2)
  --threads N      wrk threads (default 2)
  --connections N  wrk connections (default 50)
  --swaps N        code versions written during the live-replacement run (default 100)
Also run by: bun run bench --only http (with the defaults)`;

function options(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: { rounds: { type: "string" }, duration: { type: "string" }, warmup: { type: "string" }, threads: { type: "string" }, connections: { type: "string" }, swaps: { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help === true) return null;
  const int = (v: string | undefined, d: number) => (v === undefined ? d : Math.max(1, Math.floor(Number(v)) || d));
  return { rounds: int(values.rounds, 3), durationS: int(values.duration, 10), warmupS: int(values.warmup, 2), threads: int(values.threads, 2), connections: int(values.connections, 50), swaps: int(values.swaps, 100) };
}

function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "unknown";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Runs the HTTP benchmark; resolves with the exit code (1 when a check failed). */
export async function httpBench(argv: string[] = []): Promise<number> {
  const o = options(argv);
  if (o === null) {
    console.log(USAGE);
    return 0;
  }
  if (Bun.which("wrk") === null) {
    console.error("bench http: wrk is not installed (apt-get install wrk)");
    return 1;
  }
  const work = mkdtempSync(join(tmpdir(), "sup-bench-http-"));
  const servers: BenchServer[] = [];
  let failures = 0;
  try {
    const helloFile = join(work, "hello.sxs");
    writeFileSync(helloFile, HELLO_SOURCE);
    const liveFile = join(work, "live.sxs");
    writeFileSync(liveFile, versionSource(0));
    const bare = await startBare();
    servers.push(bare);
    const nodes: { label: string; data: string; log: string; server: BenchServer }[] = [];
    for (const [label, level] of [["info", undefined], ["warn", "warn"]] as const) {
      const data = join(work, `node-${label}`);
      const log = join(work, `node-${label}.log`);
      const server = await startNode(data, log, { SUP_LOG: level });
      servers.push(server);
      putWithCli(data, "GET /hello", helloFile);
      nodes.push({ label, data, log, server });
    }
    const [info, warn] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    putWithCli(info.data, "GET /live", liveFile);

    // The same body from both, before anything is measured.
    const expected = await (await fetch(`${bare.base}/hello`)).text();
    for (const n of nodes) {
      const got = await (await fetch(`${n.server.base}/hello`)).text();
      if (got !== expected) throw new Error(`The stored route answers ${JSON.stringify(got)}, the bare route ${JSON.stringify(expected)}`);
    }

    const wrk = (base: string, durationS: number, script?: string) => runWrk({ url: `${base}${script === undefined ? "/hello" : "/live"}`, threads: o.threads, connections: o.connections, durationS, script });
    console.log(`HTTP benchmark: wrk -t${o.threads} -c${o.connections} -d${o.durationS}s --latency, body ${expected}, ${navigator.hardwareConcurrency} cores, bun ${Bun.version}\n`);
    const targets = [
      { name: "bare Elysia route", base: bare.base, pid: bare.proc.pid },
      { name: "sup stored route, SUP_LOG default", base: info.server.base, pid: info.server.proc.pid },
      { name: "sup stored route, SUP_LOG=warn", base: warn.server.base, pid: warn.server.proc.pid },
    ];
    for (const t of targets) await wrk(t.base, o.warmupS);
    // Rounds with the servers in turn: a shared machine's load changes within seconds, so each
    // ratio is taken within one round and the median round is reported. The CPU time each server's
    // main thread used per request moves less with the load than requests per second do.
    const rounds: WrkResult[][] = [];
    const cpuUs: number[][] = [];
    for (let r = 0; r < o.rounds; r++) {
      const round: WrkResult[] = [];
      const cpu: number[] = [];
      for (const t of targets) {
        const c0 = mainThreadCpuMs(t.pid);
        const res = await wrk(t.base, o.durationS);
        round.push(res);
        cpu.push(((mainThreadCpuMs(t.pid) - c0) * 1000) / res.requests);
      }
      rounds.push(round);
      cpuUs.push(cpu);
    }
    console.log("round  server                               req/s     p50 ms   p99 ms   vs bare   errors   CPU µs/req   vs bare");
    rounds.forEach((round, ri) => {
      targets.forEach((t, i) => {
        const r = round[i]!;
        const errors = r.non2xx3xx + r.socketErrors;
        const cpu = cpuUs[ri]![i]!;
        console.log(`${String(ri + 1).padStart(5)}  ${t.name.padEnd(34)} ${fmt(r.requestsPerSec).padStart(8)} ${fmt(r.p50Ms, 2).padStart(9)} ${fmt(r.p99Ms, 2).padStart(8)} ${(r.requestsPerSec / round[0]!.requestsPerSec).toFixed(2).padStart(9)} ${String(errors).padStart(8)} ${fmt(cpu, 2).padStart(12)} ${(cpuUs[ri]![0]! / cpu).toFixed(2).padStart(9)}`);
        if (errors > 0) failures++;
      });
    });
    const cpuMedian = (i: number) => [...cpuUs.map((c) => c[0]! / c[i]!)].sort((a, b) => a - b)[cpuUs.length >> 1]!;
    const byRatio = [...rounds].sort((a, b) => a[1]!.requestsPerSec / a[0]!.requestsPerSec - b[1]!.requestsPerSec / b[0]!.requestsPerSec);
    const median = byRatio[Math.floor(byRatio.length / 2)]!;
    const ratio = median[1]!.requestsPerSec / median[0]!.requestsPerSec;
    const p99 = median[1]!.p99Ms / median[0]!.p99Ms;
    const warnRatio = median[2]!.requestsPerSec / median[0]!.requestsPerSec;
    console.log(`\nmedian round: SUP_LOG default ${ratio.toFixed(2)} x bare, SUP_LOG=warn ${warnRatio.toFixed(2)} x bare`);
    console.log(`main-thread CPU per request, bare's as a share of the stored route's (median round; the request rate a server bound by its one thread would reach): SUP_LOG default ${cpuMedian(1).toFixed(2)}, SUP_LOG=warn ${cpuMedian(2).toFixed(2)}`);
    console.log(`\ntarget: stored route >= ${TARGET_RATIO.toFixed(2)} x bare with the default log level: ${ratio >= TARGET_RATIO ? "met" : "NOT met"} (${ratio.toFixed(2)})`);
    console.log(`target: stored route p99 <= ${TARGET_P99_RATIO.toFixed(1)} x bare's: ${p99 <= TARGET_P99_RATIO ? "met" : "NOT met"} (${p99.toFixed(2)})`);
    console.log(`conditions: load average ${loadAverage()} before the run (wrk and the servers share the machine's cores)`);

    failures += await liveReplacement(o, info.data, info.server.base, (script) => wrk(info.server.base, o.durationS + 1, script), work);
    failures += await checkRequestLog(info.server, info.log);
    failures += await runawayBench(o.durationS);
    await inProcessBench();
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(work, { recursive: true, force: true });
  }
  return failures > 0 ? 1 : 0;
}

/** Part 2: replaces `GET /live` o.swaps times over o.durationS seconds while wrk records every response. */
async function liveReplacement(o: Options, data: string, base: string, load: (script: string) => Promise<WrkResult>, work: string): Promise<number> {
  const script = join(work, "record.lua");
  writeRecordingScript(script);
  const written = new Set<string>([versionBody(0)]);
  const putMs: number[] = [];
  const running = load(script);
  // Let wrk connect first; then one put every interval, on an absolute schedule.
  await sleep(500);
  const intervalMs = (o.durationS * 1000 - 500) / o.swaps;
  const t0 = performance.now();
  for (let n = 1; n <= o.swaps; n++) {
    const wait = t0 + (n - 1) * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    const p0 = performance.now();
    await putWithAdmin(data, "GET /live", versionSource(n));
    putMs.push(performance.now() - p0);
    written.add(versionBody(n));
  }
  const spanS = (performance.now() - t0) / 1000;
  const r = await running;
  const final = await (await fetch(`${base}/live`)).text();
  const rec = r.recorded;
  if (rec === null) throw new Error(`The wrk recording script printed nothing:\n${r.output}`);
  const unknown = [...rec.bodies.keys()].filter((b) => !written.has(b));
  const seen = [...rec.bodies.keys()].filter((b) => written.has(b)).length;
  putMs.sort((a, b) => a - b);
  const ok = rec.non2xx === 0 && unknown.length === 0 && r.socketErrors === 0 && final === versionBody(o.swaps);
  console.log(`\nlive replacement: ${o.swaps} versions of GET /live written in ${spanS.toFixed(1)} s through the admin socket (put median ${putMs[putMs.length >> 1]!.toFixed(1)} ms, max ${putMs[putMs.length - 1]!.toFixed(1)} ms)`);
  console.log(`  under load: ${fmt(r.requestsPerSec)} req/s, p99 ${fmt(r.p99Ms, 2)} ms, ${fmt(r.requests)} responses, ${rec.non2xx} non-2xx, ${r.socketErrors} socket errors`);
  console.log(`  bodies: ${seen} distinct versions seen, ${unknown.length} bodies of no written version${unknown.length > 0 ? ` (e.g. ${JSON.stringify(unknown[0])})` : ""}; after the run: ${final}`);
  console.log(`  check: ${ok ? "ok" : "FAILED"}`);
  return ok ? 0 : 1;
}

/** Stops the logging node and checks its log has one request line per request its metrics counted. */
async function checkRequestLog(server: BenchServer, logPath: string): Promise<number> {
  const answered = await answeredRequests(server.base);
  const code = await server.stop();
  const lines = readFileSync(logPath, "utf8").split("\n").filter((l) => l.startsWith("info request ")).length;
  const ok = code === 0 && lines === answered;
  console.log(`\nrequest log (SUP_LOG default): ${fmt(lines)} request lines for ${fmt(answered)} requests answered, exit ${code} after SIGTERM: ${ok ? "ok" : "FAILED"}`);
  return ok ? 0 : 1;
}

if (import.meta.main) void httpBench(process.argv.slice(2)).then((code) => process.exit(code));
