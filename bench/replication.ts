/**
 * `bun run bench --only replication`: change-log replication (issue 14).
 *
 * 1. Real nodes (10 by default) on 127.0.0.1, full mesh: 200 writes, each on a random node through
 *    its admin socket; the time from sending the write until every node serves the new version over
 *    HTTP (each node polled on its own connection until it answers with the new body): p50, p99, max.
 *    Target p99 < 100 ms.
 * 2. A burst of 1,000 writes on one node, sent one after the other as fast as the admin socket takes
 *    them: the origin's write rate, and the time from the first write until every node holds all
 *    1,000 entries (polled on the admin sockets every 10 ms).
 * 3. The simulator at 1,000 nodes and 1% loss (test/sim `repl-large`): virtual time until a write
 *    reaches every node (p50, max of 5 writes), messages per write, bytes per write per node.
 *
 * `bun bench/replication.ts [--nodes N] [--writes N] [--burst N] [--skip-real] [--skip-sim]`.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runReplScenario } from "../test/sim/replication-scenarios.ts";
import { TestFleet, until, type ClusterNode } from "../test/support/cluster-nodes.ts";
import { NodeSandbox } from "../test/support/node-process.ts";

const q = (xs: readonly number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function adminPost(n: ClusterNode, path: string, body: Record<string, unknown>): Promise<unknown> {
  const r = await fetch(`http://localhost${path}`, { unix: join(n.data, "admin.sock"), method: "POST", body: JSON.stringify(body) });
  const b = (await r.json()) as { ok?: unknown; error?: { message: string } };
  if (b.error !== undefined) throw new Error(b.error.message);
  return b.ok;
}

async function entriesOf(n: ClusterNode): Promise<number> {
  const r = await fetch("http://localhost/status", { unix: join(n.data, "admin.sock") });
  return ((await r.json()) as { ok: { replication: { entries: number } } }).ok.replication.entries;
}

/** Polls every node until each serves `expected` at `path`; resolves with the time the last one did. */
async function servedEverywhere(nodes: readonly ClusterNode[], path: string, expected: string, deadline: number): Promise<number> {
  let last = 0;
  await Promise.all(
    nodes.map(async (n) => {
      for (;;) {
        const r = await fetch(`${n.url}${path}`);
        const text = await r.text();
        if (text === expected) {
          last = Math.max(last, performance.now());
          return;
        }
        if (performance.now() > deadline) throw new Error(`${n.name} still serves "${text.slice(0, 40)}" at ${path}`);
        // A millisecond between polls: ten tight polling loops would take the CPU the nodes need.
        await Bun.sleep(1);
      }
    }),
  );
  return last;
}

async function realNodes(count: number, writes: number, burst: number): Promise<void> {
  const box = new NodeSandbox();
  const fleet = new TestFleet(box);
  try {
    const nodes: ClusterNode[] = [];
    for (let i = 0; i < count; i++) {
      const id = fleet.identity(`b${i}`, { can: ["code"] });
      nodes.push(await fleet.start(`b${i}`, ["--identity", id.file, ...(i === 0 ? [] : ["--join", nodes[0]!.bc])]));
    }
    const peers = async (n: ClusterNode) => ((await (await fetch("http://localhost/status", { unix: join(n.data, "admin.sock") })).json()) as { ok: { cluster: { peers: number } } }).ok.cluster.peers;
    await until(async () => (await Promise.all(nodes.map(peers))).every((p) => p === count - 1), "a full mesh", 60_000);
    console.log(`replication: ${count} real nodes on 127.0.0.1, full mesh`);
    const lat: number[] = [];
    const commit: number[] = [];
    for (let i = 0; i < writes; i++) {
      const writer = nodes[Math.floor(Math.random() * count)]!;
      const body = `version ${i} from ${writer.name}`;
      const t0 = performance.now();
      await adminPost(writer, "/code/put", { name: "GET /bench", source: `[ #(load "http") (http/text 200 "${body}") ]` });
      commit.push(performance.now() - t0);
      const t1 = await servedEverywhere(nodes, "/bench", body, t0 + 10_000);
      lat.push(t1 - t0);
    }
    console.log(`  write -> served by all ${count} nodes over HTTP, ${writes} writes on random nodes: p50 ${ms(q(lat, 0.5))}, p99 ${ms(q(lat, 0.99))}, max ${ms(q(lat, 1))} (target p99 < 100 ms)`);
    console.log(`    of which the write itself (admin request: check, sign, commit with fsync): p50 ${ms(q(commit, 0.5))}, p99 ${ms(q(commit, 0.99))}`);
    const before = await entriesOf(nodes[0]!);
    const t0 = performance.now();
    for (let i = 0; i < burst; i++) await adminPost(nodes[0]!, "/code/put", { name: `GET /burst${i % 50}`, source: `[ #(load "http") (http/text 200 "burst ${i}") ]` });
    const tw = performance.now();
    await until(async () => (await Promise.all(nodes.map(entriesOf))).every((e) => e >= before + burst), "every node to hold the burst", 120_000);
    const ta = performance.now();
    console.log(`  burst of ${burst} writes on one node: written in ${ms(tw - t0)} (${((burst * 1000) / (tw - t0)).toFixed(0)} writes/s, each durable before the next), on every node ${ms(ta - t0)} after the first write (${ms(ta - tw)} after the last)`);
  } finally {
    box.cleanup();
  }
}

function simulated(): number {
  const r = runReplScenario("repl-large", { seed: 1 });
  const f = r.figures;
  const fmt = (v: number | null | undefined, d = 0) => (v === null || v === undefined ? "—" : v.toFixed(d));
  console.log(`replication: 1,000 simulated nodes, 1% loss, seed ${r.seed}, ${fmt(f.connectionsPerNode, 1)} connections per node (membership's mesh after 5 s)`);
  console.log(`  a write reaches every node        p50 ${fmt(f.reachAllP50Ms, 1)} ms, max ${fmt(f.reachAllMaxMs, 1)} ms virtual (${fmt(f.writes)} writes)`);
  console.log(`  messages per write                ${fmt(f.messagesPerWrite)} (push to each peer, ${"have"} relays, acks, pulls; digests excluded)`);
  console.log(`  bytes per write per node          ${fmt(f.bytesPerWritePerNode)} B`);
  console.log(`  anti-entropy when quiet           ${fmt(f.digestsPerNodePerSecond, 2)} messages per node per second (digests and their answers)`);
  console.log(`  run                               ${(r.virtualMs / 1000).toFixed(1)} s virtual in ${(r.wallMs / 1000).toFixed(1)} s wall`);
  if (r.failures.length > 0) console.log(`  FAILED: ${r.failures.join("; ")}\n  replay: ${r.replay}`);
  return r.failures.length;
}

/** Runs the benchmark; returns the number of failures. */
export async function replicationBench(o: { nodes?: number; writes?: number; burst?: number; real?: boolean; sim?: boolean } = {}): Promise<number> {
  if (o.real !== false) await realNodes(o.nodes ?? 10, o.writes ?? 200, o.burst ?? 1000);
  return o.sim === false ? 0 : simulated();
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { nodes: { type: "string" }, writes: { type: "string" }, burst: { type: "string" }, "skip-real": { type: "boolean" }, "skip-sim": { type: "boolean" } } });
  const failures = await replicationBench({
    ...(values.nodes !== undefined ? { nodes: Number(values.nodes) } : {}),
    ...(values.writes !== undefined ? { writes: Number(values.writes) } : {}),
    ...(values.burst !== undefined ? { burst: Number(values.burst) } : {}),
    real: values["skip-real"] !== true,
    sim: values["skip-sim"] !== true,
  });
  process.exit(failures > 0 ? 1 : 0);
}
