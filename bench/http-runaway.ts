/**
 * Part 3 of bench/http.ts (also `bun bench/http-runaway.ts [--duration S]`): what a runaway handler
 * costs its neighbours. Handlers share the node's one JS thread, so while a handler runs every other
 * request waits; its time budget is what bounds the wait. One node serves a cheap route (`GET
 * /cheap`, a constant text) and two routes that never finish on their own and run to their time
 * budget (the default, 100 ms): one whose loop turns are cheap (`(do [ 1 ])`) and one whose every
 * turn builds a list of 200,000 items (milliseconds of kernel work per turn). wrk measures the
 * cheap route alone, then while a second client requests a runaway route again and again, one
 * request at a time. Reported: the cheap route's p50, p99 and slowest response in each case, and
 * how long the runaway requests took to be stopped.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HANDLER_STEPS_MAX } from "../src/http/limits.ts";
import { putWithAdmin, startNode } from "./http-servers.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

const CHEAP_SOURCE = `[ #(load "http") (http/text 200 "ok") ]\n`;
/** Runaways: each runs until its time budget (the default 100 ms) stops it with a 503. */
const RUNAWAYS = [
  { name: "GET /spin", what: "cheap turns, (do [ 1 ])", source: `[ (do [ 1 ]) ]\n` },
  { name: "GET /build", what: "turns building 200,000-item lists", source: `[ #(load "forge") (do [ (forge/resize '() 200000 1) ]) ]\n` },
];
/** wrk's connections and threads on the cheap route: a few clients of a busy service. */
const CHEAP_CONNECTIONS = 10;
const CHEAP_THREADS = 2;
/** Far above any stall a budget allows, so a stall shows as a latency rather than a wrk timeout. */
const WRK_TIMEOUT_S = 30;

const fmt = (n: number) => n.toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** Requests `url` one at a time until `stop` is set; the duration and status of each. */
async function hammer(url: string, stop: { done: boolean }): Promise<{ ms: number; status: number }[]> {
  const out: { ms: number; status: number }[] = [];
  while (!stop.done) {
    const t0 = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    out.push({ ms: performance.now() - t0, status: res.status });
  }
  return out;
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? Number.NaN;

/** Runs the measurements against a fresh node; returns the number of failed checks. */
export async function runawayBench(durationS = 10): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), "sup-bench-runaway-"));
  const data = join(work, "data");
  const node = await startNode(data, join(work, "node.log"), { SUP_LOG: "warn" });
  let failures = 0;
  try {
    await putWithAdmin(data, "GET /cheap", CHEAP_SOURCE);
    // The step budget at its ceiling, so the time budget is what stops them.
    for (const r of RUNAWAYS) await putWithAdmin(data, r.name, r.source, { budgetSteps: HANDLER_STEPS_MAX });
    const wrk = () => runWrk({ url: `${node.base}/cheap`, threads: CHEAP_THREADS, connections: CHEAP_CONNECTIONS, durationS, timeoutS: WRK_TIMEOUT_S });
    await runWrk({ url: `${node.base}/cheap`, threads: CHEAP_THREADS, connections: CHEAP_CONNECTIONS, durationS: 2 });
    console.log(`\nrunaway neighbour: wrk -t${CHEAP_THREADS} -c${CHEAP_CONNECTIONS} -d${durationS}s on GET /cheap; a second client requests a runaway route back to back (time budget 100 ms, the default; steps unlimited)`);
    console.log("neighbour                                        cheap p50 ms   p99 ms   max ms   req/s   runaway stopped after (median / max ms)");
    const row = (label: string, r: WrkResult, runaway: string) =>
      console.log(`${label.padEnd(48)} ${fmt(r.p50Ms).padStart(12)} ${fmt(r.p99Ms).padStart(8)} ${fmt(r.maxMs).padStart(8)} ${fmt(r.requestsPerSec).padStart(7)}   ${runaway}`);
    const alone = await wrk();
    row("none", alone, "-");
    if (alone.non2xx3xx + alone.socketErrors > 0) failures++;
    for (const r of RUNAWAYS) {
      const stop = { done: false };
      const hits = hammer(`${node.base}${r.name.slice(4)}`, stop);
      const loaded = await wrk();
      stop.done = true;
      const runs = await hits;
      const ms = runs.map((x) => x.ms);
      const all503 = runs.every((x) => x.status === 503);
      row(`${r.name} (${r.what})`, loaded, `${runs.length} runs, ${fmt(percentile(ms, 50))} / ${fmt(Math.max(...ms))}${all503 ? "" : " (NOT all 503)"}`);
      if (!all503 || loaded.non2xx3xx + loaded.socketErrors > 0) failures++;
    }
  } finally {
    await node.stop();
    rmSync(work, { recursive: true, force: true });
  }
  return failures;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { duration: { type: "string" } } });
  process.exit((await runawayBench(Number(values.duration ?? 10))) > 0 ? 1 : 0);
}
