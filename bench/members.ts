/**
 * `bun run bench --only members` (or `bun bench/members.ts`): membership between real `sup`
 * processes on this machine (127.0.0.1), in three parts:
 *
 * 1. detect: a 5-node cluster, 10 SIGKILLs of one node in turn (restarted with no flags after each);
 *    for each kill, the time from the kill to the `dead` verdict on the first member and on every
 *    member, read from each member's own record of when it entered that state (no polling delay).
 *    Median and max over the kills (the issue's target: dead everywhere within 5 s).
 * 2. hog: a 5-node cluster while CPU hogs (busy loops, one per core, at the same priority) run
 *    for a while: false suspicions and false deaths of running nodes, refutations, stalls noticed.
 * 3. scale: idle clusters of growing size (nodes join through random members, in small batches):
 *    convergence time, then an idle window in which no member may be suspected; memory (RSS) and
 *    CPU per idle node. The largest size that converged with no false suspicion is reported.
 *
 * Options: --parts detect,hog,scale (default all), --kills N (10), --hog-seconds S (20), --hogs N,
 * --sizes 16,32,64,96,128 (the scale steps; each adds nodes to the last), --idle-seconds S (15).
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { membersOf, membershipView, restarted, TestFleet, until, type ClusterNode } from "../test/support/cluster-nodes.ts";
import { NodeSandbox } from "../test/support/node-process.ts";

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A cluster of `n` nodes (node i joins through a random earlier one), converged. */
async function cluster(fleet: TestFleet, n: number, prefix: string, existing: ClusterNode[] = []): Promise<ClusterNode[]> {
  const nodes = [...existing];
  // Few at a time, with time to spare: a start from source costs a second or two of CPU, and a
  // loaded machine (a big idle cluster is load) stretches it.
  const batch = 2;
  const startMs = 180_000;
  for (let i = existing.length; i < n; i += batch) {
    const starting = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      const id = fleet.identity(`${prefix}${j}`);
      const join = nodes.length === 0 ? [] : ["--join", nodes[Math.floor(Math.random() * nodes.length)]!.bc];
      if (j === 0) nodes.push(await fleet.start(`${prefix}0`, ["--identity", id.file], { startMs }));
      else starting.push(fleet.start(`${prefix}${j}`, ["--identity", id.file, ...join], { startMs }));
    }
    nodes.push(...(await Promise.all(starting)));
  }
  return nodes;
}

/** True when every node sees every node alive. */
async function converged(nodes: readonly ClusterNode[]): Promise<boolean> {
  // Sorted by name as `sup nodes` sorts (s1 before s10), not as the strings with ":alive" sort.
  const want = nodes
    .map((n) => n.name)
    .sort((a, b) => (a < b ? -1 : 1))
    .map((n) => `${n}:alive`)
    .join(" ");
  for (const n of nodes) if ((await membershipView(n.data)) !== want) return false;
  return true;
}

function stop(nodes: readonly ClusterNode[]): void {
  for (const n of nodes) n.proc.kill("SIGKILL");
}

async function detect(kills: number): Promise<void> {
  const box = new NodeSandbox();
  try {
    const fleet = new TestFleet(box);
    let nodes = await cluster(fleet, 5, "d");
    await until(() => converged(nodes), "5 nodes converged", 60_000);
    const first: number[] = [];
    const all: number[] = [];
    for (let k = 0; k < kills; k++) {
      const victim = 1 + (k % 4);
      const survivors = nodes.filter((_, i) => i !== victim);
      const name = nodes[victim]!.name;
      const killedAt = Date.now();
      nodes[victim]!.proc.kill("SIGKILL");
      await until(async () => (await Promise.all(survivors.map(async (s) => (await membersOf(s.data)).find((m) => m.name === name)?.state))).every((st) => st === "dead"), `${name} dead everywhere`, 60_000);
      const verdicts = await Promise.all(survivors.map(async (s) => Date.parse((await membersOf(s.data)).find((m) => m.name === name)!.since) - killedAt));
      first.push(Math.min(...verdicts));
      all.push(Math.max(...verdicts));
      console.log(`  kill ${k + 1}: ${name} dead on the first member after ${fmt(Math.min(...verdicts))}, on every member after ${fmt(Math.max(...verdicts))}`);
      nodes[victim] = await restarted(box, nodes[victim]!);
      await until(() => converged(nodes), `${name} back`, 60_000);
    }
    console.log(`  detection over ${kills} kills: first member median ${fmt(median(first))} max ${fmt(Math.max(...first))}; every member median ${fmt(median(all))} max ${fmt(Math.max(...all))} (target < 5 s)`);
    stop(nodes);
    nodes = [];
  } finally {
    box.cleanup();
  }
}

async function hog(seconds: number, hogCount: number): Promise<void> {
  const box = new NodeSandbox();
  const hogs: Bun.Subprocess[] = [];
  try {
    const fleet = new TestFleet(box);
    const nodes = await cluster(fleet, 5, "h");
    await until(() => converged(nodes), "5 nodes converged", 60_000);
    const from = nodes.map((n) => n.stderr().length);
    for (let i = 0; i < hogCount; i++) hogs.push(Bun.spawn([process.execPath, "-e", "for (;;) {}"], { stdout: "ignore", stderr: "ignore" }));
    await Bun.sleep(seconds * 1000);
    for (const h of hogs) h.kill("SIGKILL");
    await until(() => converged(nodes), "converged after the hog", 60_000);
    const logs = nodes.map((n, i) => n.stderr().slice(from[i]));
    const count = (re: RegExp) => logs.reduce((sum, l) => sum + (l.match(re) ?? []).length, 0);
    console.log(
      `  ${hogs.length} CPU hogs for ${seconds} s beside 5 idle nodes: ${count(/member state changed name=\S+ state=suspect/g)} suspicions, ${count(/member state changed name=\S+ state=dead/g)} false deaths, ${count(/suspicion of this node refuted/g)} refutations, ${count(/node was stalled/g)} stalls noticed`,
    );
    stop(nodes);
  } finally {
    for (const h of hogs) h.kill("SIGKILL");
    box.cleanup();
  }
}

/** RSS in bytes and CPU ticks (user + system) of a process. */
function usage(pid: number): { rss: number; ticks: number } {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { rss, ticks: Number(fields[11]) + Number(fields[12]) };
}

async function scale(sizes: readonly number[], idleSeconds: number): Promise<void> {
  const box = new NodeSandbox();
  let nodes: ClusterNode[] = [];
  let largest = 0;
  try {
    const fleet = new TestFleet(box);
    console.log("  nodes  converged   suspicions/deaths in idle  RSS per node  CPU per node");
    for (const size of sizes) {
      const t0 = Date.now();
      nodes = await cluster(fleet, size, "s", nodes);
      const started = Date.now();
      // Polled once a second: each poll reads every node's member list, which at a hundred nodes
      // is itself work the machine would otherwise spend on the cluster.
      let ok = false;
      for (const deadline = Date.now() + 120_000; !ok && Date.now() < deadline; ) {
        ok = await converged(nodes);
        if (!ok) await Bun.sleep(1_000);
      }
      const convergedMs = Date.now() - started;
      const from = nodes.map((n) => n.stderr().length);
      const before = nodes.map((n) => usage(n.proc.pid));
      const w0 = Date.now();
      await Bun.sleep(idleSeconds * 1000);
      const wallS = (Date.now() - w0) / 1000;
      const after = nodes.map((n) => usage(n.proc.pid));
      const logs = nodes.map((n, i) => n.stderr().slice(from[i]));
      const suspicions = logs.reduce((s, l) => s + (l.match(/state=suspect/g) ?? []).length, 0);
      const deaths = logs.reduce((s, l) => s + (l.match(/state=dead/g) ?? []).length, 0);
      const rss = after.reduce((s, u) => s + u.rss, 0) / nodes.length;
      const cpu = after.reduce((s, u, i) => s + (u.ticks - before[i]!.ticks), 0) / 100 / wallS / nodes.length;
      console.log(`  ${String(size).padStart(5)}  ${ok ? fmt(convergedMs).padStart(8) : "  NO    "}   ${`${suspicions}/${deaths}`.padStart(25)}  ${(rss / 1048576).toFixed(0).padStart(9)} MiB  ${(cpu * 100).toFixed(1).padStart(9)} %   (started in ${fmt(started - t0)})`);
      if (!ok || deaths > 0) break;
      largest = size;
    }
    console.log(`  largest idle cluster that converged with no false death: ${largest} nodes (steps ${sizes.join(", ")})`);
  } finally {
    stop(nodes);
    box.cleanup();
  }
}

/** Runs the parts asked for; returns the number of failures (a part that threw). */
export async function membersBench(options: { parts?: readonly string[]; kills?: number; hogSeconds?: number; hogs?: number; sizes?: readonly number[]; idleSeconds?: number } = {}): Promise<number> {
  const parts = options.parts ?? ["detect", "hog", "scale"];
  console.log(`members: real sup processes on 127.0.0.1, ${cpus().length} cores, load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
  let failures = 0;
  const run = async (name: string, f: () => Promise<void>) => {
    if (!parts.includes(name)) return;
    console.log(`${name}:`);
    await f().catch((e: unknown) => {
      failures++;
      console.log(`  FAILED: ${e instanceof Error ? e.message : String(e)}`);
    });
  };
  await run("detect", () => detect(options.kills ?? 10));
  await run("hog", () => hog(options.hogSeconds ?? 20, options.hogs ?? 2 * cpus().length));
  await run("scale", () => scale(options.sizes ?? [16, 32, 64, 96, 128], options.idleSeconds ?? 15));
  return failures;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { parts: { type: "string" }, kills: { type: "string" }, "hog-seconds": { type: "string" }, hogs: { type: "string" }, sizes: { type: "string" }, "idle-seconds": { type: "string" } } });
  const failures = await membersBench({
    ...(values.parts !== undefined ? { parts: values.parts.split(",") } : {}),
    ...(values.kills !== undefined ? { kills: Number(values.kills) } : {}),
    ...(values["hog-seconds"] !== undefined ? { hogSeconds: Number(values["hog-seconds"]) } : {}),
    ...(values.hogs !== undefined ? { hogs: Number(values.hogs) } : {}),
    ...(values.sizes !== undefined ? { sizes: values.sizes.split(",").map(Number) } : {}),
    ...(values["idle-seconds"] !== undefined ? { idleSeconds: Number(values["idle-seconds"]) } : {}),
  });
  process.exit(failures > 0 ? 1 : 0);
}
