/**
 * The commands scenario: 20 simulated nodes (commands-sim.ts), random exec requests from random
 * coordinators at random selections, first on a healthy network with 1% loss, then with a killed
 * process, a vanished host, a hanging node and a partition, then after the partition heals. Every
 * request is judged against the truth:
 *
 * - answered exactly once, never after its deadline; one result per target, in target order;
 * - a healthy reachable target is `ok` with its value; a target the coordinator believes dead is
 *   `unreachable` at once (0 ms); a killed process is `unreachable` before the deadline; a hanging
 *   node is `timeout` exactly at the deadline; a vanished or cut-off host is `timeout`, or
 *   `unreachable` when a dial to it timed out before the deadline (a dial another request started);
 * - fan-out is concurrent: a request to healthy nodes completes within the slowest target's own
 *   round trip (dial included) plus its work, whatever the number of targets;
 * - no message is larger than MESSAGE_BYTES_MAX.
 *
 * Deterministic from the seed; a failure prints `bun test/sim/commands-run.ts --seed N`.
 */
import { Prng, type CommandResult, type MemberState } from "../../src/cluster/mod.ts";
import { CommandsSim, fitsMessage, type ExecRecord } from "./commands-sim.ts";
import { nodeSeed } from "./sim-node.ts";

const NODES = 20;
const TIMEOUT_MS = 1000;
/** Slack for jitter (±20% per message) and a retransmission or two at 1% loss. */
const SLACK_MS = 2 * 200 + 5;

/** What a run found. */
export interface CommandsReport {
  readonly seed: number;
  readonly failures: string[];
  readonly traceHash: string;
  readonly execs: number;
  readonly results: Record<CommandResult["outcome"]["status"], number>;
  readonly messages: number;
  readonly maxMessageBytes: number;
  readonly replay: string;
}

/** Runs the scenario for `seed` and judges it; `workScale` multiplies every program's work (tests make a run fail with it). */
export function runCommandsScenario(seed: number, workScale = 1): CommandsReport {
  const sim = new CommandsSim(seed, NODES, { lossRate: 0.01, workScale });
  const rng = new Prng(nodeSeed(seed, -4, 0));
  const pick = (n: number) => Math.floor(rng.next() * n);
  const healthy = (i: number) => i < 3 || i > 7;
  let id = 0;
  const request = (vt: number, from: number, states: (i: number) => MemberState) =>
    sim.at(vt, () => {
      const k = 1 + pick(NODES);
      const chosen = new Set<number>();
      while (chosen.size < k) chosen.add(pick(NODES));
      sim.exec(from, ++id, [...chosen].map((index) => ({ index, state: states(index) })), `work ${pick(50)}`, TIMEOUT_MS);
    });
  // A healthy cluster.
  for (let t = 100; t < 2000; t += 60) request(t, pick(NODES), () => "alive");
  // Trouble: n3 killed, n4's host vanishes, n5 hangs, n6 and n7 cut off from the rest.
  sim.at(3000, () => {
    sim.kill(3);
    sim.vanish(4);
    sim.hang(5);
    sim.partition([6, 7], [...Array(NODES).keys()].filter((i) => i !== 6 && i !== 7));
  });
  // Coordinators are healthy nodes; some already believe n3 dead, others not yet.
  for (let t = 3100; t < 6000; t += 60) {
    let from = pick(NODES);
    while (!healthy(from)) from = pick(NODES);
    const knows = rng.next() < 0.5;
    request(t, from, (i) => (i === 3 && knows ? "dead" : "alive"));
  }
  sim.at(8000, () => sim.heal());
  for (let t = 8100; t < 9000; t += 60) {
    let from = pick(NODES);
    while (!healthy(from)) from = pick(NODES);
    request(t, from, (i) => (i === 3 ? "dead" : i === 4 || i === 5 ? "left" : "alive"));
  }
  sim.run(20_000);
  const failures: string[] = [];
  const counts: CommandsReport["results"] = { ok: 0, error: 0, timeout: 0, unreachable: 0 };
  for (const r of sim.execs.values()) judge(sim, r, failures, counts);
  if (!fitsMessage(sim.maxBytes)) failures.push(`a message of ${sim.maxBytes} bytes is over the limit`);
  return { seed, failures, traceHash: sim.traceHash(), execs: sim.execs.size, results: counts, messages: sim.sent, maxMessageBytes: sim.maxBytes, replay: `bun test/sim/commands-run.ts --seed ${seed}${workScale === 1 ? "" : ` --work-scale ${workScale}`}` };
}

function judge(sim: CommandsSim, r: ExecRecord, failures: string[], counts: CommandsReport["results"]): void {
  const where = `exec ${r.from}:${r.id} at ${r.at.toFixed(1)}`;
  if (r.done === null || r.doneCount !== 1) return void failures.push(`${where}: answered ${r.doneCount} times`);
  if (r.done.at > r.at + r.timeoutMs + 1e-9) failures.push(`${where}: answered at ${(r.done.at - r.at).toFixed(1)} ms, after its ${r.timeoutMs} ms deadline`);
  const names = r.targets.map((t) => t.name);
  const unique = [...new Set(names)];
  if (r.done.results.map((x) => x.node).join() !== unique.join()) failures.push(`${where}: results are not one per target in order`);
  const w = Number(/^work (\d+)$/.exec(r.code)![1]);
  let allHealthy = true;
  let slowest = 0;
  for (const [i, res] of r.done.results.entries()) {
    counts[res.outcome.status]++;
    const truth = r.truth[i]!;
    const self = truth.index === r.from;
    const rtt = self ? 0 : sim.links.baseMs(r.from, truth.index) + sim.links.baseMs(truth.index, r.from);
    let want: string[];
    if (!self && (truth.state === "dead" || truth.state === "left")) want = ["unreachable"];
    else if (truth.health === "killed") want = ["unreachable"];
    else if (truth.health === "hanging") want = ["timeout"];
    else if (truth.health === "vanished" || truth.partitioned) want = ["timeout", "unreachable"];
    else want = ["ok"];
    if (want[0] !== "ok") allHealthy = false;
    slowest = Math.max(slowest, 2 * rtt * 1.2 + w);
    const got = res.outcome.status;
    if (!want.includes(got)) failures.push(`${where}: ${res.node} (${truth.health}, believed ${truth.state}) is ${got}, expected ${want.join(" or ")}`);
    if (got === "ok" && res.outcome.value !== String(w)) failures.push(`${where}: ${res.node} answered ${res.outcome.value}, expected ${w}`);
    if (got === "timeout" && res.ms !== r.timeoutMs) failures.push(`${where}: ${res.node} timed out after ${res.ms} ms, not at the deadline`);
    if (got === "unreachable" && res.ms >= r.timeoutMs) failures.push(`${where}: ${res.node} unreachable only at the deadline`);
    if (got === "unreachable" && truth.health !== "killed" && truth.state === "alive" && !(res.outcome.status === "unreachable" && res.outcome.detail.startsWith("cannot connect"))) failures.push(`${where}: ${res.node} unreachable without a failed dial: ${JSON.stringify(res.outcome)}`);
    if (got === "unreachable" && !self && truth.state === "dead" && res.ms !== 0) failures.push(`${where}: ${res.node}, believed dead, took ${res.ms} ms to be unreachable`);
  }
  // Concurrent fan-out: the slowest target's own round trip (a dial and the exchange) plus its work.
  if (allHealthy && r.done.at - r.at > slowest + SLACK_MS) failures.push(`${where}: ${unique.length} healthy targets took ${(r.done.at - r.at).toFixed(1)} ms, more than the slowest one's ${slowest.toFixed(1)} ms (+ slack): not concurrent`);
}
