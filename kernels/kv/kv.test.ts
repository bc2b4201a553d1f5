import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sourceForm, Aberrant, List, NONE, Real, Str, Sym, Wrap, aberrantLiteral, str, sym, T_BRACE, T_BRACKET, T_DATUM, T_ERROR, T_PAREN, T_SOME, valueEquals, type Value } from "sup/kernel";
import { fakeContext } from "../../test/support/fake-context.ts";
import kvKernel from "./mod.ts";
import { BATCH_AGE_MS_MAX, BATCH_WRITES_MAX, batchClock } from "./disk-store.ts";

/** The shared fake context, with a working directory that does not exist: kv must never need one. */
const kvContext = (vars?: Map<Sym, Value>) => fakeContext({ vars, workingDir: "/nonexistent-working-dir" });

const q = (v: Value): Value => new Wrap(T_SOME, v);
const list = (t: typeof T_PAREN | typeof T_BRACE | typeof T_BRACKET, ...items: Value[]) => new List(t, items);
const traced = (v: Value) => list(T_PAREN, sym("trace"), v);
const shown = (v: Value) => sourceForm(v);

const scratch = mkdtempSync(join(tmpdir(), "sup-kv-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => join(scratch, `d${dirCount++}`);

/** A kernel instance with one open store `s` of the given kind, plus a call helper. */
function setup(kind: "memory" | "disk", dir = freshDir()) {
  const kernel = kvKernel.create();
  const f = kvContext();
  const call = (fn: string, ...args: Value[]): Value => kernel.functions[fn]!(f.cx, args);
  const opened = kind === "memory" ? call("open-memory", sym("s")) : call("open-disk", sym("s"), str(dir));
  expect(opened).toBe(0);
  return { kernel, call, trace: f.trace, dir };
}

/** Every kind of value the spec (§9.5) says must round-trip exactly. */
const samples: [string, Value][] = [
  ["zero", 0],
  ["negative", -42],
  ["2^53", 9007199254740992n],
  ["int64 max", 9223372036854775807n],
  ["int64 min", -9223372036854775808n],
  ["real", new Real(3.141592653589793)],
  ["negative zero", new Real(-0)],
  ["tiny real", new Real(5e-324)],
  ["huge real", new Real(1.7976931348623157e308)],
  ["empty string", str("")],
  ["all bytes", str(Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join(""))],
  ["symbol", sym("hello")],
  ["symbol with colon", sym("a:b")],
  ["paren list", list(T_PAREN, 1, sym("x"), str("s"))],
  ["bracket list", list(T_BRACKET, 1, 2, 3)],
  ["brace list", list(T_BRACE, sym("a"), sym("b"))],
  ["empty paren", list(T_PAREN)],
  ["nested", list(T_PAREN, list(T_BRACE, list(T_BRACKET, new Real(2.5), list(T_PAREN))), new Wrap(T_ERROR, sym("e")))],
  ["quote", new Wrap(T_SOME, sym("x"))],
  ["double quote", new Wrap(T_SOME, new Wrap(T_SOME, sym("x")))],
  ["error", new Wrap(T_ERROR, list(T_PAREN, sym("disk"), sym("full")))],
  ["error of string", new Wrap(T_ERROR, str("bad"))],
  ["datum", new Wrap(T_DATUM, list(T_PAREN, sym("load"), str("io")))],
  ["lambda reference", new Aberrant(7)],
  ["NONE", NONE],
];

for (const kind of ["memory", "disk"] as const) {
  describe(`kv on a ${kind} store`, () => {
    test("every value kind round-trips exactly", () => {
      const { call } = setup(kind);
      for (const [name, v] of samples) {
        expect(call("set", sym(`s:${name}`), q(v))).toBe(0);
        const back = call("get", sym(`s:${name}`));
        expect(valueEquals(back, v)).toBe(true);
        if (v instanceof Real) expect(Object.is((back as Real).v, v.v)).toBe(true);
      }
    });

    test("an aberrant literal keeps its inner object", () => {
      const { call } = setup(kind);
      const lit = aberrantLiteral(sym("x"));
      expect(call("set", sym("s:a"), q(lit))).toBe(0);
      const back = call("get", sym("s:a"));
      expect(back).toBeInstanceOf(Aberrant);
      expect((back as Aberrant).inner).toBe(sym("x"));
    });

    test("the evaluated value is stored: [1 2 3] stores 3, [] stores NONE", () => {
      const { call } = setup(kind);
      expect(call("set", sym("s:k"), list(T_BRACKET, 1, 2, 3))).toBe(0);
      expect(call("get", sym("s:k"))).toBe(3);
      expect(call("set", sym("s:n"), list(T_BRACKET))).toBe(0);
      expect(valueEquals(call("get", sym("s:n")), NONE)).toBe(true);
      expect(call("set", sym("s:b"), list(T_BRACE, sym("a"), sym("b")))).toBe(0);
      expect(shown(call("get", sym("s:b")))).toBe("{a b}");
    });

    test("set overwrites; designators split at the first colon", () => {
      const { call } = setup(kind);
      expect(call("set", sym("s:user:7"), 1)).toBe(0);
      expect(call("set", sym("s:user:7"), 2)).toBe(0);
      expect(call("get", sym("s:user:7"))).toBe(2);
      expect(shown(call("get", sym("s:user")))).toBe("@(get: key not found)");
    });

    test("get of a missing key", () => {
      const { call } = setup(kind);
      expect(shown(call("get", sym("s:nope")))).toBe("@(get: key not found)");
    });

    test("del removes; deleting a missing key depends on the store kind", () => {
      const { call } = setup(kind);
      call("set", sym("s:k"), 1);
      expect(call("del", sym("s:k"))).toBe(0);
      expect(shown(call("get", sym("s:k")))).toBe("@(get: key not found)");
      const missing = call("del", sym("s:k"));
      if (kind === "memory") expect(shown(missing)).toBe("@(del: failed to delete key)");
      else expect(missing).toBe(0);
    });

    test("snx stores only when absent, evaluating the value either way", () => {
      const { call, trace } = setup(kind);
      expect(call("snx", sym("s:k"), traced(1))).toBe(0);
      expect(shown(call("snx", sym("s:k"), traced(2)))).toBe("@(snx: key already exists)");
      expect(trace).toEqual([1, 2]);
      expect(call("get", sym("s:k"))).toBe(1);
    });

    test("cas succeeds with the fetched value, fails on a different value or a missing key", () => {
      const { call, trace } = setup(kind);
      const v = list(T_PAREN, 1, list(T_BRACE, str("x")), new Real(0.5));
      call("set", sym("s:k"), q(v));
      const fetched = call("get", sym("s:k"));
      expect(call("cas", sym("s:k"), q(fetched), traced(sym("next")))).toBe(0);
      expect(call("get", sym("s:k"))).toBe(sym("next"));
      expect(shown(call("cas", sym("s:k"), sym("other"), 1))).toBe("@(cas: comparison failed)");
      expect(shown(call("cas", sym("s:none"), traced(1), traced(2)))).toBe("@(cas: comparison failed)");
      expect(trace).toEqual([sym("next"), 1, 2]);
    });

    test("cas compares types and reals exactly", () => {
      const { call } = setup(kind);
      call("set", sym("s:r"), new Real(0));
      expect(shown(call("cas", sym("s:r"), new Real(-0), 1))).toBe("@(cas: comparison failed)");
      expect(shown(call("cas", sym("s:r"), 0, 1))).toBe("@(cas: comparison failed)");
      expect(call("cas", sym("s:r"), new Real(0), 1)).toBe(0);
      call("set", sym("s:l"), q(list(T_PAREN, 1)));
      expect(shown(call("cas", sym("s:l"), q(list(T_BRACE, 1)), 2))).toBe("@(cas: comparison failed)");
      expect(call("cas", sym("s:l"), q(list(T_PAREN, 1)), 2)).toBe(0);
      call("set", sym("s:f"), new Aberrant(3));
      expect(shown(call("cas", sym("s:f"), new Aberrant(4), 1))).toBe("@(cas: comparison failed)");
      expect(call("cas", sym("s:f"), new Aberrant(3), 1)).toBe(0);
    });

    describe("validation order", () => {
      const rows: [string, Value[], string][] = [
        ["set", [], "@(set requires 2 arguments)"],
        ["set", [sym("s:k")], "@(set requires 2 arguments)"],
        ["set", [str("s:k"), traced(1)], "@(set requires symbol:key format)"],
        ["set", [sym("sk"), traced(1)], "@(set requires symbol:key format)"],
        ["set", [sym(":k"), traced(1)], "@(set requires symbol:key format)"],
        ["set", [sym("s:"), traced(1)], "@(set requires symbol:key format)"],
        ["set", [sym("zz:k"), traced(1)], "@(set: store not found)"],
        ["get", [], "@(get requires 1 argument)"],
        ["get", [5], "@(get requires symbol:key format)"],
        ["get", [sym("s")], "@(get requires symbol:key format)"],
        ["get", [sym("zz:k")], "@(get: store not found)"],
        ["del", [], "@(del requires 1 argument)"],
        ["del", [q(sym("s:k"))], "@(del requires symbol:key format)"],
        ["del", [sym("s:")], "@(del requires symbol:key format)"],
        ["del", [sym("zz:k")], "@(del: store not found)"],
        ["snx", [sym("s:k")], "@(snx requires 2 arguments)"],
        ["snx", [1, traced(1)], "@(snx requires symbol:key format)"],
        ["snx", [sym(":"), traced(1)], "@(snx requires symbol:key format)"],
        ["snx", [sym("zz:k"), traced(1)], "@(snx: store not found)"],
        ["cas", [sym("s:k"), 1], "@(cas requires 3 arguments)"],
        ["cas", [str("x"), traced(1), traced(2)], "@(cas requires symbol:key format)"],
        ["cas", [sym("nocolon"), traced(1), traced(2)], "@(cas requires symbol:key format)"],
        ["cas", [sym("zz:k"), traced(1), traced(2)], "@(cas: store not found)"],
      ];
      for (const [fn, args, want] of rows) {
        test(`${fn} ${args.map(shown).join(" ")} → ${want}`, () => {
          const { call, trace } = setup(kind);
          expect(shown(call(fn, ...args))).toBe(want);
          expect(trace).toEqual([]); // No value is evaluated before validation passes.
        });
      }
    });

    test("designator symbols are literal: a bound variable is not looked up", () => {
      const kernel = kvKernel.create();
      const f = kvContext(new Map([[sym("my-var"), sym("s:k")]]));
      kernel.functions["open-memory"]!(f.cx, [sym("s")]);
      expect(shown(kernel.functions["set"]!(f.cx, [sym("my-var"), 1]))).toBe("@(set requires symbol:key format)");
    });
  });
}

describe("kv opening stores", () => {
  test("open-memory failures and repeats", () => {
    const { call } = setup("memory");
    expect(shown(call("open-memory"))).toBe("@(open-memory requires 1 argument)");
    expect(shown(call("open-memory", str("s")))).toBe("@(open-memory requires symbol argument)");
    call("set", sym("s:k"), 1);
    expect(call("open-memory", sym("s"))).toBe(0); // Already open: nothing happens.
    expect(call("get", sym("s:k"))).toBe(1);
  });

  test("the count word of an arity error is an integer, as in the original's parsed error", () => {
    const { call } = setup("memory");
    const e = call("set", sym("s:k"));
    expect(e).toBeInstanceOf(Wrap);
    expect((e as Wrap).t).toBe(T_ERROR);
    expect(((e as Wrap).inner as List).items).toEqual([sym("set"), sym("requires"), 2, sym("arguments")]);
  });

  test("open-disk failures", () => {
    const { call, trace } = setup("memory");
    expect(shown(call("open-disk", sym("d")))).toBe("@(open-disk requires 2 arguments)");
    // The path is evaluated even when the name is not a symbol (as in the original).
    expect(shown(call("open-disk", str("d"), traced(str(freshDir()))))).toBe("@(open-disk requires symbol and string arguments)");
    expect(trace.length).toBe(1);
    expect(shown(call("open-disk", sym("d"), 5))).toBe("@(open-disk requires symbol and string arguments)");
    const blocker = join(scratch, "blocker-file");
    writeFileSync(blocker, "not a directory");
    expect(shown(call("open-disk", sym("d"), str(blocker)))).toBe("@(open-disk: failed to create store)");
    expect(shown(call("get", sym("d:k")))).toBe("@(get: store not found)");
  });

  test("open-disk of an open name is a no-op, even over a memory store", () => {
    const { call, dir } = setup("memory");
    expect(call("open-disk", sym("s"), str(dir))).toBe(0);
    expect(shown(call("del", sym("s:missing")))).toBe("@(del: failed to delete key)"); // Still the memory store.
  });

  test("open-disk creates path/S with missing parents, path evaluated", () => {
    const kernel = kvKernel.create();
    const base = join(freshDir(), "deep", "er");
    const f = kvContext(new Map([[sym("p"), str(base)]]));
    expect(kernel.functions["open-disk"]!(f.cx, [sym("cache"), sym("p")])).toBe(0);
    const db = new Database(join(base, "cache", "kv.sqlite"), { readonly: true });
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    db.close();
    kernel.shutdown!();
  });

  test("store names are per kernel instance", () => {
    const a = setup("memory");
    const b = kvKernel.create();
    expect(shown(b.functions["get"]!(kvContext().cx, [sym("s:k")]))).toBe("@(get: store not found)");
    a.kernel.shutdown!();
  });
});

describe("kv disk persistence", () => {
  test("values survive closing and reopening in a new kernel instance", () => {
    const dir = freshDir();
    const first = setup("disk", dir);
    for (const [name, v] of samples) first.call("set", sym(`s:${name}`), q(v));
    first.call("del", sym("s:zero"));
    first.kernel.shutdown!();

    const second = setup("disk", dir);
    for (const [name, v] of samples) {
      const back = second.call("get", sym(`s:${name}`));
      if (name === "zero") expect(shown(back)).toBe("@(get: key not found)");
      else expect(valueEquals(back, v)).toBe(true);
    }
    second.kernel.shutdown!();
  });

  test("an acknowledged set survives a process that exits without shutdown", () => {
    const dir = freshDir();
    const mod = join(import.meta.dir, "mod.ts");
    const script = `
      import kvKernel from ${JSON.stringify(mod)};
      import { str, sym } from ${JSON.stringify(join(import.meta.dir, "../../test/support/kernel-api.ts"))};
      const k = kvKernel.create();
      const cx = { workingDir: "/", write() {}, eval: (e) => e };
      k.functions["open-disk"](cx, [sym("s"), str(${JSON.stringify(dir)})]);
      for (let i = 0; i < 100; i++) k.functions["set"](cx, [sym("s:k" + i), i]);
      process.exit(0);`;
    const file = join(scratch, "exit-writer.ts");
    writeFileSync(file, script);
    const r = Bun.spawnSync([process.execPath, file]);
    expect(r.exitCode).toBe(0);
    const { call, kernel } = setup("disk", dir);
    for (let i = 0; i < 100; i++) expect(call("get", sym(`s:k${i}`))).toBe(i);
    kernel.shutdown!();
  });

  test("hostile data: corrupt blobs and foreign column types give an error value", async () => {
    const dir = freshDir();
    const { call, kernel } = setup("disk", dir);
    call("set", sym("s:a"), 1);
    call("set", sym("s:b"), 2);
    call("set", sym("s:c"), 3);
    await null; // Lets the batch commit, releasing the write lock.
    const db = new Database(join(dir, "s", "kv.sqlite"));
    db.run("UPDATE kv SET value = x'deadbeef' WHERE key = 'a'");
    db.run("UPDATE kv SET value = 'text' WHERE key = 'b'");
    db.run("UPDATE kv SET value = x'5301' WHERE key = 'c'"); // Envelope with no value: truncated.
    db.close();
    expect(shown(call("get", sym("s:a")))).toBe("@(deserialize: invalid data)");
    expect(shown(call("get", sym("s:b")))).toBe("@(deserialize: invalid data)");
    expect(shown(call("get", sym("s:c")))).toBe("@(deserialize: invalid data)");
    expect(shown(call("cas", sym("s:a"), 1, 2))).toBe("@(cas: comparison failed)");
    expect(call("set", sym("s:a"), 9)).toBe(0); // A corrupt entry can be overwritten.
    expect(call("get", sym("s:a"))).toBe(9);
    kernel.shutdown!();
  });

  test("hostile data: a file that is not a database cannot be opened as a store", () => {
    const dir = freshDir();
    mkdirSync(join(dir, "s"), { recursive: true });
    writeFileSync(join(dir, "s", "kv.sqlite"), Buffer.alloc(4096, 0x41));
    const kernel = kvKernel.create();
    const cx = kvContext().cx;
    expect(shown(kernel.functions["open-disk"]!(cx, [sym("s"), str(dir)]))).toBe("@(open-disk: failed to create store)");
  });

  test("a value too deep for the codec is refused by a disk store, not crashed on", () => {
    const { call, kernel } = setup("disk");
    let deep: Value = 1;
    for (let i = 0; i < 10_001; i++) deep = new List(T_PAREN, [deep]);
    expect(shown(call("set", sym("s:deep"), q(deep)))).toBe("@(set: failed to store value)");
    kernel.shutdown!();
  });

  test("a batch commits when the synchronous job ends", async () => {
    const dir = freshDir();
    const { call, kernel } = setup("disk", dir);
    call("set", sym("s:k"), 1);
    const reader = new Database(join(dir, "s", "kv.sqlite"), { readonly: true });
    const count = () => (reader.query("SELECT count(*) AS n FROM kv").get() as { n: number }).n;
    expect(count()).toBe(0);
    await null;
    expect(count()).toBe(1);
    reader.close();
    kernel.shutdown!();
  });

  test(`a batch commits at ${BATCH_WRITES_MAX} writes, not before`, () => {
    const realClock = batchClock.nowMs;
    batchClock.nowMs = () => 0; // Time stands still, so only the write count can end the batch.
    const dir = freshDir();
    const { call, kernel } = setup("disk", dir);
    const reader = new Database(join(dir, "s", "kv.sqlite"), { readonly: true });
    const count = () => (reader.query("SELECT count(*) AS n FROM kv").get() as { n: number }).n;
    for (let i = 0; i < BATCH_WRITES_MAX - 1; i++) call("set", sym(`s:k${i}`), i);
    expect(count()).toBe(0);
    call("set", sym("s:last"), 0);
    expect(count()).toBe(BATCH_WRITES_MAX);
    call("set", sym("s:one-past"), 0);
    expect(count()).toBe(BATCH_WRITES_MAX);
    reader.close();
    kernel.shutdown!();
    batchClock.nowMs = realClock;
  });

  test(`a batch older than ${BATCH_AGE_MS_MAX} ms commits at the next write`, () => {
    const realClock = batchClock.nowMs;
    let now = 0;
    batchClock.nowMs = () => now;
    const dir = freshDir();
    const { call, kernel } = setup("disk", dir);
    const reader = new Database(join(dir, "s", "kv.sqlite"), { readonly: true });
    const count = () => (reader.query("SELECT count(*) AS n FROM kv").get() as { n: number }).n;
    call("set", sym("s:a"), 1);
    now = BATCH_AGE_MS_MAX - 1;
    call("set", sym("s:b"), 1);
    expect(count()).toBe(0);
    now = BATCH_AGE_MS_MAX;
    call("set", sym("s:c"), 1);
    expect(count()).toBe(3);
    reader.close();
    kernel.shutdown!();
    batchClock.nowMs = realClock;
  });

  test("kernel instances opening the same store share its connection", () => {
    const dir = freshDir();
    const a = setup("disk", dir);
    const b = setup("disk", dir);
    a.call("set", sym("s:k"), 1); // Not committed yet, but b sees it and can write too.
    expect(b.call("get", sym("s:k"))).toBe(1);
    expect(b.call("set", sym("s:j"), 2)).toBe(0);
    b.kernel.shutdown!();
    expect(a.call("get", sym("s:j"))).toBe(2); // a's connection outlives b.
    a.kernel.shutdown!();
    const c = setup("disk", dir);
    expect(c.call("get", sym("s:k"))).toBe(1);
    c.kernel.shutdown!();
  });

  test("shutdown closes the databases", () => {
    const dir = freshDir();
    const { kernel } = setup("disk", dir);
    kernel.shutdown!();
    // After a clean close SQLite folds the WAL back into the database file and removes it.
    expect(existsSync(join(dir, "s", "kv.sqlite-wal"))).toBe(false);
  });
});

describe("valueEquals", () => {
  test("distinguishes what cas must distinguish", () => {
    expect(valueEquals(str("a"), str("a"))).toBe(true);
    expect(valueEquals(str("a"), sym("a"))).toBe(false);
    expect(valueEquals(new Real(NaN), new Real(NaN))).toBe(true);
    expect(valueEquals(1, new Real(1))).toBe(false);
    expect(valueEquals(new Wrap(T_ERROR, 1), new Wrap(T_DATUM, 1))).toBe(false);
    expect(valueEquals(list(T_PAREN, 1, 2), list(T_PAREN, 1))).toBe(false);
    expect(valueEquals(aberrantLiteral(sym("x")), aberrantLiteral(sym("x")))).toBe(false);
    expect(valueEquals(new Str("x"), new Str("x"))).toBe(true);
  });
});
