import { describe, expect, test } from "bun:test";
import { CLUSTER, sourceForm, str, type ClusterExecResult, type ClusterNodeInfo, type ClusterService, type CodeRefusal, type ScopeKey, type Value } from "sup/kernel";
import { fakeContext } from "../../test/support/fake-context.ts";
import { runSource } from "../../test/support/run-source.ts";
import clusterKernel from "./mod.ts";

const fns = clusterKernel.create().functions;

const me: ClusterNodeInfo = { name: "web-1", state: "alive", roles: ["web"], labels: [["region", "eu"]], backchannel: "10.0.0.5:7000", http: null, kernels: ["http", "cluster"], self: true };
const other: ClusterNodeInfo = { name: "db-1", state: "dead", roles: [], labels: [], backchannel: null, http: null, kernels: null, self: false };

/** A service that records what exec was asked and answers what the test says. */
function service(answer: readonly ClusterExecResult[] | CodeRefusal) {
  const asked: { selector: string; code: string; waitMs: number }[] = [];
  const s: ClusterService = {
    self: () => me,
    nodes: () => [me, other],
    exec: (selector, code, waitMs) => (asked.push({ selector, code, waitMs }), answer),
  };
  return { s, asked };
}

function call(name: string, s: ClusterService | null, args: Value[] = [], remainingMs = 250): string {
  const scope = s === null ? null : { tenant: "acme", service: <T>(key: ScopeKey<T>) => (key === (CLUSTER as ScopeKey<unknown>) ? (s as T) : undefined) };
  return sourceForm(fns[name]!(fakeContext({ scope, remainingMs: () => remainingMs }).cx, args));
}

describe("cluster kernel", () => {
  test("self and nodes are json-shaped data: string keys, arrays as bracket lists, unknowns as \"\" and null", () => {
    const { s } = service([]);
    expect(call("self", s)).toBe('{("name" "web-1") ("state" "alive") ("roles" ["web"]) ("labels" {("region" "eu")}) ("backchannel" "10.0.0.5:7000") ("http" "") ("kernels" ["http" "cluster"])}');
    expect(call("nodes", s)).toBe(
      '[{("name" "web-1") ("state" "alive") ("roles" ["web"]) ("labels" {("region" "eu")}) ("backchannel" "10.0.0.5:7000") ("http" "") ("kernels" ["http" "cluster"])} {("name" "db-1") ("state" "dead") ("roles" []) ("labels" {}) ("backchannel" "") ("http" "") ("kernels" null)}]',
    );
  });

  test("exec passes the selector, the code and the caller's remaining budget; results are pairs, failures error values", () => {
    const { s, asked } = service([
      { node: "web-1", status: "ok", value: '{1 "two" three}' },
      { node: "web-2", status: "ok", value: "<none>" },
      { node: "db-1", status: "unreachable", detail: "member is dead" },
      { node: "db-2", status: "timeout" },
      { node: "db-3", status: "error", error: "Exception during execution: boom" },
    ]);
    expect(call("exec", s, [str("all"), str("(+ 1 2)")], 123)).toBe(
      '{("web-1" {1 "two" three}) ("web-2" <none>) ("db-1" @(cluster: unreachable "member is dead")) ("db-2" @(cluster: timeout)) ("db-3" @(cluster: error "Exception during execution: boom"))}',
    );
    expect(asked).toEqual([{ selector: "all", code: "(+ 1 2)", waitMs: 123 }]);
  });

  test("a refusal, wrong arguments and no cluster are error values", () => {
    expect(call("exec", service({ refused: "exec needs the admin permission" }).s, [str("all"), str("1")])).toBe('@(cluster: "exec needs the admin permission")');
    expect(call("exec", service([]).s, [str("all")])).toBe("@(cluster: exec requires 2 arguments)");
    expect(call("exec", service([]).s, [str("all"), 1 as Value])).toBe("@(cluster: exec requires a selector string and a code string)");
    expect(call("self", null)).toBe("@(cluster: no cluster here)");
    expect(call("nodes", null)).toBe("@(cluster: no cluster here)");
    expect(call("exec", null, [str("all"), str("1")])).toBe("@(cluster: no cluster here)");
  });

  test("a program outside a node gets the error value, and the checker accepts the calls", () => {
    const r = runSource('[#(load "cluster") (cluster/self) (cluster/nodes) (cluster/exec "all" "1")]');
    expect(r.ok && sourceForm(r.value)).toBe("@(cluster: no cluster here)");
  });
});
