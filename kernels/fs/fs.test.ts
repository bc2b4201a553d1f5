import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SlpException, sourceForm, List, NONE, Real, Str, str, sym, T_BRACKET, T_PAREN, type Value } from "sup/kernel";
import { fakeContext } from "../../test/support/fake-context.ts";
import fsKernel from "./mod.ts";
import { OPEN_FILES_MAX, POSITION_MAX, parseMode } from "./file-table.ts";
import { appendPath, tempDirectory } from "./paths.ts";

const scratch = mkdtempSync(join(tmpdir(), "sup-fs-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let rootCount = 0;

/** A fresh working directory, kernel instance and fake context (see `fakeContext`) with a call helper. */
function setup() {
  const root = join(scratch, `w${rootCount++}`);
  mkdirSync(root);
  const kernel = fsKernel.create();
  const { cx, vars, trace } = fakeContext({ workingDir: root });
  const call = (fn: string, ...args: Value[]): Value => kernel.functions[fn]!(cx, args);
  const s = (v: Value): string => (v instanceof Str ? v.s : `<not a string: ${sourceForm(v)}>`);
  const file = (name: string, contents: string) => writeFileSync(join(root, name), Buffer.from(contents, "latin1"));
  const contents = (name: string) => readFileSync(join(root, name)).toString("latin1");
  return { root, kernel, vars, trace, call, s, file, contents };
}
let t: ReturnType<typeof setup>;
beforeEach(() => {
  t = setup();
});

describe("fs handles", () => {
  test("handles start at 1, grow by one per successful open, and are never reused", () => {
    t.file("a", "x");
    expect(t.call("open", str("r"), str("a"))).toBe(1);
    expect(t.call("open", str("r"), str("missing"))).toBe(-1);
    expect(t.call("open", str("r"), str("a"))).toBe(2);
    expect(t.call("close", 1)).toBe(0);
    expect(t.call("close", 1)).toBe(-1);
    expect(t.call("tell", 1)).toBe(-1);
    expect(t.call("open", str("w"), str("b"))).toBe(3);
    expect(fsKernel.create().functions["open"]!(fakeContext({ workingDir: t.root }).cx, [str("r"), str("a")])).toBe(1); // Per instance.
  });

  test(`at most ${OPEN_FILES_MAX} files are open at once; closing one makes room`, () => {
    t.file("a", "x");
    for (let i = 1; i <= OPEN_FILES_MAX; i++) expect(t.call("open", str("r"), str("a"))).toBe(i);
    expect(t.call("open", str("r"), str("a"))).toBe(-1);
    expect(t.call("close", 7)).toBe(0);
    expect(t.call("open", str("r"), str("a"))).toBe(OPEN_FILES_MAX + 1);
    expect(t.call("open", str("r"), str("a"))).toBe(-1);
    for (let i = 1; i <= OPEN_FILES_MAX + 1; i++) t.call("close", i);
  });

  test("open: every C mode", () => {
    t.file("f", "hello");
    const r = t.call("open", str("r"), str("f"));
    expect(t.call("write", r, str("x"))).toBe(-1);
    expect(t.s(t.call("read", r))).toBe("hello");

    const w = t.call("open", str("w"), str("f"));
    expect(t.contents("f")).toBe(""); // Truncated at open.
    expect(t.s(t.call("read", w))).toBe("");
    expect(t.call("write", w, str("abc"))).toBe(3);
    expect(t.contents("f")).toBe("abc");

    const a = t.call("open", str("a"), str("f"));
    expect(t.call("tell", a)).toBe(3); // "a" starts at the end.
    expect(t.call("seek", a, 0, 0)).toBe(0);
    expect(t.call("write", a, str("de"))).toBe(2); // Appends whatever the position.
    expect(t.contents("f")).toBe("abcde");
    expect(t.call("tell", a)).toBe(5);
    expect(t.s(t.call("read", a))).toBe("");

    const rp = t.call("open", str("r+"), str("f"));
    expect(t.call("write", rp, str("X"))).toBe(1); // Overwrites in place.
    expect(t.s(t.call("read", rp))).toBe("Xbcde");

    const wp = t.call("open", str("w+"), str("f"));
    expect(t.call("size", wp)).toBe(0);
    expect(t.call("write", wp, str("new"))).toBe(3);
    expect(t.s(t.call("read", wp))).toBe("new");

    const ap = t.call("open", str("a+"), str("f"));
    expect(t.call("tell", ap)).toBe(0); // "a+" reads from the start.
    expect(t.s(t.call("read_bytes", ap, 2))).toBe("ne");
    expect(t.call("write", ap, str("!"))).toBe(1);
    expect(t.s(t.call("read", ap))).toBe("new!");
  });

  test("open: modes create files except r and r+", () => {
    for (const m of ["w", "a", "w+", "a+", "wb", "ab+"]) expect(t.call("open", str(m), str(`new-${m}`))).toBeGreaterThan(0);
    expect(t.call("open", str("r"), str("none"))).toBe(-1);
    expect(t.call("open", str("r+"), str("none"))).toBe(-1);
    expect(t.call("open", str("rb"), str("none"))).toBe(-1);
  });

  test("open: invalid modes and arguments", () => {
    t.file("f", "x");
    for (const m of ["xyz", "", "+r", "R", "b"]) expect(t.call("open", str(m), str("f"))).toBe(-1);
    expect(t.call("open", str("r"))).toBe(-1);
    expect(t.call("open")).toBe(-1);
    expect(t.call("open", sym("r"), str("f"))).toBe(-1);
    expect(t.call("open", str("r"), 5)).toBe(-1);
    expect(t.call("open", str("w"), str("no/such/dir/f"))).toBe(-1);
    expect(t.call("open", str("w"), str("."))).toBe(-1); // A directory cannot be opened for writing.
  });

  test("parseMode follows glibc", () => {
    expect(parseMode("rb+")).toMatchObject({ readable: true, writable: true, append: false });
    expect(parseMode("r+b")).toMatchObject({ readable: true, writable: true });
    expect(parseMode("rz")).toMatchObject({ readable: true, writable: false }); // Unknown letters are ignored.
    expect(parseMode("a")).toMatchObject({ readable: false, writable: true, append: true });
    expect(parseMode("r\0+")).toMatchObject({ writable: false }); // The mode is a C string.
    expect(parseMode("x")).toBeNull();
  });

  test("open: x makes creation exclusive", () => {
    t.file("f", "x");
    expect(t.call("open", str("wx"), str("f"))).toBe(-1);
    expect(t.call("open", str("wx"), str("g"))).toBeGreaterThan(0);
  });

  test("paths: relative to the working directory, absolute as given, arguments evaluated", () => {
    t.file("rel", "R");
    const abs = join(scratch, `abs-${rootCount}`);
    writeFileSync(abs, "A");
    t.vars.set(sym("p"), str("rel"));
    t.vars.set(sym("m"), str("r"));
    expect(t.s(t.call("read", t.call("open", sym("m"), sym("p"))))).toBe("R");
    expect(t.s(t.call("read", t.call("open", str("r"), str(abs))))).toBe("A");
    expect(t.call("exists", str(""))).toBe(1);
    expect(t.call("exists", str("./rel"))).toBe(1);
  });

  test("paths are bytes: a latin1 name reaches the file system unchanged", () => {
    const h = t.call("open", str("w"), str("caf\xe9"));
    expect(t.call("write", h, str("\xff\x00\x01"))).toBe(3);
    expect(readdirSync(t.root, { encoding: "buffer" }).map((b) => b.toString("latin1"))).toContain("caf\xe9");
    expect(t.call("exists", str("caf\xe9"))).toBe(1);
    expect(t.s(t.call("read", t.call("open", str("r"), str("caf\xe9"))))).toBe("\xff"); // Cut at the NUL.
  });
});

describe("fs reading", () => {
  test("read: whole file from the start, position left at the end", () => {
    t.file("f", "0123456789ABCDEF");
    const h = t.call("open", str("r"), str("f"));
    expect(t.call("seek", h, 8, 0)).toBe(8);
    expect(t.s(t.call("read", h))).toBe("0123456789ABCDEF");
    expect(t.call("tell", h)).toBe(16);
    expect(t.s(t.call("read_bytes", h, 4))).toBe("");
  });

  test("read: truncated at the first NUL, position still at the end", () => {
    t.file("f", "ab\0cd");
    const h = t.call("open", str("r"), str("f"));
    expect(t.s(t.call("read", h))).toBe("ab");
    expect(t.call("tell", h)).toBe(5);
  });

  test("read: failures give an empty string", () => {
    t.file("f", "data");
    const w = t.call("open", str("w"), str("g"));
    t.call("write", w, str("xyz"));
    expect(t.s(t.call("read", w))).toBe("");
    expect(t.call("tell", w)).toBe(0); // The original rewound before its read failed.
    expect(t.s(t.call("read", 99))).toBe("");
    expect(t.s(t.call("read", str("1")))).toBe("");
    expect(t.s(t.call("read"))).toBe("");
    const d = t.call("open", str("r"), str("")); // A directory opens for reading on Linux…
    expect(d).toBeGreaterThan(0);
    expect(t.s(t.call("read", d))).toBe(""); // …but reads as an empty string instead of crashing.
    expect(t.s(t.call("read_bytes", d, 4))).toBe("");
  });

  test("read_bytes: from the position, advancing it", () => {
    t.file("f", "0123456789ABCDEF");
    const h = t.call("open", str("r"), str("f"));
    expect(t.s(t.call("read_bytes", h, 4))).toBe("0123");
    expect(t.s(t.call("read_bytes", h, 4))).toBe("4567");
    expect(t.call("seek", h, 10, 0)).toBe(10);
    expect(t.s(t.call("read_bytes", h, 3))).toBe("ABC");
    expect(t.call("tell", h)).toBe(13);
    expect(t.s(t.call("read_bytes", h, 100))).toBe("DEF"); // Fewer at the end of the file.
    expect(t.call("tell", h)).toBe(16);
    expect(t.s(t.call("read_bytes", h, 1))).toBe("");
    expect(t.call("seek", h, 100, 0)).toBe(100);
    expect(t.s(t.call("read_bytes", h, 5))).toBe("");
  });

  test("read_bytes: NUL truncates the result but not the advance", () => {
    t.file("f", "a\0bcd");
    const h = t.call("open", str("r"), str("f"));
    expect(t.s(t.call("read_bytes", h, 3))).toBe("a");
    expect(t.call("tell", h)).toBe(3);
  });

  test("read_bytes: failures", () => {
    t.file("f", "abc");
    const h = t.call("open", str("r"), str("f"));
    expect(t.s(t.call("read_bytes", h, 0))).toBe("");
    expect(t.s(t.call("read_bytes", h, -1))).toBe("");
    expect(t.call("tell", h)).toBe(0);
    expect(t.s(t.call("read_bytes", h))).toBe("");
    expect(t.s(t.call("read_bytes", 42, 1))).toBe("");
    expect(t.s(t.call("read_bytes", h, str("1")))).toBe("");
    expect(t.s(t.call("read_bytes", t.call("open", str("w"), str("g")), 1))).toBe("");
    expect(t.s(t.call("read_bytes", h, 9223372036854775807n))).toBe("abc"); // Huge counts are fine.
  });
});

describe("fs writing and positions", () => {
  test("write: failures", () => {
    const h = t.call("open", str("w"), str("f"));
    expect(t.call("write", h, 5)).toBe(-1);
    expect(t.call("write", h)).toBe(-1);
    expect(t.call("write", 7, str("x"))).toBe(-1);
    expect(t.call("write", h, str(""))).toBe(0);
    t.call("close", h);
    expect(t.call("write", h, str("x"))).toBe(-1);
  });

  test("write at a position past the end leaves a hole of zeros", () => {
    const h = t.call("open", str("w"), str("f"));
    expect(t.call("seek", h, 3, 0)).toBe(3);
    expect(t.call("write", h, str("x"))).toBe(1);
    expect(t.contents("f")).toBe("\0\0\0x");
    expect(t.call("size", h)).toBe(4);
  });

  test("seek: whence, past the end, and failures", () => {
    t.file("f", "0123456789");
    const h = t.call("open", str("r"), str("f"));
    expect(t.call("seek", h, 5, 0)).toBe(5);
    expect(t.call("seek", h, -3, 1)).toBe(2);
    expect(t.s(t.call("read_bytes", h, 3))).toBe("234");
    expect(t.call("seek", h, 0, 2)).toBe(10);
    expect(t.call("seek", h, -5, 1)).toBe(5);
    expect(t.call("seek", h, 100, 0)).toBe(100);
    expect(t.call("seek", h, 0, 3)).toBe(-1);
    expect(t.call("seek", h, 0, -1)).toBe(-1);
    expect(t.call("seek", h, -1, 0)).toBe(-1);
    expect(t.call("seek", h, -11, 2)).toBe(-1);
    expect(t.call("tell", h)).toBe(100); // Failed seeks leave the position alone.
    expect(t.call("seek", h, 0)).toBe(-1);
    expect(t.call("seek", h, new Real(0.5), 0)).toBe(-1);
    expect(t.call("seek", 50, 0, 0)).toBe(-1);
    expect(t.call("seek", h, 9223372036854775807n, 0)).toBe(-1);
  });

  test(`seek: positions up to POSITION_MAX (${POSITION_MAX}) and not one past`, () => {
    const h = t.call("open", str("w+"), str("f"));
    expect(t.call("seek", h, POSITION_MAX, 0)).toBe(POSITION_MAX);
    expect(t.call("seek", h, 1, 1)).toBe(-1);
    expect(t.call("seek", h, BigInt(POSITION_MAX) + 1n, 0)).toBe(-1);
    expect(t.call("tell", h)).toBe(POSITION_MAX);
  });

  test("tell, size, flush", () => {
    const h = t.call("open", str("w+"), str("f"));
    t.call("write", h, str("hello"));
    expect(t.call("tell", h)).toBe(5);
    expect(t.call("seek", h, 1, 0)).toBe(1);
    expect(t.call("size", h)).toBe(5);
    expect(t.call("tell", h)).toBe(1); // size leaves the position alone.
    expect(t.call("flush", h)).toBe(0);
    for (const fn of ["tell", "size", "flush", "close"]) {
      expect(t.call(fn)).toBe(-1);
      expect(t.call(fn, 77)).toBe(-1);
      expect(t.call(fn, str("1"))).toBe(-1);
    }
  });

  test("shutdown closes every open handle", () => {
    t.file("f", "x");
    const before = readdirSync("/proc/self/fd").length;
    for (let i = 0; i < 5; i++) t.call("open", str("r"), str("f"));
    expect(readdirSync("/proc/self/fd").length).toBe(before + 5);
    t.kernel.shutdown!();
    expect(readdirSync("/proc/self/fd").length).toBe(before);
  });
});

describe("fs paths", () => {
  test("exists", () => {
    t.file("f", "");
    mkdirSync(join(t.root, "d"));
    expect(t.call("exists", str("f"))).toBe(1);
    expect(t.call("exists", str("d"))).toBe(1);
    expect(t.call("exists", str(t.root))).toBe(1);
    expect(t.call("exists", str("nope"))).toBe(0);
    expect(t.call("exists", str("f/x"))).toBe(0);
    expect(t.call("exists", 1)).toBe(0);
    expect(t.call("exists")).toBe(0);
  });

  test("remove: files and empty directories; nothing there → -1", () => {
    t.file("f", "x");
    mkdirSync(join(t.root, "d"));
    expect(t.call("remove", str("f"))).toBe(0);
    expect(t.call("remove", str("d"))).toBe(0);
    expect(t.call("remove", str("f"))).toBe(-1);
    expect(t.call("remove", 3)).toBe(-1);
    t.file("g", "");
    expect(t.call("remove", str("g/x"))).toBe(-1);
    expect(t.call("remove")).toBe(-1);
  });

  test("remove: a non-empty directory throws the original's message", () => {
    mkdirSync(join(t.root, "full"));
    t.file("full/x", "");
    expect(() => t.call("remove", str("full"))).toThrow(new SlpException(`filesystem error: cannot remove: Directory not empty [${t.root}/full]`));
    expect(existsSync(join(t.root, "full", "x"))).toBe(true);
  });

  test("rename: moves and replaces an existing target file", () => {
    t.file("a", "A");
    t.file("b", "B");
    expect(t.call("rename", str("a"), str("b"))).toBe(0);
    expect(t.contents("b")).toBe("A");
    expect(t.call("exists", str("a"))).toBe(0);
    expect(t.call("rename", str("a"), str("c"))).toBe(-1);
    expect(t.call("rename", str("b"))).toBe(-1);
    expect(t.call("rename", str("b"), 1)).toBe(-1);
    mkdirSync(join(t.root, "d"));
    expect(t.call("rename", str("b"), str("d/moved"))).toBe(0);
    expect(t.contents("d/moved")).toBe("A");
  });

  test("mkdir: creates parents; anything already there → -1", () => {
    expect(t.call("mkdir", str("x/y/z"))).toBe(0);
    expect(existsSync(join(t.root, "x", "y", "z"))).toBe(true);
    expect(t.call("mkdir", str("x/y/z"))).toBe(-1);
    expect(t.call("mkdir", str("x"))).toBe(-1);
    t.file("f", "");
    expect(t.call("mkdir", str("f"))).toBe(-1);
    expect(t.call("mkdir", str("f/sub"))).toBe(-1);
    expect(t.call("mkdir", 1)).toBe(-1);
    expect(t.call("mkdir")).toBe(-1);
  });

  test("rmdir: only an existing empty directory", () => {
    mkdirSync(join(t.root, "e"));
    mkdirSync(join(t.root, "full"));
    t.file("full/x", "");
    t.file("f", "");
    expect(t.call("rmdir", str("e"))).toBe(0);
    expect(t.call("rmdir", str("e"))).toBe(-1);
    expect(t.call("rmdir", str("full"))).toBe(-1);
    expect(t.call("rmdir", str("f"))).toBe(-1);
    expect(t.call("rmdir", NONE)).toBe(-1);
    expect(t.call("rmdir")).toBe(-1);
  });

  test("rmdir_recursive: counts every entry removed, the directory included", () => {
    mkdirSync(join(t.root, "top", "sub"), { recursive: true });
    t.file("top/sub/file", "x");
    expect(t.call("rmdir_recursive", str("top"))).toBe(3);
    expect(existsSync(join(t.root, "top"))).toBe(false);
    expect(t.call("rmdir_recursive", str("top"))).toBe(0);
    t.file("lone", "");
    expect(t.call("rmdir_recursive", str("lone"))).toBe(1);
    expect(t.call("rmdir_recursive", 1)).toBe(-1);
    expect(t.call("rmdir_recursive")).toBe(-1);
  });

  test("tmp: the first set variable of TMPDIR, TMP, TEMP, TEMPDIR, else /tmp", () => {
    const d = t.root + "/";
    expect(tempDirectory({ TMPDIR: d, TMP: "/nope" })).toBe(d); // Written as given, trailing slash kept.
    expect(tempDirectory({ TMP: t.root, TEMP: "/nope" })).toBe(t.root);
    expect(tempDirectory({ TEMP: t.root })).toBe(t.root);
    expect(tempDirectory({ TEMPDIR: t.root })).toBe(t.root);
    expect(tempDirectory({})).toBe("/tmp");
    expect(tempDirectory({ TMPDIR: join(t.root, "missing"), TMP: t.root })).toBe(""); // The first set one counts.
    expect(tempDirectory({ TMPDIR: "" })).toBe("");
    t.file("f", "");
    expect(tempDirectory({ TMPDIR: join(t.root, "f") })).toBe("");
    expect(t.call("tmp")).toBeInstanceOf(Str);
  });

  test("join_path: the spec's table", () => {
    const rows: [string[], string][] = [
      [["srv", "www", "a.txt"], "srv/www/a.txt"],
      [["", "a.txt"], "a.txt"],
      [["srv", ""], "srv/"],
      [["srv/", "x"], "srv/x"],
      [["srv", "/etc"], "/etc"],
      [["a", "", "b"], "a/b"],
      [["a", "..", "b"], "a/../b"],
    ];
    for (const [parts, want] of rows) expect(t.s(t.call("join_path", ...parts.map(str)))).toBe(want);
    expect(appendPath("/", "x")).toBe("/x");
  });

  test("join_path: failures; evaluation stops at the first non-string", () => {
    const traced = (v: Value) => new List(T_PAREN, [sym("trace"), v]);
    expect(t.s(t.call("join_path", str("a")))).toBe("");
    expect(t.s(t.call("join_path"))).toBe("");
    expect(t.s(t.call("join_path", traced(str("a")), traced(5), traced(str("b"))))).toBe("");
    expect(t.trace).toEqual([str("a"), 5]);
  });

  test("ls: entry names as a bracket list of strings", () => {
    mkdirSync(join(t.root, "d"));
    t.file("d/one", "");
    t.file("d/two", "");
    mkdirSync(join(t.root, "d", "sub"));
    const r = t.call("ls", str("d")) as List;
    expect(r.t).toBe(T_BRACKET);
    expect(r.items.map((i) => (i as Str).s).sort()).toEqual(["one", "sub", "two"]);
    const empty = t.call("ls", str("d/sub")) as List;
    expect(empty.t).toBe(T_BRACKET);
    expect(empty.items).toEqual([]);
  });

  test("ls: failures give []", () => {
    t.file("f", "");
    for (const args of [[str("f")], [str("missing")], [5], []]) {
      const r = t.call("ls", ...args) as List;
      expect(r.t).toBe(T_BRACKET);
      expect(r.items.length).toBe(0);
    }
  });

  test("ls: names pass through TEXT-FORM, so a quote mangles the list", () => {
    mkdirSync(join(t.root, "q"));
    t.file('q/a"b', "");
    const r = t.call("ls", str("q")) as List;
    expect(r.items.some((i) => i instanceof Str && i.s === 'a"b')).toBe(false);
  });
});
