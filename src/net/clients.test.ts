/**
 * Client connections (docs/cluster.md, "Clients"): an operator's CLI or a node's exec worker
 * declares itself a client in the signed first handshake message; the listener keeps it apart from
 * members (numbered, never keyed by name), reports it through the client callbacks only, refuses
 * clients when it does not serve them and beyond its client limit, and applies revocation to them.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { decode, encode } from "../lang/codec.ts";
import { List, str, sym, T_PAREN } from "../lang/value.ts";
import { TestCluster } from "../../test/support/identities.ts";
import { Backchannel, DialError, type BackchannelOptions, type ClientInfo } from "./backchannel.ts";
import type { PeerInfo } from "./connection.ts";
import { Initiator, Responder, type HandshakeContext, type HandshakeStep } from "./handshake.ts";
import type { NodeIdentity } from "./identity.ts";

const cluster = new TestCluster();
const open: Backchannel[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

function start(identity: NodeIdentity, options: Partial<BackchannelOptions> = {}, listen = true): Backchannel {
  const bc = Backchannel.start({ identity, listen: listen ? { host: "127.0.0.1", port: 0 } : undefined, ...options });
  open.push(bc);
  return bc;
}

function msg(kind: string, ...fields: string[]): List {
  return new List(T_PAREN, [sym(kind), 1, ...fields.map(str)]);
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** A node that serves clients and records what its callbacks saw. */
function serving(identity: NodeIdentity, extra: Partial<BackchannelOptions> = {}) {
  const seen = { peers: [] as string[], clients: [] as ClientInfo[], lost: [] as string[], messages: [] as string[] };
  const bc = start(identity, {
    onPeer: (p) => seen.peers.push(p.name),
    onClient: (c) => seen.clients.push(c),
    onClientLost: (c, cause) => seen.lost.push(`${c.id}:${cause}`),
    onClientMessage: (c, m) => seen.messages.push(`${c.id}:${(m.items[0] as { name: string }).name}`),
    ...extra,
  });
  return { bc, seen };
}

describe("client connections", () => {
  test("a client is reported as a client, not a peer; messages flow both ways", async () => {
    const { bc: node, seen } = serving(cluster.node("node-1"));
    const got: string[] = [];
    const cli = start(cluster.node("op"), { onMessage: (_p, m) => got.push((m.items[0] as { name: string }).name) }, false);
    const peer: PeerInfo = await cli.dial("127.0.0.1", node.address!.port, { client: true });
    expect(peer.name).toBe("node-1");
    expect(peer.client).toBe(false);
    await until(() => seen.clients.length === 1, "the client callback");
    expect(seen.peers).toEqual([]);
    expect(node.peers()).toEqual([]);
    const c = seen.clients[0]!;
    expect(c.peer.name).toBe("op");
    expect(c.peer.client).toBe(true);
    expect(node.clients().map((x) => x.id)).toEqual([c.id]);
    expect(cli.send("node-1", msg("ask"))).toBe("sent");
    await until(() => seen.messages.length === 1, "the client's message");
    expect(seen.messages).toEqual([`${c.id}:ask`]);
    expect(node.send("op", msg("x"))).toBe("no-peer");
    expect(node.sendClient(c.id, msg("answer"))).toBe("sent");
    await until(() => got.length === 1, "the answer");
    expect(got).toEqual(["answer"]);
    expect(node.sendClient(c.id + 1, msg("x"))).toBe("no-client");
    expect(node.metrics.render()).toContain("sup_backchannel_clients 1");
    await cli.close();
    await until(() => seen.lost.length === 1, "the client to go");
    expect(seen.lost).toEqual([`${c.id}:peer-closed`]);
    expect(node.clients()).toEqual([]);
  });

  test("a client under a member's own certificate neither replaces nor conflicts with the member's connection", async () => {
    const memberId = cluster.node("web-1");
    const { bc: node, seen } = serving(cluster.node("root-1"));
    const member = start(memberId, {}, true);
    await member.dial("127.0.0.1", node.address!.port);
    await until(() => seen.peers.length === 1, "the member");
    // The same identity again, as a client (the node's exec worker does exactly this).
    const worker = start(memberId, {}, false);
    await worker.dial("127.0.0.1", node.address!.port, { client: true });
    await until(() => seen.clients.length === 1, "the client");
    expect(node.peers().map((p) => p.name)).toEqual(["web-1"]);
    expect(node.peer("web-1")!.client).toBe(false);
    expect(member.peers().map((p) => p.name)).toEqual(["root-1"]);
    // And a client may use the node's own identity (an operator holding a copy of its key).
    const self = cluster.node("root-1");
    const own = start(self, {}, false);
    await own.dial("127.0.0.1", node.address!.port, { client: true });
    await until(() => seen.clients.length === 2, "the second client");
  });

  test("a node that does not serve clients refuses them, and says so to the client", async () => {
    const node = start(cluster.node("quiet"), { onPeer: () => {} });
    const cli = start(cluster.node("op"), {}, false);
    const e = await cli.dial("127.0.0.1", node.address!.port, { client: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DialError);
    expect((e as DialError).handshake?.reason).toBe("no-clients");
    expect((e as DialError).handshake?.byPeer).toBe(true);
  });

  test("clientsMax clients are admitted, one more is refused", async () => {
    const max = 3;
    const { bc: node, seen } = serving(cluster.node("node-1"), { limits: { clientsMax: max } });
    const clis = Array.from({ length: max + 1 }, (_, i) => start(cluster.node(`op-${i}`), {}, false));
    for (const c of clis.slice(0, max)) await c.dial("127.0.0.1", node.address!.port, { client: true });
    await until(() => seen.clients.length === max, "the clients");
    const e = await clis[max]!.dial("127.0.0.1", node.address!.port, { client: true }).catch((x: unknown) => x);
    expect((e as DialError).handshake?.reason).toBe("too-many-clients");
    // A member is not a client: it is still admitted.
    await start(cluster.node("web-1"), {}, false).dial("127.0.0.1", node.address!.port);
    await until(() => seen.peers.length === 1, "the member");
  });

  test("revocation applies to clients: refused at the handshake, and dropped at a recheck", async () => {
    const revoked = new Set<string>();
    const { bc: node, seen } = serving(cluster.node("node-1"), { revoked: (sc) => (revoked.has(sc.cert.name) ? "revoked by test" : null) });
    const cli = start(cluster.node("op"), {}, false);
    await cli.dial("127.0.0.1", node.address!.port, { client: true });
    await until(() => seen.clients.length === 1, "the client");
    revoked.add("op");
    node.recheck();
    await until(() => seen.lost.length === 1, "the client to be dropped");
    expect(seen.lost[0]).toEndWith(":cert-recheck");
    const e = await start(cluster.node("op"), {}, false).dial("127.0.0.1", node.address!.port, { client: true }).catch((x: unknown) => x);
    expect((e as DialError).handshake?.reason).toBe("revoked");
  });
});

describe("the client declaration in the handshake", () => {
  const op = cluster.node("op");
  const node = cluster.node("node-1");
  const cx = (identity: NodeIdentity, extra: Partial<HandshakeContext> = {}): HandshakeContext => ({ identity, suites: ["aes256gcm"], now: Date.now, admit: () => ({ ok: true }), ...extra });

  /** Runs M1..M4 with an optional change to M1 in transit; returns both last steps. */
  function handshake(ic: HandshakeContext, rc: HandshakeContext, m1: (b: Uint8Array) => Uint8Array = (b) => b): { i: HandshakeStep; r: HandshakeStep } {
    const init = new Initiator(ic);
    const resp = new Responder(rc);
    let r = resp.receive(m1(init.start()));
    if (r.kind === "fail") return { i: r, r };
    let i = init.receive(r.send[0]!);
    if (i.kind === "fail") return { i, r };
    r = resp.receive(i.send[0]!);
    if (r.kind === "fail") return { i, r };
    i = init.receive(r.send[0]!);
    return { i, r };
  }

  test("the responder learns the declaration; the admit hook is told", () => {
    const admitted: boolean[] = [];
    const { i, r } = handshake(cx(op, { client: true }), cx(node, { admit: (_sc, client) => (admitted.push(client), { ok: true }) }));
    expect(i.kind).toBe("done");
    expect(r.kind === "done" && r.established.peerIsClient).toBe(true);
    expect(i.kind === "done" && i.established.peerIsClient).toBe(false);
    expect(admitted).toEqual([true]);
    const member = handshake(cx(op), cx(node));
    expect(member.r.kind === "done" && member.r.established.peerIsClient).toBe(false);
  });

  /** M1 decoded, its items changed by `edit`, encoded again. */
  const editM1 = (edit: (items: unknown[]) => unknown[]) => (b: Uint8Array) => {
    const v = decode(b);
    if (!v.ok || !(v.value instanceof List)) throw new Error("M1 does not decode");
    return encode(new List(T_PAREN, edit([...v.value.items]) as never));
  };

  test("stripping or adding the declaration in transit fails the transcript signature", () => {
    // The responder signs the M1 it received; the initiator checks that against the M1 it sent.
    const stripped = handshake(cx(op, { client: true }), cx(node), editM1((items) => items.slice(0, 7)));
    expect(stripped.i.kind === "fail" && stripped.i.error.reason).toBe("bad-signature");
    const added = handshake(cx(op), cx(node), editM1((items) => [...items, sym("client")]));
    expect(added.i.kind === "fail" && added.i.error.reason).toBe("bad-signature");
  });

  test("any other eighth item is malformed", () => {
    const other = handshake(cx(op), cx(node), editM1((items) => [...items, sym("member")]));
    expect(other.r.kind === "fail" && other.r.error.reason).toBe("malformed");
    const nine = handshake(cx(op, { client: true }), cx(node), editM1((items) => [...items, 1]));
    expect(nine.r.kind === "fail" && nine.r.error.reason).toBe("malformed");
  });
});
