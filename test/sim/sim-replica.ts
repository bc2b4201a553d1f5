/**
 * Replication in the simulator: each simulated node gets a real ReplicationCore over a real Store
 * (SQLite in memory, which outlives the node's crashes as its disk would) through the node's own
 * StoreReplicaLog, with stand-in signatures (sim-crypto.ts). Writes are built the way a node builds
 * them (node/code-entries.ts), so the simulator checks the very apply and last-writer-wins code the
 * node runs.
 */
import { Prng } from "../../src/cluster/prng.ts";
import { ReplicationCore, type EntryBody, type ReplicationConfig } from "../../src/cluster/mod.ts";
import { read } from "../../src/lang/reader.ts";
import { putBody, removeBody, rollbackBody } from "../../src/node/code-entries.ts";
import { StoreReplicaLog } from "../../src/node/replica-log.ts";
import { MEMORY_PATH, Store } from "../../src/store/mod.ts";
import { simCrypto, type SimCertSpec } from "./sim-crypto.ts";
import { nodeMeta, nodeSeed, type SimNode } from "./sim-node.ts";
import type { Simulation } from "./simulation.ts";

/** Wall time of virtual time 0, so HLC stamps look like epoch milliseconds. */
const EPOCH_MS = 1_700_000_000_000;

/** How the simulated replicas are set up. */
export interface ReplicaSetup {
  readonly config?: Partial<ReplicationConfig>;
  /** The certificate of node i (default: `code` and `admin`). */
  readonly cert?: (i: number) => SimCertSpec;
}

/** The certificate a simulated node has by default. */
export function defaultCert(i: number): SimCertSpec {
  return { name: `n${i}`, serial: `s${i}`, can: ["admin", "code"], roles: nodeMeta(i).roles };
}

/** The `replication` option of a Simulation: boots a replica beside membership in every node life. */
export function replicaBooter(setup: ReplicaSetup): (node: SimNode, sim: Simulation) => void {
  return (node, sim) => {
    const i = node.index;
    node.store ??= Store.open(MEMORY_PATH, { now: () => Math.round(EPOCH_MS + sim.now) });
    const kernels = new Set<string>(node.store.getSetting<string[]>("node.kernels") ?? []);
    const log = new StoreReplicaLog(node.store, new Set(), {
      kernel: (op, name) => {
        if (op === "load") kernels.add(name);
        else kernels.delete(name);
        return { settings: [["node.kernels", JSON.stringify([...kernels].sort())]] };
      },
    });
    const meta = nodeMeta(i);
    node.repl = new ReplicationCore(
      {
        name: node.name,
        subject: { name: node.name, roles: meta.roles, labels: meta.labels },
        log,
        crypto: simCrypto((setup.cert ?? defaultCert)(i)),
        now: node.local(sim.now),
        // Wall = local clock − its simulator base + the epoch: skew carries over to HLC stamps.
        wallOffsetMs: EPOCH_MS - 10_000_000,
        random: new Prng(nodeSeed(sim.options.seed, i, node.lives) ^ 0x7e91),
      },
      setup.config,
    );
  };
}

/** Parses a simulated program. */
export function simProgram(source: string) {
  const r = read(source);
  if (r.value === null) throw new Error(`simulated program does not parse: ${source}`);
  return r.value;
}

/** A write a simulated operator makes on a node: put, rollback or removal of a route. */
export type SimWrite = { readonly op: "put"; readonly name: string; readonly source: string } | { readonly op: "rollback" | "rm"; readonly name: string };

/**
 * Asks node i's replication core to make a write, built from its store as a node would. Returns
 * false when the write is refused before it is made (a rollback of a name with no earlier version,
 * a removal of removed code), as the node's CLI would.
 */
export function simWrite(sim: Simulation, i: number, w: SimWrite): boolean {
  const node = sim.nodes[i]!;
  if (!node.up || node.repl === null || node.store === null) return false;
  let body: EntryBody;
  let blob: Uint8Array | null = null;
  try {
    if (w.op === "put") {
      const b = putBody(node.store, { tenant: "default", name: w.name, kind: "route", source: w.source, program: simProgram(w.source), author: "sim" });
      body = b.body;
      blob = b.blob;
    } else if (w.op === "rollback") {
      const b = rollbackBody(node.store, "default", w.name);
      body = b.body;
      blob = b.blob;
    } else body = removeBody(node.store, "default", w.name);
  } catch {
    return false;
  }
  sim.requestRepl(i, { type: "write", body, target: null, author: "sim", blob });
  return true;
}
