/** Entries and replication messages from peers: every limit at its maximum and one past it, and malformed input refused with a reason. */
import { describe, expect, test } from "bun:test";
import { encode } from "../lang/codec.ts";
import { internedSym, List, Str, sym, T_PAREN, type Value } from "../lang/value.ts";
import { sweepSymbols } from "../lang/mod.ts";
import { decodeEntry, ENTRY_SYMBOLS, entryValue, readEntry, type Entry } from "./entry.ts";
import { ackMessage, decodeReplMessage, digestMessage, entriesMessage, haveMessage, pullMessage, wantMessage } from "./replication-messages.ts";
import * as L from "./replication-limits.ts";
import { parseSelector } from "./selector.ts";

const H = "a".repeat(64);
const base: Entry = {
  origin: "web-1",
  seq: 7,
  hlc: { ms: 1_700_000_000_000, n: 2 },
  cert: H,
  author: "ana",
  target: null,
  body: { kind: "code-put", tenant: "default", name: "GET /x", codeKind: "route", number: 3, op: "rollback", sourceHash: H, programHash: H, meta: '{"budgetMs":5}', from: { number: 1, origin: "web-2" } },
};

const reason = (v: Value): string => {
  const d = decodeReplMessage(v);
  return d.ok ? "ok" : d.reason;
};

describe("entries", () => {
  test("every body kind round-trips through its value and bytes", () => {
    const bodies: Entry["body"][] = [
      base.body,
      { kind: "code-rm", tenant: "t1", name: "job:x" },
      { kind: "kernel", op: "unload", name: "db" },
      { kind: "setting", tenant: "t1", key: "k", json: "[1]" },
      { kind: "revoke", serial: "ab", name: "web-3", upTo: 0, reason: "" },
    ];
    for (const body of bodies) {
      const e = { ...base, body, target: body.kind === "revoke" ? null : parseSelector("role:web,node:web-2") };
      const d = decodeEntry(encode(entryValue(e)));
      expect(typeof d === "string" ? d : d.entry).toEqual(e);
    }
  });

  test("malformed entries say what is wrong", () => {
    const v = (e: Partial<Entry>) => readEntry(entryValue({ ...base, ...e }));
    expect(v({ seq: 0 })).toBe("sequence is not an integer of at least 1");
    expect(v({ cert: "xyz" })).toBe("certificate hash is not a sha256 in hex");
    expect(v({ origin: "x".repeat(65) })).toBe("origin is 65 bytes, expected 1 to 64");
    expect(v({ body: { kind: "revoke", serial: "a", name: "b", upTo: 1, reason: "" }, target: parseSelector("all") })).toBe("a revocation cannot have a target: every node must apply it");
    const raw = (items: Value[]) => readEntry(new List(T_PAREN, items));
    expect(raw([sym("sup-entry"), 2])).toBe("entry layout version 2 is not 1");
    expect(raw([sym("nope")])).toBe("not a sup-entry");
    const fields = (entryValue(base) as List).items.slice();
    fields[8] = new Str("role:web,role:web");
    expect(readEntry(new List(T_PAREN, fields))).toBe('target "role:web,role:web" is not in canonical form ("role:web")');
    fields[8] = new Str("");
    fields[9] = new List(T_PAREN, [sym("code-put"), new Str("default")]);
    expect(readEntry(new List(T_PAREN, fields))).toBe("a code-put body has 9 fields, this one 1");
  });

  test("an entry of at most ENTRY_BYTES_MAX decodes; one byte more is refused unread; unknown symbols are refused, not interned", () => {
    const meta = (n: number) => ({ ...base, body: { ...base.body, meta: "x".repeat(n) } }) as Entry;
    const size = (n: number) => encode(entryValue(meta(n))).length;
    const fill = L.META_BYTES_MAX;
    expect(size(fill)).toBeLessThan(L.ENTRY_BYTES_MAX);
    expect(typeof decodeEntry(encode(entryValue(meta(fill))))).toBe("object");
    expect(decodeEntry(encode(entryValue(meta(fill + 1))))).toBe("meta is 16385 bytes, expected 1 to 16384");
    expect(decodeEntry(new Uint8Array(L.ENTRY_BYTES_MAX + 1))).toBe(`entry is ${L.ENTRY_BYTES_MAX + 1} bytes, over ${L.ENTRY_BYTES_MAX}`);
    // The body's kind symbol renamed in the bytes to one this process never interned.
    const bytes = encode(entryValue({ ...base, body: { kind: "code-rm", tenant: "t", name: "GET /x" } }));
    const at = Buffer.from(bytes).indexOf("code-rm");
    bytes.set(new TextEncoder().encode("qzqzqzq"), at);
    expect(decodeEntry(bytes)).toMatch(/^entry does not decode: .*unknown symbol/);
    expect(internedSym("qzqzqzq")).toBeUndefined();
  });
});

test("the symbols of every entry kind stay interned through a sweep (peers' entries are decoded with knownSymbolsOnly)", () => {
  Bun.gc(true);
  sweepSymbols();
  for (const w of ["sup-entry", "code-put", "code-rm", "kernel", "setting", "revoke", "route", "job", "module", "put", "rollback", "split", "load", "unload"]) expect(internedSym(w)).toBeDefined();
  expect(ENTRY_SYMBOLS).toHaveLength(14);
});

describe("replication messages", () => {
  const entry = { bytes: new Uint8Array(10), signature: new Uint8Array(64) };
  test("entries, certificates and blobs per message at the maximum and one past", () => {
    expect(reason(entriesMessage("page", false, [], Array(L.ENTRIES_PER_MESSAGE_MAX).fill(entry), []))).toBe("ok");
    expect(reason(entriesMessage("page", false, [], Array(L.ENTRIES_PER_MESSAGE_MAX + 1).fill(entry), []))).toBe(`entries has ${L.ENTRIES_PER_MESSAGE_MAX + 1} items, at most ${L.ENTRIES_PER_MESSAGE_MAX}`);
    const cert = new Uint8Array(L.CERT_BYTES_MAX);
    expect(reason(entriesMessage("page", false, Array(L.CERTS_PER_MESSAGE_MAX).fill(cert), [], []))).toBe("ok");
    expect(reason(entriesMessage("page", false, Array(L.CERTS_PER_MESSAGE_MAX + 1).fill(cert), [], []))).toMatch(/certificates has 65 items/);
    expect(reason(entriesMessage("page", false, [new Uint8Array(L.CERT_BYTES_MAX + 1)], [], []))).toMatch(/a certificate is not a string of at most/);
    const blob = (n: number) => ({ hash: "b".repeat(64), bytes: new Uint8Array(n) });
    expect(reason(entriesMessage("page", false, [], [], [blob(L.BLOB_BYTES_MAX)]))).toBe("ok");
    expect(reason(entriesMessage("page", false, [], [], [blob(L.BLOB_BYTES_MAX + 1)]))).toBe(`a blob is over ${L.BLOB_BYTES_MAX} bytes`);
    expect(reason(entriesMessage("page", false, [], [], Array(L.BLOBS_PER_MESSAGE_MAX + 1).fill(blob(1))))).toMatch(/blobs has 257 items/);
    expect(reason(entriesMessage("page", false, [], [{ bytes: new Uint8Array(L.ENTRY_BYTES_MAX + 1), signature: new Uint8Array(64) }], []))).toMatch(/an entry is not a string of at most/);
    expect(reason(entriesMessage("page", false, [], [{ bytes: new Uint8Array(1), signature: new Uint8Array(65) }], []))).toMatch(/an entry is not a string of at most/);
  });

  test("vectors, acks, haves and wants at the maximum and one past", () => {
    const vector = (n: number) => Array.from({ length: n }, (_, i) => ({ origin: `n${i}`, high: 1 }));
    expect(reason(digestMessage(1, H, false, vector(L.VECTOR_ORIGINS_MAX)))).toBe("ok");
    expect(reason(digestMessage(1, H, false, vector(L.VECTOR_ORIGINS_MAX + 1)))).toMatch(/vector has 4097 items/);
    const acks = (n: number) => Array.from({ length: n }, () => ({ origin: "a", seq: 1, result: "applied" }));
    expect(reason(ackMessage(acks(L.ACKS_PER_MESSAGE_MAX)))).toBe("ok");
    expect(reason(ackMessage(acks(L.ACKS_PER_MESSAGE_MAX + 1)))).toMatch(/acks has 513 items/);
    expect(reason(haveMessage(acks(L.ACKS_PER_MESSAGE_MAX)))).toBe("ok");
    expect(reason(haveMessage(acks(L.ACKS_PER_MESSAGE_MAX + 1)))).toMatch(/held entries has 513 items/);
    expect(reason(wantMessage(Array(L.BLOBS_PER_MESSAGE_MAX).fill(H)))).toBe("ok");
    expect(reason(wantMessage(Array(L.BLOBS_PER_MESSAGE_MAX + 1).fill(H)))).toMatch(/wanted blobs has 257 items/);
    // A digest of the most origins fits one message.
    expect(encode(digestMessage(1, H, false, Array.from({ length: L.VECTOR_ORIGINS_MAX }, (_, i) => ({ origin: `${"n".repeat(60)}${i}`, high: 2 ** 40 })))).length).toBeLessThan(L.MESSAGE_BYTES_MAX);
  });

  test("malformed messages name the problem", () => {
    const head = [sym("repl"), 1];
    expect(reason(new List(T_PAREN, [sym("repl"), 2, sym("pull")]))).toBe("protocol version 2 is not 1");
    expect(reason(new List(T_PAREN, [...head, sym("gossip")]))).toBe('unknown replication message kind "gossip"');
    expect(reason(pullMessage("a", 0))).toBe("pull is not ORIGIN FROM");
    expect(reason(new List(T_PAREN, [...head, sym("entries"), sym("relay"), 0, new List(T_PAREN, []), new List(T_PAREN, []), new List(T_PAREN, [])]))).toBe("entries mode is not push or page");
    expect(reason(wantMessage(["zz"]))).toBe("a wanted blob is not a hash");
  });
});
