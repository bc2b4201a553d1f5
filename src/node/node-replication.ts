/**
 * Wires a node's replication: without identity, unsigned local entries (the node works alone); with
 * one, a ReplicationCore hosted on the cluster's core host, signing with the node's identity and
 * committing to its store. What entries do beyond the store (kernel loads, revocations) goes
 * through the node's hooks; refused entries and failed applies are logged (throttled) and counted.
 * Also what the node says of replication in a cluster: receipts for the members an entry is for,
 * every member's replication state (`sup nodes`), and where a job runs.
 */
import { matches, parseSelector, Prng, ReplicationCore, type ReplicationEvent } from "../cluster/mod.ts";
import { log } from "../log.ts";
import type { CodeVersion, Store } from "../store/mod.ts";
import { jobOwner, kernelsLoaded } from "./job-placement.ts";
import type { MemberInfo } from "./member-json.ts";
import type { NodeCluster } from "./node-cluster.ts";
import type { ReceiptReport, WaitFor } from "./receipts.ts";
import { identityCrypto } from "./replica-crypto.ts";
import type { ApplyHooks } from "./replica-log.ts";
import { NodeReplication, type WriteResult } from "./replication.ts";

/** What `sup nodes --json` says of a member's replication (see nodesWithReplication). */
export interface MemberReplication {
  readonly stateHash: string | null;
  readonly entries: number | null;
  /** Entries this node holds that the member is not known to hold; null when unknown. */
  readonly behind: number | null;
  /** Milliseconds since the member last reported its state hash, or null. */
  readonly reportedAgoMs: number | null;
}

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

/**
 * Waits for the receipts of a write this node made (`--wait`, the control plane's entries): the
 * members its target selects, this node included; members not alive are reported down and not
 * waited for.
 */
export function waitReceipts(replication: NodeReplication, cluster: NodeCluster | null, w: WriteResult, wait: WaitFor, timeoutMs: number): Promise<ReceiptReport> {
  const members =
    cluster === null
      ? [{ name: replication.origin, alive: true, roles: [] as readonly string[], labels: [] as readonly (readonly [string, string])[] }]
      : cluster.members().map((m) => ({ name: m.name, alive: m.state === "alive" || m.state === "suspect", roles: m.meta.roles, labels: m.meta.labels }));
  const targeted = members.filter((m) => w.target === null || matches(w.target, m)).map((m) => ({ name: m.name, alive: m.alive }));
  return replication.waitFor(w, wait, targeted, timeoutMs);
}

/**
 * `sup nodes --json`: every member with what this node knows of its replication: the state hash
 * and entry count it last reported (in a digest; this node's own now), and how many entries this
 * node holds that it is not known to hold (`behind`).
 */
export function nodesWithReplication(replication: NodeReplication, cluster: NodeCluster | null): (MemberInfo & { readonly replication: MemberReplication })[] {
  const peers = new Map(replication.peers().map((p) => [p.name, p]));
  const now = performance.now();
  const own = replication.state();
  return (cluster?.nodes() ?? []).map((m) => {
    if (m.self) return { ...m, replication: { stateHash: own.stateHash, entries: own.entries, behind: 0, reportedAgoMs: 0 } };
    const p = peers.get(m.name);
    return { ...m, replication: { stateHash: p?.stateHash ?? null, entries: p?.position ?? null, behind: p?.lagEntries ?? null, reportedAgoMs: p?.heardAt == null ? null : Math.round(now - p.heardAt) } };
  });
}

/** Where a job runs: here, or on the member that owns it among those its entry is for (job-placement.ts). */
export function jobPlacement(store: Store, replication: NodeReplication, cluster: NodeCluster | null, kernelSet: readonly string[], code: CodeVersion): { readonly here: boolean; readonly where: string } {
  if (code.meta.eachNode === true) return { here: true, where: "each node" };
  if (cluster === null) return { here: true, where: "this node" };
  const self = replication.origin;
  // A job aimed at some nodes (--on) runs on one of those.
  const target = store.log.targetOf(code.tenant, code.name, code.version, code.origin);
  const selector = target === null ? null : parseSelector(target);
  const members = cluster
    .members()
    .filter((m) => selector === null || matches(selector, { name: m.name, roles: m.meta.roles, labels: m.meta.labels }))
    .map((m) => ({ name: m.name, alive: m.state === "alive", kernels: m.name === self ? kernelSet : m.meta.kernels }));
  const owner = jobOwner(code.tenant, code.name, code.source, members);
  if (owner === null) return { here: false, where: `no alive member has the kernels it loads (${kernelsLoaded(code.source).join(", ")})` };
  return { here: owner === self, where: owner === self ? "this node" : owner };
}
