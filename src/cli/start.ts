/**
 * `sup start [--data DIR] [--http HOST:PORT] [--kernels a,b,…] [--tenant-host SUFFIX]
 * [--identity FILE] [--listen HOST:PORT] [--advertise HOST:PORT] [--join HOST:PORT]`: runs a node
 * until SIGTERM/SIGINT, then leaves the cluster (peers mark it left), drains in-flight requests and
 * exits 0. `sup --identity F --join
 * H:P` (options with no subcommand) is the same command.
 */
import { log, setLogLevel } from "../log.ts";
import { SupNode } from "../node/node.ts";
import { dataDirOf } from "./admin-client.ts";
import { UsageError, parse } from "./args.ts";

export const START_USAGE =
  "Usage: sup start [--data DIR] [--http HOST:PORT] [--kernels NAME,NAME,...] [--tenant-host SUFFIX] [--identity FILE] [--listen HOST:PORT] [--advertise HOST:PORT] [--join HOST:PORT]";

/** Parses `HOST:PORT` (or `:PORT`, or `PORT`) given to `option`. */
export function parseHttpAddress(text: string, option = "--http", example = "127.0.0.1:8080"): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || port > 65535) throw new UsageError(`Invalid ${option} address "${text}": expected HOST:PORT, e.g. ${example}\n${START_USAGE}`);
  return { host: m[1] === undefined || m[1] === "" ? "0.0.0.0" : m[1], port };
}

/** Runs the `start` subcommand; resolves when the node has stopped. */
export async function startCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    data: { type: "string" },
    http: { type: "string" },
    kernels: { type: "string" },
    "tenant-host": { type: "string" },
    identity: { type: "string" },
    listen: { type: "string" },
    advertise: { type: "string" },
    join: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"\n${START_USAGE}`);
  const { host, port } = parseHttpAddress(values.http ?? "0.0.0.0:8080");
  const kernels = values.kernels?.split(",").map((k) => k.trim()).filter(Boolean);
  if (kernels !== undefined && kernels.length === 0) throw new UsageError(`--kernels needs at least one kernel name\n${START_USAGE}`);
  // A node logs each request unless SUP_LOG says otherwise; CLI commands stay quiet by default.
  if (process.env.SUP_LOG === undefined) setLogLevel("info");
  const tenantHost = values["tenant-host"];
  if (tenantHost !== undefined && !/^[a-z0-9.-]+$/i.test(tenantHost)) throw new UsageError(`Invalid --tenant-host "${tenantHost}": expected a domain suffix such as sup.example.com\n${START_USAGE}`);
  const listen = values.listen === undefined ? undefined : addressText(parseHttpAddress(values.listen, "--listen", "0.0.0.0:7000"));
  if (values.join !== undefined) {
    const j = parseHttpAddress(values.join, "--join", "root.example.com:7000");
    if (!/:/.test(values.join) || j.port === 0) throw new UsageError(`Invalid --join address "${values.join}": expected HOST:PORT, e.g. root.example.com:7000\n${START_USAGE}`);
  }
  let advertise: string | undefined;
  if (values.advertise !== undefined) {
    const a = parseHttpAddress(values.advertise, "--advertise", "203.0.113.7:7000");
    if (!/:/.test(values.advertise) || a.port === 0 || a.host === "0.0.0.0") throw new UsageError(`Invalid --advertise address "${values.advertise}": expected the HOST:PORT peers can dial, e.g. 203.0.113.7:7000\n${START_USAGE}`);
    advertise = addressText(a);
  }
  const cluster = { identityFile: values.identity, listen, advertise, join: values.join };
  const node = await SupNode.start({ dataDir: dataDirOf(values.data), httpHost: host, httpPort: port, kernels, tenantHost, cluster });
  const address = node.httpAddress();
  const bc = node.cluster === null ? "" : `, backchannel ${node.cluster.listenAddress()} as "${node.cluster.identity.name}" in cluster ${node.cluster.identity.clusterId}`;
  process.stderr.write(`sup node ${node.id} running: data ${node.config.dataDir}${address !== null ? `, http://${address}/` : ", HTTP off"}${bc}\n`);
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      log("info", "stopping node", { signal });
      void node.stop().then(done);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return 0;
}

function addressText(a: { host: string; port: number }): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
