/**
 * Replays the commands scenario for one seed: `bun test/sim/commands-run.ts --seed N`. Prints the
 * report (and every failed property); exits 1 when any failed.
 */
import { parseArgs } from "node:util";
import { runCommandsScenario } from "./commands-scenario.ts";

const { values } = parseArgs({ options: { seed: { type: "string" }, "work-scale": { type: "string" } } });
const r = runCommandsScenario(Number(values.seed ?? 1), Number(values["work-scale"] ?? 1));
console.log(`commands scenario, seed ${r.seed}: ${r.execs} execs, results ${JSON.stringify(r.results)}, ${r.messages} messages (largest ${r.maxMessageBytes} bytes), trace ${r.traceHash}`);
for (const f of r.failures) console.log(`  FAILED ${f}`);
process.exit(r.failures.length === 0 ? 0 : 1);
