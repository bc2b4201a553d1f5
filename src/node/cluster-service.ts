/**
 * The ClusterService a cluster node offers the `cluster` kernel, one per tenant (src/kernel/api):
 * this node and the members it knows as plain data, and `exec`, which must answer synchronously
 * because kernel functions do.
 *
 * How exec answers synchronously (docs/node.md, "The cluster kernel"): the remote targets go to the
 * exec worker (exec-worker.ts), which holds its own client connections and runs the commands core;
 * meanwhile this thread runs the program for this node itself, if it is a target, in a nested
 * session; then it blocks in Atomics.wait until the worker's results are published or the wait runs
 * out. The wait is the caller's remaining budget, capped by CLUSTER_EXEC_WAIT_MS_MAX; nodes that
 * have not answered by then are `timeout`. The node itself is never asked through its own blocked
 * event loop, and the worker never waits on this thread, so nothing here can deadlock.
 */
import { SelectorError, type CommandTarget } from "../cluster/mod.ts";
import type { ClusterExecResult, ClusterNodeInfo, ClusterService, CodeRefusal } from "../kernel/mod.ts";
import { latin1FromText, textFromLatin1 } from "../lang/mod.ts";
import { can } from "../net/mod.ts";
import type { ExecWorker } from "./exec-worker-client.ts";
import { CLUSTER_EXEC_RETURN_MS, CLUSTER_EXEC_WAIT_MS_MAX, CLUSTER_EXEC_WORKER_LEAD_MS } from "./limits.ts";
import type { MemberInfo } from "./member-json.ts";
import { NodeCommands, type ExecRunner } from "./node-commands.ts";
import type { NodeCluster } from "./node-cluster.ts";

/** What the service needs of its node, read at each call (the node's state changes). */
export interface ClusterServiceNode {
  /** The node's cluster part, or null when it runs alone. */
  cluster(): NodeCluster | null;
  /** The node's kernel set. */
  kernels(): readonly string[];
  /** Runs an exec'd program here (latin1 in and out). */
  readonly run: ExecRunner;
}

/** A member as the kernel shows it. */
function info(m: MemberInfo, kernels: readonly string[] | null): ClusterNodeInfo {
  return { name: m.name, state: m.state, roles: m.roles, labels: Object.entries(m.labels), backchannel: m.backchannel, http: m.http, kernels, self: m.self };
}

/** See the file comment. */
export class NodeClusterService implements ClusterService {
  constructor(
    private readonly node: ClusterServiceNode,
    private readonly tenant: string,
  ) {}

  self(): ClusterNodeInfo {
    const me = this.members().find((m) => m.self)!;
    return info(me, this.node.kernels());
  }

  nodes(): ClusterNodeInfo[] {
    // Itself first, then the others by name (membership's order).
    const all = this.members();
    return [...all.filter((m) => m.self), ...all.filter((m) => !m.self)].map((m) => info(m, m.self ? this.node.kernels() : m.kernels));
  }

  exec(selector: string, code: string, waitMs: number): readonly ClusterExecResult[] | CodeRefusal {
    const cluster = this.node.cluster()!;
    const me = cluster.identity;
    if (!can(me.cert, "admin")) return { refused: `exec needs the admin permission, and this node's certificate ("${me.name}") lacks it` };
    let targets: CommandTarget[];
    try {
      targets = NodeCommands.targets(selector, cluster.nodes());
    } catch (e) {
      if (e instanceof SelectorError) return { refused: e.message };
      throw e;
    }
    const start = performance.now();
    const wait = Math.min(waitMs - CLUSTER_EXEC_RETURN_MS, CLUSTER_EXEC_WAIT_MS_MAX);
    if (!(wait > 0)) return targets.map((t) => ({ node: t.name, status: "timeout" }));
    const until = start + wait;
    const source = latin1FromText(code);
    const remote = targets.filter((t) => t.name !== me.name);
    const worker: ExecWorker = cluster.control.execWorker();
    const seq = remote.length === 0 ? null : worker.post(remote, this.tenant, source, Math.max(1, Math.floor(wait - CLUSTER_EXEC_WORKER_LEAD_MS)), cluster.control.revokedSerials());
    let local: ClusterExecResult | null = null;
    if (remote.length < targets.length) {
      const a = this.node.run(this.tenant, source, Math.max(1, Math.floor(until - performance.now())));
      local = a.ok ? { node: me.name, status: "ok", value: textFromLatin1(a.value) } : { node: me.name, status: "error", error: textFromLatin1(a.error) };
    }
    const results = seq === null ? [] : (worker.collect(seq, until) ?? []);
    const byNode = new Map<string, ClusterExecResult>(results.map((r) => [r.node, fromWorker(r)]));
    if (local !== null) byNode.set(me.name, local);
    return targets.map((t) => byNode.get(t.name) ?? { node: t.name, status: "timeout" });
  }

  private members(): MemberInfo[] {
    return this.node.cluster()?.nodes() ?? [];
  }
}

function fromWorker(r: { node: string; status: string; value?: string; error?: string; detail?: string }): ClusterExecResult {
  switch (r.status) {
    case "ok":
      return { node: r.node, status: "ok", value: r.value ?? "" };
    case "error":
      return { node: r.node, status: "error", error: r.error ?? "" };
    case "unreachable":
      return { node: r.node, status: "unreachable", detail: r.detail ?? "" };
    default:
      return { node: r.node, status: "timeout" };
  }
}
