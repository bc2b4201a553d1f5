/**
 * Replays one simulator scenario from its seed and prints the report:
 *
 *   bun test/sim/run.ts --scenario churn --seed 1234 [--nodes N] [--loss P] [--config JSON] [--repl JSON] [--json]
 *
 * `--config` overrides membership parameters, e.g. `--config '{"suspicionBaseMs":3000}'`; `--repl`
 * replication parameters of the repl-* scenarios, e.g. `--repl '{"relayFanout":1}'`.
 * `SIM_TRACE=n7` also prints every input node n7 gets and every effect it answers with.
 *
 * Exits 1 when a property failed (the failures are printed), 64 for bad arguments.
 */
import { parseArgs } from "node:util";
import type { MembershipConfig, ReplicationConfig } from "../../src/cluster/mod.ts";
import { describeReplScenario, REPL_SCENARIO_NAMES, runReplScenario } from "./replication-scenarios.ts";
import { describeScenario, runScenario, SCENARIO_NAMES, type Report } from "./scenarios.ts";

/** Prints a report for people. */
export function formatReport(r: Report): string {
  const c = r.counters;
  const lines = [
    `scenario ${r.scenario} (${describeScenario(r.scenario) || describeReplScenario(r.scenario)})`,
    `seed ${r.seed}, ${r.nodes} nodes, loss ${r.loss}, ${(r.virtualMs / 1000).toFixed(1)} s virtual in ${(r.wallMs / 1000).toFixed(2)} s wall, trace ${r.traceHash}`,
    `messages ${c.sent} (${r.messagesPerNodePerSecond.toFixed(1)}/node/s), ${(c.bytes / 1e6).toFixed(2)} MB, largest ${c.maxMessageBytes} B; lost ${c.lost}, partitioned ${c.partitioned}, unconnected ${c.unconnected}, to down ${c.toDown}; dials ${c.dials}; core steps ${c.steps}`,
    ...(c.replSent > 0 ? [`replication messages ${c.replSent}, ${(c.replBytes / 1e6).toFixed(2)} MB`] : []),
    `by kind: ${Object.entries(c.byKind).map(([k, v]) => `${k} ${v} (${((c.bytesByKind[k] ?? 0) / 1e6).toFixed(2)} MB)`).join(", ")}`,
    ...Object.entries(r.figures).map(([k, v]) => `  ${k}: ${v === null ? "—" : Number.isInteger(v) ? v : v.toFixed(2)}`),
    r.failures.length === 0 ? "all properties held" : `FAILED:\n${r.failures.map((f) => `  ${f}`).join("\n")}\nreplay: ${r.replay}`,
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { scenario: { type: "string" }, seed: { type: "string" }, nodes: { type: "string" }, loss: { type: "string" }, config: { type: "string" }, repl: { type: "string" }, json: { type: "boolean" } } });
  const scenario = values.scenario ?? "churn";
  const seed = Number(values.seed ?? 1);
  const names = [...SCENARIO_NAMES, ...REPL_SCENARIO_NAMES];
  if (!names.includes(scenario) || !Number.isInteger(seed)) {
    console.error(`usage: bun test/sim/run.ts --scenario ${names.join("|")} --seed N [--nodes N] [--loss P] [--config JSON] [--repl JSON] [--json]`);
    process.exit(64);
  }
  const r = (REPL_SCENARIO_NAMES.includes(scenario) ? runReplScenario : runScenario)(scenario, {
    seed,
    ...(values.nodes !== undefined ? { nodes: Number(values.nodes) } : {}),
    ...(values.loss !== undefined ? { loss: Number(values.loss) } : {}),
    ...(values.config !== undefined ? { config: JSON.parse(values.config) as Partial<MembershipConfig> } : {}),
    ...(values.repl !== undefined ? { repl: JSON.parse(values.repl) as Partial<ReplicationConfig> } : {}),
  });
  console.log(values.json === true ? JSON.stringify(r, null, 2) : formatReport(r));
  process.exit(r.failures.length === 0 ? 0 : 1);
}
