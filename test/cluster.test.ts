/**
 * Real `sup` processes on 127.0.0.1 joining over the backchannel (issue 12): the first join and a
 * reconnect after restarts (SIGTERM: left; SIGKILL: dead), `sup nodes`, `sup status`, metrics; each
 * refusal logged on both sides; a man-in-the-middle relay that flips one bit of one frame and one
 * that replays a recorded frame; a slow-loris handshake and the per-address limit; garbage at the
 * listener; identity files that stop a node from starting. Every process and file is cleaned up.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { chmodSync, readFileSync } from "node:fs";
import { List, str, sym, T_PAREN } from "../src/lang/value.ts";
import { Backchannel, formatIdentityFile, issueIdentity, makeRoot, NodeIdentity, writeIdentityText, type IssueInput, type RootKey } from "../src/net/mod.ts";
import { defaultAdvertisedHost } from "../src/node/address.ts";
import { Rng } from "./support/rng.ts";
import { NodeSandbox, SUP, startedNode, type NodeProcess } from "./support/node-process.ts";

const box = new NodeSandbox();
afterAll(() => box.cleanup());
const SEED = 0xc1a5;
const root = makeRoot();
let serial = 0;

/** Writes an identity file for `name` into the sandbox (0600) and returns its path. */
function identity(name: string, input: Omit<IssueInput, "name"> = {}, r: RootKey = root): string {
  const file = box.file(`${name}-${serial++}.key`, "");
  writeIdentityText(file, formatIdentityFile(issueIdentity(r, { name, ...input }, Date.now())), true);
  return file;
}

/** A node: `sup start` with an identity, listening on a free backchannel port. */
async function node(data: string, args: string[]): Promise<NodeProcess & { bc: string }> {
  const n = await box.start(data, ["--listen", "127.0.0.1:0", ...args], { SUP_LOG: "info" });
  const bc = /backchannel (127\.0\.0\.1:\d+)/.exec(n.stderr())?.[1];
  if (bc === undefined) throw new Error(`no backchannel address in:\n${n.stderr()}`);
  return { ...n, bc };
}

interface MemberJson {
  name: string;
  state: string;
  roles: string[];
  backchannel: string | null;
  http: string | null;
  self: boolean;
}

function nodes(data: string): MemberJson[] {
  const r = box.cli(data, ["nodes", "--json"]);
  if (r.code !== 0) throw new Error(`sup nodes failed: ${r.err}`);
  return JSON.parse(r.out) as MemberJson[];
}

function stateOf(data: string, name: string): string | undefined {
  return nodes(data).find((m) => m.name === name)?.state;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

async function stopped(proc: Bun.Subprocess, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  proc.kill(signal);
  await proc.exited;
}

describe("a first join between real processes", () => {
  const rootData = box.dataDir("root");
  const webData = box.dataDir("web");
  let rootNode: NodeProcess & { bc: string };

  test("sup --identity F --join H:P joins; sup nodes lists both members alive on both sides", async () => {
    rootNode = await node(rootData, ["--identity", identity("root-1", { can: ["admin", "code"] })]);
    // The line users type: options with no subcommand.
    const proc = Bun.spawn([SUP, "--identity", identity("web-1", { roles: ["web"], labels: [["region", "eu"]] }), "--join", rootNode.bc, "--data", webData, "--http", "127.0.0.1:0", "--listen", "127.0.0.1:0"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, SUP_LOG: "info" },
    });
    const web = await startedNode(proc);
    await until(() => stateOf(rootData, "web-1") === "alive" && stateOf(webData, "root-1") === "alive", "both alive");
    const fromRoot = nodes(rootData);
    expect(fromRoot.map((m) => [m.name, m.state, m.self])).toEqual([
      ["root-1", "alive", true],
      ["web-1", "alive", false],
    ]);
    const w = fromRoot[1]!;
    expect(w.roles).toEqual(["web"]);
    expect(w.http).toBe(web.url.replace("http://", ""));
    expect(w.backchannel).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(nodes(webData).find((m) => m.name === "root-1")!.backchannel).toBe(rootNode.bc);
    const table = box.cli(rootData, ["nodes"]).out;
    expect(table).toMatch(/^NAME\s+STATE\s+INC\s+ROLES\s+BACKCHANNEL\s+HTTP\s+REQS\s+LAG\s+CPU\s+LOG\s+BEHIND\s+CODE\s+HEARD\s+KERNELS\n/);
    expect(table).toMatch(/\nweb-1\s+alive\s+0\s+web\s+127\.0\.0\.1:\d+\s+127\.0\.0\.1:\d+\s+\d+\s+\d+ms\s+\d+%\s+\d+\s+(\d+|-)\s+([0-9a-f]{8}|-)\s+\d+\.\ds ago\s+\S+\n/);
    const status = box.cli(webData, ["status"]).out;
    expect(status).toContain("identity web-1");
    expect(status).toContain(`cluster ${root.clusterId}`);
    expect(status).toMatch(/backchannel 127\.0\.0\.1:\d+, joins 127\.0\.0\.1:\d+, 1 peer connected\nmembers 2 alive \(incarnation 0\)\n/);
    const metrics = await (await fetch(`${rootNode.url}/_sup/metrics`)).text();
    expect(metrics).toContain('sup_backchannel_handshakes_total{result="ok",reason="",by="local"} 1');
    expect(metrics).toMatch(/sup_backchannel_frames_total\{direction="in"\} [1-9]/);
    expect(metrics).toContain("sup_backchannel_peers 1");
    // SIGTERM says leave: the root marks web-1 left, not dead.
    await stopped(proc, "SIGTERM");
    await until(() => stateOf(rootData, "web-1") === "left", "web-1 left");
  }, 60_000);

  test("a restart with no flags reconnects (join target, identity and peers come from the store)", async () => {
    const again = await box.start(webData, [], { SUP_LOG: "info" });
    await until(() => stateOf(rootData, "web-1") === "alive", "web-1 alive again");
    expect(again.stderr()).toContain('as "web-1"');
    // Killed without a goodbye: dead; back with no flags: alive.
    await stopped(again.proc, "SIGKILL");
    await until(() => stateOf(rootData, "web-1") === "dead", "web-1 dead");
    const third = await box.start(webData, [], { SUP_LOG: "info" });
    await until(() => stateOf(rootData, "web-1") === "alive", "web-1 alive after a crash");
    // The root learned web-1's address: restarted with no flags, it dials web-1 itself.
    await stopped(rootNode.proc, "SIGTERM");
    await until(() => stateOf(webData, "root-1") === "left", "root left");
    const root2 = await box.start(rootData, [], { SUP_LOG: "info" });
    await until(() => stateOf(webData, "root-1") === "alive", "root alive again");
    await stopped(third.proc, "SIGTERM");
    await stopped(root2.proc, "SIGTERM");
  }, 90_000);
});

describe("refusals are logged on both sides with the reason", () => {
  let seed: NodeProcess & { bc: string };
  const seedData = box.dataDir("seed");
  let joined = 0;

  async function refused(idFile: string, reason: string): Promise<void> {
    const data = box.dataDir(`joiner-${joined++}`);
    const j = await node(data, ["--identity", idFile, "--join", seed.bc]);
    await until(() => j.stderr().includes(`reason=${reason}`) && seed.stderr().includes(`reason=${reason}`), `${reason} in both logs`);
    const mine = j.stderr().split("\n").find((l) => l.includes(`reason=${reason}`))!;
    const theirs = seed.stderr().split("\n").find((l) => l.includes(`reason=${reason}`))!;
    // One side refused, the other heard it; both name the other's address.
    expect([mine, theirs].some((l) => l.startsWith("warn backchannel handshake refused peer=127.0.0.1:"))).toBe(true);
    expect([mine, theirs].some((l) => l.startsWith("warn backchannel handshake refused by peer peer=127.0.0.1:"))).toBe(true);
    await stopped(j.proc, "SIGKILL");
  }

  test("an identity signed by another root", async () => {
    seed = await node(seedData, ["--identity", identity("seed")]);
    await refused(identity("stranger", {}, makeRoot()), "wrong-cluster");
    const metrics = await (await fetch(`${seed.url}/_sup/metrics`)).text();
    expect(metrics).toContain('sup_backchannel_handshakes_total{result="failed",reason="wrong-cluster",by="local"}');
  }, 60_000);

  test("an expired certificate", async () => {
    await refused(identity("old", { notBefore: Date.now() - 3 * 86_400_000, days: 1 }), "cert-expired");
  }, 60_000);

  test("a certificate not valid yet", async () => {
    await refused(identity("early", { notBefore: Date.now() + 86_400_000 }), "cert-not-yet-valid");
  }, 60_000);

  test("a name already connected under another key", async () => {
    const first = await node(box.dataDir("twin-a"), ["--identity", identity("twin"), "--join", seed.bc]);
    await until(() => stateOf(seedData, "twin") === "alive", "the first twin");
    await refused(identity("twin"), "name-conflict");
    expect(stateOf(seedData, "twin")).toBe("alive");
    await stopped(first.proc, "SIGKILL");
  }, 60_000);

  test("--join without an identity stops sup start and says what is missing", () => {
    const r = Bun.spawnSync([SUP, "start", "--data", box.dataDir("no-id"), "--http", "127.0.0.1:0", "--join", "127.0.0.1:7000"], { stderr: "pipe" });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toContain("error: Cannot join a cluster without an identity: give --identity FILE");
  });

  test("an identity file readable by others, or altered, stops sup start with the file and field named", () => {
    const f = identity("loose");
    chmodSync(f, 0o644);
    const loose = Bun.spawnSync([SUP, "start", "--data", box.dataDir("loose"), "--http", "127.0.0.1:0", "--identity", f], { stderr: "pipe" });
    expect(loose.exitCode).toBe(1);
    expect(loose.stderr.toString()).toContain(`run chmod 600 ${f}`);
    const g = identity("altered");
    writeIdentityText(g, readFileSync(g, "utf8").replace(/^name altered$/m, "name alterer"), true);
    const altered = Bun.spawnSync([SUP, "start", "--data", box.dataDir("altered"), "--http", "127.0.0.1:0", "--identity", g], { stderr: "pipe" });
    expect(altered.exitCode).toBe(1);
    expect(altered.stderr.toString()).toContain(`error: Cannot read "${g}": field "signature" does not verify against root-key`);
  });
});

/** A TCP relay between a joiner and a node that can alter the joiner's stream, frame by frame. */
function relay(target: number, alter: (frameIndex: number, frame: Buffer) => Buffer[]): TCPSocketListener<{ up: Promise<Socket<unknown>>; buf: Buffer; frames: number }> {
  return Bun.listen<{ up: Promise<Socket<unknown>>; buf: Buffer; frames: number }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(down) {
        down.data = {
          buf: Buffer.alloc(0),
          frames: 0,
          up: Bun.connect({ hostname: "127.0.0.1", port: target, socket: { data: (_u, d) => void down.write(d), close: () => void down.end() } }),
        };
      },
      async data(down, chunk) {
        const st = down.data;
        st.buf = Buffer.concat([st.buf, chunk]);
        const up = await st.up;
        while (st.buf.length >= 4 && st.buf.length >= 4 + st.buf.readUInt32BE(0)) {
          const n = 4 + st.buf.readUInt32BE(0);
          const frame = st.buf.subarray(0, n);
          st.buf = st.buf.subarray(n);
          for (const f of alter(st.frames++, Buffer.from(frame))) up.write(f);
        }
      },
      async close(down) {
        (await down.data.up).end();
      },
    },
  });
}

describe("a man in the middle", () => {
  const targetData = box.dataDir("mitm-target");
  let target: NodeProcess & { bc: string };
  const port = (a: string) => Number(a.split(":")[1]);

  async function through(alter: (i: number, f: Buffer) => Buffer[], expected: string): Promise<void> {
    const r = relay(port(target.bc), alter);
    const before = target.stderr().length;
    const j = await node(box.dataDir(`mitm-${r.port}`), ["--identity", identity(`mitm-${r.port}`), "--join", `127.0.0.1:${r.port}`]);
    await until(() => target.stderr().slice(before).includes("cause=frame-rejected"), "the target to reject the frame");
    const line = target.stderr().slice(before).split("\n").find((l) => l.includes("cause=frame-rejected"))!;
    expect(line).toMatch(/^warn backchannel connection closed peer=127\.0\.0\.1:\d+ name=mitm-\d+ cause=frame-rejected/);
    expect(line).toContain(expected);
    await stopped(j.proc, "SIGKILL");
    r.stop(true);
  }

  test("a relay that flips one bit of one encrypted frame: the connection closes and the node logs the peer's address", async () => {
    target = await node(targetData, ["--identity", identity("target")]);
    // Frames 0 and 1 from the joiner are the handshake (M1, M3); frame 2 is its first encrypted one.
    let flipped = false;
    await through((i, f) => {
      if (i === 2 && !flipped) {
        flipped = true;
        f[f.length - 20]! ^= 0x04;
      }
      return [f];
    }, "frame 0 failed authentication");
  }, 60_000);

  test("a relay that replays a recorded frame: the copy is rejected", async () => {
    // The joiner's first encrypted frame (its node-info and members, sealed together) is recorded
    // and sent again right after itself: the copy arrives where frame 1 is expected.
    let replayed = false;
    await through((i, f) => {
      if (i !== 2 || replayed) return [f];
      replayed = true;
      return [f, Buffer.from(f)];
    }, "frame 1 failed authentication");
  }, 60_000);
});

describe("the listener under abuse", () => {
  test(`slow-loris handshakes, the per-address limit at 8 and 9, and ${400} garbage connections leave the node serving (seed ${SEED})`, async () => {
    const data = box.dataDir("abused");
    const n = await node(data, ["--identity", identity("abused")]);
    const port = Number(n.bc.split(":")[1]);
    const connect = async () => {
      let closed!: () => void;
      const done = new Promise<void>((r) => (closed = r));
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data: () => {}, close: () => closed(), error: () => closed() } });
      return { s, done };
    };
    /** A connection the node may refuse before it is open (reset): that counts as closed. */
    const tryConnect = () => connect().catch(() => ({ s: null, done: Promise.resolve() }));
    // Eight connections that send a byte and then nothing: held until the 5 s handshake deadline.
    const loris = await Promise.all(Array.from({ length: 8 }, connect));
    for (const l of loris) l.s.write(new Uint8Array([0]));
    const pending = async () => Number(/sup_backchannel_pending_connections (\d+)/.exec(await (await fetch(`${n.url}/_sup/metrics`)).text())![1]);
    await until(async () => (await pending()) === 8, "eight held");
    const ninth = await tryConnect();
    await ninth.done;
    await until(() => n.stderr().includes("reason=too-many-pending"), "the ninth refused");
    await Promise.all(loris.map((l) => l.done));
    expect((n.stderr().match(/reason=handshake-timeout/g) ?? []).length).toBe(8);
    // Garbage: random bytes and bytes that look like frames; memory after a warm-up batch stays put.
    const rng = new Rng(SEED);
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${n.proc.pid}/status`, "utf8"))![1]) * 1024;
    const spray = async (count: number) => {
      for (let done = 0; done < count; done += 4) {
        const batch = await Promise.all(Array.from({ length: 4 }, tryConnect));
        for (const c of batch) {
          if (c.s === null) continue;
          const bytes = new Uint8Array(1 + rng.int(300));
          for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
          if (rng.int(2) === 0) new DataView(bytes.buffer).setUint32(0, Math.min(bytes.length - 4, rng.int(64)));
          c.s.write(bytes);
          c.s.end();
        }
        await Promise.all(batch.map((c) => c.done));
      }
    };
    await spray(80);
    const before = rss();
    await spray(320);
    expect(rss() - before).toBeLessThan(24 * 1024 * 1024);
    expect((await fetch(`${n.url}/_sup/health`)).status).toBe(200);
    const j = await node(box.dataDir("after-abuse"), ["--identity", identity("after"), "--join", n.bc]);
    await until(() => stateOf(data, "after") === "alive", "a real join after the abuse");
    await stopped(j.proc, "SIGKILL");
    await stopped(n.proc, "SIGKILL");
  }, 120_000);
});

describe("the address a node advertises", () => {
  test("--advertise names the address peers dial and is kept; a node listening on every interface advertises a concrete host", async () => {
    // A free port, so the first node can listen on it and advertise it under another name.
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const aData = box.dataDir("adv-a");
    const aId = identity("adv-a");
    const a = await node(aData, ["--identity", aId, "--listen", `127.0.0.1:${port}`, "--advertise", `localhost:${port}`]);
    expect(box.cli(aData, ["status"]).out).toContain(`backchannel 127.0.0.1:${port} (peers dial localhost:${port})`);
    const bData = box.dataDir("adv-b");
    const b = await box.start(bData, ["--identity", identity("adv-b"), "--listen", "0.0.0.0:0", "--join", `localhost:${port}`], { SUP_LOG: "info" });
    const bPort = /backchannel 0\.0\.0\.0:(\d+)/.exec(b.stderr())![1];
    await until(() => stateOf(bData, "adv-a") === "alive" && stateOf(aData, "adv-b") === "alive", "both alive");
    expect(nodes(bData).find((m) => m.name === "adv-a")!.backchannel).toBe(`localhost:${port}`);
    expect(nodes(aData).find((m) => m.name === "adv-b")!.backchannel).toBe(`${defaultAdvertisedHost()}:${bPort}`);
    // Kept: a restart with no flags advertises the same address.
    await stopped(a.proc, "SIGTERM");
    await box.start(aData, [], { SUP_LOG: "info" });
    await until(() => stateOf(bData, "adv-a") === "alive", "adv-a back");
    expect(nodes(aData).find((m) => m.self)!.backchannel).toBe(`localhost:${port}`);
    const bad = Bun.spawnSync([SUP, "start", "--data", box.dataDir("adv-bad"), "--identity", aId, "--advertise", "0.0.0.0:7000"], { stderr: "pipe" });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain('Invalid --advertise address "0.0.0.0:7000": expected the HOST:PORT peers can dial');
  }, 60_000);
});

describe("a member that sends nonsense", () => {
  test("unknown kinds and malformed membership messages are ignored, counted and logged at most once a second; the node carries on", async () => {
    const data = box.dataDir("nonsense-target");
    const n = await node(data, ["--identity", identity("target-2")]);
    const bc = Backchannel.start({ identity: new NodeIdentity(issueIdentity(root, { name: "noisy" }, Date.now())) });
    try {
      await bc.dial("127.0.0.1", Number(n.bc.split(":")[1]));
      for (let i = 0; i < 200; i++) {
        bc.send("target-2", new List(T_PAREN, [sym("nonsense"), 1, i]));
        bc.send("target-2", new List(T_PAREN, [sym("member"), 1, sym("ping"), str("not stats")]));
      }
      const metric = async (re: RegExp) => Number(re.exec(await (await fetch(`${n.url}/_sup/metrics`)).text())?.[1] ?? -1);
      await until(async () => (await metric(/sup_membership_events_total\{type="rejected"\} (\d+)/)) >= 200 && (await metric(/sup_core_unrouted_messages_total (\d+)/)) === 200, "every message counted");
      const lines = n.stderr().split("\n");
      const unknown = lines.filter((l) => l.startsWith("warn backchannel message of unknown kind ignored peer=noisy kind=nonsense"));
      const refused = lines.filter((l) => l.startsWith("warn membership input refused peer=noisy"));
      // Sent in one burst: a second or two of logging at most.
      expect(unknown.length).toBeGreaterThanOrEqual(1);
      expect(unknown.length).toBeLessThanOrEqual(3);
      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(refused.length).toBeLessThanOrEqual(30);
      expect(stateOf(data, "target-2")).toBe("alive");
      expect((await fetch(`${n.url}/_sup/health`)).status).toBe(200);
    } finally {
      await bc.close();
      await stopped(n.proc, "SIGKILL");
    }
  }, 60_000);
});

describe("an identity whose certificate says more than member metadata carries", () => {
  test("sup start stops with the file named and the reason", () => {
    const f = identity("many-roles", { roles: Array.from({ length: 20 }, (_, i) => `role${i}`) });
    const r = Bun.spawnSync([SUP, "start", "--data", box.dataDir("many-roles"), "--http", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--identity", f], { stderr: "pipe" });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toContain(`error: Cannot start node with identity "${f}": its member metadata is too large: roles has 20 items, more than 16`);
  });
});
