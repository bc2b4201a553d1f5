/**
 * The entry log: entries committed with their effects, last-writer-wins on (HLC, origin) whatever
 * the arrival order, version numbers named by (number, origin), idempotent commits, the state
 * hash, and the migration of a version-1 store.
 */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode } from "../lang/codec.ts";
import { MEMORY_PATH, sha256Hex, Store, type EntryEffect, type EntryRecord, type Hlc } from "./mod.ts";
import { APPLICATION_ID, migrationSql } from "./schema.ts";
import { expectCode, program, put, rawDb } from "./store-test-support.ts";

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});
function open(): Store {
  const s = Store.open(MEMORY_PATH, { now: () => 5 });
  stores.push(s);
  return s;
}

/** An entry record with made-up bytes (the store does not read them). */
function rec(origin: string, seq: number, hlc: Hlc, kind = "code-put"): EntryRecord {
  const encoded = new TextEncoder().encode(`${origin}:${seq}:${hlc.ms}.${hlc.n}`);
  return { origin, seq, hlc, kind, target: null, hash: sha256Hex(encoded), encoded, signature: null, cert: null, blob: null };
}

function putEffect(name: string, number: number, source: string, author = "a"): EntryEffect {
  const encoded = encode(program(source));
  return { type: "code-put", tenant: "default", name, number, op: "put", content: { hash: sha256Hex(encoded), sourceHash: sha256Hex(source), source, kind: "route", meta: "{}" }, encoded, author };
}

const rm = (name: string): EntryEffect => ({ type: "code-rm", tenant: "default", name, author: "a" });

describe("entry log", () => {
  test("targetOf names the selector of the entry that made a version, null for one aimed at every node or made without an entry", () => {
    const s = open();
    s.log.commit({ ...rec("n1", 1, { ms: 100, n: 0 }), target: "role:db" }, putEffect("job:x", 1, "[1]"));
    s.log.commit(rec("n1", 2, { ms: 101, n: 0 }), putEffect("job:x", 2, "[2]"));
    expect(s.log.targetOf("default", "job:x", 1, "n1")).toBe("role:db");
    expect(s.log.targetOf("default", "job:x", 2, "n1")).toBeNull();
    expect(s.log.targetOf("default", "job:x", 1, "n2")).toBeNull();
    put(s, "GET /local", "[3]");
    expect(s.log.targetOf("default", "GET /local", 1, s.getCode("default", "GET /local")!.origin)).toBeNull();
  });

  test("two origins writing one name at once: both versions kept, the newer stamp is current, in any arrival order", () => {
    const writes: [EntryRecord, EntryEffect][] = [
      [rec("n1", 1, { ms: 100, n: 0 }), putEffect("GET /x", 1, "[1]")],
      [rec("n2", 1, { ms: 100, n: 0 }), putEffect("GET /x", 1, "[2]")],
      [rec("n1", 2, { ms: 90, n: 0 }), putEffect("GET /x", 2, "[3]")],
    ];
    const orders = [
      [0, 1, 2],
      [1, 0, 2],
      [0, 2, 1],
      [1, 0, 2],
    ];
    const results = orders.map((order) => {
      const s = open();
      for (const i of order) s.log.commit(...writes[i]!);
      return {
        current: s.getCode("default", "GET /x"),
        history: s.history("default", "GET /x").map((v) => `${v.version}@${v.origin} ${v.source}`),
        hash: s.log.stateHash().hash,
      };
    });
    // n1:2 carries an older stamp (its clock went back): it joins history, n2's version stays current.
    expect(results[0]!.history).toEqual(["2@n1 [3]", "1@n1 [1]", "1@n2 [2]"]);
    for (const r of results) {
      expect(r.current).toMatchObject({ version: 1, origin: "n2", source: "[2]" });
      expect(r.history).toEqual(results[0]!.history);
      expect(r.hash).toBe(results[0]!.hash);
    }
  });

  test("a removal that arrives before the put it follows still wins; an older put only joins history", () => {
    const s = open();
    s.log.commit(rec("n2", 1, { ms: 200, n: 0 }, "code-rm"), rm("GET /x"));
    s.log.commit(rec("n1", 1, { ms: 100, n: 0 }), putEffect("GET /x", 1, "[1]"));
    expect(s.getCode("default", "GET /x")).toBeNull();
    expect(s.history("default", "GET /x")).toHaveLength(1);
    s.log.commit(rec("n1", 2, { ms: 300, n: 0 }), putEffect("GET /x", 2, "[2]"));
    expect(s.getCode("default", "GET /x")).toMatchObject({ version: 2, origin: "n1" });
  });

  test("ambiguous numbers are named with their origin; the next number is above every number seen", () => {
    const s = open();
    s.log.commit(rec("n1", 1, { ms: 100, n: 0 }), putEffect("GET /x", 1, "[1]"));
    s.log.commit(rec("n2", 1, { ms: 101, n: 0 }), putEffect("GET /x", 1, "[2]"));
    expect(s.log.nextNumber("default", "GET /x")).toBe(2);
    expect(s.versionsNumbered("default", "GET /x", 1).map((v) => v.origin)).toEqual(["n2", "n1"]);
    expectCode(() => s.versionByRef("default", "GET /x", { number: 1 }), "store-bad-argument", "version 1 is ambiguous, it was written on 2 nodes at once: name one of 1@n2, 1@n1");
    expect(s.versionByRef("default", "GET /x", { number: 1, origin: "n1" }).source).toBe("[1]");
    expect(s.rollbackTarget("default", "GET /x").origin).toBe("n1");
    // A put aimed at other nodes still counts for numbering.
    s.log.commit(rec("n3", 1, { ms: 102, n: 0 }), { type: "code-number", tenant: "default", name: "GET /x", number: 7 });
    expect(s.log.nextNumber("default", "GET /x")).toBe(8);
    expect(s.history("default", "GET /x")).toHaveLength(2);
  });

  test("commits are idempotent, contiguous per origin, and a different entry under a held sequence is refused", () => {
    const s = open();
    const first = rec("n1", 1, { ms: 100, n: 0 });
    expect(s.log.commit(first, putEffect("GET /x", 1, "[1]"))).toMatchObject({ result: "applied", current: true });
    expect(s.log.commit(first, putEffect("GET /x", 1, "[1]"))).toEqual({ result: "applied", current: false, duplicate: true });
    expect(s.history("default", "GET /x")).toHaveLength(1);
    expectCode(() => s.log.commit(rec("n1", 3, { ms: 100, n: 0 }), rm("GET /x")), "store-bad-argument", "the next entry of \"n1\" is 2");
    expectCode(() => s.log.commit(rec("n1", 1, { ms: 101, n: 0 }), rm("GET /x")), "store-bad-argument", "holds another entry n1:1");
    expect(s.log.high("n1")).toBe(1);
    expect(s.log.vector()).toEqual([{ origin: "n1", high: 1 }]);
  });

  test("a version number its origin already used is stored as an error with nothing applied", () => {
    const s = open();
    s.log.commit(rec("n1", 1, { ms: 100, n: 0 }), putEffect("GET /x", 1, "[1]"));
    const c = s.log.commit(rec("n1", 2, { ms: 101, n: 0 }), putEffect("GET /x", 1, "[2]"));
    expect(c.result).toMatch(/^error: .*version 1 from "n1" exists already/);
    expect(s.getCode("default", "GET /x")?.source).toBe("[1]");
    expect(s.log.entry("n1", 2)?.result).toBe(c.result);
    expect(s.log.resultCounts()).toEqual({ applied: 1, error: 1 });
  });

  test("kernel stamps, tenant settings and revocations: last writer wins, the stricter cutoff stays", () => {
    const s = open();
    const k = (origin: string, seq: number, ms: number, loaded: boolean) =>
      s.log.commit(rec(origin, seq, { ms, n: 0 }, "kernel"), { type: "kernel", kernel: "db", loaded, settings: [["node.kernels", JSON.stringify(loaded ? ["db"] : [])]] });
    expect(k("a", 1, 200, true).current).toBe(true);
    expect(k("b", 1, 100, false).current).toBe(false);
    expect(s.log.kernelStamp("db")).toEqual({ loaded: true, hlc: { ms: 200, n: 0 }, origin: "a" });
    expect(s.getSetting<string[]>("node.kernels")).toEqual(["db"]);
    s.log.commit(rec("a", 2, { ms: 5, n: 0 }, "setting"), { type: "setting", tenant: "t", key: "k", value: "1" });
    s.log.commit(rec("b", 2, { ms: 4, n: 0 }, "setting"), { type: "setting", tenant: "t", key: "k", value: "2" });
    expect(s.log.tenantSetting("t", "k")).toBe("1");
    const revoke = (seq: number, upTo: number) => s.log.commit(rec("a", seq, { ms: 300 + seq, n: 0 }, "revoke"), { type: "revoke", serial: "ab", name: "web-3", upTo, reason: "lost" });
    revoke(3, 9);
    revoke(4, 4);
    revoke(5, 7);
    expect(s.log.revocations()).toEqual([{ serial: "ab", name: "web-3", upTo: 4, reason: "lost", hlcMs: 303, hlcN: 0, origin: "a" }]);
  });

  test("the HLC starts above every stamp held and moves past observed ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "sup-entry-log-"));
    try {
      const path = join(dir, "sup.db");
      let s = Store.open(path, { now: () => 50 });
      s.log.commit(rec("n9", 1, { ms: 1_000, n: 3 }), putEffect("GET /x", 1, "[1]"));
      expect(s.log.tick(10)).toEqual({ ms: 1_000, n: 4 });
      s.close();
      s = Store.open(path, { now: () => 50 });
      expect(s.log.tick(10)).toEqual({ ms: 1_000, n: 4 });
      expect(s.log.tick(2_000)).toEqual({ ms: 2_000, n: 0 });
      // A local write after a replicated one is newer than it, whatever the wall clock says.
      expect(put(s, "GET /x", "[2]").hlc).toEqual({ ms: 2_000, n: 1 });
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the state hash covers what is served, not version numbers or origins", () => {
    const a = open();
    const b = open();
    put(a, "GET /x", "[1]", { origin: "n1" });
    put(b, "GET /x", "[0]", { origin: "n2" });
    put(b, "GET /x", "[1]", { origin: "n2" });
    expect(a.log.stateHash()).toEqual(b.log.stateHash());
    put(b, "GET /y", "[1]");
    expect(a.log.stateHash().hash).not.toBe(b.log.stateHash().hash);
    expect(b.log.stateHash().names).toBe(2);
    b.removeCode("default", "GET /y");
    expect(a.log.stateHash()).toEqual(b.log.stateHash());
  });
});

describe("migration from schema 1", () => {
  test("versions, pointers and removals carry over; numbering and rollback go on as before", () => {
    const dir = mkdtempSync(join(tmpdir(), "sup-migrate-"));
    try {
      const path = join(dir, "sup.db");
      const db = new Database(path, { create: true });
      db.run(migrationSql(1));
      db.run("INSERT INTO settings (key, value) VALUES ('schema_version', '1')");
      db.run(`PRAGMA application_id = ${APPLICATION_ID}`);
      const blob = encode(program("[1]"));
      const h = sha256Hex(blob);
      db.run("INSERT INTO blobs VALUES (?, ?)", [h, blob]);
      db.run("INSERT INTO sources VALUES (?, ?)", [sha256Hex("[1]"), "[1]"]);
      const change = (name: string, op: string, version: number, at: number) => db.run("INSERT INTO changes (tenant, name, op, version, author, origin, at) VALUES ('default', ?, ?, ?, 'me', 'node-1', ?)", [name, op, version, at]);
      const version = (name: string, v: number, seq: number, at: number) =>
        db.run("INSERT INTO versions VALUES ('default', ?, ?, ?, ?, 'route', '{}', 'me', 'node-1', ?, ?)", [name, v, h, sha256Hex("[1]"), at, seq]);
      change("GET /a", "put", 1, 10);
      version("GET /a", 1, 1, 10);
      change("GET /a", "put", 2, 10);
      version("GET /a", 2, 2, 10);
      change("GET /b", "put", 1, 11);
      version("GET /b", 1, 3, 11);
      change("GET /b", "rm", 1, 12);
      db.run("INSERT INTO names VALUES ('default', 'GET /a', 2), ('default', 'GET /b', NULL)");
      db.close();
      const s = Store.open(path, { now: () => 5 });
      stores.push(s);
      expect(s.checkIntegrity()).toEqual([]);
      expect(s.history("default", "GET /a").map((v) => [v.version, v.origin, v.hlc])).toEqual([
        [1, "node-1", { ms: 10, n: 1 }],
        [2, "node-1", { ms: 10, n: 2 }],
      ]);
      expect(s.getCode("default", "GET /a")?.version).toBe(2);
      expect(s.getCode("default", "GET /b")).toBeNull();
      expect(s.rollback("default", "GET /a").version).toBe(3);
      expect(s.rollback("default", "GET /b")).toMatchObject({ version: 2, source: "[1]" });
      expect(s.listCode().map((v) => `${v.name} ${v.version}`)).toEqual(["GET /a 3", "GET /b 2"]);
      expect(rawDb(s).query("SELECT count(*) AS n FROM code_numbers").get()).toEqual({ n: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
