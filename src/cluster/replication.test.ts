/**
 * The replication core through its inputs and effects: pushes, receipts, pulls of gaps, catch-up
 * pages, targets, refused writes, and every kind of forged or replayed entry refused and counted.
 * Stores are real (SQLite in memory, the node's StoreReplicaLog); signatures are the simulator's
 * stand-ins (the real ones are tested in net/ and test/replication.test.ts).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ReplicaNet, T0 } from "../../test/support/replicas.ts";
import { simCertBytes, simSign, type SimCertSpec } from "../../test/sim/sim-crypto.ts";
import { encode } from "../lang/codec.ts";
import { List, Str, T_PAREN, type Value } from "../lang/value.ts";
import { entryValue, type Entry } from "./entry.ts";
import { decodeReplMessage, entriesMessage } from "./replication-messages.ts";
import { parseSelector } from "./selector.ts";
import { KERNEL_NAME_BYTES_MAX, REASON_BYTES_MAX } from "./replication-limits.ts";

let net: ReplicaNet;
afterEach(() => net?.close());

const sha = (b: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(b).digest("hex");

/** An entries message carrying one entry signed as `signer` (with its certificate). */
function forged(signer: SimCertSpec, e: Entry, alter?: (bytes: Uint8Array) => Uint8Array, root?: bigint): Value {
  const bytes = encode(entryValue(e));
  const signature = simSign(signer.name, bytes);
  const cert = simCertBytes(signer, root);
  return entriesMessage("push", false, [cert], [{ bytes: alter?.(bytes) ?? bytes, signature }], []);
}

function rmEntry(origin: string, seq: number, certOf: SimCertSpec, ms = T0 + 1): Entry {
  return { origin, seq, hlc: { ms, n: 0 }, cert: sha(simCertBytes(certOf)), author: "x", target: null, body: { kind: "code-rm", tenant: "default", name: "GET /a" } };
}

describe("replication core", () => {
  test("a write is committed, pushed with its blob, applied by every peer, and acked back as receipts", () => {
    net = new ReplicaNet();
    for (const n of ["a", "b", "c"]) net.add(n);
    net.mesh();
    net.deliver();
    const ev = net.put("a", "GET /x", "[1]");
    expect(ev.find((e) => e.type === "committed")).toMatchObject({ result: "applied" });
    const push = net.queue.filter((f) => f.from === "a");
    expect(push.map((f) => f.to).sort()).toEqual(["b", "c"]);
    const m = decodeReplMessage(push[0]!.message);
    expect(m.ok && m.message.kind === "entries" && m.message.blobs.length).toBe(1);
    net.deliver();
    for (const n of ["b", "c"]) {
      expect(net.get(n).store.getCode("default", "GET /x")).toMatchObject({ version: 1, origin: "a", source: "[1]" });
      expect(net.events(n, "applied").map((e) => e.result)).toEqual(["applied"]);
    }
    expect(net.events("a", "receipt").map((r) => `${r.peer} ${r.seq} ${r.result}`).sort()).toEqual(["b 1 applied", "c 1 applied"]);
    expect(net.get("b").store.log.stateHash()).toEqual(net.get("a").store.log.stateHash());
  });

  test("an entry that arrives before its predecessor waits; the gap is pulled from the peer that sent it", () => {
    net = new ReplicaNet();
    net.add("a");
    net.add("b");
    net.connect("a", "b");
    net.deliver();
    net.put("a", "GET /x", "[1]");
    net.put("a", "GET /x", "[2]");
    net.put("a", "GET /y", "[3]");
    // The first two pushes are lost; the third arrives alone.
    let seen = 0;
    net.deliver((f) => (f.from === "a" && f.to === "b" && seen++ < 2 ? null : f.message));
    expect(net.get("b").store.log.high("a")).toBe(3);
    expect(net.get("b").store.history("default", "GET /x").map((v) => v.source)).toEqual(["[1]", "[2]"]);
    expect(net.events("b", "rejected")).toEqual([]);
  });

  test("a node that was away catches up in pages, each asked for after the last", () => {
    net = new ReplicaNet();
    net.add("a");
    net.add("b");
    for (let i = 0; i < 700; i++) net.put("a", `GET /r${i % 50}`, `[${i}]`);
    net.connect("a", "b");
    const messages = net.deliver();
    expect(net.get("b").store.log.high("a")).toBe(700);
    expect(net.get("b").store.log.stateHash()).toEqual(net.get("a").store.log.stateHash());
    expect(messages).toBeGreaterThan(3);
    expect(messages).toBeLessThan(20);
  });

  test("targeted entries are stored everywhere and applied where the target selects", () => {
    net = new ReplicaNet();
    net.add("a");
    net.add("b", { roles: ["db"] });
    net.add("c");
    net.mesh();
    net.deliver();
    net.write("a", { kind: "kernel", op: "load", name: "db" }, parseSelector("role:db"));
    net.put("a", "GET /only-c", "[1]", parseSelector("node:c"));
    net.deliver();
    expect([...net.get("b").kernels]).toEqual(["db"]);
    expect([...net.get("c").kernels]).toEqual([]);
    expect([...net.get("a").kernels]).toEqual([]);
    expect(net.get("b").store.getCode("default", "GET /only-c")).toBeNull();
    expect(net.get("c").store.getCode("default", "GET /only-c")).toMatchObject({ version: 1 });
    for (const n of ["a", "b", "c"]) expect(net.get(n).store.log.high("a")).toBe(2);
    expect(net.events("a", "receipt").map((r) => `${r.peer} ${r.seq} ${r.result}`).sort()).toEqual(["b 1 applied", "b 2 skipped", "c 1 skipped", "c 2 applied"]);
    // The next version number counts the put that went to c only.
    net.put("b", "GET /only-c", "[2]");
    expect(net.get("b").store.getCode("default", "GET /only-c")?.version).toBe(2);
  });

  test("a node whose certificate lacks a permission refuses the write and stores nothing", () => {
    net = new ReplicaNet();
    net.add("web", { can: [] });
    const ev = net.put("web", "GET /x", "[1]");
    expect(ev).toContainEqual({ type: "write-refused", reason: `this node's identity "web" lacks the "code" permission (its certificate grants: none)`, cause: "permission" });
    expect(net.get("web").store.log.size).toBe(0);
    net.add("coder", { can: ["code"] });
    expect(net.write("coder", { kind: "kernel", op: "load", name: "db" }).map((e) => e.type)).toEqual(["write-refused"]);
  });

  test("an entry peers would refuse (a field over its limit) is refused at the origin and takes no sequence number", () => {
    net = new ReplicaNet();
    net.add("op", { can: ["admin"] });
    const atMax = "r".repeat(REASON_BYTES_MAX);
    expect(net.write("op", { kind: "revoke", serial: "ab12", name: "web-2", upTo: 0, reason: atMax }).map((e) => e.type)).toEqual(["committed"]);
    const over = net.write("op", { kind: "revoke", serial: "cd34", name: "web-3", upTo: 0, reason: atMax + "r" });
    expect(over).toContainEqual({ type: "write-refused", reason: `reason is ${REASON_BYTES_MAX + 1} bytes, expected 0 to ${REASON_BYTES_MAX}`, cause: "invalid" });
    expect(net.get("op").store.log.high("op")).toBe(1);
    const longKernel = net.write("op", { kind: "kernel", op: "load", name: "k".repeat(KERNEL_NAME_BYTES_MAX + 1) });
    expect(longKernel.map((e) => e.type)).toEqual(["write-refused"]);
  });
});

describe("forged and replayed entries are refused and counted", () => {
  const reasons = (name: string) => net.events(name, "rejected").map((e) => e.reason);

  function setup(): void {
    net = new ReplicaNet();
    net.add("a");
    net.add("victim");
    net.connect("a", "victim");
    net.deliver();
  }

  test("an altered entry with the original signature fails its signature", () => {
    setup();
    const a = net.get("a").cert;
    const altered = forged(a, rmEntry("a", 1, a), (b) => {
      const c = new Uint8Array(b);
      c[c.length - 3]! ^= 1;
      return c;
    });
    net.step("victim", { type: "message", now: 0, from: "a", message: altered });
    expect(reasons("victim")).toEqual(["bad-signature"]);
  });

  test("a relay cannot sign for the origin, a certificate without the permission is refused, and so is one the root did not sign", () => {
    setup();
    const a = net.get("a").cert;
    const mallory: SimCertSpec = { name: "mallory", serial: "m", can: ["code"] };
    // Signed by mallory but claiming to come from a.
    net.step("victim", { type: "message", now: 0, from: "a", message: forged(mallory, { ...rmEntry("a", 1, mallory) }) });
    const noCode: SimCertSpec = { name: "web", serial: "w", can: [] };
    net.step("victim", { type: "message", now: 0, from: "a", message: forged(noCode, rmEntry("web", 1, noCode)) });
    const noAdmin: SimCertSpec = { name: "coder", serial: "c", can: ["code"] };
    net.step("victim", { type: "message", now: 0, from: "a", message: forged(noAdmin, { ...rmEntry("coder", 1, noAdmin), body: { kind: "revoke", serial: "serial-a", name: "a", upTo: 0, reason: "" } }) });
    net.step("victim", { type: "message", now: 0, from: "a", message: forged(a, rmEntry("a", 1, a), undefined, 99n) });
    expect(reasons("victim")).toEqual(["origin-mismatch", "permission", "permission", "bad-certificate"]);
    expect(net.get("victim").store.log.size).toBe(0);
  });

  test("after a revocation the revoked certificate's later entries are refused, its earlier ones kept", () => {
    setup();
    net.add("web");
    net.connect("web", "victim");
    net.deliver();
    net.put("web", "GET /w", "[1]");
    net.deliver((f) => (f.to === "victim" ? f.message : null));
    net.write("a", { kind: "revoke", serial: "serial-web", name: "web", upTo: 1, reason: "stolen laptop" });
    net.deliver((f) => (f.to === "victim" ? f.message : null));
    const web = net.get("web").cert;
    net.step("victim", { type: "message", now: 0, from: "web", message: forged(web, rmEntry("web", 2, web)) });
    expect(reasons("victim")).toEqual(["revoked"]);
    expect(net.get("victim").store.getCode("default", "GET /w")).toMatchObject({ version: 1 });
    expect(net.get("victim").store.log.revocations()).toMatchObject([{ serial: "serial-web", upTo: 1, reason: "stolen laptop" }]);
  });

  test("a replayed entry changes nothing; one that reuses a sequence with other content is a conflict", () => {
    setup();
    net.put("a", "GET /x", "[1]");
    const captured = net.queue.find((f) => f.to === "victim")!.message;
    net.deliver();
    net.put("a", "GET /x", "[2]");
    net.deliver();
    net.step("victim", { type: "message", now: 0, from: "a", message: captured });
    expect(net.events("victim", "duplicate")).toHaveLength(1);
    expect(net.get("victim").store.getCode("default", "GET /x")?.source).toBe("[2]");
    const a = net.get("a").cert;
    net.step("victim", { type: "message", now: 0, from: "a", message: forged(a, rmEntry("a", 1, a)) });
    expect(reasons("victim")).toEqual(["conflict"]);
  });

  test("an entry stamped far ahead of this node's clock is refused for now; a blob that does not match its hash is refused", () => {
    setup();
    const a = net.get("a").cert;
    net.step("victim", { type: "message", now: 0, from: "a", message: forged(a, rmEntry("a", 1, a, T0 + 10 * 60_000)) });
    const blob = entriesMessage("push", false, [], [], [{ hash: sha("[1]"), bytes: new TextEncoder().encode("[2]") }]);
    net.step("victim", { type: "message", now: 0, from: "a", message: blob });
    net.step("victim", { type: "message", now: 0, from: "a", message: new List(T_PAREN, [new Str("junk")]) });
    expect(reasons("victim")).toEqual(["clock-ahead", "blob-mismatch", "malformed"]);
  });

  test("an entry whose certificate this node lacks waits for it: the certificate is asked of the sender", () => {
    setup();
    net.add("far");
    net.connect("far", "a");
    net.deliver();
    net.put("far", "GET /f", "[1]");
    // a got far's certificate with the push; victim gets the entry from a without it.
    net.deliver((f) => (f.to === "victim" ? null : f.message));
    const stored = net.get("a").store.log.entry("far", 1)!;
    net.step("victim", { type: "message", now: 0, from: "a", message: entriesMessage("page", false, [], [{ bytes: stored.encoded, signature: stored.signature! }], [{ hash: sha("[1]"), bytes: new TextEncoder().encode("[1]") }]) });
    net.deliver();
    expect(reasons("victim")).toEqual([]);
    expect(net.get("victim").store.getCode("default", "GET /f")).toMatchObject({ origin: "far" });
  });
});
