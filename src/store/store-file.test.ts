/**
 * What only a store on file does: it comes back the same after reopening, it refuses files that are
 * not sup stores without touching them, and other connections reading during a write see either
 * all of that write or none of it.
 */
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SupError } from "../errors.ts";
import { SCHEMA_VERSION, Store, StoreOpenError } from "./mod.ts";
import { expectCode, put, rawDb } from "./store-test-support.ts";

const WRITER = join(import.meta.dir, "..", "..", "test", "support", "store-writer.ts");

let dir = "";
let path = "";
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sup-store-file-"));
  path = join(dir, "data", "sup.db");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Expects Store.open(`at`) to fail with `code`, naming the path, and leave the file as it was. */
function expectOpenRefused(at: string, code: string): void {
  const before = readFileSync(at);
  let thrown: unknown = null;
  try {
    Store.open(at).close();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(StoreOpenError);
  expect((thrown as StoreOpenError).code).toBe(code);
  expect((thrown as StoreOpenError).message).toStartWith(`Cannot open store "${at}": `);
  expect(readFileSync(at)).toEqual(before);
}

describe("opening", () => {
  test("creates the data directory and sets WAL, FULL sync and foreign keys", () => {
    const store = Store.open(path);
    try {
      expect(statSync(join(dir, "data")).isDirectory()).toBe(true);
      const db = rawDb(store);
      expect(db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()?.journal_mode).toBe("wal");
      expect(db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous).toBe(2); // 2 = FULL
      expect(db.query<{ foreign_keys: number }, []>("PRAGMA foreign_keys").get()?.foreign_keys).toBe(1);
      expect(db.query<{ timeout: number }, []>("PRAGMA busy_timeout").get()?.timeout).toBeGreaterThan(0);
      expect(store.getSetting<number>("schema_version")).toBe(SCHEMA_VERSION);
    } finally {
      store.close();
    }
  });

  test("reopening gives back the same code, log, settings, job runs and kv", () => {
    const a = Store.open(path);
    put(a, "GET /a", "[1]", { meta: { budgetMs: 9 } });
    put(a, "GET /a", "[2]");
    put(a, "job:tick", "[3]", { tenant: "acme" });
    a.rollback("default", "GET /a");
    a.removeCode("acme", "job:tick");
    a.putSetting("kernels", ["http"]);
    a.recordJobRun("acme", "job:tick", { at: 5, durationMs: 1, ok: true, result: "ok" });
    a.kvSet("acme", "users", "1", new Uint8Array([9, 8]));
    const snapshot = (s: Store) => ({
      seq: s.seq,
      list: s.listCode(),
      history: [s.history("default", "GET /a"), s.history("acme", "job:tick")],
      changes: s.changesSince(0),
      setting: s.getSetting("kernels"),
      runs: s.jobRuns("acme", "job:tick"),
      kv: s.kvGet("acme", "users", "1"),
    });
    const before = snapshot(a);
    a.close();
    const b = Store.open(path);
    try {
      expect(snapshot(b)).toEqual(before);
      expect(put(b, "GET /a").version).toBe(4);
      expect(b.seq).toBe(6);
    } finally {
      b.close();
    }
  });

  test("an empty file becomes a new store", () => {
    mkdirSync(join(dir, "data"));
    writeFileSync(path, "");
    const store = Store.open(path);
    expect(store.seq).toBe(0);
    store.close();
  });

  test("a file that is not a database is refused with a clear error and left alone", () => {
    mkdirSync(join(dir, "data"));
    writeFileSync(path, "this is not a database\n".repeat(500));
    expectOpenRefused(path, "store-corrupt");
  });

  test("another application's SQLite database is refused and left alone", () => {
    mkdirSync(join(dir, "data"));
    const other = new Database(path);
    other.run("CREATE TABLE notes (body TEXT)");
    other.close();
    expectOpenRefused(path, "store-not-sup");
  });

  test("a store written by a newer sup is refused", () => {
    Store.open(path).close();
    const db = new Database(path);
    db.run("UPDATE settings SET value = '99' WHERE key = 'schema_version'");
    db.close();
    expectOpenRefused(path, "store-schema-too-new");
  });

  test("a path that cannot hold a database is refused", () => {
    mkdirSync(path, { recursive: true });
    expectCode(() => Store.open(path), "store-open-failed", `Cannot open store "${path}"`);
    const underFile = join(dir, "file");
    writeFileSync(underFile, "x");
    expectCode(() => Store.open(join(underFile, "sup.db")), "store-open-failed", "cannot create its directory");
  });

  test("a damaged file gives store errors, never a crash", () => {
    const a = Store.open(path);
    for (let i = 0; i < 200; i++) put(a, `GET /r/${i % 20}`, `[${i} "${"x".repeat(200)}"]`);
    a.close();
    const bytes = readFileSync(path);
    const pageBytes = 4096;
    // Overwrite every page after the first two (header and schema) with noise.
    for (let at = 2 * pageBytes; at < bytes.length; at += 7) bytes[at] = (at * 31) & 0xff;
    writeFileSync(path, bytes);
    let outcome = "opened";
    try {
      const b = Store.open(path);
      try {
        expect(b.checkIntegrity().length).toBeGreaterThan(0);
        b.listCode();
        b.history("default", "GET /r/1");
      } finally {
        b.close();
      }
    } catch (e) {
      expect(e).toBeInstanceOf(SupError);
      expect((e as SupError).code).toBe("store-corrupt");
      expect((e as SupError).message).toContain(path);
      outcome = (e as SupError).code;
    }
    expect(outcome).toBe("store-corrupt");
  });
});

describe("concurrent connections", () => {
  test("a reader sees none of a write until it commits, at every row the write inserts", () => {
    const writer = Store.open(path);
    const reader = Store.open(path);
    try {
      put(writer, "GET /a", "[1]");
      put(writer, "job:j", "[1]");
      const view = () => ({ a: reader.getCode("default", "GET /a"), list: reader.listCode(), log: reader.changesSince(0), h: reader.history("default", "GET /a") });
      const db = rawDb(writer);
      for (const write of [() => put(writer, "GET /a", "[2]"), () => writer.rollback("default", "GET /a"), () => writer.removeCode("default", "job:j")]) {
        const before = view();
        const during: unknown[] = [];
        // The update hook runs inside the writer's transaction, once per inserted row.
        db.onInsert = () => void during.push(view());
        write();
        db.onInsert = null;
        expect(during.length).toBeGreaterThan(0);
        for (const seen of during) expect(seen).toEqual(before);
        expect(view()).not.toEqual(before);
        expect(view()).toEqual({ a: writer.getCode("default", "GET /a"), list: writer.listCode(), log: writer.changesSince(0), h: writer.history("default", "GET /a") });
      }
    } finally {
      writer.close();
      reader.close();
    }
  });

  test("a reader polling while another process writes always finds every logged version", async () => {
    const writes = 300;
    Store.open(path).close();
    const child = Bun.spawn([process.execPath, WRITER, path, String(writes)], { stdout: "ignore", stderr: "pipe" });
    const reader = Store.open(path);
    try {
      let last = 0;
      let polls = 0;
      const poll = () => {
        polls++;
        for (const c of reader.changesSince(last)) {
          // No gaps, and each change's version is readable as soon as the change is.
          expect(c.seq).toBe(last + 1);
          expect(reader.getCode(c.tenant, c.name, c.version)?.seq).toBe(c.seq);
          last = c.seq;
        }
        // Current versions never run ahead of the log read just before them.
        for (const v of reader.listCode()) expect(v.seq).toBeGreaterThan(0);
      };
      while (child.exitCode === null) {
        poll();
        await new Promise((resolve) => setImmediate(resolve));
      }
      await child.exited;
      poll();
      expect(child.exitCode).toBe(0);
      expect(last).toBe(writes);
      expect(polls).toBeGreaterThan(1);
    } finally {
      child.kill();
      reader.close();
    }
  }, 20_000);
});
