/**
 * `bun run bench --only memory`, or `bun bench/memory.ts [--requests N] [--symbols K]`: issue 11's
 * hostile-symbol run at full size. A real node serves a stored route that makes K fresh symbols
 * (default 1) and a 1 KiB string per request from a counter; after a warm-up the node collects its
 * garbage (admin `POST /gc`) and its resident set (VmRSS) is read once it settles, then N requests
 * (default 200,000) go out on keep-alive connections, and it is read again. Passes when the second
 * reading is within 20 MiB of the first. The smaller, faster version is test/node-memory.test.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HOSTILE_META, HOSTILE_ROUTE, hostileRun, hostileSource, mib } from "../test/support/hostile-symbols.ts";
import { putWithAdmin, startNode } from "./http-servers.ts";

/** The issue's bound on what the run may add to the node's resident memory. */
const RSS_GROWTH_BYTES_MAX = 20 * 1024 * 1024;
const WARMUP_REQUESTS = 5_000;

/** Runs the benchmark; returns the number of failures (0 or 1). */
export async function memoryBench(argv: string[] = []): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { requests: { type: "string" }, symbols: { type: "string" } } });
  const requests = Number(values.requests ?? 200_000);
  const symbols = Number(values.symbols ?? 1);
  const work = mkdtempSync(join(tmpdir(), "sup-bench-memory-"));
  const data = join(work, "data");
  const node = await startNode(data, join(work, "node.log"), { SUP_LOG: "warn" });
  try {
    await putWithAdmin(data, HOSTILE_ROUTE, hostileSource(symbols), HOSTILE_META);
    const r = await hostileRun(node.base, data, node.proc.pid, WARMUP_REQUESTS, requests);
    const growth = r.after.vmRssBytes - r.before.vmRssBytes;
    console.log(`hostile symbols: ${requests} requests, ${symbols} new symbol(s) and a 1 KiB string each, ${(r.ms / 1000).toFixed(1)} s (${Math.round(requests / (r.ms / 1000))} req/s), ${r.failed} failed${r.failed > 0 ? ` (statuses ${JSON.stringify([...r.statuses])})` : ""}`);
    console.log(`  VmRSS after a collection: before ${mib(r.before.vmRssBytes)} MiB, after ${mib(r.after.vmRssBytes)} MiB (${growth >= 0 ? "+" : ""}${mib(growth)} MiB; bound +${mib(RSS_GROWTH_BYTES_MAX)})`);
    console.log(`  JS heap: ${mib(r.before.heapBytes)} -> ${mib(r.after.heapBytes)} MiB; symbols alive ${r.before.symbols.live} -> ${r.after.symbols.live}, ids in use ${r.before.symbols.ids} -> ${r.after.symbols.ids}`);
    const ok = r.failed === 0 && growth < RSS_GROWTH_BYTES_MAX;
    console.log(ok ? "  ok" : "  FAILED");
    return ok ? 0 : 1;
  } finally {
    await node.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exit(await memoryBench(process.argv.slice(2)));
