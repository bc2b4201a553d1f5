/**
 * Two control nodes that call (cluster/exec …) on each other at the same moment: each node's thread
 * is blocked in its own call while the other's request waits behind it. Neither deadlocks: each
 * call ends within its budget (the other node reported as timeout, or its answer when it came
 * first), both nodes then serve again, and a later call between them answers normally.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ClusterBox, until, type ClusterNode } from "./support/cluster-box.ts";

const c = new ClusterBox();
afterAll(() => c.cleanup());
let a: ClusterNode;
let b: ClusterNode;

beforeAll(async () => {
  a = await c.node("ctl-a", c.identity("ctl-a", { can: ["admin", "code"] }), ["--kernels", "http,alu,cluster"]);
  b = await c.node("ctl-b", c.identity("ctl-b", { can: ["admin", "code"] }), ["--kernels", "http,alu,cluster", "--join", a.bc]);
  const alive = (n: ClusterNode) => (JSON.parse(c.cli(n, ["nodes", "--json"]).out || "[]") as { state: string }[]).filter((m) => m.state === "alive").length === 2;
  await until(() => alive(a) && alive(b), "both nodes to see each other");
  for (const [n, other] of [[a, "ctl-b"], [b, "ctl-a"]] as const) {
    const route = c.box.file(`cross-${n.name}.sxs`, `[#(load "http" "cluster") (cluster/exec "node:${other}" "[#(load \\"alu\\") (alu/add 1 2)]") (http/text 200 "done")]\n`);
    // Each node's own version (code replicates: untargeted, the later put would be both nodes' route).
    expect(c.cli(n, ["code", "put", "GET /cross", route, "--meta", '{"budgetMs": 400}', "--on", `node:${n.name}`]).code).toBe(0);
  }
}, 60_000);

test("crossed calls both end within their budgets, and both nodes serve again", async () => {
  const [ra, rb] = await Promise.all([fetch(`${a.url}/cross`), fetch(`${b.url}/cross`)]);
  expect([ra.status, rb.status]).toEqual([200, 200]);
  expect([await ra.text(), await rb.text()]).toEqual(["done", "done"]);
  expect((await fetch(`${a.url}/_sup/health`)).status).toBe(200);
  expect((await fetch(`${b.url}/_sup/health`)).status).toBe(200);
  // Uncrossed, the same call answers.
  const r = c.cli(a, ["exec", "--on", "node:ctl-a", "-e", '[#(load "cluster") (cluster/exec "node:ctl-b" "[#(load \\"alu\\") (alu/add 1 2)]")]', "--json"]);
  expect(JSON.parse(r.out)[0].value).toBe('{("ctl-b" 3)}');
});
