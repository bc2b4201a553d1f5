/**
 * `bun run bench --only membership`: the membership core in the simulator at 1,000 nodes and 1%
 * message loss (the `large` scenario of test/sim, one seed): how long until every node knows of a
 * join and of a death (a killed process, whose connections close, and a vanished host, whose go
 * quiet), in virtual seconds and gossip rounds; messages per node per second; and the wall time of
 * the run. memberlist's reference point: a change reaches a large cluster in a few seconds of gossip
 * at 200 ms intervals, and its LAN suspicion for 1,000 nodes lasts 12 s before a death is declared.
 *
 * `bun bench/membership.ts [--seed N] [--nodes N] [--loss P]`.
 */
import { parseArgs } from "node:util";
import { DEFAULT_MEMBERSHIP_CONFIG, suspicionTimeouts } from "../src/cluster/mod.ts";
import { runScenario } from "../test/sim/scenarios.ts";

const fmt = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? "—" : v.toFixed(digits));

/** Runs the benchmark once and prints its figures; returns the number of failed properties. */
export function membershipBench(options: { seed?: number; nodes?: number; loss?: number } = {}): number {
  const nodes = options.nodes ?? 1000;
  const r = runScenario("large", { seed: options.seed ?? 1, nodes, loss: options.loss ?? 0.01 });
  const f = r.figures;
  const cfg = DEFAULT_MEMBERSHIP_CONFIG;
  const { minMs, maxMs } = suspicionTimeouts(cfg, nodes);
  console.log(`membership: ${nodes} simulated nodes, ${(r.loss * 100).toFixed(0)}% loss, seed ${r.seed} (probe ${cfg.probeIntervalMs} ms, gossip ${cfg.gossipIntervalMs} ms × ${cfg.gossipFanout}, suspicion ${fmt(minMs / 1000, 1)}–${fmt(maxMs / 1000, 1)} s)`);
  console.log(`  join known by every node      ${fmt(f.joinKnownByAllMs)} ms virtual, ${fmt(f.joinRounds)} gossip rounds`);
  console.log(`  kill:   first dead verdict    ${fmt(f.killFirstDeadMs)} ms, everyone ${fmt(f.killAllDeadMs)} ms (dissemination ${fmt(f.killDisseminationMs)} ms, ${fmt((f.killDisseminationMs ?? 0) / cfg.gossipIntervalMs, 1)} rounds)`);
  console.log(`  vanish: first dead verdict    ${fmt(f.vanishFirstDeadMs)} ms, everyone ${fmt(f.vanishAllDeadMs)} ms (dissemination ${fmt(f.vanishDisseminationMs)} ms, ${fmt((f.vanishDisseminationMs ?? 0) / cfg.gossipIntervalMs, 1)} rounds)`);
  console.log(`  messages per node per second  ${fmt(f.steadyMessagesPerNodePerSecond, 2)} steady, ${fmt(r.messagesPerNodePerSecond, 2)} over the run (${r.counters.sent} messages, ${(r.counters.bytes / 1e6).toFixed(1)} MB, largest ${r.counters.maxMessageBytes} B)`);
  console.log(`  run                           ${(r.virtualMs / 1000).toFixed(1)} s virtual in ${(r.wallMs / 1000).toFixed(1)} s wall (${r.counters.steps} core steps, ${fmt((r.wallMs * 1000) / r.counters.steps, 1)} µs each)`);
  if (r.failures.length > 0) console.log(`  FAILED: ${r.failures.join("; ")}\n  replay: ${r.replay}`);
  return r.failures.length;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { seed: { type: "string" }, nodes: { type: "string" }, loss: { type: "string" } } });
  const failures = membershipBench({
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
    ...(values.nodes !== undefined ? { nodes: Number(values.nodes) } : {}),
    ...(values.loss !== undefined ? { loss: Number(values.loss) } : {}),
  });
  process.exit(failures > 0 ? 1 : 0);
}
