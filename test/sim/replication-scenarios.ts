/**
 * Replication scenarios: nodes run membership and replication; simulated operators write on random
 * nodes while the network loses messages, partitions and heals, and nodes crash and restart. The
 * properties, judged from the stores themselves at the end:
 * - convergence: every running node holds the same entries (version vectors) and the same current
 *   code (state hash);
 * - no lost acknowledged write: every write its origin committed is held by every node, and every
 *   version it made is in every node's history;
 * - nothing refused that should not be (no rejections, no apply errors, no oversize message).
 * A failing run prints its replay command (run.ts), like the membership scenarios.
 */
import { entryId, type ReplicationConfig } from "../../src/cluster/mod.ts";
import { Prng } from "../../src/cluster/prng.ts";
import { replicaBooter, simWrite, type SimWrite } from "./sim-replica.ts";
import type { Report, ScenarioOptions } from "./scenarios.ts";
import { Simulation } from "./simulation.ts";

/** The knobs of a replication scenario. */
export interface ReplScenarioOptions extends ScenarioOptions {
  readonly repl?: Partial<ReplicationConfig>;
}

/** A committed write, as its origin acknowledged it. */
interface Acked {
  readonly id: string;
  readonly origin: string;
  readonly seq: number;
  readonly at: number;
  /** The version a code put made, (name, number): it must be in every history. */
  readonly version: { readonly name: string; readonly number: number } | null;
  /** Nodes that hold it, and when the last of the nodes up at the write got it. */
  readonly holders: Set<number>;
  readonly upAtWrite: number[];
  reachedAllAt: number | null;
  /** Whether the network was whole and every node up while it spread (its latency counts). */
  clean: boolean;
}

interface Cx {
  readonly sim: Simulation;
  readonly rng: Prng;
  readonly n: number;
  readonly figures: Record<string, number | null>;
  readonly failures: string[];
  readonly acked: Acked[];
  dirtyUntil: number;
  waitFor(pred: () => boolean, limitMs: number, stepMs?: number): number | null;
  /** Crashes node i; writes still spreading then no longer count for latency. */
  crash(i: number, rst: boolean): void;
  /** Random writes on random running nodes every `everyMs` for `forMs`. */
  writeLoad(forMs: number, everyMs: number, names: number, onlyOn?: () => number[]): void;
  converged(): boolean;
}

interface ReplScenario {
  readonly nodes: number;
  readonly loss: number;
  readonly describe: string;
  run(cx: Cx): void;
}

function randomWrite(rng: Prng, names: number, k: number): SimWrite {
  const name = `GET /r${rng.int(names)}`;
  const r = rng.next();
  if (r < 0.8) return { op: "put", name, source: `[${k}]` };
  return r < 0.93 ? { op: "rollback", name } : { op: "rm", name };
}

/**
 * Boots every node with membership converged and every pair connected, as in a cluster that has run
 * for a few minutes (members connect when they first probe each other, so the mesh fills within
 * N probe rounds). Nodes restarted later reconnect the way membership makes them.
 */
function bootConverged(cx: Cx, fullMesh = true): void {
  cx.sim.bootstrapConverged();
  if (fullMesh) cx.sim.net.connectAll();
  cx.sim.run(cx.sim.now + (fullMesh ? 1000 : 5000));
}

const SCENARIOS: Record<string, ReplScenario> = {
  "repl-small": {
    nodes: 5,
    loss: 0,
    describe: "5 nodes: writes on every node (conflicting names), a node killed during writes and restarted",
    run(cx) {
      const { sim, figures } = cx;
      bootConverged(cx);
      cx.writeLoad(2000, 20, 4);
      sim.run(sim.now + 500);
      cx.crash(3, true);
      cx.dirtyUntil = Infinity;
      cx.writeLoad(2000, 20, 4);
      sim.run(sim.now + 2000);
      sim.restart(3, [0]);
      figures.restartCaughtUpMs = cx.waitFor(() => cx.converged(), 20_000);
      cx.dirtyUntil = sim.now;
      cx.writeLoad(2000, 50, 4);
    },
  },
  "repl-churn": {
    nodes: 100,
    loss: 0.05,
    describe: "100 nodes at 5% loss: random puts, rollbacks and removals on random nodes; a fifth partitioned for 6 s writing on both sides; two kills and a vanished host restarted; a 1 s stall",
    run(cx) {
      const { sim, n, figures, rng } = cx;
      bootConverged(cx);
      cx.writeLoad(2000, 100, 12);
      sim.run(sim.now + 2000);
      // A partition: both sides keep writing, to the same names.
      const minority = Array.from({ length: Math.floor(n / 5) }, (_, i) => 10 + i);
      const majority = sim.nodes.map((x) => x.index).filter((i) => !minority.includes(i));
      cx.dirtyUntil = Infinity;
      sim.partition(minority, majority);
      cx.writeLoad(6000, 100, 12);
      sim.run(sim.now + 6000);
      sim.heal();
      // Crashes during writes: killed processes and a vanished host, restarted a few seconds later.
      const victims = [n - 1, n - 2, n - 3];
      cx.crash(victims[0]!, true);
      cx.crash(victims[1]!, true);
      cx.crash(victims[2]!, false);
      sim.stall(5, 1000);
      cx.writeLoad(3000, 100, 12);
      sim.run(sim.now + 3000);
      for (const v of victims) sim.restart(v, [rng.int(n - 3), rng.int(n - 3)]);
      figures.healedConvergedMs = cx.waitFor(() => cx.converged(), 60_000);
      // Steady writes with everyone up: their spread time counts.
      cx.dirtyUntil = sim.now;
      cx.writeLoad(3000, 100, 12);
    },
  },
  "repl-large": {
    nodes: 1000,
    loss: 0.01,
    describe: "1,000 converged nodes at 1% loss, connected as membership's first probes left them: single writes on random nodes, each spread to every node",
    run(cx) {
      const { sim, n, figures } = cx;
      // At 1,000 nodes a full mesh is 500,000 connections (gigabytes in one process): the mesh is
      // what membership's probes made in 5 s, a few dozen connections per node, and writes spread
      // epidemically over it (relays and pulls), the harder case for replication.
      bootConverged(cx, false);
      figures.connectionsPerNode = (sim.net.openCount * 2) / n;
      // The quiet rate first (digests only), then five writes a second apart on random nodes.
      const s0 = sim.counters.replSent;
      const b0 = sim.counters.replBytes;
      const q0 = sim.now;
      sim.run(sim.now + 5000);
      const quietPerMs = (sim.counters.replSent - s0) / (sim.now - q0);
      const quietBytesPerMs = (sim.counters.replBytes - b0) / (sim.now - q0);
      const s1 = sim.counters.replSent;
      const b1 = sim.counters.replBytes;
      const t1 = sim.now;
      const writes = 5;
      for (let k = 0; k < writes; k++) sim.at(t1 + k * 1000, () => simWrite(sim, cx.rng.int(n), { op: "put", name: `GET /big${k}`, source: `[${k} "a program of a few dozen bytes"]` }));
      sim.run(t1 + writes * 1000 + 2000);
      const span = sim.now - t1;
      figures.messagesPerWrite = (sim.counters.replSent - s1 - quietPerMs * span) / writes;
      figures.bytesPerWritePerNode = (sim.counters.replBytes - b1 - quietBytesPerMs * span) / writes / n;
      figures.digestsPerNodePerSecond = (quietPerMs * 1000) / n;
    },
  },
};

/** Replication scenario names. */
export const REPL_SCENARIO_NAMES = Object.keys(SCENARIOS);

/** The one-line description of a replication scenario. */
export function describeReplScenario(name: string): string {
  return SCENARIOS[name]?.describe ?? "";
}

function quantile(xs: readonly number[], q: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Runs a replication scenario from its seed; property failures are in the report, never thrown. */
export function runReplScenario(name: string, options: ReplScenarioOptions): Report {
  const s = SCENARIOS[name];
  if (s === undefined) throw new Error(`Unknown scenario "${name}": expected one of ${REPL_SCENARIO_NAMES.join(", ")}`);
  const n = options.nodes ?? s.nodes;
  const loss = options.loss ?? s.loss;
  const seed = options.seed >>> 0;
  const started = performance.now();
  // Clocks within 2 s of each other (NTP-disciplined): HLC stamps far ahead are refused by design.
  const sim = new Simulation({ seed, nodes: n, lossRate: loss, config: options.config, skew: { offsetMs: 2000, drift: 0.0001 }, replication: replicaBooter({ config: options.repl }) });
  const failures: string[] = [];
  const figures: Record<string, number | null> = {};
  const acked: Acked[] = [];
  const byId = new Map<string, Acked>();
  const rejections: Record<string, number> = {};
  let duplicates = 0;
  const dupModes: Record<string, number> = {};
  let applyErrors = 0;
  const cx: Cx = {
    sim,
    rng: new Prng(seed ^ 0xa11ce),
    n,
    figures,
    failures,
    acked,
    dirtyUntil: -Infinity,
    waitFor(pred, limitMs, stepMs = 100) {
      const t0 = sim.now;
      while (!pred()) {
        if (sim.now - t0 >= limitMs) return null;
        sim.run(sim.now + stepMs);
      }
      return sim.now - t0;
    },
    crash(i, rst) {
      for (const a of acked) if (a.reachedAllAt === null) a.clean = false;
      sim.crash(i, rst);
    },
    writeLoad(forMs, everyMs, names, onlyOn) {
      const t0 = sim.now;
      let k = acked.length * 1000 + 1;
      for (let t = 0; t < forMs; t += everyMs) {
        sim.at(t0 + t, () => {
          const candidates = (onlyOn?.() ?? sim.nodes.map((x) => x.index)).filter((i) => sim.nodes[i]!.up);
          if (candidates.length === 0) return;
          simWrite(sim, candidates[cx.rng.int(candidates.length)]!, randomWrite(cx.rng, names, k++));
        });
      }
    },
    converged() {
      const up = sim.nodes.filter((x) => x.up && x.store !== null);
      const first = up[0]!.store!.log;
      const hash = first.stateHash().hash;
      const vector = JSON.stringify(first.vector());
      return up.every((x) => x.store!.log.stateHash().hash === hash && JSON.stringify(x.store!.log.vector()) === vector);
    },
  };
  sim.onReplEvent((node, e, vt) => {
    switch (e.type) {
      case "committed": {
        const id = entryId(e.entry.origin, e.entry.seq);
        const body = e.entry.body;
        const up = sim.nodes.filter((x) => x.up).map((x) => x.index);
        const a: Acked = {
          id,
          origin: e.entry.origin,
          seq: e.entry.seq,
          at: vt,
          version: body.kind === "code-put" ? { name: body.name, number: body.number } : null,
          holders: new Set([node.index]),
          upAtWrite: up,
          reachedAllAt: null,
          clean: vt >= cx.dirtyUntil && up.length === n,
        };
        acked.push(a);
        byId.set(id, a);
        break;
      }
      case "applied": {
        if (e.result.startsWith("error")) applyErrors++;
        const a = byId.get(entryId(e.entry.origin, e.entry.seq));
        if (a === undefined) break;
        a.holders.add(node.index);
        if (a.reachedAllAt === null && a.upAtWrite.every((i) => a.holders.has(i))) a.reachedAllAt = vt;
        break;
      }
      case "rejected":
        rejections[e.reason] = (rejections[e.reason] ?? 0) + 1;
        if (process.env.SIM_DEBUG !== undefined) console.error(`${vt.toFixed(1)} ${node.name} refused from ${e.from}: ${e.reason}: ${e.detail}`);
        break;
      case "duplicate":
        duplicates++;
        dupModes[e.mode] = (dupModes[e.mode] ?? 0) + 1;
        break;
    }
  });
  s.run(cx);
  // The end: every node up, the network whole; everything must converge.
  sim.heal();
  for (const x of sim.nodes) if (!x.up) sim.restart(x.index, [0]);
  const settleMs = cx.waitFor(() => cx.converged(), 60_000);
  if (settleMs === null) {
    const hashes = new Map<string, string[]>();
    for (const x of sim.nodes) {
      const h = `${x.store!.log.stateHash().hash.slice(0, 8)} ${x.store!.log.size}`;
      hashes.set(h, [...(hashes.get(h) ?? []), x.name]);
    }
    failures.push(`not converged 60 s after the end: ${[...hashes].map(([h, ns]) => `${h} on ${ns.length} (${ns.slice(0, 4).join(",")})`).join("; ")}`);
  }
  figures.settleMs = settleMs;
  let lost = 0;
  for (const a of acked) {
    for (const x of sim.nodes) {
      const log = x.store!.log;
      const missing = log.high(a.origin) < a.seq || (a.version !== null && x.store!.getCode("default", a.version.name, a.version.number, a.origin) === null && log.entry(a.origin, a.seq)?.result === "applied");
      if (missing) {
        if (lost++ < 5) failures.push(`acknowledged write ${a.id} (${a.version === null ? "removal" : `${a.version.name} v${a.version.number}`}) missing on ${x.name}`);
      }
    }
  }
  if (lost > 5) failures.push(`… ${lost} missing acknowledged writes in all`);
  if (applyErrors > 0) failures.push(`${applyErrors} entries failed to apply`);
  const rejected = Object.entries(rejections).filter(([r]) => r !== "rate-limited");
  if (rejected.length > 0) failures.push(`entries refused: ${rejected.map(([r, c]) => `${r} ${c}`).join(", ")}`);
  if (sim.counters.replOversize > 0) failures.push(`${sim.counters.replOversize} replication messages over MESSAGE_BYTES_MAX`);
  const clean = acked.filter((a) => a.clean && a.reachedAllAt !== null).map((a) => a.reachedAllAt! - a.at);
  figures.writes = acked.length;
  figures.reachAllP50Ms = quantile(clean, 0.5);
  figures.reachAllP99Ms = quantile(clean, 0.99);
  figures.reachAllMaxMs = quantile(clean, 1);
  figures.duplicates = duplicates;
  figures.duplicatePushes = dupModes.push ?? 0;
  figures.names = sim.nodes[0]!.store!.log.stateHash().names;
  for (const x of sim.nodes) x.store?.close();
  const extra = [
    options.nodes !== undefined ? ` --nodes ${n}` : "",
    options.loss !== undefined ? ` --loss ${loss}` : "",
    options.repl !== undefined ? ` --repl '${JSON.stringify(options.repl)}'` : "",
  ].join("");
  return {
    scenario: name,
    seed,
    nodes: n,
    loss,
    virtualMs: sim.now,
    wallMs: performance.now() - started,
    traceHash: sim.traceHash(),
    counters: sim.counters,
    messagesPerNodePerSecond: sim.counters.sent / n / (sim.now / 1000),
    figures,
    failures,
    replay: `bun test/sim/run.ts --scenario ${name} --seed ${seed}${extra}`,
  };
}
