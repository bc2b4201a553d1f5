/**
 * `sup nodes revoke` between real processes (issue 15): every node is told and refuses the revoked
 * certificate from then on, also after restarts (its own and theirs); the revoked node says so in
 * its log and cannot rejoin; the revoked certificate cannot be used as an operator's identity
 * either; only an identity with `admin` may revoke. Every process and file is removed at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ClusterBox, freePort, until, type ClusterNode } from "./support/cluster-box.ts";

const c = new ClusterBox();
afterAll(() => c.cleanup());

let root: ClusterNode;
let web1: ClusterNode;
let web2: ClusterNode;
const web2Key = c.identity("web-2", { roles: ["web"] });
const dev = c.identity("dev");

function states(n: ClusterNode): Record<string, string> {
  const r = c.cli(n, ["nodes", "--json"]);
  if (r.code !== 0) return {};
  return Object.fromEntries((JSON.parse(r.out) as { name: string; state: string }[]).map((m) => [m.name, m.state]));
}

async function stop(n: ClusterNode): Promise<void> {
  n.proc.kill("SIGTERM");
  await n.proc.exited;
}

beforeAll(async () => {
  // root-1 keeps its backchannel port across its restart, so the restarted web-2 finds it where it was.
  root = await c.node("root-1", c.identity("root-1", { can: ["admin"] }), ["--listen", `127.0.0.1:${freePort()}`]);
  [web1, web2] = await Promise.all([c.node("web-1", c.identity("web-1", { roles: ["web"] }), ["--join", root.bc]), c.node("web-2", web2Key, ["--join", root.bc])]);
  await until(() => ["root-1", "web-1", "web-2"].every((n) => states(root)[n] === "alive" && states(web1)[n] === "alive"), "everyone to see everyone alive");
}, 60_000);

describe("sup nodes revoke", () => {
  test("only an identity with admin may revoke; a node cannot revoke itself", () => {
    const r = c.remote(root.bc, dev, ["nodes", "revoke", "web-2"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: Cannot revoke a certificate as "dev": its certificate lacks the "admin" permission (it grants: none)');
    const self = c.cli(root, ["nodes", "revoke", "root-1"]);
    expect(self.err).toContain('error: Cannot revoke "root-1" from itself');
    expect(c.cli(root, ["nodes", "revoke"]).code).toBe(2);
  });

  test("every node is told, the revoked one too; its connections close and it says so in its log", async () => {
    const r = c.cli(root, ["nodes", "revoke", "web-2", "--reason", "lost laptop", "--json"]);
    expect(r.code).toBe(0);
    expect(Object.fromEntries((JSON.parse(r.out) as { node: string; value: string }[]).map((x) => [x.node, x.value]))).toEqual({ "root-1": "revoked", "web-1": "revoked", "web-2": "revoked" });
    await until(() => states(root)["web-2"] === "dead" && states(web1)["web-2"] === "dead", "web-2 to be cut off everywhere");
    await web2.waitForStderr(/error this node's certificate is revoked: the cluster refuses it name=web-2 .*lost laptop/);
    expect(root.stderr()).toMatch(/warn certificate revoked name=web-2 serial=\w+ by=admin reason="lost laptop"/);
    // Asked again, it is revoked already (the serial is remembered by name).
    expect(c.cli(root, ["nodes", "revoke", "web-2"]).out).toContain("root-1  ok");
  });

  test("after restarts on both sides the revoked node cannot rejoin, and logs why", async () => {
    await stop(web2);
    await stop(root);
    root = await c.restart(root);
    await until(() => states(root)["web-1"] === "alive", "root-1 to be back with web-1");
    web2 = await c.restart(web2);
    await web2.waitForStderr(new RegExp(`handshake refused by peer peer=${root.bc.replaceAll(".", "\\.")} .*reason=revoked`));
    await web2.waitForStderr("error this node's certificate is revoked: the cluster refuses it");
    await root.waitForStderr(/warn backchannel handshake refused .*reason=revoked detail="certificate of \\"web-2\\"/);
    // Restarted root-1 does not dial it (membership's retries of the dead member stay local).
    expect(root.stderr()).not.toMatch(/direction=out reason=revoked/);
    expect(states(root)["web-2"]).not.toBe("alive");
    expect(states(web1)["web-2"]).not.toBe("alive");
  });

  test("the revoked certificate cannot be used as an operator's identity", () => {
    const r = c.remote(web1.bc, web2Key, ["nodes"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: Cannot connect to "${web1.bc}" as "web-2": it refused revoked`);
  });
});
