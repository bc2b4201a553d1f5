/**
 * The weak symbol table (symbols.ts): a symbol nothing refers to is collected, swept and its id reused,
 * so the table and the binding tables sized by symbolCount() stay as small as the set of live
 * symbols; a symbol bound in an interpreter stays alive while bound, so a reused id never meets a
 * stale binding.
 */
import { describe, expect, test } from "bun:test";
import type { Host } from "./host.ts";
import { Interp } from "./interp.ts";
import { Session } from "./session.ts";
import { read } from "./reader.ts";
import { List, sweepSymbols, sym, symbolCount, symbolStats, type Sym } from "./value.ts";

const host: Host = {
  workingDir: "/",
  write: () => {},
  loadKernel: (name) => {
    throw new Error(`no kernel ${name}`);
  },
  findManifest: () => null,
  readImport: () => null,
  log: () => {},
};

/** Most rounds of collect-and-wait before a test gives up on the collector. */
const GC_ROUNDS_MAX = 50;

/**
 * Collects garbage and sweeps the symbol table until `done` holds; false if it never does. Each
 * round first yields a turn: a WeakRef keeps its target alive until the turn that last read it ends.
 */
async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < GC_ROUNDS_MAX; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    Bun.gc(true);
    sweepSymbols();
    if (done()) return true;
  }
  return false;
}

/** Interns `count` symbols named `prefix<i>` and keeps none of them. */
function internAndDrop(prefix: string, count: number): void {
  for (let i = 0; i < count; i++) sym(`${prefix}${i}`);
}

/** Binds `count` fresh symbols `prefix<i>` in the interpreter's global scope, keeping nothing else of them; returns their ids. */
function bindAndDrop(it: Interp, prefix: string, count: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = sym(`${prefix}${i}`);
    it.define(s, i);
    ids.push(s.id);
  }
  return ids;
}

describe("symbol table", () => {
  test("interning is by name: the same name is the same symbol", () => {
    const a = sym("same-name");
    expect(sym("same-name")).toBe(a);
    expect(sym("other-name")).not.toBe(a);
  });

  test("symbols nothing refers to are collected and their ids given to new symbols", async () => {
    internAndDrop("dropped-", 10_000);
    const liveBefore = symbolStats().live;
    expect(await collectUntil(() => symbolStats().live <= liveBefore - 9_000)).toBe(true);
    const ids = symbolCount();
    // New symbols reuse the freed ids: the id range does not grow.
    const reused: Sym[] = [];
    for (let i = 0; i < 5_000; i++) reused.push(sym(`reused-${i}`));
    expect(symbolCount()).toBe(ids);
    expect(new Set(reused.map((s) => s.id)).size).toBe(5_000);
  });

  test("symbols bound in an interpreter are kept while bound; reused ids are unbound", async () => {
    const it = new Interp(new Session(host), "<test>");
    const bound = bindAndDrop(it, "bound-only-by-a-binding-", 1_000);
    // Plenty of garbage symbols, so ids are freed and reused around the bound ones.
    internAndDrop("churn-", 10_000);
    const liveBefore = symbolStats().live;
    expect(await collectUntil(() => symbolStats().live <= liveBefore - 9_000)).toBe(true);
    const fresh: Sym[] = [];
    for (let i = 0; i < 20_000; i++) fresh.push(sym(`fresh-${i}`));
    // Each bound symbol is the one interned under its name, with its id and binding intact.
    for (let i = 0; i < bound.length; i++) {
      const again = sym(`bound-only-by-a-binding-${i}`);
      expect(again.id).toBe(bound[i]!);
      expect(it.lookup(again)).toBe(i);
    }
    // No new symbol got one of their ids, and none of them finds a binding.
    const taken = new Set(bound);
    expect(fresh.filter((s) => taken.has(s.id)).length).toBe(0);
    expect(fresh.every((s) => it.lookup(s) === undefined)).toBe(true);
    it.session.close();
  });

  test("after its binding is gone, a symbol's id goes to a new symbol, unbound in the next interpreter", async () => {
    const session = new Session(host);
    const it = new Interp(session, "<test>");
    it.pushScope();
    const [id] = bindAndDrop(it, "bound-in-a-scope-", 1);
    it.popScope();
    // Closing the session recycles the interpreter's tables: the trail no longer holds the symbol.
    session.close();
    internAndDrop("churn-again-", 10_000);
    const liveBefore = symbolStats().live;
    expect(await collectUntil(() => symbolStats().live <= liveBefore - 9_000)).toBe(true);
    // The next interpreter gets the recycled tables. Intern until every freed id is handed out.
    const next = new Interp(new Session(host), "<test>");
    const ids = symbolCount();
    const taken: Sym[] = [];
    while (symbolCount() === ids) taken.push(sym(`taker-${taken.length}`));
    const reuser = taken.find((t) => t.id === id);
    expect(reuser).toBeDefined();
    expect(reuser!.name).not.toBe("bound-in-a-scope-0");
    expect(next.lookup(reuser!)).toBeUndefined();
    expect(next.evalValue(reuser!)).toBe(reuser!);
    next.session.close();
  });
});

describe("interning read text", () => {
  test("the reader gives the interned symbol of every name, found among recent ones or not", () => {
    // Names of one length differing in any byte (many share a recent-cache slot), read twice: the
    // second read finds most of them among the recent symbols without cutting the name out first.
    const names = Array.from({ length: 2000 }, (_, i) => `n${String(i).padStart(4, "0")}`).concat(["k:ey1", "k:ey2", "x", "y", "ab", "ba"]);
    for (let round = 0; round < 2; round++) {
      const list = read(`(${names.join(" ")})`).value as List;
      list.items.forEach((v, i) => {
        expect(v).toBe(sym(names[i]!));
        expect((v as Sym).name).toBe(names[i]!);
      });
    }
  });
});
