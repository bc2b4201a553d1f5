/**
 * The Backchannel over real loopback sockets in one process: messages, backpressure, and every
 * limit that applies before and after authentication, at its maximum and one past it (with the
 * time and count limits lowered through the `limits` option; the defaults are the same code).
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { List, str, sym, symbolStats, T_PAREN } from "../lang/value.ts";
import { Rng } from "../../test/support/rng.ts";
import { TestCluster } from "../../test/support/identities.ts";
import { Backchannel, DialError, type BackchannelOptions } from "./backchannel.ts";
import type { PeerInfo } from "./connection.ts";
import { plainFrame } from "./frame-reader.ts";
import { Initiator } from "./handshake.ts";
import { RECORD_HEADER_BYTES } from "./send-queue.ts";
import { AEAD_OVERHEAD } from "./suite.ts";

const SEED = 0xbac4;
const cluster = new TestCluster();
const open: Backchannel[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

function start(name: string, options: Partial<BackchannelOptions> = {}, listen = true): Backchannel {
  const bc = Backchannel.start({ identity: options.identity ?? cluster.node(name), listen: listen ? { host: "127.0.0.1", port: 0 } : undefined, ...options });
  open.push(bc);
  return bc;
}

function msg(kind: string, ...fields: string[]): List {
  return new List(T_PAREN, [sym(kind), 1, ...fields.map(str)]);
}

/** A raw TCP client: what it receives, and whether the server closed it. */
async function raw(port: number): Promise<{ socket: Socket<undefined>; closed: Promise<void>; received: () => Buffer }> {
  let received = Buffer.alloc(0);
  let markClosed!: () => void;
  const closed = new Promise<void>((r) => (markClosed = r));
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, d) => void (received = Buffer.concat([received, d])),
      close: () => markClosed(),
      error: () => markClosed(),
    },
  });
  return { socket, closed, received: () => received };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

describe("Backchannel", () => {
  test("dial, both sides see the peer, messages flow both ways, close tells the other side", async () => {
    const got: string[] = [];
    const lost: string[] = [];
    const a = start("a", { onMessage: (p, m) => got.push(`${p.name}:${(m.items[0] as { name: string }).name}`), onPeerLost: (p, cause) => lost.push(`${p.name}:${cause}`) });
    const up: string[] = [];
    const b = start("b", { onPeer: (p) => up.push(p.name), onMessage: (p, m) => got.push(`${p.name}:${(m.items[0] as { name: string }).name}`) }, false);
    const peer = await b.dial("127.0.0.1", a.address!.port);
    expect(peer.name).toBe("a");
    expect(up).toEqual(["a"]);
    expect(b.send("a", msg("hello"))).toBe("sent");
    await until(() => got.length === 1, "a to receive");
    expect(a.send("b", msg("reply"))).toBe("sent");
    await until(() => got.length === 2, "b to receive");
    expect(got).toEqual(["b:hello", "a:reply"]);
    expect(b.send("nobody", msg("x"))).toBe("no-peer");
    await b.close();
    await until(() => lost.length === 1, "a to see b go");
    expect(lost).toEqual(["b:peer-closed"]);
  });

  test("rekeys inside the channel: messages keep flowing in order across many rekeys, in bursts and one by one", async () => {
    const got: number[] = [];
    const a = start("a", { limits: { framesPerKeyMax: 8 }, onMessage: (_p, m) => got.push(Number((m.items[2] as { s: string }).s)) });
    const b = start("b", { limits: { rekeyAfterFrames: 4 } }, false);
    await b.dial("127.0.0.1", a.address!.port);
    let sent = 0;
    for (let round = 0; round < 30; round++) {
      // A burst (sealed together) and then single messages, each in its own turn.
      for (let k = 0; k < 1 + (round % 5); k++) expect(b.send("a", msg("n", String(sent++)))).toBe("sent");
      await Bun.sleep(0);
    }
    await until(() => got.length === sent, "every message");
    expect(got).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(b.rekeysOf("a")).toBeGreaterThan(3);
    await until(() => a.rekeysOf("b") === b.rekeysOf("a"), "both sides to count the same rekeys");
    expect(a.metrics.rekeys).toBe(a.rekeysOf("b"));
  });

  test("a refused dial rejects with the reason, and both sides count it", async () => {
    const a = start("a");
    const stranger = start("z", { identity: new TestCluster().node("z") }, false);
    const err = await stranger.dial("127.0.0.1", a.address!.port).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DialError);
    expect((err as DialError).handshake?.reason).toBe("wrong-cluster");
    expect((err as DialError).handshake?.byPeer).toBe(true);
    await until(() => a.metrics.handshakesFailed.get("wrong-cluster") === 1, "a to count the refusal");
    expect(stranger.metrics.refusedByPeer.get("wrong-cluster")).toBe(1);
    expect(a.metrics.render()).toContain('sup_backchannel_handshakes_total{result="failed",reason="wrong-cluster",by="local"} 1');
  });

  test("a second key under a connected name is refused (name-conflict); the same key again replaces the old connection", async () => {
    const a = start("a");
    const b1 = start("b", {}, false);
    await b1.dial("127.0.0.1", a.address!.port);
    const impostor = start("b2", { identity: cluster.node("b") }, false);
    const err = (await impostor.dial("127.0.0.1", a.address!.port).catch((e: unknown) => e)) as DialError;
    expect(err.handshake?.reason).toBe("name-conflict");
    expect(err.handshake?.detail).toContain('name "b" is already connected under another key');
    const again = await b1.dial("127.0.0.1", a.address!.port);
    expect(again.name).toBe("a");
    await until(() => a.peers().length === 1 && a.metrics.closed.get("replaced") === 1, "the old connection to be replaced");
  });

  test("two nodes dialing each other at once keep one connection, the same one on both sides", async () => {
    const a = start("a");
    const b = start("b");
    await Promise.all([a.dial("127.0.0.1", b.address!.port), b.dial("127.0.0.1", a.address!.port)]);
    await until(() => a.peers().length === 1 && b.peers().length === 1, "one peer each");
    // The connection a dialed ("a" < "b") is kept: out on a, in on b.
    await until(() => a.peer("b")?.direction === "out" && b.peer("a")?.direction === "in", "the same connection kept");
    expect(a.send("b", msg("x"))).toBe("sent");
  });

  test("a node dialing itself is refused as self", async () => {
    const id = cluster.node("solo");
    const a = start("solo", { identity: id });
    const err = (await a.dial("127.0.0.1", a.address!.port).catch((e: unknown) => e)) as DialError;
    expect(err.handshake?.reason).toBe("self");
  });

  test("send queue: exactly sendQueueBytesMax is accepted, one byte more is refused, then drained() frees it", async () => {
    const a = start("a");
    const max = 10_000;
    const b = start("b", { limits: { sendQueueBytesMax: max, sendQueueBytesLow: max / 2 } }, false);
    await b.dial("127.0.0.1", a.address!.port);
    // A queued message costs its record: 4 length bytes + its encoding. Fill the queue to exactly max.
    const { encode } = await import("../lang/codec.ts");
    const pad = (n: number) => msg("fill", "x".repeat(n));
    const sizeOf = (n: number) => RECORD_HEADER_BYTES + encode(pad(n)).length;
    let left = max;
    while (left >= sizeOf(2000)) {
      expect(b.send("a", pad(2000))).toBe("sent");
      left -= sizeOf(2000);
    }
    let n = 0;
    while (sizeOf(n) < left) n++;
    expect(sizeOf(n)).toBe(left);
    expect(b.send("a", pad(n + 1))).toBe("full");
    expect(b.send("a", pad(n))).toBe("sent");
    expect(b.send("a", msg("one-more"))).toBe("full");
    expect(b.metrics.sendQueueFull).toBe(2);
    await b.drained("a");
    expect(b.send("a", msg("after"))).toBe("sent");
  });

  test("a message larger than a frame is a caller bug (RangeError), not a full queue", async () => {
    const a = start("a");
    const b = start("b", { limits: { frameBytesMax: 1000 } }, false);
    await b.dial("127.0.0.1", a.address!.port);
    expect(() => b.send("a", msg("big", "x".repeat(2000)))).toThrow(RangeError);
  });

  test("frames up to frameBytesMax are read; a longer length closes the connection as oversized", async () => {
    const max = 4096;
    const got: number[] = [];
    const a = start("a", { limits: { frameBytesMax: max }, onMessage: (_p, m) => got.push(m.items.length) });
    const b = start("b", {}, false);
    await b.dial("127.0.0.1", a.address!.port);
    const { encode } = await import("../lang/codec.ts");
    // One message alone in a frame: body = record (4 + encoding) + 16-byte tag.
    const body = (k: number) => RECORD_HEADER_BYTES + encode(msg("m", "x".repeat(k))).length + AEAD_OVERHEAD;
    let n = 0;
    while (body(n) < max) n++;
    expect(body(n)).toBe(max);
    expect(b.send("a", msg("m", "x".repeat(n)))).toBe("sent");
    await until(() => got.length === 1, "the largest frame to arrive");
    expect(b.send("a", msg("m", "x".repeat(n + 1)))).toBe("sent");
    await until(() => a.metrics.closed.get("oversized") === 1, "a to close the oversized frame");
  });

  test("unauthenticated connections: pendingPerAddressMax are held, the next is closed at once; the handshake deadline closes the held ones", async () => {
    const a = start("a", { limits: { pendingPerAddressMax: 3, handshakeMs: 400 } });
    const port = a.address!.port;
    const held = await Promise.all([raw(port), raw(port), raw(port)]);
    await until(() => a.metrics.gauges().pending === 3, "three pending connections");
    const fourth = await raw(port);
    await fourth.closed;
    expect(a.metrics.handshakesFailed.get("too-many-pending")).toBe(1);
    // Slow-loris: a byte at a time never finishes a handshake; the deadline ends each one.
    for (const h of held) h.socket.write(new Uint8Array([0]));
    await Promise.all(held.map((h) => h.closed));
    expect(a.metrics.handshakesFailed.get("handshake-timeout")).toBe(3);
    // Each got a refusal frame saying why.
    expect(held[0]!.received().toString("latin1")).toContain("handshake-timeout");
    // Slots are free again: a real peer joins.
    await start("b", {}, false).dial("127.0.0.1", port);
  });

  test("pendingMax in total across addresses: the limit holds, one more is refused", async () => {
    const a = start("a", { limits: { pendingMax: 4, pendingPerAddressMax: 100 } });
    const port = a.address!.port;
    const held = await Promise.all([raw(port), raw(port), raw(port), raw(port)]);
    await until(() => a.metrics.gauges().pending === 4, "four pending");
    const fifth = await raw(port);
    await fifth.closed;
    expect(a.metrics.handshakesFailed.get("too-many-pending")).toBe(1);
    for (const h of held) h.socket.end();
  });

  test("a handshake frame of handshakeFrameBytesMax is read, one byte more is refused at its header", async () => {
    const a = start("a", { limits: { handshakeFrameBytesMax: 1000 } });
    const at = await raw(a.address!.port);
    at.socket.write(plainFrame(new Uint8Array(1000)));
    await at.closed;
    expect(a.metrics.handshakesFailed.get("malformed")).toBe(1); // read, and not a valid message
    const over = await raw(a.address!.port);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1001);
    over.socket.write(header);
    await over.closed;
    expect(over.received().toString("latin1")).toContain("larger than the 1000 allowed");
  });

  test(`garbage: 300 connections of seeded random bytes and mutated hellos; the node stays up and grows no symbols (seed ${SEED})`, async () => {
    const a = start("a", { limits: { handshakeMs: 1000 } });
    const port = a.address!.port;
    const rng = new Rng(SEED);
    const hello = plainFrame(new Initiator({ identity: cluster.node("g"), suites: ["aes256gcm"], now: Date.now, admit: () => ({ ok: true }) }).start());
    // Symbols alive, not ids in use (a new symbol may take a collected one's id, lang/value.ts); the
    // run awaits, so symbols made before it may be collected meanwhile: it must not end with more.
    const symbols = symbolStats().live;
    for (let batch = 0; batch < 30; batch++) {
      const clients = await Promise.all(Array.from({ length: 10 }, () => raw(port)));
      for (const c of clients) {
        let bytes: Uint8Array;
        if (rng.int(2) === 0) {
          bytes = new Uint8Array(1 + rng.int(200));
          for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
        } else {
          bytes = Uint8Array.from(hello);
          for (let k = 1 + rng.int(3); k > 0; k--) bytes[4 + rng.int(bytes.length - 4)] = rng.int(256);
        }
        c.socket.write(bytes);
        c.socket.end();
      }
      await Promise.all(clients.map((c) => c.closed));
    }
    await until(() => a.metrics.gauges().pending === 0, "no connection left pending");
    expect(symbolStats().live).toBeLessThanOrEqual(symbols);
    const peer = await start("b", {}, false).dial("127.0.0.1", port);
    expect(peer.name).toBe("a");
  }, 60_000);
});

export type { PeerInfo };
