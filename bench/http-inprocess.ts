/**
 * Part 4 of bench/http.ts (also `bun bench/http-inprocess.ts [--rounds N] [--requests N]`): what a
 * stored route's request costs in CPU beyond a bare Elysia route's, in one process and without
 * sockets, so the figure moves far less with the machine's load than requests per second do. Each
 * variant answers `GET /hello` (the same small JSON) for a batch of requests built like a server's;
 * batches of the variants alternate, and the median round's CPU time (user + system) per request
 * is reported:
 *
 * - bare Elysia: the app's `fetch` with a route returning `{hello: "world"}`;
 * - stored route, static path: Dispatcher.handleStatic, what Bun's router calls for a stored static
 *   path (the route is resolved once and remembered, the URL not read);
 * - stored route, any path: Dispatcher.handle, what every other request goes through.
 *
 * The stored route runs with the request log at info (lines formatted and buffered as a node does;
 * stderr is discarded while measuring). A Request built here carries its URL already, which a
 * server's request builds on first read (about 0.7 µs on the reference machine), so `any path`
 * is cheaper here than in a server.
 */
import { Elysia } from "elysia";
import { parseArgs } from "node:util";
import { Dispatcher, MemoryRouteSource, RouteTable, TenantSelector } from "../src/http/mod.ts";
import { flushLog, setLogLevel } from "../src/log.ts";
import { Runtime } from "../src/node/runtime.ts";

const HELLO_SOURCE = `[ #(load "http" "json") (http/json 200 (json/object "hello" "world")) ]`;
const URL_TEXT = "http://127.0.0.1:8080/hello";

/** One variant's per-request CPU microseconds, one entry per round. */
export interface InProcessResult {
  readonly name: string;
  readonly cpuUs: number[];
}

type Answer = () => Response | Promise<Response>;

/** CPU microseconds per request of `n` requests answered by `answer`. */
async function batch(answer: Answer, n: number): Promise<number> {
  const c0 = process.cpuUsage();
  let statuses = 0;
  for (let i = 0; i < n; i++) {
    const r = answer();
    statuses += (r instanceof Promise ? await r : r).status;
    // Let the log's end-of-turn flush run, as it does between a server's batches of requests.
    if ((i & 1023) === 1023) await new Promise((resolve) => setImmediate(resolve));
  }
  const c = process.cpuUsage(c0);
  if (statuses !== 200 * n) throw new Error(`A variant answered other than 200 (status sum ${statuses} for ${n} requests)`);
  return (c.user + c.system) / n;
}

/** Runs the comparison; resolves with each variant's figures (printed as it goes). */
export async function inProcessBench(rounds = 7, requests = 100_000): Promise<InProcessResult[]> {
  const rt = new Runtime({ supHome: null });
  const src = new MemoryRouteSource();
  src.put("GET /hello", HELLO_SOURCE);
  const d = new Dispatcher({ routes: new RouteTable(src), host: rt.host, tenants: new TenantSelector({ byPath: true }) });
  const app = new Elysia().get("/hello", () => ({ hello: "world" }));
  const bareFetch = app.fetch;
  const variants: [string, Answer][] = [
    ["bare Elysia route", () => bareFetch(new Request(URL_TEXT))],
    ["stored route, static path", () => d.handleStatic(new Request(URL_TEXT), "/hello", "127.0.0.1")],
    ["stored route, any path", () => d.handle(new Request(URL_TEXT), "127.0.0.1")],
  ];
  const results: InProcessResult[] = variants.map(([name]) => ({ name, cpuUs: [] }));
  const write = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  setLogLevel("info");
  try {
    for (const [, answer] of variants) await batch(answer, requests / 5);
    for (let r = 0; r < rounds; r++) for (let i = 0; i < variants.length; i++) results[i]!.cpuUs.push(await batch(variants[i]![1], requests));
    flushLog();
  } finally {
    setLogLevel("warn");
    process.stderr.write = write;
    rt.close();
  }
  const bare = results[0]!.cpuUs;
  console.log(`\nin one process (no sockets), CPU per request, median of ${rounds} alternating rounds of ${requests.toLocaleString("en-US")} requests:`);
  for (const res of results) {
    const us = median(res.cpuUs);
    const ratios = res.cpuUs.map((x, i) => bare[i]! / x);
    console.log(`  ${res.name.padEnd(28)} ${us.toFixed(2).padStart(6)} µs   +${(us - median(bare)).toFixed(2)} µs over bare   bare/this ${median(ratios).toFixed(2)}`);
  }
  return results;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { rounds: { type: "string" }, requests: { type: "string" } } });
  await inProcessBench(Number(values.rounds ?? 7) || 7, Number(values.requests ?? 100_000) || 100_000);
}
