/**
 * `sup nodes [--json] [--data DIR]`: the members a running node knows: itself and its peers, each
 * with its state (alive, suspect, dead, left), roles, and backchannel and HTTP addresses.
 */
import { admin, dataDirOf, AdminError } from "./admin-client.ts";
import { EXIT_FAILURE, EXIT_OK, parse, UsageError } from "./args.ts";
import { errorLine, writeOut } from "./output.ts";

export const NODES_USAGE = "Usage: sup nodes [--json] [--data DIR]";

interface MemberInfo {
  name: string;
  state: string;
  roles: string[];
  backchannel: string | null;
  http: string | null;
  self: boolean;
}

/** Runs the `nodes` subcommand. */
export async function nodesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { data: { type: "string" }, json: { type: "boolean" } });
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"\n${NODES_USAGE}`);
  try {
    const members = (await admin(dataDirOf(values.data), "GET", "/nodes")) as MemberInfo[];
    if (values.json) {
      writeOut(JSON.stringify(members, null, 2) + "\n");
      return EXIT_OK;
    }
    const rows = [["NAME", "STATE", "ROLES", "BACKCHANNEL", "HTTP"], ...members.map((m) => [m.self ? `${m.name} (self)` : m.name, m.state, m.roles.join(",") || "-", m.backchannel ?? "-", m.http ?? "-"])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows) writeOut(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ") + "\n");
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    errorLine(`error: ${e.message}`);
    return EXIT_FAILURE;
  }
}
