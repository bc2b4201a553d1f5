/**
 * The control plane between real `sup` processes (issue 15): `sup exec` on all nodes, a role, one
 * node, with a node killed (its entry unreachable before the deadline, the others answering); the
 * CLI from a machine with no node (`--connect … --identity …`) allowed and refused by the
 * identity's permissions, never joining membership; the `cluster` kernel from a stored route, a
 * job and an exec'd program. Every process and file is removed at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeRoot } from "../src/net/mod.ts";
import { ClusterBox, until, type ClusterNode } from "./support/cluster-box.ts";

const c = new ClusterBox();
afterAll(() => c.cleanup());

const KERNELS = "http,json,io,kv,code,alu,cluster";
const ADD = '[#(load "alu") (alu/add 40 2)]';
/** Kernel entries wait for every live target's receipt; a loaded machine may take seconds, a healthy one milliseconds. */
const PATIENT = ["--timeout", "30s"];

interface ExecJson {
  node: string;
  ok: boolean;
  status: string;
  value?: string;
  error?: string;
  detail?: string;
  ms: number;
}

let root: ClusterNode;
let web1: ClusterNode;
let web2: ClusterNode;
const ids = {
  op: c.identity("op", { can: ["admin"] }),
  dev: c.identity("dev"),
  coder: c.identity("coder", { can: ["code"] }),
};

function states(n: ClusterNode): Record<string, string> {
  const r = c.cli(n, ["nodes", "--json"]);
  if (r.code !== 0) return {};
  return Object.fromEntries((JSON.parse(r.out) as { name: string; state: string }[]).map((m) => [m.name, m.state]));
}

function execJson(n: ClusterNode, on: string, code: string, extra: string[] = []): { code: number; results: ExecJson[]; err: string } {
  const r = c.cli(n, ["exec", "--on", on, "-e", code, "--json", ...extra]);
  return { code: r.code, results: r.out === "" ? [] : (JSON.parse(r.out) as ExecJson[]), err: r.err };
}

beforeAll(async () => {
  root = await c.node("root-1", c.identity("root-1", { can: ["admin", "code"] }), ["--kernels", KERNELS]);
  const join = ["--join", root.bc, "--kernels", KERNELS];
  [web1, web2] = await Promise.all([
    c.node("web-1", c.identity("web-1", { roles: ["web"] }), join),
    c.node("web-2", c.identity("web-2", { roles: ["web"] }), join),
    c.node("db-1", c.identity("db-1", { roles: ["db"], labels: [["region", "eu"]] }), join),
  ]);
  await until(() => Object.values(states(root)).filter((s) => s === "alive").length === 4, "root-1 to see four members alive");
}, 60_000);

describe("sup exec", () => {
  test("on all: one result per node, each the program's value; plain output has a line per node", () => {
    const r = execJson(root, "all", ADD);
    expect(r.code).toBe(0);
    expect(r.results.map((x) => [x.node, x.ok, x.status, x.value]).sort()).toEqual([
      ["db-1", true, "ok", "42"],
      ["root-1", true, "ok", "42"],
      ["web-1", true, "ok", "42"],
      ["web-2", true, "ok", "42"],
    ]);
    for (const x of r.results) expect(x.ms).toBeGreaterThanOrEqual(0);
    const plain = c.cli(root, ["exec", "--on", "all", "-e", ADD]);
    expect(plain.code).toBe(0);
    expect(plain.out.trim().split("\n").length).toBe(4);
    expect(plain.out).toMatch(/^web-1\s+ok\s+[\d.]+ ms\s+42$/m);
  });

  test("on a role, on one node, on a label, on a comma list; from a file", () => {
    expect(execJson(root, "role:web", ADD).results.map((x) => x.node).sort()).toEqual(["web-1", "web-2"]);
    expect(execJson(root, "node:db-1", ADD).results.map((x) => x.node)).toEqual(["db-1"]);
    expect(execJson(root, "label:region=eu", ADD).results.map((x) => x.node)).toEqual(["db-1"]);
    expect(execJson(root, "node:root-1,role:db", ADD).results.map((x) => x.node).sort()).toEqual(["db-1", "root-1"]);
    const file = c.box.file("prog.sxs", '[#(load "alu") (alu/mul 6 7)]\n');
    const r = c.cli(root, ["exec", "--on", "node:web-1", file, "--json"]);
    expect(JSON.parse(r.out)[0].value).toBe("42");
  });

  test("each node runs the program with its own state: a value that differs per node comes back per node", () => {
    // Every node's kv store is its own: each answers what it holds.
    for (const n of [web1, web2]) c.cli(n, ["exec", "--on", `node:${n.name}`, "-e", `[#(load "kv") (kv/open-memory who) (kv/set who:me "${n.name}")]`]);
    const r = execJson(root, "role:web", '[#(load "kv") (kv/open-memory who) (kv/get who:me)]');
    expect(Object.fromEntries(r.results.map((x) => [x.node, x.value]))).toEqual({ "web-1": '"web-1"', "web-2": '"web-2"' });
  });

  test("a failing program fails on every node; the command names them and exits 1", () => {
    const r = c.cli(root, ["exec", "--on", "role:web", "-e", '(assert 0 "boom")']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^web-1\s+error\s+[\d.]+ ms\s+Exception during execution: boom \(at exec:1:1\)$/m);
    expect(r.err).toContain("error: 2 of 2 nodes failed: ");
  });

  test("an unknown node and an empty selection are errors; a malformed selector is a usage error", () => {
    const unknown = c.cli(root, ["exec", "--on", "node:nope", "-e", "1"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('error: Unknown node "nope" in selector "node:nope": it is not a member this node knows');
    const empty = c.cli(root, ["exec", "--on", "role:none", "-e", "1"]);
    expect(empty.code).toBe(1);
    expect(empty.err).toContain('Selector "role:none" selects no node');
    const bad = c.cli(root, ["exec", "--on", "rol:web", "-e", "1"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('Invalid selector term "rol:web"');
    expect(c.cli(root, ["exec", "--on", "all"]).code).toBe(2);
  });
});

describe("the cluster kernel", () => {
  test("a stored route serves (cluster/nodes) and a fan-out as JSON", async () => {
    const nodes = c.box.file("nodes.sxs", '[#(load "http" "cluster") (http/json 200 (cluster/nodes))]\n');
    const fan = c.box.file("fan.sxs", `[#(load "http" "cluster") (http/json 200 (cluster/exec "role:web" "${ADD.replaceAll('"', '\\"')}"))]\n`);
    expect(c.cli(root, ["code", "put", "GET /nodes", nodes]).code).toBe(0);
    expect(c.cli(root, ["code", "put", "GET /fan", fan, "--meta", '{"budgetMs": 2000}']).code).toBe(0);
    const list = (await (await fetch(`${root.url}/nodes`)).json()) as { name: string; state: string; roles: string[]; kernels: string[] | null }[];
    expect(list.map((n) => n.name)).toEqual(["root-1", "db-1", "web-1", "web-2"]);
    expect(list[0]!.kernels).toEqual(KERNELS.split(","));
    expect(list.find((n) => n.name === "db-1")!.roles).toEqual(["db"]);
    const res = await fetch(`${root.url}/fan`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ "web-1": 42, "web-2": 42 });
  });

  test("from an exec'd program: the node itself is run in place, failures are error values", () => {
    const r = execJson(root, "node:root-1", '[#(load "cluster") (cluster/exec "node:root-1,node:db-1" "[#(load \\"alu\\") (alu/add 1 2)]")]');
    expect(r.results[0]!.value).toBe('{("db-1" 3) ("root-1" 3)}');
    // A program whose value is an error value failed, as a job run does.
    const refused = execJson(root, "node:web-1", '[#(load "cluster") (cluster/exec "all" "1")]');
    expect(refused.results[0]!.error).toBe('returned an error value: @(cluster: "exec needs the admin permission, and this node\'s certificate (\\"web-1\\") lacks it")');
    const self = execJson(root, "node:db-1", '[#(load "cluster") (cluster/self)]');
    expect(self.results[0]!.value).toContain('("name" "db-1") ("state" "alive") ("roles" ["db"]) ("labels" {("region" "eu")})');
  });

  test("a job calls it on schedule, under its budget", async () => {
    const job = c.box.file("job.sxs", `[#(load "cluster") (cluster/exec "node:db-1" "${ADD.replaceAll('"', '\\"')}")]\n`);
    // Aimed at root-1 (exec needs admin), so job placement picks it among the nodes the job is for.
    expect(c.cli(root, ["code", "put", "job:fan", job, "--every", "1h", "--on", "node:root-1"]).code).toBe(0);
    await until(() => c.cli(root, ["code", "show", "job:fan"]).out.includes('{("db-1" 42)}'), "the job's recorded result");
  });
});

describe("the CLI from a machine with no node (--connect, --identity)", () => {
  test("an admin identity runs exec through a control node, and reads the cluster through any", () => {
    const r = c.remote(root.bc, ids.op, ["exec", "--on", "all", "-e", ADD, "--json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as ExecJson[]).map((x) => x.node).sort()).toEqual(["db-1", "root-1", "web-1", "web-2"]);
    // Through a node without admin, the other nodes refuse that node's runs, and say why.
    const via = c.remote(web1.bc, ids.op, ["exec", "--on", "node:web-1,node:db-1", "-e", ADD, "--json"]);
    expect(via.code).toBe(1);
    expect(Object.fromEntries((JSON.parse(via.out) as ExecJson[]).map((x) => [x.node, x.value ?? x.error]))).toEqual({
      "web-1": "42",
      "db-1": 'refused: "web-1" may not run exec here: its certificate lacks the "admin" permission',
    });
    const nodes = c.remote(root.bc, ids.op, ["nodes", "--json"]);
    expect(nodes.code).toBe(0);
    expect((JSON.parse(nodes.out) as { name: string }[]).map((m) => m.name).sort()).toEqual(["db-1", "root-1", "web-1", "web-2"]);
    expect(c.remote(root.bc, ids.op, ["status"]).out).toContain("identity root-1");
  });

  test("permissions decide: no admin is refused exec and kernel changes, no code is refused code writes", () => {
    const prog = c.box.file("hi.sxs", '[#(load "http") (http/text 200 "hi")]\n');
    const noCode = c.remote(root.bc, ids.op, ["code", "put", "GET /hi", prog]);
    expect(noCode.code).toBe(1);
    expect(noCode.err).toContain('error: Cannot write code as "op": its certificate lacks the "code" permission (it grants: admin)');
    const coder = c.remote(root.bc, ids.coder, ["code", "put", "GET /hi", prog]);
    expect(coder.code).toBe(0);
    expect(c.cli(root, ["code", "history", "GET /hi"]).out).toContain("\tcoder\t");
    const noAdmin = c.remote(root.bc, ids.coder, ["exec", "--on", "all", "-e", "1"]);
    expect(noAdmin.code).toBe(1);
    expect(noAdmin.err).toContain('error: Cannot run exec as "coder": its certificate lacks the "admin" permission (it grants: code)');
    const dev = c.remote(root.bc, ids.dev, ["kernels", "load", "fs"]);
    expect(dev.err).toContain('error: Cannot load a kernel as "dev": its certificate lacks the "admin" permission (it grants: none)');
    expect(c.remote(root.bc, ids.dev, ["kernels", "ls"]).code).toBe(0);
  });

  test("clients never join membership; another cluster's identity and a bad file are refused with the reason", () => {
    expect(Object.keys(states(root)).sort()).toEqual(["db-1", "root-1", "web-1", "web-2"]);
    const stranger = c.identity("op", { can: ["admin"] }, makeRoot());
    const r = c.remote(root.bc, stranger, ["nodes"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: Cannot connect to "${root.bc}" as "op": it refused wrong-cluster`);
    const missing = c.remote(root.bc, c.box.file("none.key", ""), ["nodes"]);
    expect(missing.code).toBe(1);
    expect(c.remote(root.bc, ids.op, ["run", "x.sxs"]).code).toBe(2);
    expect(c.remote(root.bc, ids.op, []).code).toBe(2);
  });
});

const kernelsOf = (n: ClusterNode) => new Set(c.cli(n, ["kernels", "ls"]).out.split("\n").map((l) => l.split("\t")[0]));
/** A member's kernel set as root-1 knows it (membership metadata). */
const setOf = (name: string) => (JSON.parse(c.cli(root, ["nodes", "--json"]).out) as { name: string; kernels: string[] }[]).find((m) => m.name === name)!.kernels;

describe("sup kernels load|unload --on", () => {

  test("a kernel loads on the selected node only, with a result per node, sup nodes shows it, and it unloads again", async () => {
    const r = c.cli(root, ["kernels", "load", "fs", "--on", "node:web-1", "--json", ...PATIENT]);
    expect(r.code).toBe(0);
    const [one] = JSON.parse(r.out) as ExecJson[];
    // A targeted (kernel load fs) entry: web-1's receipt says it applied it.
    expect(one).toMatchObject({ node: "web-1", ok: true, status: "ok", value: "loaded" });
    expect(kernelsOf(web1).has("fs")).toBe(true);
    expect(kernelsOf(web2).has("fs")).toBe(false);
    // The new set reaches the others through membership: sup nodes on root-1 shows it.
    await until(() => setOf("web-1").includes("fs"), "root-1 to see web-1's new kernel set");
    expect(setOf("web-2")).not.toContain("fs");
    expect(c.cli(root, ["nodes"]).out).toMatch(/^web-1\s.*\S*,fs$/m);
    // The capability is real: web-1's programs may now use fs.
    expect(execJson(root, "node:web-1", '[#(load "fs") 1]').results[0]!.ok).toBe(true);
    expect(execJson(root, "node:web-2", '[#(load "fs") 1]').results[0]!.ok).toBe(false);
    expect(c.cli(root, ["kernels", "unload", "fs", "--on", "node:web-1", ...PATIENT]).code).toBe(0);
    expect(kernelsOf(web1).has("fs")).toBe(false);
  });

  test("a kernel a node cannot load fails there with its error and changes nothing; the others still load it", () => {
    // Only web-2 has the kernel (in its data directory, on its kernel search path).
    mkdirSync(join(web2.data, "mine"));
    writeFileSync(join(web2.data, "mine", "kernel.sxs"), '#(define-kernel mine "mod.ts" [ (define-function seven () :int) ])\n');
    writeFileSync(join(web2.data, "mine", "mod.ts"), "export default { apiVersion: 1, create: () => ({ functions: { seven: () => 7 } }) };\n");
    const before = c.cli(web1, ["kernels", "ls"]).out;
    const r = c.cli(root, ["kernels", "load", "mine", "--on", "role:web", ...PATIENT]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^web-1\s+error\s+[\d.]+ ms\s+Cannot load kernel "mine": /m);
    expect(r.out).toMatch(/^web-2\s+ok\s+[\d.]+ ms\s+loaded$/m);
    expect(r.err).toContain("error: 1 of 2 nodes failed: web-1 (error)");
    expect(c.cli(web1, ["kernels", "ls"]).out).toBe(before);
    expect(execJson(root, "node:web-2", '[#(load "mine") (mine/seven)]').results[0]!.value).toBe("7");
  });

  test("a node stops serving HTTP when http is unloaded and serves again when it is loaded, without a restart", async () => {
    expect((await fetch(`${web1.url}/`)).status).toBe(200);
    expect(c.cli(root, ["kernels", "unload", "http", "--on", "node:web-1", ...PATIENT]).code).toBe(0);
    expect(await fetch(`${web1.url}/`).then(() => "served", () => "refused")).toBe("refused");
    expect(c.cli(root, ["kernels", "load", "http", "--on", "node:web-1", ...PATIENT]).code).toBe(0);
    const http = (JSON.parse(c.cli(web1, ["status", "--json"]).out) as { http: string }).http;
    expect((await fetch(`http://${http}/`)).status).toBe(200);
  });

  test("an operator without admin is refused; a selector of nothing is an error", () => {
    expect(c.remote(root.bc, ids.coder, ["kernels", "load", "fs", "--on", "all"]).err).toContain('error: Cannot load a kernel as "coder": its certificate lacks the "admin" permission');
    expect(c.cli(root, ["kernels", "load", "fs", "--on", "role:none"]).err).toContain('Selector "role:none" selects no node');
    expect(c.cli(root, ["kernels", "load", "fs", "--on", "role:"]).code).toBe(2);
  });
});

describe("a node killed", () => {
  test("its entry is unreachable before the deadline and the others still answer", async () => {
    web2.proc.kill("SIGKILL");
    await web2.proc.exited;
    await until(() => states(root)["web-2"] === "dead", "root-1 to see web-2 dead");
    const r = execJson(root, "all", ADD, ["--timeout", "5s"]);
    expect(r.code).toBe(1);
    const byNode = Object.fromEntries(r.results.map((x) => [x.node, x]));
    expect(byNode["web-2"]).toMatchObject({ ok: false, status: "unreachable", error: "unreachable", detail: "member is dead" });
    expect(byNode["web-2"]!.ms).toBeLessThan(5000);
    for (const n of ["root-1", "web-1", "db-1"]) expect(byNode[n]).toMatchObject({ ok: true, value: "42" });
    expect(r.err).toContain("error: 1 of 4 nodes failed: web-2 (unreachable)");
    // The cluster kernel says the same, as an error value.
    const k = execJson(root, "node:root-1", '[#(load "cluster") (cluster/exec "role:web" "1")]');
    expect(k.results[0]!.value).toBe('{("web-1" 1) ("web-2" @(cluster: unreachable "member is dead"))}');
  });

  test("a kernel entry issued while it is down is applied when it comes back (it catches up), and survives its restart", async () => {
    const r = c.cli(root, ["kernels", "load", "fs", "--on", "node:web-2", "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual([{ node: "web-2", ok: false, status: "unreachable", error: "unreachable", detail: "member is down: it applies the entry when it is back", ms: 0 }]);
    expect(r.err).toContain("error: 1 of 1 node failed: web-2 (unreachable)");
    web2 = await c.restart(web2);
    await until(() => kernelsOf(web2).has("fs"), "web-2 to load fs from the entry it missed");
    await until(() => setOf("web-2").includes("fs"), "root-1 to see web-2's new kernel set");
    expect(execJson(root, "node:web-2", '[#(load "fs") 1]').results[0]!.ok).toBe(true);
    // Kept in its store: a restart brings it back without the entry being applied again.
    web2.proc.kill("SIGTERM");
    await web2.proc.exited;
    web2 = await c.restart(web2);
    expect(kernelsOf(web2).has("fs")).toBe(true);
  });
});
