import { describe, expect, test } from "bun:test";
import { symbolStats } from "../lang/value.ts";
import { Rng } from "../../test/support/rng.ts";
import { TestCluster } from "../../test/support/identities.ts";
import type { SignedCertificate } from "./certificate.ts";
import { SecureChannel, DEFAULT_REKEY_LIMITS } from "./channel.ts";
import { HandshakeError } from "./errors.ts";
import { Initiator, Responder, type HandshakeContext, type HandshakeStep } from "./handshake.ts";
import type { NodeIdentity } from "./identity.ts";
import { CLOCK_SKEW_MS } from "./limits.ts";

const SEED = 0x4a5d;
const cluster = new TestCluster();
const a = cluster.node("a");
const b = cluster.node("b");

function context(identity: NodeIdentity, extra: Partial<HandshakeContext> = {}): HandshakeContext {
  return { identity, suites: ["aes256gcm", "secretbox"], now: Date.now, admit: () => ({ ok: true }), ...extra };
}

/** Runs a handshake to its end; `tamper` may change each message on the way. */
function run(ic: HandshakeContext, rc: HandshakeContext, tamper: (i: number, body: Uint8Array) => Uint8Array = (_, x) => x) {
  const init = new Initiator(ic);
  const resp = new Responder(rc);
  let toResp = [init.start()];
  let msg = 0;
  let last: { i?: HandshakeStep; r?: HandshakeStep } = {};
  for (let round = 0; round < 4; round++) {
    const toInit: Uint8Array[] = [];
    for (const m of toResp) {
      const r = resp.receive(tamper(msg++, m));
      last.r = r;
      toInit.push(...r.send);
      if (r.kind === "fail") break;
    }
    toResp = [];
    for (const m of toInit) {
      const i = init.receive(tamper(msg++, m));
      last.i = i;
      toResp.push(...i.send);
    }
    if (toResp.length === 0 && toInit.length === 0) break;
  }
  return last;
}

describe("handshake", () => {
  test("both sides finish with matching keys and each other's certificate", () => {
    const { i, r } = run(context(a), context(b));
    expect(i?.kind).toBe("done");
    expect(r?.kind).toBe("done");
    if (i?.kind !== "done" || r?.kind !== "done") return;
    expect(i.established.peer.cert.name).toBe("b");
    expect(r.established.peer.cert.name).toBe("a");
    expect(Buffer.from(i.established.keys.sendKey).equals(r.established.keys.receiveKey)).toBe(true);
    expect(Buffer.from(i.established.keys.receiveKey).equals(r.established.keys.sendKey)).toBe(true);
    expect(Buffer.from(i.established.keys.sendKey).equals(i.established.keys.receiveKey)).toBe(false);
    expect(i.established.keys.suite).toBe("aes256gcm");
  });

  test("two handshakes between the same nodes get different keys (fresh ephemeral keys)", () => {
    const one = run(context(a), context(b)).i;
    const two = run(context(a), context(b)).i;
    if (one?.kind !== "done" || two?.kind !== "done") throw new Error("handshake failed");
    expect(Buffer.from(one.established.keys.sendKey).equals(two.established.keys.sendKey)).toBe(false);
  });

  test("the initiator's suite order decides; no common suite is refused", () => {
    const { i } = run(context(a, { suites: ["secretbox", "aes256gcm"] }), context(b));
    expect(i?.kind === "done" && i.established.keys.suite).toBe("secretbox");
    const { r } = run(context(a, { suites: ["secretbox"] }), context(b, { suites: ["aes256gcm"] }));
    expect(r?.kind === "fail" && r.error.reason).toBe("no-common-suite");
  });

  const refusals: [string, () => ReturnType<typeof run>, string, "i" | "r"][] = [
    ["another root", () => run(context(new TestCluster().node("x")), context(b)), "wrong-cluster", "r"],
    ["an expired certificate", () => run(context(cluster.node("old", { notBefore: Date.now() - 10 * 86_400_000, days: 1 })), context(b)), "cert-expired", "r"],
    ["a certificate not valid yet", () => run(context(a), context(cluster.node("new", { notBefore: Date.now() + 86_400_000 }))), "cert-not-yet-valid", "i"],
    ["a revoked certificate", () => run(context(a), context(b, { revoked: (p) => (p.cert.name === "a" ? "serial listed" : null) })), "revoked", "r"],
    ["a name conflict found after authentication", () => run(context(a), context(b, { admit: () => ({ ok: false, reason: "name-conflict", detail: "x" }) })), "name-conflict", "r"],
  ];
  for (const [what, go, reason, side] of refusals) {
    test(`${what} is refused (${reason}) and the other side hears the same reason`, () => {
      const { i, r } = go();
      const refuser = side === "i" ? i : r;
      const other = side === "i" ? r : i;
      expect(refuser?.kind === "fail" && [refuser.error.reason as string, refuser.error.byPeer]).toEqual([reason, false]);
      expect(refuser?.kind === "fail" && refuser.send.length).toBe(1);
      expect(other?.kind === "fail" && [other.error.reason as string, other.error.byPeer]).toEqual([reason, true]);
    });
  }

  test("certificate validity at the skew boundary: accepted at the limit, refused one millisecond past it", () => {
    const nb = Date.now() + 86_400_000;
    const early = cluster.node("early", { notBefore: nb });
    const at = (now: number) => run(context(early), context(b, { now: () => now })).r;
    expect(at(nb - CLOCK_SKEW_MS)?.kind).toBe("done");
    expect(at(nb - CLOCK_SKEW_MS - 1)?.kind === "fail" && at(nb - CLOCK_SKEW_MS - 1)?.kind).toBe("fail");
  });

  test("a certificate presented by someone without its key fails on the transcript signature", () => {
    // c claims b's certificate: the cert checks out, the signature over the transcript cannot.
    const impostor = Object.create(a) as NodeIdentity;
    Object.defineProperty(impostor, "cert", { value: b.cert });
    Object.defineProperty(impostor, "signed", { value: b.signed });
    Object.defineProperty(impostor, "name", { value: "b" });
    const { i, r } = run(context(a), context(impostor));
    expect(i?.kind === "fail" && i.error.reason).toBe("bad-signature");
    expect(r?.kind === "fail" && r.error.byPeer).toBe(true);
  });

  test(`a bit flipped anywhere in any handshake message fails the handshake (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    for (let n = 0; n < 120; n++) {
      const target = rng.int(4);
      const { i, r } = run(context(a), context(b), (idx, body) => {
        if (idx !== target) return body;
        const copy = body.slice();
        copy[rng.int(copy.length)]! ^= 1 << rng.int(8);
        return copy;
      });
      // M4 carries no secret: a flip there can only break the welcome, never yield wrong keys.
      const bothDone = i?.kind === "done" && r?.kind === "done";
      if (bothDone) throw new Error(`flip in message ${target} went unnoticed`);
    }
  });

  test(`the responder survives 5000 seeded random and mutated inputs without throwing or interning symbols (seed ${SEED})`, () => {
    const rng = new Rng(SEED + 1);
    const valid = new Initiator(context(a)).start();
    // Symbols alive, not ids in use: a new symbol may take the id of a collected one (lang/value.ts).
    const before = symbolStats().live;
    for (let n = 0; n < 5000; n++) {
      let body: Uint8Array;
      if (n % 2 === 0) {
        body = new Uint8Array(rng.int(64));
        for (let k = 0; k < body.length; k++) body[k] = rng.int(256);
        if (n % 4 === 0 && body.length > 2) [body[0], body[1]] = [0x53, 0x01];
      } else {
        body = valid.slice(0, rng.int(valid.length + 1));
        for (let k = rng.int(4); k >= 0 && body.length > 0; k--) body[rng.int(body.length)] = rng.int(256);
      }
      const step = new Responder(context(b)).receive(body);
      expect(step.kind === "fail" || step.kind === "continue").toBe(true);
      if (step.kind === "fail") expect(step.error).toBeInstanceOf(HandshakeError);
    }
    expect(symbolStats().live).toBe(before);
  }, 60_000);
});

describe("channel after a handshake", () => {
  function channels(suite: "aes256gcm" | "secretbox", limits = DEFAULT_REKEY_LIMITS, now = () => 0) {
    const { i, r } = run(context(a, { suites: [suite] }), context(b, { suites: [suite] }));
    if (i?.kind !== "done" || r?.kind !== "done") throw new Error("handshake failed");
    return { d: new SecureChannel(i.established.keys, true, limits, now), l: new SecureChannel(r.established.keys, false, limits, now) };
  }
  const body = (frame: Uint8Array) => frame.subarray(4);
  const text = (r: ReturnType<SecureChannel["open"]>) => (r.ok ? Buffer.from(r.plaintext).toString() : `rejected: ${r.why}`);

  for (const suite of ["aes256gcm", "secretbox"] as const) {
    describe(suite, () => {
      test("frames open in order, in both directions", () => {
        const { d, l } = channels(suite);
        expect(text(l.open(body(d.seal(Buffer.from("one")))))).toBe("one");
        expect(text(l.open(body(d.seal(Buffer.from("two")))))).toBe("two");
        expect(text(d.open(body(l.seal(Buffer.from("back")))))).toBe("back");
      });

      test("a replayed frame, a reordered frame, a flipped bit and a truncation are each rejected", () => {
        const { d, l } = channels(suite);
        const f1 = d.seal(Buffer.from("one"));
        const f2 = d.seal(Buffer.from("two"));
        expect(text(l.open(body(f1)))).toBe("one");
        expect(text(l.open(body(f1)))).toStartWith("rejected: frame 1 failed authentication");
        const { d: d2, l: l2 } = channels(suite);
        const g1 = d2.seal(Buffer.from("one"));
        const g2 = d2.seal(Buffer.from("two"));
        expect(text(l2.open(body(g2)))).toStartWith("rejected");
        expect(text(l2.open(body(g1)))).toBe("one");
        const flipped = Uint8Array.from(f2);
        flipped[6]! ^= 0x10;
        expect(text(l.open(body(flipped)))).toStartWith("rejected");
        expect(text(l.open(body(f2).subarray(0, body(f2).length - 1)))).toStartWith("rejected");
        expect(text(l.open(body(f2)))).toBe("two");
      });

      test(`5000 seeded random frame bodies are rejected without throwing (seed ${SEED})`, () => {
    const rng = new Rng(SEED + 3);
    const { l } = channels(suite);
    for (let n = 0; n < 5000; n++) {
      const b = new Uint8Array(rng.int(100));
      for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
      expect(l.open(b).ok).toBe(false);
    }
    expect(l.counters.receive).toBe(0);
  });

  test("a frame from the other direction is rejected (one key per direction)", () => {
        const { d } = channels(suite);
        const f = d.seal(Buffer.from("x"));
        expect(text(d.open(body(f)))).toStartWith("rejected");
      });
    });
  }

  test("rekey: due at exactly rekeyAfterFrames, not one before; new keys after the exchange; old frames no longer open", () => {
    const limits = { rekeyAfterFrames: 3, rekeyAfterMs: 1e9, framesPerKeyMax: 10 };
    const { d, l } = channels("aes256gcm", limits);
    for (let n = 0; n < 2; n++) l.open(body(d.seal(Buffer.from("m"))));
    expect(d.rekeyDue()).toBe(false);
    l.open(body(d.seal(Buffer.from("m"))));
    expect(d.rekeyDue()).toBe(true);
    expect(l.rekeyDue()).toBe(false); // only the dialer starts rekeys
    const { decode } = require("../lang/codec.ts") as typeof import("../lang/codec.ts");
    /** Opens a control frame at `to`, seals its reply (if any) at `to`, then switches `to`'s sending key. */
    const deliver = (to: SecureChannel, frame: Uint8Array): Uint8Array | null => {
      const r = to.open(body(frame));
      if (!r.ok) throw new Error(r.why);
      const v = decode(r.plaintext);
      if (!v.ok) throw new Error("undecodable");
      const c = to.control(v.value as import("../lang/value.ts").List);
      if (!c.ok) throw new Error(c.why);
      const reply = c.reply === null ? null : to.seal(c.reply);
      c.switchSend?.();
      return reply;
    };
    const rekey = d.seal(d.startRekey());
    // A data frame sent while the rekey is in flight is still under the old key.
    const inFlight = d.seal(Buffer.from("during"));
    const ack = deliver(l, rekey);
    expect(text(l.open(body(inFlight)))).toBe("during");
    const done = deliver(d, ack!);
    expect(deliver(l, done!)).toBeNull();
    expect(d.rekeys).toBe(1);
    expect(l.rekeys).toBe(1);
    expect(d.counters).toEqual({ send: 0, receive: 0 });
    expect(text(l.open(body(d.seal(Buffer.from("after")))))).toBe("after");
    expect(text(d.open(body(l.seal(Buffer.from("reply")))))).toBe("reply");
    expect(text(l.open(body(inFlight)))).toStartWith("rejected");
  });

  test("rekey is due after rekeyAfterMs, not a millisecond before", () => {
    let now = 0;
    const { d } = channels("aes256gcm", { rekeyAfterFrames: 1e9, rekeyAfterMs: 1000, framesPerKeyMax: 1e9 }, () => now);
    now = 999;
    expect(d.rekeyDue()).toBe(false);
    now = 1000;
    expect(d.rekeyDue()).toBe(true);
  });

  test("a receiver accepts framesPerKeyMax frames under one key and refuses the next", () => {
    const { d, l } = channels("aes256gcm", { rekeyAfterFrames: 1e9, rekeyAfterMs: 1e9, framesPerKeyMax: 5 });
    for (let n = 0; n < 5; n++) expect(text(l.open(body(d.seal(Buffer.from("m")))))).toBe("m");
    expect(text(l.open(body(d.seal(Buffer.from("m")))))).toBe("rejected: peer sent more than 5 frames without a rekey");
  });

  test("an unexpected rekey message is a protocol violation", () => {
    const { d, l } = channels("aes256gcm");
    const { List, sym, str, T_PAREN } = require("../lang/value.ts") as typeof import("../lang/value.ts");
    expect(d.control(new List(T_PAREN, [sym("sup-rekey"), 1, str("x".repeat(32))]))).toMatchObject({ ok: false });
    expect(l.control(new List(T_PAREN, [sym("sup-rekey-done"), 1]))).toMatchObject({ ok: false });
    expect(l.control(new List(T_PAREN, [sym("sup-rekey"), 1, str("short")]))).toMatchObject({ ok: false });
  });
});

export type { SignedCertificate };
