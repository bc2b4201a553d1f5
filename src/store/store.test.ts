/**
 * The Store's contract (docs/node.md), run against a store on file and one in memory. File-only
 * behaviour (reopening, foreign files, concurrent connections) is in store-file.test.ts.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CODEC_DEPTH_MAX, encode } from "../lang/codec.ts";
import { T_SOME, Wrap, type Value } from "../lang/value.ts";
import {
  AUTHOR_BYTES_MAX,
  JOB_RUN_TEXT_BYTES_MAX,
  JOB_RUNS_KEPT,
  KV_KEY_BYTES_MAX,
  KV_VALUE_BYTES_MAX,
  MEMORY_PATH,
  META_JSON_BYTES_MAX,
  NAME_BYTES_MAX,
  SETTING_JSON_BYTES_MAX,
  SETTING_KEY_BYTES_MAX,
  SCHEMA_VERSION,
  SOURCE_BYTES_MAX,
  Store,
  type Change,
} from "./mod.ts";
import { expectCode, program, put, rawDb } from "./store-test-support.ts";

function count(store: Store, table: string): number {
  return rawDb(store).query<{ n: number }, []>(`SELECT count(*) AS n FROM ${table}`).get()?.n ?? -1;
}

for (const backend of ["file", "memory"] as const) {
  describe(`Store on ${backend}`, () => {
    let dir = "";
    let store: Store;
    let clock = 0;

    beforeEach(() => {
      clock = 1_000;
      dir = mkdtempSync(join(tmpdir(), "sup-store-test-"));
      store = Store.open(backend === "file" ? join(dir, "sup.db") : MEMORY_PATH, { now: () => clock++ });
    });
    afterEach(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    describe("putCode and getCode", () => {
      test("stores a version and reads it back", () => {
        const v = put(store, "GET /users/:id", "[(+ 1 2)] ; add", { meta: { budgetSteps: 100 }, origin: "node-a" });
        const hash = new Bun.CryptoHasher("sha256").update(encode(program("[(+ 1 2)]"))).digest("hex");
        expect(v).toEqual({
          tenant: "default",
          name: "GET /users/:id",
          version: 1,
          hash,
          kind: "route",
          meta: { budgetSteps: 100 },
          source: "[(+ 1 2)] ; add",
          author: "tester",
          origin: "node-a",
          createdAt: 1_000,
          seq: 1,
          hlc: { ms: 1_000, n: 0 },
          op: "put",
        });
        expect(store.getCode("default", "GET /users/:id")).toEqual(v);
        expect(store.getCode("default", "GET /users/:id", 1)).toEqual(v);
        expect(store.getEncoded(hash)).toEqual(encode(program("[(+ 1 2)]")));
      });

      test("versions count 1, 2, 3 per name and sequences count per change", () => {
        expect([put(store, "GET /a"), put(store, "GET /a"), put(store, "GET /b"), put(store, "GET /a")].map((v) => [v.version, v.seq])).toEqual([
          [1, 1],
          [2, 2],
          [1, 3],
          [3, 4],
        ]);
        expect(store.seq).toBe(4);
      });

      test("the same program is stored once, whatever its name, tenant or source text", () => {
        const a = put(store, "GET /a", "[1 2]");
        const b = put(store, "job:b", "[1 2] ; same program, other text", { tenant: "t2" });
        expect(b.hash).toBe(a.hash);
        expect(count(store, "blobs")).toBe(1);
        // Each version keeps the text it was written with.
        expect(store.getCode("t2", "job:b")?.source).toBe("[1 2] ; same program, other text");
        expect(store.getCode("default", "GET /a")?.source).toBe("[1 2]");
        put(store, "GET /a", "[1 2]");
        expect(count(store, "blobs")).toBe(1);
        expect(count(store, "sources")).toBe(2);
        expect(put(store, "GET /a", "[1 3]").hash).not.toBe(a.hash);
        expect(count(store, "blobs")).toBe(2);
      });

      test("unknown names and versions read as null", () => {
        put(store, "GET /a");
        expect(store.getCode("default", "GET /nope")).toBeNull();
        expect(store.getCode("other", "GET /a")).toBeNull();
        expect(store.getCode("default", "GET /a", 2)).toBeNull();
        expect(store.getEncoded("0".repeat(64))).toBeNull();
      });

      test("meta defaults to {} and is stored as JSON", () => {
        expect(put(store, "GET /a").meta).toEqual({});
        put(store, "GET /b", "[1]", { meta: { split: [1, "x"], nested: { ok: true } } });
        expect(store.getCode("default", "GET /b")?.meta).toEqual({ split: [1, "x"], nested: { ok: true } });
      });

      test("a program too deep to encode is refused and nothing is stored", () => {
        expectCode(() => store.putCode({ name: "GET /deep", kind: "route", source: "x", program: deepValue(), author: "t" }), "codec-too-deep");
        expect(store.seq).toBe(0);
        expect(count(store, "versions")).toBe(0);
      });
    });

    describe("listCode and history", () => {
      test("listCode gives current versions by tenant and name, filtered by tenant or kind", () => {
        put(store, "GET /b");
        put(store, "GET /b", "[2]");
        put(store, "job:tick");
        put(store, "mod:util", "[3]", { tenant: "acme" });
        put(store, "GET /a");
        const list = store.listCode().map((v) => `${v.tenant} ${v.name} ${v.version}`);
        expect(list).toEqual(["acme mod:util 1", "default GET /a 1", "default GET /b 2", "default job:tick 1"]);
        expect(store.listCode("acme").map((v) => v.name)).toEqual(["mod:util"]);
        expect(store.listCode(undefined, "job").map((v) => v.name)).toEqual(["job:tick"]);
        expect(store.listCode("default", "route").map((v) => v.name)).toEqual(["GET /a", "GET /b"]);
        expect(store.listCode("nobody")).toEqual([]);
        expect(store.listCode()[2]?.source).toBe("[2]");
      });

      test("history lists every version oldest first; unknown names have none", () => {
        put(store, "GET /a", "[1]");
        put(store, "GET /a", "[2]");
        put(store, "GET /a", "[3]");
        expect(store.history("default", "GET /a").map((v) => [v.version, v.source])).toEqual([
          [1, "[1]"],
          [2, "[2]"],
          [3, "[3]"],
        ]);
        expect(store.history("default", "GET /b")).toEqual([]);
      });
    });

    describe("rollback", () => {
      test("by default copies the version before the current one", () => {
        const v1 = put(store, "GET /a", "[1]", { meta: { budgetMs: 5 } });
        put(store, "GET /a", "[2]");
        const v3 = store.rollback("default", "GET /a", undefined, "ops");
        expect(v3).toMatchObject({ version: 3, hash: v1.hash, source: "[1]", kind: "route", meta: { budgetMs: 5 }, author: "ops", origin: "local", seq: 3 });
        expect(store.getCode("default", "GET /a")).toEqual(v3);
        // Rolling back again goes to version 2: the one before the (new) current one.
        expect(store.rollback("default", "GET /a").source).toBe("[2]");
        expect(store.changesSince(2).map((c) => [c.op, c.version, c.author])).toEqual([
          ["rollback", 3, "ops"],
          ["rollback", 4, "sup"],
        ]);
      });

      test("to a given version", () => {
        put(store, "GET /a", "[1]");
        put(store, "GET /a", "[2]");
        put(store, "GET /a", "[3]");
        expect(store.rollback("default", "GET /a", 1, "ops", "node-b")).toMatchObject({ version: 4, source: "[1]", origin: "node-b" });
        expect(store.rollback("default", "GET /a", 3).source).toBe("[3]");
      });

      test("refuses what it cannot do, changing nothing", () => {
        put(store, "GET /a", "[1]");
        expectCode(() => store.rollback("default", "GET /a"), "store-nothing-to-roll-back", 'Cannot roll back "GET /a": there is no version before version 1');
        put(store, "GET /a", "[2]");
        expectCode(() => store.rollback("default", "GET /a", 2), "store-nothing-to-roll-back", "it is the current version");
        expectCode(() => store.rollback("default", "GET /a", 3), "store-not-found", "there is no version 3 (versions are 1 to 2)");
        expectCode(() => store.rollback("default", "GET /a", 0), "store-bad-argument");
        expectCode(() => store.rollback("default", "GET /a", 1.5), "store-bad-argument");
        expectCode(() => store.rollback("default", "GET /nope"), "store-not-found", 'no code of that name in tenant "default"');
        expectCode(() => store.rollback("Bad Tenant", "GET /a"), "store-bad-tenant");
        expect(store.seq).toBe(2);
        expect(store.history("default", "GET /a")).toHaveLength(2);
      });

      test("of removed code restores the removed version by default, or the one given", () => {
        put(store, "GET /a", "[1]");
        put(store, "GET /a", "[2]");
        store.removeCode("default", "GET /a");
        expect(store.rollback("default", "GET /a")).toMatchObject({ version: 3, source: "[2]" });
        store.removeCode("default", "GET /a");
        expect(store.rollback("default", "GET /a", 1)).toMatchObject({ version: 4, source: "[1]" });
      });
    });

    describe("removeCode", () => {
      test("clears the name but keeps its history; putting again continues the numbering", () => {
        put(store, "GET /a", "[1]");
        put(store, "GET /a", "[2]");
        put(store, "GET /b");
        store.removeCode("default", "GET /a", "ops", "node-c");
        expect(store.getCode("default", "GET /a")).toBeNull();
        expect(store.getCode("default", "GET /a", 2)?.source).toBe("[2]");
        expect(store.history("default", "GET /a")).toHaveLength(2);
        expect(store.listCode().map((v) => v.name)).toEqual(["GET /b"]);
        expect(store.changesSince(3)).toEqual([{ seq: 4, tenant: "default", name: "GET /a", op: "rm", version: 2, author: "ops", origin: "node-c", at: 1_003 }]);
        expect(put(store, "GET /a", "[3]").version).toBe(3);
        expect(store.history("default", "GET /a").map((v) => v.version)).toEqual([1, 2, 3]);
      });

      test("refuses unknown and already removed names", () => {
        expectCode(() => store.removeCode("default", "GET /a"), "store-not-found", 'Cannot remove "GET /a": no code of that name in tenant "default"');
        put(store, "GET /a");
        expectCode(() => store.removeCode("other", "GET /a"), "store-not-found");
        store.removeCode("default", "GET /a");
        expectCode(() => store.removeCode("default", "GET /a"), "store-not-found", "it is already removed");
        expect(store.seq).toBe(2);
      });
    });

    describe("change log", () => {
      test("changesSince returns the changes after a sequence, oldest first", () => {
        put(store, "GET /a", "[1]", { origin: "n1" });
        put(store, "GET /a", "[2]");
        store.rollback("default", "GET /a");
        store.removeCode("default", "GET /a");
        const all = store.changesSince(0);
        expect(all.map((c) => [c.seq, c.op, c.version, c.origin, c.at])).toEqual([
          [1, "put", 1, "n1", 1_000],
          [2, "put", 2, "local", 1_001],
          [3, "rollback", 3, "local", 1_002],
          [4, "rm", 3, "local", 1_003],
        ]);
        expect(store.changesSince(2)).toEqual(all.slice(2));
        expect(store.changesSince(4)).toEqual([]);
        expect(store.changesSince(0, 2)).toEqual(all.slice(0, 2));
        expect(store.changesSince(1, 0)).toEqual([]);
        expect(store.seq).toBe(4);
        expectCode(() => store.changesSince(-1), "store-bad-argument");
        expectCode(() => store.changesSince(Number.NaN), "store-bad-argument");
      });

      test("onChange tells listeners of each committed change; unsubscribing stops it", () => {
        const seen: Change[] = [];
        const stop = store.onChange((c) => {
          seen.push(c);
          // Called after the change: reading inside the listener sees it.
          expect(store.seq).toBe(c.seq);
        });
        put(store, "GET /a");
        put(store, "GET /a");
        store.rollback("default", "GET /a");
        store.removeCode("default", "GET /a");
        expect(seen).toEqual(store.changesSince(0));
        stop();
        put(store, "GET /a");
        expect(seen).toHaveLength(4);
      });

      test("failed writes tell no listener", () => {
        const seen: Change[] = [];
        store.onChange((c) => seen.push(c));
        expectCode(() => store.removeCode("default", "GET /a"), "store-not-found");
        expectCode(() => put(store, "GET /a", "[1]", { tenant: "-bad" }), "store-bad-tenant");
        expect(seen).toEqual([]);
      });

      test("a throwing listener does not undo the write or starve the other listeners, and its error reaches the writer", () => {
        const seen: number[] = [];
        store.onChange(() => {
          throw new Error("listener bug");
        });
        store.onChange((c) => seen.push(c.seq));
        expect(() => put(store, "GET /a")).toThrow("listener bug");
        expect(seen).toEqual([1]);
        expect(store.getCode("default", "GET /a")?.version).toBe(1);
        expect(store.seq).toBe(1);
      });
    });

    describe("settings", () => {
      test("round-trip JSON values; unset keys read as undefined", () => {
        expect(store.getSetting("node.id")).toBeUndefined();
        store.putSetting("node.id", "abc");
        store.putSetting("kernels", ["http", "json"]);
        store.putSetting("n", 0);
        store.putSetting("nothing", null);
        expect(store.getSetting<string>("node.id")).toBe("abc");
        expect(store.getSetting<string[]>("kernels")).toEqual(["http", "json"]);
        expect(store.getSetting<number>("n")).toBe(0);
        expect(store.getSetting("nothing")).toBeNull();
        store.putSetting("kernels", []);
        expect(store.getSetting<string[]>("kernels")).toEqual([]);
        expect(store.deleteSetting("kernels")).toBe(true);
        expect(store.deleteSetting("kernels")).toBe(false);
        expect(store.getSetting("kernels")).toBeUndefined();
      });

      test("refuse values that are not JSON and the store's own schema version", () => {
        expectCode(() => store.putSetting("x", undefined), "store-bad-setting", 'Cannot save setting "x": the value is not JSON');
        expectCode(() => store.putSetting("x", 1n), "store-bad-setting");
        expectCode(() => store.putSetting("schema_version", 9), "store-bad-setting");
        expectCode(() => store.deleteSetting("schema_version"), "store-bad-setting");
        expect(store.getSetting<number>("schema_version")).toBe(SCHEMA_VERSION);
      });

      test("key and value limits, at the maximum and one past", () => {
        store.putSetting("k".repeat(SETTING_KEY_BYTES_MAX), 1);
        expectCode(() => store.putSetting("k".repeat(SETTING_KEY_BYTES_MAX + 1), 1), "store-too-large", `key is ${SETTING_KEY_BYTES_MAX + 1} bytes`);
        // A JSON string value is its text plus two quotes.
        store.putSetting("big", "v".repeat(SETTING_JSON_BYTES_MAX - 2));
        expect(store.getSetting<string>("big")).toHaveLength(SETTING_JSON_BYTES_MAX - 2);
        expectCode(() => store.putSetting("big", "v".repeat(SETTING_JSON_BYTES_MAX - 1)), "store-too-large", `over the ${SETTING_JSON_BYTES_MAX}-byte limit`);
      });
    });

    describe("job runs", () => {
      const run = (i: number) => ({ at: 10_000 + i, durationMs: i + 0.5, ok: i % 2 === 0, ...(i % 2 === 0 ? { result: `r${i}` } : { error: `e${i}` }) });

      test(`keeps all of ${JOB_RUNS_KEPT} runs, oldest first`, () => {
        for (let i = 0; i < JOB_RUNS_KEPT; i++) store.recordJobRun("default", "job:tick", run(i));
        const runs = store.jobRuns("default", "job:tick");
        expect(runs).toHaveLength(JOB_RUNS_KEPT);
        expect(runs[0]).toEqual({ at: 10_000, durationMs: 0.5, ok: true, result: "r0" });
        expect(runs[1]).toEqual({ at: 10_001, durationMs: 1.5, ok: false, error: "e1" });
      });

      test(`keeps only the newest ${JOB_RUNS_KEPT} of ${JOB_RUNS_KEPT + 1} runs, per job`, () => {
        for (let i = 0; i <= JOB_RUNS_KEPT; i++) store.recordJobRun("default", "job:tick", run(i));
        store.recordJobRun("default", "job:other", run(99));
        store.recordJobRun("acme", "job:tick", run(98));
        const runs = store.jobRuns("default", "job:tick");
        expect(runs.map((r) => r.at)).toEqual(Array.from({ length: JOB_RUNS_KEPT }, (_, i) => 10_001 + i));
        expect(store.jobRuns("default", "job:other").map((r) => r.at)).toEqual([10_099]);
        expect(store.jobRuns("acme", "job:tick").map((r) => r.at)).toEqual([10_098]);
        expect(store.jobRuns("default", "job:none")).toEqual([]);
      });

      test("text is kept up to its limit and cut past it, never inside a character", () => {
        const max = "x".repeat(JOB_RUN_TEXT_BYTES_MAX);
        store.recordJobRun("default", "job:t", { at: 1, durationMs: 1, ok: true, result: max });
        store.recordJobRun("default", "job:t", { at: 2, durationMs: 1, ok: false, error: `${max}y` });
        store.recordJobRun("default", "job:t", { at: 3, durationMs: 1, ok: false, error: "é".repeat(JOB_RUN_TEXT_BYTES_MAX) });
        const [a, b, c] = store.jobRuns("default", "job:t");
        expect(a?.result).toBe(max);
        expect(b?.error).toBe(`${"x".repeat(JOB_RUN_TEXT_BYTES_MAX - 3)}…`);
        expect(Buffer.byteLength(c?.error ?? "")).toBeLessThanOrEqual(JOB_RUN_TEXT_BYTES_MAX);
        expect(c?.error).toMatch(/^é+…$/);
      });

      test("refuse names that are not jobs and times that are not numbers", () => {
        expectCode(() => store.recordJobRun("default", "GET /a", run(0)), "store-kind-mismatch");
        expectCode(() => store.recordJobRun("default", "job:t", { at: Number.NaN, durationMs: 1, ok: true }), "store-bad-argument");
        expect(store.jobRuns("default", "GET /a")).toEqual([]);
      });
    });

    describe("kv", () => {
      test("kv writes skip the fsync, and leave code writes fully synced", () => {
        const sync = () => rawDb(store).query<{ synchronous: number }, []>("PRAGMA synchronous").get()?.synchronous;
        expect(sync()).toBe(2); // FULL
        store.kvSet("default", "users", "7", new Uint8Array([1]));
        store.kvDelete("default", "users", "7");
        expect(sync()).toBe(2);
        expectCode(() => store.kvSet("Nope", "users", "7", new Uint8Array([1])), "store-bad-tenant");
        expect(sync()).toBe(2);
      });

      test("set, get, overwrite and delete, isolated by tenant and store", () => {
        const bytes = encode(program("[1 2]"));
        expect(store.kvGet("default", "users", "7")).toBeNull();
        store.kvSet("default", "users", "7", bytes);
        expect(store.kvGet("default", "users", "7")).toEqual(bytes);
        expect(store.kvGet("acme", "users", "7")).toBeNull();
        expect(store.kvGet("default", "orders", "7")).toBeNull();
        store.kvSet("default", "users", "7", new Uint8Array([1]));
        expect(store.kvGet("default", "users", "7")).toEqual(new Uint8Array([1]));
        expect(store.kvDelete("default", "users", "7")).toBe(true);
        expect(store.kvDelete("default", "users", "7")).toBe(false);
        expect(store.kvGet("default", "users", "7")).toBeNull();
        expectCode(() => store.kvSet("Nope", "users", "7", bytes), "store-bad-tenant");
      });

      test("key, store name and value limits, at the maximum and one past", () => {
        const k = "k".repeat(KV_KEY_BYTES_MAX);
        store.kvSet("default", k, k, new Uint8Array(KV_VALUE_BYTES_MAX));
        expect(store.kvGet("default", k, k)?.byteLength).toBe(KV_VALUE_BYTES_MAX);
        expectCode(() => store.kvSet("default", "s", `${k}k`, new Uint8Array(1)), "store-too-large", "key is");
        expectCode(() => store.kvSet("default", `${k}k`, "k", new Uint8Array(1)), "store-too-large", "store name is");
        expectCode(() => store.kvSet("default", "s", "k", new Uint8Array(KV_VALUE_BYTES_MAX + 1)), "store-too-large", `value is ${KV_VALUE_BYTES_MAX + 1} bytes`);
      });
    });

    describe("validation", () => {
      test("source size: the maximum is stored, one byte more is refused", () => {
        const fits = `[1]${" ".repeat(SOURCE_BYTES_MAX - 3)}`;
        expect(put(store, "GET /x", "[1]", { source: fits }).source).toHaveLength(SOURCE_BYTES_MAX);
        expectCode(() => put(store, "GET /x", "[1]", { source: `${fits} ` }), "store-too-large", `Cannot store code "GET /x": source is ${SOURCE_BYTES_MAX + 1} bytes, over the ${SOURCE_BYTES_MAX}-byte limit`);
        // Bytes, not characters: "é" is two bytes of UTF-8.
        expectCode(() => put(store, "GET /x", "[1]", { source: "é".repeat(SOURCE_BYTES_MAX / 2 + 1) }), "store-too-large");
      });

      test("name size: the maximum is stored, one byte more is refused", () => {
        const name = `GET /${"a".repeat(NAME_BYTES_MAX - 5)}`;
        expect(put(store, name).name).toHaveLength(NAME_BYTES_MAX);
        expectCode(() => put(store, `${name}a`), "store-too-large", `name is ${NAME_BYTES_MAX + 1} bytes, over the ${NAME_BYTES_MAX}-byte limit`);
      });

      test("meta size: the maximum is stored, one byte more is refused", () => {
        // {"x":"…"} is 8 bytes of JSON around the string.
        const meta = { x: "m".repeat(META_JSON_BYTES_MAX - 8) };
        expect(put(store, "GET /m", "[1]", { meta }).meta).toEqual(meta);
        expectCode(() => put(store, "GET /m", "[1]", { meta: { x: `${meta.x}m` } }), "store-too-large", `meta is ${META_JSON_BYTES_MAX + 1} bytes`);
      });

      test("author and origin size: the maximum is stored, one byte more is refused", () => {
        const a = "a".repeat(AUTHOR_BYTES_MAX);
        expect(put(store, "GET /a", "[1]", { author: a, origin: a }).author).toBe(a);
        expectCode(() => put(store, "GET /a", "[1]", { author: `${a}a` }), "store-too-large", "author is");
        expectCode(() => put(store, "GET /a", "[1]", { origin: `${a}a` }), "store-too-large", "origin is");
        expectCode(() => store.removeCode("default", "GET /a", `${a}a`), "store-too-large");
      });

      test("tenant names: 63 characters at most, lowercase letters, digits and dashes", () => {
        const t = `t${"-".repeat(61)}9`;
        expect(put(store, "GET /a", "[1]", { tenant: t }).tenant).toBe(t);
        for (const bad of [`${t}0`, "", "-a", "Acme", "a_b", "a.b", "ä"]) {
          expectCode(() => put(store, "GET /a", "[1]", { tenant: bad }), "store-bad-tenant");
        }
      });

      test("route, job and module names", () => {
        const good = ["GET /", "POST /users", "PUT /users/:id", "PATCH /a/:b/c/:d_2", "DELETE /x.json", "HEAD /%20", "OPTIONS /*", "job:tick", "job:a/b.c-d", "mod:util", "mod:_x"];
        for (const name of good) expect(put(store, name).name).toBe(name);
        const bad = ["GET", "get /", "GET  /a", "GET a", "GET /a//b", "GET /a/", "GET /:", "GET /:1a", "GET /:id/:id", "GET /a b", "GET /a:b", "GET /%zz", "TRACE /", "job:", "job:/a", "job:a//b", "mod:a b", "users", ""];
        for (const name of bad) expectCode(() => put(store, name), "store-bad-name");
        expectCode(() => store.putCode({ name: "job:x", kind: "route", source: "[1]", program: program("[1]"), author: "t" }), "store-kind-mismatch", "designates a job, not a route");
        expectCode(() => store.putCode({ name: "GET /", kind: "module", source: "[1]", program: program("[1]"), author: "t" }), "store-kind-mismatch");
        expectCode(() => put(store, "GET /a", "[1]", { meta: [] as unknown as Record<string, unknown> }), "store-bad-meta");
        expectCode(() => put(store, "GET /a", "[1]", { meta: new Date(0) as unknown as Record<string, unknown> }), "store-bad-meta");
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        expectCode(() => put(store, "GET /a", "[1]", { meta: cyclic }), "store-bad-meta");
        expect(store.seq).toBe(good.length);
      });

      test("messages quote a long refused name only in part", () => {
        expectCode(() => put(store, `GET /${"a".repeat(100_000)}`), "store-too-large", /^Cannot store code "GET \/a{95}…": name is 100005 bytes/);
      });
    });

    test("checkIntegrity finds nothing wrong in a used store", () => {
      put(store, "GET /a");
      store.removeCode("default", "GET /a");
      store.kvSet("default", "s", "k", new Uint8Array([1]));
      expect(store.checkIntegrity()).toEqual([]);
    });

    test("a closed store refuses every call, and closing twice is fine", () => {
      put(store, "GET /a");
      store.close();
      store.close();
      expectCode(() => store.getCode("default", "GET /a"), "store-closed", "is closed");
      expectCode(() => put(store, "GET /b"), "store-closed");
      expectCode(() => store.listCode(), "store-closed");
    });
  });
}

/** A value nested one level deeper than the codec accepts (the reader would refuse it as text). */
function deepValue(): Value {
  let v: Value = 1;
  for (let i = 0; i <= CODEC_DEPTH_MAX; i++) v = new Wrap(T_SOME, v);
  return v;
}
