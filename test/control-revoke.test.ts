/**
 * `sup nodes revoke` between real processes (issues 14 and 15): the revocation is a replicated
 * entry. Every live node applies it and refuses the revoked certificate from then on; the revoked
 * node is told too, and says so in its log; a node that was down when it was issued applies it
 * when it comes back; after every node restarts, the revocation still holds everywhere and the
 * revoked node cannot rejoin; the revoked certificate cannot be used as an operator's identity
 * either; only an identity with `admin` may revoke. Every node keeps its backchannel port across
 * restarts, so the revoked node's stored peers are where it dials. Every process and file is
 * removed at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ClusterBox, freePort, until, type ClusterNode } from "./support/cluster-box.ts";

const c = new ClusterBox();
afterAll(() => c.cleanup());

let root: ClusterNode;
let web1: ClusterNode;
let web2: ClusterNode;
let db1: ClusterNode;
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

/** Revocations wait for every live node's receipt; a loaded machine may take seconds, a healthy one milliseconds. */
const PATIENT = ["--timeout", "30s"];
const listen = () => ["--listen", `127.0.0.1:${freePort()}`];
const refusedHere = /warn backchannel handshake refused .*reason=revoked detail="certificate of \\"web-2\\"/;

beforeAll(async () => {
  root = await c.node("root-1", c.identity("root-1", { can: ["admin"] }), listen());
  [web1, web2, db1] = await Promise.all([
    c.node("web-1", c.identity("web-1", { roles: ["web"] }), ["--join", root.bc, ...listen()]),
    c.node("web-2", web2Key, ["--join", root.bc, ...listen()]),
    c.node("db-1", c.identity("db-1", { roles: ["db"] }), ["--join", root.bc, ...listen()]),
  ]);
  const all = ["root-1", "web-1", "web-2", "db-1"];
  await until(() => all.every((n) => states(root)[n] === "alive" && states(web1)[n] === "alive" && states(db1)[n] === "alive"), "everyone to see everyone alive");
}, 60_000);

describe("sup nodes revoke", () => {
  test("only an identity with admin may revoke; a node cannot revoke itself; a reason over the entry's limit is refused", () => {
    const r = c.remote(root.bc, dev, ["nodes", "revoke", "web-2"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: Cannot revoke a certificate as "dev": its certificate lacks the "admin" permission (it grants: none)');
    const self = c.cli(root, ["nodes", "revoke", "root-1"]);
    expect(self.err).toContain('error: Cannot revoke "root-1" from itself');
    expect(c.cli(root, ["nodes", "revoke"]).code).toBe(2);
    const long = c.cli(root, ["nodes", "revoke", "web-2", "--reason", "x".repeat(1025)]);
    expect(long.code).toBe(1);
    expect(long.err).toContain('error: Field "reason" is 1025 bytes, more than 1024');
    // A node without admin cannot sign the entry, whoever asks it.
    const via = c.remote(web1.bc, c.identity("op", { can: ["admin"] }), ["nodes", "revoke", "web-2"]);
    expect(via.code).toBe(1);
    expect(via.err).toContain(`error: Cannot revoke "web-2": this node's identity "web-1" lacks the "admin" permission (its certificate grants: none)`);
  });

  test("every live node applies the entry, the revoked one too; its connections close and it says so; a node that was down applies it when it is back", async () => {
    await stop(db1);
    await until(() => states(root)["db-1"] === "left", "root-1 to see db-1 leave");
    const r = c.cli(root, ["nodes", "revoke", "web-2", "--reason", "lost laptop", "--json", ...PATIENT]);
    expect(r.code).toBe(0);
    // db-1 left on purpose: not waited for (it gets the entry when it is back, below).
    expect(Object.fromEntries((JSON.parse(r.out) as { node: string; value: string }[]).map((x) => [x.node, x.value]))).toEqual({ "root-1": "revoked", "web-1": "revoked", "web-2": "revoked" });
    await until(() => states(root)["web-2"] === "dead" && states(web1)["web-2"] === "dead", "web-2 to be cut off everywhere");
    await web2.waitForStderr(/error this node's certificate is revoked: the cluster refuses it name=web-2 .*lost laptop/);
    expect(root.stderr()).toMatch(/warn certificate revoked name=web-2 serial=\w+ by=admin reason="lost laptop" origin=root-1/);
    // web-1 got it as an entry from root-1, not as a command.
    await web1.waitForStderr(/warn certificate revoked name=web-2 serial=\w+ by=admin reason="lost laptop" origin=root-1/);
    db1 = await c.restart(db1);
    await db1.waitForStderr(/warn certificate revoked name=web-2 serial=\w+ by=admin reason="lost laptop" origin=root-1/);
    // Asked again (the serial is remembered by name): the entry again, and web-2 down is no failure.
    const again = c.cli(root, ["nodes", "revoke", "web-2", ...PATIENT]);
    expect(again.out).toContain("root-1  ok");
    expect(again.out).toMatch(/^web-2\s+ok\s+.*revoked \(it is down: every other node refuses it\)$/m);
  });

  test("after every node restarts the revocation holds everywhere: the revoked node cannot rejoin, and logs why", async () => {
    await stop(web2);
    await Promise.all([stop(root), stop(web1), stop(db1)]);
    [root, web1, db1] = await Promise.all([c.restart(root), c.restart(web1), c.restart(db1)]);
    await until(() => ["root-1", "web-1", "db-1"].every((n) => states(root)[n] === "alive"), "root-1 to be back with web-1 and db-1");
    web2 = await c.restart(web2);
    await web2.waitForStderr(new RegExp(`handshake refused by peer peer=${root.bc.replaceAll(".", "\\.")} .*reason=revoked`));
    await web2.waitForStderr("error this node's certificate is revoked: the cluster refuses it");
    // It dials every stored peer; each refuses it from its own store.
    for (const n of [root, web1, db1]) await n.waitForStderr(refusedHere);
    // Restarted nodes do not dial it (membership's retries of the dead member stay local).
    for (const n of [root, web1, db1]) expect(n.stderr()).not.toMatch(/direction=out reason=revoked/);
    for (const n of [root, web1, db1]) expect(states(n)["web-2"]).not.toBe("alive");
  });

  test("the revoked certificate cannot be used as an operator's identity", () => {
    const r = c.remote(web1.bc, web2Key, ["nodes"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error: Cannot connect to "${web1.bc}" as "web-2": it refused revoked`);
  });
});
