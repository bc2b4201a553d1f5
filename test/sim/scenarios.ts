/**
 * Named simulator scenarios and their property checks. Each scenario builds a simulation from a
 * seed and a few knobs, scripts a timeline (joins, crashes, stalls, partitions, heals, restarts,
 * leaves) and returns a report: the figures, and every property that failed. The CI suite, the
 * replay command (run.ts) and the benchmark all go through runScenario, so a failing seed in CI
 * replays exactly with the command the report prints.
 */
import { DEFAULT_MEMBERSHIP_CONFIG, detectionBoundMs, suspicionTimeouts, type MembershipConfig } from "../../src/cluster/mod.ts";
import { Prng } from "../../src/cluster/prng.ts";
import { Observer } from "./observer.ts";
import { nodeMeta as nodeMetaOf } from "./sim-node.ts";
import { Simulation, type SimCounters } from "./simulation.ts";

/** The knobs a scenario takes (each has a per-scenario default). */
export interface ScenarioOptions {
  readonly seed: number;
  readonly nodes?: number;
  readonly loss?: number;
  /** Membership parameters other than the defaults (to study a change, or to show a check failing). */
  readonly config?: Partial<MembershipConfig>;
}

/** What a scenario run found. */
export interface Report {
  readonly scenario: string;
  readonly seed: number;
  readonly nodes: number;
  readonly loss: number;
  readonly virtualMs: number;
  readonly wallMs: number;
  readonly traceHash: string;
  readonly counters: SimCounters;
  /** Messages sent per running node per virtual second. */
  readonly messagesPerNodePerSecond: number;
  /** Named durations (ms) and counts the scenario measured. */
  readonly figures: Record<string, number | null>;
  /** Properties that did not hold; empty when the run passed. */
  readonly failures: string[];
  /** The command that replays this run. */
  readonly replay: string;
}

/** The context a scenario script gets. */
interface Ctx {
  readonly sim: Simulation;
  readonly obs: Observer;
  readonly rng: Prng;
  readonly config: MembershipConfig;
  readonly n: number;
  readonly figures: Record<string, number | null>;
  readonly failures: string[];
  /** Runs until `pred` holds (checked every `stepMs`) or `limitMs` passes; the time it took, or null. */
  waitFor(pred: () => boolean, limitMs: number, stepMs?: number): number | null;
  /** Crashes node i and records it for the checks. */
  crash(i: number, rst: boolean): void;
  restart(i: number, fresh?: boolean): void;
  stall(i: number, ms: number): void;
  partition(a: number[], b: number[], forMs: number, oneWay?: boolean): void;
  /**
   * Ends a scenario: within 10 s every running node must see the truth and hold the same list. A
   * snapshot would not do: at 5% loss a probe of a live member fails now and then, and its
   * suspicion is refuted within a second or two.
   */
  settle(): void;
  /** Checks every recorded death: known to every witness within `boundMs`. */
  checkDeaths(boundMs: number, label: string): void;
}

interface Scenario {
  readonly nodes: number;
  readonly loss: number;
  readonly describe: string;
  readonly sim?: (o: { seed: number; nodes: number; loss: number; config: Partial<MembershipConfig> }) => ConstructorParameters<typeof Simulation>[0];
  run(cx: Ctx): void;
}

/** Boots node 0, then the others one by one, each joining through up to three random earlier nodes. */
function joinAll(cx: Ctx, spacingMs: number): void {
  const { sim, rng, n } = cx;
  sim.start(0);
  for (let i = 1; i < n; i++) {
    const via = [...new Set([rng.int(i), rng.int(i), rng.int(i)])];
    sim.at(sim.now + i * spacingMs, () => sim.start(i, via));
  }
  sim.run(sim.now + n * spacingMs);
}

const SCENARIOS: Record<string, Scenario> = {
  small: {
    nodes: 5,
    loss: 0,
    describe: "5 nodes as in the multi-process test: kill one, restart it, stall one for 1 s, SIGTERM one",
    run(cx) {
      const { sim, obs, figures, failures } = cx;
      joinAll(cx, 100);
      figures.joinConvergedMs = cx.waitFor(() => obs.converged(), 10_000);
      cx.crash(1, true);
      figures.killKnownMs = cx.waitFor(() => obs.converged(), 10_000);
      cx.checkDeaths(5000, "5 s target");
      cx.restart(1);
      figures.restartAliveMs = cx.waitFor(() => obs.converged(), 10_000);
      cx.stall(2, 1000);
      sim.run(sim.now + 8000);
      sim.request(3, { type: "leave" });
      const t0 = sim.now;
      sim.at(t0, () => sim.crash(3, true));
      figures.leftKnownMs = cx.waitFor(() => [0, 1, 2, 4].every((o) => obs.views[o]!.get("n3") === "left"), 5000, 10);
      if (figures.leftKnownMs === null || figures.leftKnownMs > 100) failures.push(`a leaving node was not "left" everywhere at once (${figures.leftKnownMs} ms)`);
      cx.settle();
    },
  },
  churn: {
    nodes: 100,
    loss: 0.05,
    describe: "100 nodes at 5% loss: joins, two kills and a vanished host, a 1 s stall, a partition of a fifth for 12 s, heal",
    run(cx) {
      const { sim, obs, n, figures } = cx;
      joinAll(cx, 20);
      figures.joinConvergedMs = cx.waitFor(() => obs.converged(), 20_000);
      cx.crash(n - 1, true);
      cx.crash(n - 2, true);
      cx.crash(n - 3, false);
      cx.stall(5, 1000);
      figures.deathsKnownMs = cx.waitFor(() => obs.converged(), 30_000);
      cx.checkDeaths(detectionBoundMs(cx.config, n), "detection bound");
      const groupA = Array.from({ length: Math.floor(n / 5) }, (_, i) => 20 + i);
      const rest = sim.nodes.map((x) => x.index).filter((i) => !groupA.includes(i));
      cx.partition(groupA, rest, 12_000);
      sim.run(sim.now + 12_000);
      figures.healConvergedMs = cx.waitFor(() => obs.converged(), 60_000);
      cx.settle();
    },
  },
  lifecycle: {
    nodes: 20,
    loss: 0.05,
    describe: "20 nodes at 5% loss: kills, a restart that kept its incarnation and one that lost it, a leave, the left node back, stalls of 1 s",
    run(cx) {
      const { sim, obs, figures } = cx;
      joinAll(cx, 50);
      figures.joinConvergedMs = cx.waitFor(() => obs.converged(), 20_000);
      cx.crash(18, true);
      cx.crash(19, false);
      figures.deathsKnownMs = cx.waitFor(() => obs.converged(), 30_000);
      cx.checkDeaths(detectionBoundMs(cx.config, 20), "detection bound");
      cx.restart(18);
      cx.restart(19, true);
      figures.restartsAliveMs = cx.waitFor(() => obs.converged(), 20_000);
      sim.request(10, { type: "leave" });
      sim.crash(10, true);
      figures.leftKnownMs = cx.waitFor(() => sim.nodes.every((x) => !x.up || x.index === 10 || obs.views[x.index]!.get("n10") === "left"), 5000, 10);
      cx.restart(10);
      figures.leftBackAliveMs = cx.waitFor(() => obs.converged(), 20_000);
      for (const i of [3, 7, 12]) cx.stall(i, 1000);
      sim.run(sim.now + 8000);
      cx.settle();
    },
  },
  asymmetric: {
    nodes: 20,
    loss: 0.01,
    describe: "20 nodes: one hears nobody while everyone hears it, then two can send to nobody (one-way partitions), each healed",
    run(cx) {
      const { sim, obs, figures } = cx;
      joinAll(cx, 50);
      figures.joinConvergedMs = cx.waitFor(() => obs.converged(), 20_000);
      const others = (xs: number[]): number[] => sim.nodes.map((x) => x.index).filter((i) => !xs.includes(i));
      cx.partition(others([7]), [7], 15_000, true);
      sim.run(sim.now + 15_000);
      figures.deafHealConvergedMs = cx.waitFor(() => obs.converged(), 60_000);
      cx.partition([3, 11], others([3, 11]), 10_000, true);
      sim.run(sim.now + 10_000);
      figures.muteHealConvergedMs = cx.waitFor(() => obs.converged(), 60_000);
      cx.settle();
    },
  },
  large: {
    nodes: 1000,
    loss: 0.01,
    describe: "1,000 converged nodes at 1% loss: a join, a kill (connections close) and a vanished host (they go quiet)",
    sim: (o) => ({ seed: o.seed, nodes: o.nodes + 1, lossRate: o.loss, config: o.config }),
    run(cx) {
      const { sim, obs, rng, n, figures, config } = cx;
      // Node n is the joiner; the others start converged (as after a long run) and warm up.
      const joiner = n;
      const firstN = sim.nodes.slice(0, n);
      for (const node of firstN) sim.start(node.index);
      const records = firstN.map((x) => ({ name: x.name, incarnation: 0, state: "alive" as const, meta: nodeMetaOf(x.index), stats: { inflight: 0, lagMs: 0, cpuPermille: 0, logPosition: 0, seq: 0 } }));
      for (const node of firstN) sim.request(node.index, { type: "restore", records });
      sim.run(sim.now + 5000);
      const joinAt = sim.now;
      let joinKnown = 0;
      const joinSeen = new Set<number>();
      sim.onEvent((node, e, vt) => {
        if (e.type === "member" && e.name === sim.nodes[joiner]!.name && e.state === "alive" && !joinSeen.has(node.index)) {
          joinSeen.add(node.index);
          if (joinSeen.size === n) joinKnown = vt;
        }
      });
      sim.start(joiner, [rng.int(n)]);
      const sent0 = sim.counters.sent;
      cx.waitFor(() => joinSeen.size === n, 30_000, 50);
      figures.joinKnownByAllMs = joinKnown > 0 ? joinKnown - joinAt : null;
      figures.joinRounds = joinKnown > 0 ? Math.ceil((joinKnown - joinAt) / config.gossipIntervalMs) : null;
      sim.run(sim.now + 2000);
      const steadyFrom = sim.now;
      const steadySent = sim.counters.sent;
      sim.run(sim.now + 5000);
      figures.steadyMessagesPerNodePerSecond = (sim.counters.sent - steadySent) / (n + 1) / ((sim.now - steadyFrom) / 1000);
      figures.joinPhaseMessages = steadySent - sent0;
      for (const [label, rst] of [["kill", true], ["vanish", false]] as const) {
        const victim = 1 + rng.int(n - 1);
        cx.crash(victim, rst);
        const d = obs.deaths.at(-1)!;
        cx.waitFor(() => obs.detection(d).allMs !== null, 60_000, 50);
        const det = obs.detection(d);
        figures[`${label}FirstDeadMs`] = det.firstMs;
        figures[`${label}AllDeadMs`] = det.allMs;
        figures[`${label}DisseminationMs`] = det.allMs !== null && det.firstMs !== null ? det.allMs - det.firstMs : null;
        sim.run(sim.now + 3000);
      }
      cx.checkDeaths(detectionBoundMs(config, n), "detection bound");
    },
  },
};

/** Scenario names. */
export const SCENARIO_NAMES = Object.keys(SCENARIOS);

/** The one-line description of a scenario. */
export function describeScenario(name: string): string {
  return SCENARIOS[name]?.describe ?? "";
}

/** Runs a scenario from its seed; never throws for a property failure (they are in `failures`). */
export function runScenario(name: string, options: ScenarioOptions): Report {
  const s = SCENARIOS[name];
  if (s === undefined) throw new Error(`Unknown scenario "${name}": expected one of ${SCENARIO_NAMES.join(", ")}`);
  const nodes = options.nodes ?? s.nodes;
  const loss = options.loss ?? s.loss;
  const seed = options.seed >>> 0;
  const started = performance.now();
  const config0 = options.config ?? {};
  const sim = new Simulation(s.sim?.({ seed, nodes, loss, config: config0 }) ?? { seed, nodes, lossRate: loss, config: config0 });
  const config = { ...DEFAULT_MEMBERSHIP_CONFIG, ...sim.config };
  const stallAllowanceMs = suspicionTimeouts(config, nodes).minMs / 2;
  const obs = new Observer(sim, detectionBoundMs(config, nodes), stallAllowanceMs);
  const figures: Record<string, number | null> = {};
  const failures: string[] = [];
  const cx: Ctx = {
    sim,
    obs,
    rng: new Prng(seed ^ 0x5eed),
    config,
    n: nodes,
    figures,
    failures,
    waitFor(pred, limitMs, stepMs = 100) {
      const t0 = sim.now;
      while (!pred()) {
        if (process.env.SIM_DEBUG !== undefined && (sim.now - t0) % 1000 === 0) console.error(`${sim.now}: ${obs.disagreements(8).join(", ")}`);
        if (sim.now - t0 >= limitMs) {
          const stuck = obs.disagreements(5);
          if (stuck.length > 0) failures.push(`at ${sim.now.toFixed(0)} ms: ${stuck.join(", ")}`);
          return null;
        }
        sim.run(sim.now + stepMs);
      }
      return sim.now - t0;
    },
    crash(i, rst) {
      sim.crash(i, rst);
      obs.crashed(i);
    },
    restart(i, fresh = false) {
      const others = sim.nodes.filter((x) => x.up && x.index !== i).map((x) => x.index);
      sim.restart(i, [others[cx.rng.int(others.length)]!, others[cx.rng.int(others.length)]!], fresh);
      obs.restarted(i);
    },
    stall(i, ms) {
      sim.stall(i, ms);
      obs.stalled(i, ms);
    },
    partition(a, b, forMs, oneWay = false) {
      sim.partition(a, b, oneWay);
      obs.partitioned(sim.now + forMs);
      sim.at(sim.now + forMs, () => sim.heal());
    },
    settle() {
      if (cx.waitFor(() => obs.converged() && obs.sameLists(), 10_000) === null) failures.push(`no settled, common member list at the end: ${obs.disagreements(5).join(", ")}`);
    },
    checkDeaths(boundMs, label) {
      for (const d of obs.deaths) {
        if (d.endedAt !== null && d.endedAt - d.at < boundMs) continue;
        const det = obs.detection(d);
        if (det.allMs === null) failures.push(`death of ${d.name} at ${d.at.toFixed(0)} ms never seen by ${det.missing.join(",")}`);
        else if (det.allMs > boundMs) failures.push(`death of ${d.name} took ${det.allMs.toFixed(0)} ms to reach everyone, over the ${label} of ${boundMs.toFixed(0)} ms`);
      }
    },
  };
  s.run(cx);
  for (const fp of obs.falsePositives) failures.push(`false positive: ${fp.observer} declared live ${fp.member} dead at ${fp.at.toFixed(0)} ms`);
  for (const [k, v] of Object.entries(figures)) if (v === null) failures.push(`${k}: did not happen within its limit`);
  if (sim.counters.oversize > 0) failures.push(`${sim.counters.oversize} messages over MESSAGE_BYTES_MAX`);
  figures.suspicionsOfLive = obs.suspicionsOfLive;
  figures.refutations = obs.refutations;
  const running = sim.nodes.filter((x) => x.up).length;
  const extra = [
    options.nodes !== undefined ? ` --nodes ${nodes}` : "",
    options.loss !== undefined ? ` --loss ${loss}` : "",
    options.config !== undefined ? ` --config '${JSON.stringify(options.config)}'` : "",
  ].join("");
  return {
    scenario: name,
    seed,
    nodes,
    loss,
    virtualMs: sim.now,
    wallMs: performance.now() - started,
    traceHash: sim.traceHash(),
    counters: sim.counters,
    messagesPerNodePerSecond: sim.counters.sent / Math.max(1, running) / (sim.now / 1000),
    figures,
    failures,
    replay: `bun test/sim/run.ts --scenario ${name} --seed ${seed}${extra}`,
  };
}
