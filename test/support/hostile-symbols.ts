/**
 * The hostile-symbol load of issue 11 (bounded memory under hostile code), shared by the test in
 * test/node-memory.test.ts and the full-size benchmark in bench/memory.ts: a stored route that makes
 * new symbols (and binds one) and a 1 KiB string from a counter on every request, a load of many
 * requests, and the node's resident memory before and after, each read after the node collected
 * its garbage.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadGet } from "./http-load.ts";

/** The route every request goes to. */
export const HOSTILE_ROUTE = "GET /hostile";
/**
 * The route's meta: the time budget at its ceiling, since on a loaded machine a request may be
 * descheduled past the default 100 ms, and the run is about memory, not budgets.
 */
export const HOSTILE_META = { budgetMs: 10_000 };

/**
 * The route's program: `symbols` fresh symbols per request, named from a counter kept in a memory
 * kv store (`s<n>`, `s<n>x1`, …): the first is also bound by an `eval`'d `def`, and stored in the kv
 * store until the next request replaces it. The answer is the length of a string of about 1 KiB
 * built from the name. Nothing else is kept, so a node that frees what requests leave behind ends
 * where it started.
 */
export function hostileSource(symbols: number): string {
  // "[y1s<n> y2s<n> …]", read by eval: symbols - 1 more fresh symbols, made with one kernel call
  // (forge/replace puts the name in place of each N).
  const parts = Array.from({ length: symbols - 1 }, (_, i) => `"${i === 0 ? "[" : " "}y${i + 1}" N`).join(" ");
  const many = symbols > 1 ? `\n  (eval (cast :str (forge/replace '(${parts} "]") 'N name)))` : "";
  return `[ #(load "http" "kv" "alu" "forge")
  (kv/open-memory counter)
  (def n (try (kv/get counter:n) 0))
  (kv/set counter:n (alu/add (cast :int n) 1))
  (def name (cast :str (forge/pb '("s") (cast :str n))))
  (def s (eval name))
  (eval (cast :str (forge/pb (forge/pb '("(def ") name) " 1)")))${many}
  (kv/set counter:last s)
  (def big (cast :str (forge/resize '() 64 (cast :str (forge/pb '("0123456789abcde") name)))))
  (http/text 200 (cast :str (forge/count big)))
]
`;
}

/** A node's memory as its admin socket reports it after a collection. */
export interface NodeMemory {
  readonly rssBytes: number;
  readonly heapBytes: number;
  readonly symbols: { readonly live: number; readonly ids: number };
}

/** How often the resident set is read while it settles after a collection. */
const RSS_POLL_MS = 250;
/** A drop smaller than this is not counted as the resident set still settling. */
const RSS_DROP_BYTES = 512 * 1024;
/** The resident set has settled when it has not dropped for this long (the allocator returns pages a second or two late). */
const RSS_QUIET_MS = 2_000;
/** Longest wait for the resident set to settle. */
const RSS_SETTLE_MS_MAX = 15_000;

function vmRss(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
}

/**
 * Asks the node in `dataDir` to collect garbage, then reads its resident set from /proc (VmRSS)
 * once it has settled: the allocator returns freed pages to the system in the background, a second
 * or two after the collection, so a read at once counts memory that is already free.
 */
export async function settledMemory(dataDir: string, pid: number): Promise<NodeMemory & { readonly vmRssBytes: number }> {
  const res = await fetch("http://localhost/gc", { unix: join(dataDir, "admin.sock"), method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  const payload = (await res.json()) as { ok?: NodeMemory; error?: { message?: string } };
  if (payload.ok === undefined) throw new Error(`POST /gc failed: ${payload.error?.message ?? res.status}`);
  let rss = vmRss(pid);
  const start = performance.now();
  let lastDrop = start;
  while (performance.now() - lastDrop < RSS_QUIET_MS && performance.now() - start < RSS_SETTLE_MS_MAX) {
    await Bun.sleep(RSS_POLL_MS);
    const next = vmRss(pid);
    if (rss - next >= RSS_DROP_BYTES) lastDrop = performance.now();
    rss = Math.min(rss, next);
  }
  return { ...payload.ok, vmRssBytes: rss };
}

/** One hostile run: warm-up, memory, load, memory. */
export interface HostileRun {
  readonly before: NodeMemory & { readonly vmRssBytes: number };
  readonly after: NodeMemory & { readonly vmRssBytes: number };
  readonly ok: number;
  readonly failed: number;
  /** Responses by status. */
  readonly statuses: ReadonlyMap<number, number>;
  readonly ms: number;
}

/** Loads HOSTILE_ROUTE (already stored) with `warmup` then `requests` requests, measuring between. */
export async function hostileRun(base: string, dataDir: string, pid: number, warmup: number, requests: number): Promise<HostileRun> {
  const load = { connections: 8, pipeline: 16 };
  await loadGet(base, "/hostile", { requests: warmup, ...load });
  const before = await settledMemory(dataDir, pid);
  const r = await loadGet(base, "/hostile", { requests, ...load });
  const after = await settledMemory(dataDir, pid);
  const ok = r.statuses.get(200) ?? 0;
  return { before, after, ok, failed: requests - ok, statuses: r.statuses, ms: r.ms };
}

/** Bytes as MiB with one decimal. */
export const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);
