/**
 * Wires a node's replication: without identity, unsigned local entries (the node works alone); with
 * one, a ReplicationCore hosted on the cluster's core host, signing with the node's identity and
 * committing to its store. What entries do beyond the store (kernel loads, revocations) goes
 * through the node's hooks; refused entries and failed applies are logged (throttled) and counted.
 */
import { Prng, ReplicationCore, type ReplicationEvent } from "../cluster/mod.ts";
import { log } from "../log.ts";
import type { Store } from "../store/mod.ts";
import type { NodeCluster } from "./node-cluster.ts";
import { identityCrypto } from "./replica-crypto.ts";
import type { ApplyHooks } from "./replica-log.ts";
import { NodeReplication } from "./replication.ts";

/** Refused-entry log lines per minute: an attack is counted in metrics, not written line by line. */
export const REFUSAL_LINES_PER_MINUTE = 20;

/** Starts a node's replication (see the file comment). */
export function startReplication(store: Store, nodeId: string, cluster: NodeCluster | null, hooks: ApplyHooks): NodeReplication {
  if (cluster === null) return NodeReplication.alone(store, nodeId, hooks);
  const identity = cluster.identity;
  const cert = identity.cert;
  const subject = { name: cert.name, roles: cert.roles, labels: cert.labels };
  const crypto = identityCrypto(identity);
  const replication = new NodeReplication(store, cert.name, subject, crypto, hooks, undefined, new Set([nodeId]));
  const now = performance.now();
  const core = new ReplicationCore({
    name: cert.name,
    subject,
    log: replication.log,
    crypto,
    now,
    wallOffsetMs: Date.now() - now,
    random: new Prng(globalThis.crypto.getRandomValues(new Uint32Array(1))[0]!),
  });
  const handle = cluster.host.add(core);
  replication.attach({ request: (r) => handle.request(r), subscribe: (l) => handle.subscribe(l), peerReplicas: () => core.peerReplicas() });
  let windowStart = 0;
  let lines = 0;
  handle.subscribe((e: ReplicationEvent) => {
    if (e.type === "rejected") {
      const t = Date.now();
      if (t - windowStart > 60_000) {
        windowStart = t;
        lines = 0;
      }
      if (lines++ < REFUSAL_LINES_PER_MINUTE) log("warn", "replication refused", { from: e.from, reason: e.reason, entry: e.entry ?? "", detail: e.detail });
    } else if (e.type === "applied" && e.result.startsWith("error")) {
      log("warn", "entry failed to apply", { origin: e.entry.origin, seq: e.entry.seq, kind: e.entry.body.kind, detail: e.result });
    } else if (e.type === "applied") {
      log("debug", "entry applied", { origin: e.entry.origin, seq: e.entry.seq, kind: e.entry.body.kind, result: e.result });
    }
  });
  return replication;
}
