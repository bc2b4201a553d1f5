/**
 * `bun run bench --only control` (or `bun bench/control.ts`): the round trip of `sup exec --on all`
 * against real nodes on this machine, as the cluster grows from 1 to 5 to 10 nodes. Each sample is
 * one admin request POST /exec on the coordinating node's socket (what `sup exec` sends, without
 * the CLI's own process start), timed from send to answer: the fan-out, every node's run and the
 * gathering. Side by side in the same run at 10 nodes, the same 10 nodes asked one after another
 * (one exec per node, sequentially), which is what a fan-out that is not concurrent would cost, and
 * the whole `sup exec` process for reference. The program is `1`: the figures are the control
 * plane's own cost. Prints p50/p99 per size and the ratio to 1 node.
 *
 * Two networks: plain loopback, where the network costs nothing and the figures are CPU time; and
 * loopback with a one-way delay per message (--delay-ms, default 5), made by a forwarding proxy in
 * this process in front of every node's backchannel (each node advertises its proxy, so every
 * connection crosses exactly one proxy), which is where a concurrent fan-out shows: the round trip
 * stays about one network round trip whatever the node count, while asking in turn costs one per node.
 *
 * Options: --rounds N (samples per size, default 200), --sizes 1,5,10, --delay-ms D.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatIdentityFile, issueIdentity, makeRoot, writeIdentityText } from "../src/net/mod.ts";

const ROOT = resolve(import.meta.dir, "..");
const SUP = join(ROOT, "bin", "sup");
/** A node that has not started or joined by then is broken, not slow. */
const READY_MS = 60_000;
/** Samples discarded before each size's timed ones (connections made, code compiled). */
const WARMUP = 20;

interface Node {
  readonly name: string;
  readonly data: string;
  readonly proc: Bun.Subprocess;
  /** Where it listens. */
  readonly bc: string;
  /** Where peers dial it (its proxy), or null when that is `bc`. */
  readonly advertised?: string | null;
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}

async function admin(node: Node, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`http://localhost${path}`, { unix: join(node.data, "admin.sock"), method, body: body === undefined ? undefined : JSON.stringify(body), headers: { "content-type": "application/json" } });
  const json = (await res.json()) as { ok?: unknown; error?: { message: string } };
  if (json.error !== undefined) throw new Error(json.error.message);
  return json.ok;
}

/** A TCP forwarder that delays every chunk by `delayMs` each way (timers of equal delay keep order). */
function delayProxy(target: () => number, delayMs: number): { port: number; stop(): void } {
  type Side = { peer: Bun.Socket<Side> | null; pending: Uint8Array[]; closed: boolean };
  const later = (fn: () => void) => (delayMs === 0 ? fn() : void setTimeout(fn, delayMs));
  const forward = (to: Side, chunk: Uint8Array) => {
    const copy = new Uint8Array(chunk);
    later(() => (to.peer === null ? to.pending.push(copy) : void to.peer.write(copy)));
  };
  const listener = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const back: Side = { peer: client, pending: [], closed: false };
        client.data = { peer: null, pending: [], closed: false };
        const front = client.data;
        void Bun.connect<Side>({
          hostname: "127.0.0.1",
          port: target(),
          socket: {
            open(server) {
              server.data = back;
              front.peer = server;
              for (const c of front.pending.splice(0)) server.write(c);
            },
            data: (_s, chunk) => forward(back, chunk),
            close: () => later(() => client.end()),
            error: () => later(() => client.end()),
          },
        }).catch(() => client.end());
      },
      data: (client, chunk) => forward(client.data, chunk),
      close: (client) => later(() => client.data.peer?.end()),
      error: (client) => later(() => client.data.peer?.end()),
    },
  });
  return { port: listener.port, stop: () => listener.stop(true) };
}

async function startNode(dir: string, name: string, key: string, seed: string | null, advertise: string | null): Promise<Node> {
  const data = join(dir, name);
  const args = [SUP, "start", "--data", data, "--http", "127.0.0.1:0", "--identity", key, "--listen", "127.0.0.1:0", ...(advertise === null ? [] : ["--advertise", advertise]), ...(seed === null ? [] : ["--join", seed])];
  const proc = Bun.spawn(args, { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: { ...process.env, SUP_LOG: "warn" } });
  const reader = proc.stderr.getReader();
  let err = "";
  const deadline = Date.now() + READY_MS;
  while (!/backchannel (127\.0\.0\.1:\d+)/.test(err)) {
    if (Date.now() > deadline) throw new Error(`node ${name} did not start:\n${err}`);
    const { done, value } = await reader.read();
    if (done) throw new Error(`node ${name} exited:\n${err}`);
    err += new TextDecoder().decode(value);
  }
  // Keep draining, so a chatty node never blocks on a full pipe.
  void (async () => {
    for (;;) if ((await reader.read()).done) return;
  })();
  return { name, data, proc, bc: /backchannel (127\.0\.0\.1:\d+)/.exec(err)![1]! };
}

async function allAlive(coordinator: Node, n: number): Promise<void> {
  const deadline = Date.now() + READY_MS;
  for (;;) {
    const members = (await admin(coordinator, "GET", "/nodes")) as { state: string }[];
    if (members.filter((m) => m.state === "alive").length === n) return;
    if (Date.now() > deadline) throw new Error(`the cluster did not reach ${n} alive members`);
    await Bun.sleep(50);
  }
}

/** Times `rounds` exec requests (after WARMUP untimed ones); every node must answer ok. */
async function sample(coordinator: Node, on: string, rounds: number, expect: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < WARMUP + rounds; i++) {
    const t0 = performance.now();
    const r = (await admin(coordinator, "POST", "/exec", { on, code: "1", timeoutMs: 5000 })) as { results: { ok: boolean }[] };
    const ms = performance.now() - t0;
    if (r.results.length !== expect || !r.results.every((x) => x.ok)) throw new Error(`exec --on ${on} did not answer ok on ${expect} nodes: ${JSON.stringify(r.results)}`);
    if (i >= WARMUP) out.push(ms);
  }
  return out;
}

/** Runs the benchmark on loopback and with a delay; returns the number of failures. */
export async function controlBench(options: { rounds?: number; sizes?: readonly number[]; delayMs?: number } = {}): Promise<number> {
  return (await network(options, 0)) + (await network(options, options.delayMs ?? 5));
}

/** One network: nodes behind proxies of `delayMs` (0: no proxy). */
async function network(options: { rounds?: number; sizes?: readonly number[] }, delayMs: number): Promise<number> {
  const rounds = options.rounds ?? 200;
  const sizes = [...(options.sizes ?? [1, 5, 10])].sort((a, b) => a - b);
  const dir = mkdtempSync(join(tmpdir(), "sup-bench-control-"));
  const root = makeRoot();
  const key = (name: string, can: ("admin" | "code")[] = []) => {
    const file = join(dir, `${name}.key`);
    writeIdentityText(file, formatIdentityFile(issueIdentity(root, { name, can }, Date.now())), true);
    return file;
  };
  const nodes: Node[] = [];
  const proxies: { stop(): void }[] = [];
  try {
    const net = delayMs === 0 ? "loopback" : `loopback + ${delayMs} ms each way through a proxy (a ${2 * delayMs} ms round trip)`;
    console.log(`\n== control plane on ${net}: sup exec --on all round trip (POST /exec on the coordinator's socket; program "1"; ${rounds} samples per size after ${WARMUP} warm-up)`);
    console.log(`   ${"nodes".padStart(5)}  ${"p50 ms".padStart(8)}  ${"p99 ms".padStart(8)}  ${"p50 vs 1 node".padStart(14)}`);
    const rows: { n: number; p50: number; p99: number }[] = [];
    for (const n of sizes) {
      while (nodes.length < n) {
        const name = `node-${nodes.length + 1}`;
        let port = 0;
        const proxy = delayMs === 0 ? null : delayProxy(() => port, delayMs);
        if (proxy !== null) proxies.push(proxy);
        const seed = nodes.length === 0 ? null : (nodes[0]!.advertised ?? nodes[0]!.bc);
        const node = await startNode(dir, name, key(name, nodes.length === 0 ? ["admin"] : []), seed, proxy === null ? null : `127.0.0.1:${proxy.port}`);
        port = Number(node.bc.split(":")[1]);
        nodes.push({ ...node, advertised: proxy === null ? null : `127.0.0.1:${proxy.port}` });
      }
      await allAlive(nodes[0]!, n);
      const xs = await sample(nodes[0]!, "all", rounds, n);
      const row = { n, p50: percentile(xs, 0.5), p99: percentile(xs, 0.99) };
      rows.push(row);
      console.log(`   ${String(n).padStart(5)}  ${row.p50.toFixed(2).padStart(8)}  ${row.p99.toFixed(2).padStart(8)}  ${(row.p50 / rows[0]!.p50).toFixed(2).padStart(13)}x`);
    }
    const n = nodes.length;
    const few = Math.max(20, Math.floor(rounds / 5));
    const one = await sample(nodes[0]!, `node:${nodes[n - 1]!.name}`, few, 1);
    // The same nodes asked one by one: what the fan-out would cost if it were not concurrent.
    const seq: number[] = [];
    for (let i = 0; i < few; i++) {
      const t0 = performance.now();
      for (const node of nodes) await admin(nodes[0]!, "POST", "/exec", { on: `node:${node.name}`, code: "1", timeoutMs: 5000 });
      seq.push(performance.now() - t0);
    }
    console.log(`   one remote node alone:             p50 ${percentile(one, 0.5).toFixed(2)} ms`);
    console.log(`   ${n} nodes asked one after another:  p50 ${percentile(seq, 0.5).toFixed(2)} ms, p99 ${percentile(seq, 0.99).toFixed(2)} ms (the fan-out at ${n} is ${(percentile(seq, 0.5) / rows.at(-1)!.p50).toFixed(1)}x faster)`);
    console.log(`   against one remote node: the fan-out to ${n} costs ${(rows.at(-1)!.p50 / percentile(one, 0.5)).toFixed(1)}x, asking them in turn ${(percentile(seq, 0.5) / percentile(one, 0.5)).toFixed(1)}x`);
    if (delayMs === 0) {
      const cli: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t0 = performance.now();
        const r = Bun.spawnSync([SUP, "exec", "--on", "all", "-e", "1", "--data", nodes[0]!.data], { stdout: "ignore", stderr: "ignore" });
        cli.push(performance.now() - t0);
        if (r.exitCode !== 0) throw new Error("sup exec failed");
      }
      console.log(`   the whole \`sup exec --on all\` process at ${n} nodes (CLI start-up included): p50 ${percentile(cli, 0.5).toFixed(1)} ms over 10 runs`);
    }
    return 0;
  } catch (e) {
    console.error(`control benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    for (const node of nodes) node.proc.kill("SIGKILL");
    await Promise.all(nodes.map((node) => node.proc.exited));
    for (const p of proxies) p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { rounds: { type: "string" }, sizes: { type: "string" }, "delay-ms": { type: "string" } } });
  process.exit(await controlBench({ rounds: values.rounds === undefined ? undefined : Number(values.rounds), sizes: values.sizes?.split(",").map(Number), delayMs: values["delay-ms"] === undefined ? undefined : Number(values["delay-ms"]) }));
}
