/**
 * The cluster kernel's service on a node, with a fake cluster and exec worker: the wait is the
 * caller's budget less the return margin, capped at CLUSTER_EXEC_WAIT_MS_MAX (at max and max+1);
 * the node runs its own part in place, the others go to the worker; refusals.
 */
import { describe, expect, test } from "bun:test";
import { TestCluster } from "../../test/support/identities.ts";
import { NodeClusterService, type ClusterServiceNode } from "./cluster-service.ts";
import type { WorkerResult } from "./exec-worker-protocol.ts";
import { CLUSTER_EXEC_RETURN_MS, CLUSTER_EXEC_WAIT_MS_MAX, CLUSTER_EXEC_WORKER_LEAD_MS } from "./limits.ts";
import type { MemberInfo } from "./member-json.ts";
import type { NodeCluster } from "./node-cluster.ts";

const ids = new TestCluster();

function member(name: string, self = false, state: MemberInfo["state"] = "alive"): MemberInfo {
  return { name, state, self, incarnation: 0, serial: name, roles: name.startsWith("web") ? ["web"] : [], labels: {}, backchannel: `${name}:7000`, http: null, kernels: ["io"], version: "0.1.0", load: { inflight: 0, lagMs: 0, cpuPermille: 0 }, logPosition: 0, lastHeard: null, lastHeardAgoMs: null, since: "" };
}

function setup(can: ("admin" | "code")[], answers: (targets: string[]) => WorkerResult[] | null) {
  const posted: { targets: string[]; tenant: string; timeoutMs: number; untilIn: number }[] = [];
  const ran: { tenant: string; budgetMs: number }[] = [];
  const identity = ids.node("root-1", { can });
  let last: string[] = [];
  let postedAt = 0;
  const worker = {
    post: (targets: { name: string }[], tenant: string, _code: string, timeoutMs: number) => {
      last = targets.map((t) => t.name);
      postedAt = performance.now();
      posted.push({ targets: last, tenant, timeoutMs, untilIn: 0 });
      return 1;
    },
    collect: (_seq: number, until: number) => {
      posted.at(-1)!.untilIn = Math.round(until - postedAt);
      return answers(last);
    },
  };
  const cluster = { identity, nodes: () => [member("db-1"), member("root-1", true), member("web-1"), member("web-2", false, "dead")], control: { execWorker: () => worker, revokedSerials: () => [] } } as unknown as NodeCluster;
  const node: ClusterServiceNode = { cluster: () => cluster, kernels: () => ["io", "cluster"], run: (tenant, _code, budgetMs) => (ran.push({ tenant, budgetMs }), { ok: true, value: "7" }) };
  return { service: new NodeClusterService(node, "acme"), posted, ran };
}

describe("the cluster service", () => {
  test("the node runs its own part in place; the others go to the worker; results in target order, missing ones timeout", () => {
    const { service, posted, ran } = setup(["admin"], () => [{ node: "db-1", status: "ok", value: '"x"', ms: 1 }]);
    const r = service.exec("all", "7", 500);
    expect(posted[0]!.targets).toEqual(["db-1", "web-1", "web-2"]);
    expect(posted[0]!.tenant).toBe("acme");
    expect(ran.length).toBe(1);
    expect(ran[0]!.tenant).toBe("acme");
    expect(r).toEqual([
      { node: "db-1", status: "ok", value: '"x"' },
      { node: "root-1", status: "ok", value: "7" },
      { node: "web-1", status: "timeout" },
      { node: "web-2", status: "timeout" },
    ]);
  });

  test(`the wait is the caller's budget less ${CLUSTER_EXEC_RETURN_MS} ms, at most CLUSTER_EXEC_WAIT_MS_MAX (${CLUSTER_EXEC_WAIT_MS_MAX} ms): at the maximum and one past`, () => {
    const { service, posted } = setup(["admin"], () => []);
    service.exec("node:web-1", "1", CLUSTER_EXEC_WAIT_MS_MAX + CLUSTER_EXEC_RETURN_MS);
    service.exec("node:web-1", "1", CLUSTER_EXEC_WAIT_MS_MAX + CLUSTER_EXEC_RETURN_MS + 1);
    expect(posted.map((p) => p.timeoutMs)).toEqual([CLUSTER_EXEC_WAIT_MS_MAX - CLUSTER_EXEC_WORKER_LEAD_MS, CLUSTER_EXEC_WAIT_MS_MAX - CLUSTER_EXEC_WORKER_LEAD_MS]);
    for (const p of posted) expect(p.untilIn).toBeLessThanOrEqual(CLUSTER_EXEC_WAIT_MS_MAX);
    service.exec("node:web-1", "1", 100);
    expect(posted.at(-1)!.timeoutMs).toBe(100 - CLUSTER_EXEC_RETURN_MS - CLUSTER_EXEC_WORKER_LEAD_MS);
  });

  test("a spent budget answers timeout for every target without asking anyone", () => {
    const { service, posted, ran } = setup(["admin"], () => []);
    expect(service.exec("all", "1", CLUSTER_EXEC_RETURN_MS)).toEqual(["db-1", "root-1", "web-1", "web-2"].map((node) => ({ node, status: "timeout" })));
    expect(posted).toEqual([]);
    expect(ran).toEqual([]);
  });

  test("without admin, or with a bad selector, nothing runs and the refusal says why", () => {
    expect(setup(["code"], () => []).service.exec("all", "1", 100)).toEqual({ refused: 'exec needs the admin permission, and this node\'s certificate ("root-1") lacks it' });
    expect(setup(["admin"], () => []).service.exec("node:nope", "1", 100)).toEqual({ refused: 'Unknown node "nope" in selector "node:nope": it is not a member this node knows' });
  });

  test("self and nodes: itself first, each with its kernel set", () => {
    const { service } = setup(["admin"], () => []);
    expect(service.self()).toMatchObject({ name: "root-1", self: true, kernels: ["io", "cluster"] });
    expect(service.nodes().map((n) => n.name)).toEqual(["root-1", "db-1", "web-1", "web-2"]);
    expect(service.nodes()[1]!.kernels).toEqual(["io"]);
  });
});
