/**
 * `sup nodes [--json] [--data DIR]`: the members a running node knows, itself included, sorted by
 * name: state, incarnation, roles, addresses, last reported load and change-log position, how far
 * behind this node's log each is (BEHIND, entries) and the first digits of the state hash of the code
 * it serves (CODE: equal on nodes serving the same code), when the node last heard from each, and its
 * kernel set. `--json` gives every field (docs/cluster.md, "Membership on a node").
 * `sup nodes revoke NAME [--serial S] [--reason TEXT]`: every node refuses that node's certificate
 * from now on (admin only), with a result per node told.
 */
import { EXEC_TIMEOUT_MS_MAX } from "../cluster/mod.ts";
import type { MemberInfo } from "../node/member-json.ts";
import { admin, dataDirOf, AdminError } from "./admin-client.ts";
import { atMostPositionals, EXIT_FAILURE, EXIT_OK, parse, UsageError } from "./args.ts";
import { printResults, timeoutOption, type NodeResult } from "./node-results.ts";
import { errorLine, writeOut } from "./output.ts";

export const NODES_USAGE = "Usage: sup nodes [--json] [--data DIR]\n       sup nodes revoke NAME [--serial SERIAL] [--reason TEXT] [--timeout DURATION] [--json] [--data DIR]";

const HEADER = ["NAME", "STATE", "INC", "ROLES", "BACKCHANNEL", "HTTP", "REQS", "LAG", "CPU", "LOG", "BEHIND", "CODE", "HEARD", "KERNELS"];

/** A member with what the answering node knows of its replication (node.ts, MemberReplication). */
type Member = MemberInfo & { readonly replication?: { readonly stateHash: string | null; readonly behind: number | null } };

/** Runs the `nodes` subcommand. */
export async function nodesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { data: { type: "string" }, json: { type: "boolean" }, serial: { type: "string" }, reason: { type: "string" }, timeout: { type: "string" } });
  if (positionals[0] === "revoke") return revoke(positionals.slice(1), values);
  atMostPositionals(positionals, 0, NODES_USAGE);
  if (values.serial !== undefined || values.reason !== undefined || values.timeout !== undefined) throw new UsageError(`--serial, --reason and --timeout go with "sup nodes revoke"\n${NODES_USAGE}`);
  try {
    const members = (await admin(dataDirOf(values.data), "GET", "/nodes")) as Member[];
    writeOut(values.json ? JSON.stringify(members, null, 2) + "\n" : nodesTable(members));
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    errorLine(`error: ${e.message}`);
    return EXIT_FAILURE;
  }
}

/** The plain form: one aligned row per member. */
export function nodesTable(members: readonly Member[]): string {
  const rows = [HEADER, ...members.map(row)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

function row(m: Member): string[] {
  const live = m.state === "alive" || m.state === "suspect";
  return [
    m.self ? `${m.name} (self)` : m.name,
    m.state,
    String(m.incarnation),
    m.roles.join(",") || "-",
    m.backchannel ?? "-",
    m.http ?? "-",
    live ? String(m.load.inflight) : "-",
    live ? `${m.load.lagMs}ms` : "-",
    live ? `${(m.load.cpuPermille / 10).toFixed(0)}%` : "-",
    String(m.logPosition),
    // Entries the member is not known to hold yet (replication lag), and its state hash's first digits.
    m.replication?.behind == null ? "-" : String(m.replication.behind),
    m.replication?.stateHash == null ? "-" : m.replication.stateHash.slice(0, 8),
    m.self ? "-" : ago(m.lastHeardAgoMs),
    m.kernels.join(",") || "-",
  ];
}

/** `0.4s ago`, `3m ago`, `never`. */
function ago(ms: number | null): string {
  if (ms === null) return "never";
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ago`;
  return `${Math.floor(ms / 3_600_000)}h ago`;
}

/** `sup nodes revoke NAME`. */
async function revoke(args: string[], values: { data?: string; json?: boolean; serial?: string; reason?: string; timeout?: string }): Promise<number> {
  const [name] = args;
  if (name === undefined) throw new UsageError(`"sup nodes revoke" needs the NAME of a node\n${NODES_USAGE}`);
  atMostPositionals(args, 1, NODES_USAGE);
  const timeoutMs = timeoutOption(values.timeout, EXEC_TIMEOUT_MS_MAX);
  try {
    const r = (await admin(dataDirOf(values.data), "POST", "/nodes/revoke", { name, serial: values.serial, reason: values.reason, timeoutMs })) as { serial: string; results: NodeResult[] };
    if (values.json !== true) writeOut(`revoked ${name} (certificate ${r.serial}); each node applies the revocation entry:\n`);
    return printResults(r.results, values.json === true);
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    errorLine(`error: ${e.message}`);
    return EXIT_FAILURE;
  }
}
