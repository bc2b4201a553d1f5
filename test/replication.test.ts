/**
 * Change-log replication between real `sup` processes on 127.0.0.1 (issue 14): a write on any node
 * holding the `code` permission is served by every node over HTTP, with receipts; a node without it
 * refuses the write and says which permission is missing; a node killed during a stream of writes
 * catches up after its restart; a real partition (iptables on loopback) where both sides write heals
 * with the same state hash everywhere and every acknowledged version in every history; forged
 * entries sent over an authenticated connection (bad signature, altered content, a signer without
 * the permission, a revoked signer, a replayed old entry) are refused and counted. Every process,
 * file and iptables rule is removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { encode } from "../src/lang/codec.ts";
import { entryValue, type Entry } from "../src/cluster/entry.ts";
import { entriesMessage } from "../src/cluster/replication-messages.ts";
import { Backchannel, issueIdentity, NodeIdentity } from "../src/net/mod.ts";
import { sha256, signedCertBytes } from "../src/node/replica-crypto.ts";
import { adminGet, restarted, TestFleet, until, type ClusterNode } from "./support/cluster-nodes.ts";
import { LoopbackPartition } from "./support/loopback-partition.ts";
import { NodeSandbox } from "./support/node-process.ts";

const box = new NodeSandbox();
const fleet = new TestFleet(box);
const noPartition = LoopbackPartition.unavailable();
const partition = noPartition === null ? new LoopbackPartition("repl") : null;
if (noPartition !== null) console.warn(`replication.test.ts: the partition test is skipped: ${noPartition}`);

const NAMES = ["r1", "r2", "r3", "r4"] as const;
const nodes: ClusterNode[] = [];
const prefix = (i: number): string[] => (partition === null ? [] : LoopbackPartition.prefix(i));

beforeAll(async () => {
  partition?.install();
  for (let i = 0; i < NAMES.length + 1; i++) partition?.markNode(i);
  // r1 holds admin and code; r2, r3 code; r4 neither (a web frontend).
  const can = [["admin", "code"], ["code"], ["code"], []] as const;
  for (let i = 0; i < NAMES.length; i++) {
    const id = fleet.identity(NAMES[i]!, { can: [...can[i]!], roles: i === 3 ? ["web"] : [] });
    const join = i === 0 ? [] : ["--join", nodes[0]!.bc];
    nodes.push(await fleet.start(NAMES[i]!, ["--identity", id.file, ...join], { prefix: prefix(i), serial: id.serial }));
  }
  await until(async () => (await Promise.all(nodes.map((n) => connectedPeers(n)))).every((c) => c === NAMES.length - 1), "a full mesh", 20_000);
}, 60_000);

afterAll(() => {
  partition?.remove();
  box.cleanup();
});

interface Status {
  replication: { stateHash: string; entries: number };
  cluster: { peers: number };
}
const status = (n: ClusterNode) => adminGet<Status>(n.data, "/status");
const connectedPeers = async (n: ClusterNode) => (await status(n)).cluster.peers;
const stateOf = async (n: ClusterNode) => (await status(n)).replication;
const cli = (n: ClusterNode, args: string[]) => box.cli(n.data, args);
async function adminPost(n: ClusterNode, path: string, payload: Record<string, unknown>): Promise<unknown> {
  const r = await fetch(`http://localhost${path}`, { unix: join(n.data, "admin.sock"), method: "POST", body: JSON.stringify(payload) });
  const b = (await r.json()) as { ok?: unknown; error?: { message: string } };
  if (b.error !== undefined) throw new Error(`POST ${path} failed: ${b.error.message}`);
  return b.ok;
}
const body = async (n: ClusterNode, path: string) => {
  const r = await fetch(`${n.url}${path}`).catch(() => null);
  return r === null ? null : `${r.status} ${await r.text()}`;
};

/** Every running node in `among` holds the same state and entry count. */
async function sameState(among: readonly ClusterNode[]): Promise<boolean> {
  const s = await Promise.all(among.map(stateOf));
  return s.every((x) => x.stateHash === s[0]!.stateHash && x.entries === s[0]!.entries);
}

describe("replication between real processes", () => {
  test("a write on a node with the code permission is served by every node, with a receipt from each", async () => {
    const file = box.file("hello.sxs", '[ #(load "http") (http/text 200 "hello from r2") ]');
    const r = cli(nodes[1]!, ["code", "put", "GET /hello", file, "--wait", "--timeout", "10s"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^stored GET \/hello version 1 \(/);
    for (const n of NAMES) expect(r.out).toMatch(new RegExp(`^  ${n}\\s+applied\\s+[\\d.]+ ms$`, "m"));
    for (const n of nodes) expect(await body(n, "/hello")).toBe("200 hello from r2");
    expect(cli(nodes[3]!, ["code", "history", "GET /hello"]).out).toMatch(/^v1\t[0-9a-f]{12}\t\S+\tr2\t/);
  });

  test("sup status shows the state hash, sup nodes every member's (as it reported it) and how far behind it is, metrics the lag per peer", async () => {
    const own = await stateOf(nodes[0]!);
    const st = cli(nodes[0]!, ["status"]);
    expect(st.out).toContain(`state hash ${own.stateHash}\n`);
    expect(st.out).toMatch(/^change log \d+ entries \(writes as r1\)$/m);
    type Row = { name: string; replication: { stateHash: string | null; behind: number | null } };
    await until(async () => (await adminGet<Row[]>(nodes[0]!.data, "/nodes")).every((m) => m.replication.stateHash === own.stateHash && m.replication.behind === 0), "every member to report the same state hash", 15_000);
    const table = cli(nodes[0]!, ["nodes"]).out;
    expect(table.split("\n")[0]).toMatch(/BEHIND\s+CODE\s+HEARD\s+KERNELS$/);
    expect(table).toContain(own.stateHash.slice(0, 8));
    const metrics = await (await fetch(`${nodes[0]!.url}/_sup/metrics`)).text();
    for (const peer of ["r2", "r3", "r4"]) expect(metrics).toContain(`sup_replication_peer_lag_entries{peer="${peer}"} 0`);
    expect(metrics).toMatch(/^sup_replication_entries \d+$/m);
  }, 30_000);

  test("a node without the code permission refuses the write and names the permission", async () => {
    const file = box.file("no.sxs", "[1]");
    const r = cli(nodes[3]!, ["code", "put", "GET /nope", file]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: Cannot store code "GET /nope": this node's identity "r4" lacks the "code" permission (its certificate grants: none)\n`);
    expect(await body(nodes[0]!, "/nope")).toMatch(/^404/);
  });

  test("a node killed during a stream of writes catches up after its restart", async () => {
    const victim = nodes[2]!;
    for (let i = 0; i < 60; i++) {
      if (i === 20) victim.proc.kill("SIGKILL");
      await adminPost(nodes[i % 2]!, "/code/put", { name: `GET /s${i % 5}`, source: `[ #(load "http") (http/text 200 "stream ${i}") ]` });
    }
    await victim.proc.exited;
    nodes[2] = await restarted(box, victim, prefix(2));
    await until(() => sameState(nodes), "the restarted node to catch up", 20_000, async () => `${JSON.stringify(await Promise.all(nodes.map(stateOf)))}\n${nodes[2]!.stderr().slice(-3000)}`);
    for (let i = 0; i < 5; i++) expect(await body(nodes[2]!, `/s${i}`)).toBe(await body(nodes[0]!, `/s${i}`));
  }, 60_000);

  test.skipIf(partition === null)("a partition where both sides write heals: one state everywhere, every acknowledged version in every history", async () => {
    const side = (i: number) => ({ index: i, port: nodes[i]!.port });
    partition!.cut([side(0), side(1)], [side(2), side(3)]);
    const acked: { name: string; version: string }[] = [];
    for (let i = 0; i < 6; i++) {
      const writer = nodes[i % 2 === 0 ? 0 : 2]!;
      const f = box.file(`p${i}.sxs`, `[ #(load "http") (http/text 200 "partition ${i} on ${writer.name}") ]`);
      const r = cli(writer, ["code", "put", "GET /split-brain", f]);
      expect(r.code).toBe(0);
      acked.push({ name: "GET /split-brain", version: `${/version (\d+)/.exec(r.out)![1]}@${writer.name}` });
    }
    // Each side serves its own latest while cut.
    expect(await body(nodes[1]!, "/split-brain")).toBe("200 partition 4 on r1");
    expect(await body(nodes[3]!, "/split-brain")).toBe("200 partition 5 on r3");
    partition!.heal();
    await until(() => sameState(nodes), "one state after the heal", 30_000);
    const served = await Promise.all(nodes.map((n) => body(n, "/split-brain")));
    expect(new Set(served).size).toBe(1);
    for (const n of nodes) {
      const h = (await adminGet<{ version: number; origin: string }[]>(n.data, `/code/history?name=${encodeURIComponent("GET /split-brain")}`)).map((v) => `${v.version}@${v.origin}`);
      for (const a of acked) expect(h).toContain(a.version);
    }
  }, 90_000);

  test("a job runs on one node of the cluster, the same one every node names; --each-node runs it on every node", async () => {
    const f = box.file("job.sxs", "[ 42 ]");
    expect(cli(nodes[0]!, ["code", "put", "job:once", f, "--every", "200ms", "--wait"]).code).toBe(0);
    expect(cli(nodes[0]!, ["code", "put", "job:each", f, "--every", "200ms", "--each-node", "--wait"]).code).toBe(0);
    const runs = async (n: ClusterNode, job: string) => (await adminGet<{ runs: unknown[]; schedule: { runsOn?: string } }>(n.data, `/code/show?name=${job}`));
    await until(async () => (await Promise.all(nodes.map((n) => runs(n, "job:each")))).every((r) => r.runs.length >= 2), "job:each to run on every node", 10_000);
    const once = await Promise.all(nodes.map((n) => runs(n, "job:once")));
    const ran = nodes.filter((_, i) => once[i]!.runs.length > 0).map((n) => n.name);
    expect(ran).toHaveLength(1);
    for (let i = 0; i < nodes.length; i++) expect(once[i]!.schedule.runsOn).toBe(nodes[i]!.name === ran[0] ? "this node" : ran[0]);
    expect(cli(nodes[0]!, ["code", "rm", "job:once"]).code).toBe(0);
    expect(cli(nodes[0]!, ["code", "rm", "job:each"]).code).toBe(0);
  });

  test("a targeted write is applied where its selector matches and stored everywhere", async () => {
    const file = box.file("web.sxs", '[ #(load "http") (http/text 200 "web only") ]');
    const r = cli(nodes[0]!, ["code", "put", "GET /web", file, "--on", "role:web", "--wait"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^stored GET \/web \(entry r1:\d+ for role:web; not applied on this node\)$/m);
    expect(r.out).toMatch(/^  r4\s+applied/m);
    expect(await body(nodes[3]!, "/web")).toBe("200 web only");
    expect(await body(nodes[1]!, "/web")).toMatch(/^404/);
    // The state hash covers what a node serves: r4 serves one more route than the others now.
    await until(() => sameStateEntries(nodes), "every node to hold the targeted entry", 10_000);
    expect((await stateOf(nodes[3]!)).stateHash).not.toBe((await stateOf(nodes[0]!)).stateHash);
  });

});

async function sameStateEntries(among: readonly ClusterNode[]): Promise<boolean> {
  const s = await Promise.all(among.map(stateOf));
  return s.every((x) => x.entries === s[0]!.entries);
}

describe("forged entries over an authenticated connection", () => {
  test("bad signature, altered content, no permission, revoked signer and a replayed entry are refused and counted", async () => {
    const target = nodes[0]!;
    const f = box.file("kept.sxs", '[ #(load "http") (http/text 200 "kept") ]');
    expect(cli(nodes[1]!, ["code", "put", "GET /kept", f, "--wait"]).code).toBe(0);
    // An attacker with a valid member certificate (no permissions) connects like any member.
    const mallory = new NodeIdentity(issueIdentity(fleet.root, { name: "mallory", can: [] }, Date.now()));
    const coder = new NodeIdentity(issueIdentity(fleet.root, { name: "coder", can: ["code"] }, Date.now()));
    const bc = Backchannel.start({ identity: mallory, listen: { host: "127.0.0.1", port: 0 } });
    try {
      await bc.dial("127.0.0.1", target.port);
      const send = (id: NodeIdentity, e: Omit<Entry, "cert">, alter?: (b: Uint8Array) => Uint8Array) => {
        const certBytes = signedCertBytes(id.signed);
        const bytes = encode(entryValue({ ...e, cert: sha256(certBytes) }));
        const sig = id.sign(bytes);
        bc.send("r1", entriesMessage("push", false, [certBytes], [{ bytes: alter?.(bytes) ?? bytes, signature: sig }], []));
      };
      const rm = (origin: string, seq: number) => ({ origin, seq, hlc: { ms: Date.now(), n: 0 }, author: "x", target: null, body: { kind: "code-rm" as const, tenant: "default", name: "GET /kept" } });
      send(mallory, rm("mallory", 1)); // no permission
      send(coder, rm("coder", 1), (b) => {
        const c = new Uint8Array(b);
        c[c.length - 2]! ^= 1;
        return c;
      }); // altered after signing
      send(coder, rm("r2", 100_000)); // signed by coder, claims to come from r2
      // An operator with admin (no node) revokes coder: its entry is valid wherever it comes from.
      const op = new NodeIdentity(issueIdentity(fleet.root, { name: "op", can: ["admin"] }, Date.now()));
      send(op, { origin: "op", seq: 1, hlc: { ms: Date.now(), n: 0 }, author: "ops", target: null, body: { kind: "revoke", serial: coder.cert.serial, name: "coder", upTo: 0, reason: "test" } });
      send(coder, rm("coder", 1)); // revoked signer
      // A replayed entry: r2's first one, read from r1's store and sent again as it was.
      const db = new Database(join(target.data, "sup.db"), { readonly: true });
      const row = db.query<{ encoded: Uint8Array; signature: Uint8Array; cert: string }, []>("SELECT encoded, signature, cert FROM entries WHERE origin = 'r2' ORDER BY seq LIMIT 1").get()!;
      db.close();
      bc.send("r1", entriesMessage("push", false, [], [{ bytes: row.encoded, signature: row.signature }], []));
      await until(async () => {
        const m = await (await fetch(`${target.url}/_sup/metrics`)).text();
        return ["permission", "bad-signature", "origin-mismatch", "revoked"].every((r) => new RegExp(`sup_replication_refused_total\\{reason="${r}"\\} 1`).test(m)) && /sup_replication_duplicates_total [1-9]/.test(m);
      }, "the refusals to be counted", 10_000, async () => (await (await fetch(`${target.url}/_sup/metrics`)).text()).split("\n").filter((l) => l.startsWith("sup_replication")).join("\n"));
      expect(await body(target, "/kept")).toBe("200 kept");
      expect(target.stderr()).toMatch(/warn replication refused .*reason=permission/);
      // The revocation came from an admin identity through a relay, was applied, and spread.
      const revoked = (n: ClusterNode) => {
        const d = new Database(join(n.data, "sup.db"), { readonly: true });
        try {
          return d.query<{ serial: string }, []>("SELECT serial FROM revocations").all().map((x) => x.serial);
        } finally {
          d.close();
        }
      };
      await until(() => nodes.every((n) => revoked(n).includes(coder.cert.serial)), "the revocation on every node", 10_000);
    } finally {
      await bc.close();
    }
  }, 30_000);
});
