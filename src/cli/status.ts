/**
 * `sup status [--data DIR] [--json]`: what a running node reports about itself, its identity,
 * cluster id and backchannel address included.
 */
import { admin, dataDirOf, AdminError } from "./admin-client.ts";
import { EXIT_FAILURE, EXIT_OK, atMostPositionals, parse } from "./args.ts";
import { errorLine, writeOut } from "./output.ts";

export const STATUS_USAGE = "Usage: sup status [--data DIR] [--json]";

/** Runs the `status` subcommand. */
export async function statusCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { data: { type: "string" }, json: { type: "boolean" } });
  atMostPositionals(positionals, 0, STATUS_USAGE);
  try {
    const s = (await admin(dataDirOf(values.data), "GET", "/status")) as Record<string, unknown>;
    if (values.json) writeOut(JSON.stringify(s, null, 2) + "\n");
    else {
      const kernels = (s.kernels as { name: string; version: number }[]).map((k) => `${k.name}@${k.version}`).join(" ");
      const jobs = s.jobs as { scheduled: number; unscheduled: number };
      const idle = jobs.unscheduled > 0 ? `, ${jobs.unscheduled} not scheduled` : "";
      const c = s.cluster as { name: string; clusterId: string; identityFile: string; listen: string | null; advertise: string; join: string | null; peers: number; incarnation: number; members: Record<string, number> } | null;
      const states = c === null ? "" : Object.entries(c.members).filter(([, n]) => n > 0).map(([state, n]) => `${n} ${state}`).join(", ");
      const cluster =
        c === null
          ? "identity none (runs alone)\n"
          : `identity ${c.name} (${c.identityFile})\ncluster ${c.clusterId}\nbackchannel ${c.listen ?? "off"}${c.advertise !== c.listen ? ` (peers dial ${c.advertise})` : ""}${c.join !== null ? `, joins ${c.join}` : ""}, ${c.peers} peer${c.peers === 1 ? "" : "s"} connected\nmembers ${states} (incarnation ${c.incarnation})\n`;
      const r = s.replication as { stateHash: string; entries: number; origin: string } | undefined;
      const repl = r === undefined ? "" : `state hash ${r.stateHash}\nchange log ${r.entries} entries (writes as ${r.origin})\n`;
      writeOut(`node ${s.id}\ndata ${s.dataDir}\nhttp ${s.http ?? "off"}\n${cluster}kernels ${kernels}\ncode ${s.code} names, change seq ${s.seq}\n${repl}jobs ${jobs.scheduled} scheduled${idle}\n`);
    }
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    errorLine(`error: ${e.message}`);
    return EXIT_FAILURE;
  }
}
