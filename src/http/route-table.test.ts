import { describe, expect, test } from "bun:test";
import { Rng } from "../../test/support/rng.ts";
import { COMPILED_PROGRAMS_MAX, HANDLER_STEPS_DEFAULT, HANDLER_STEPS_MAX, HANDLER_TIME_MS_DEFAULT, HANDLER_TIME_MS_MAX, ROUTE_HITS_MAX, TENANT_TABLES_MAX } from "./limits.ts";
import { MemoryRouteSource } from "./memory-source.ts";
import { RouteTable, budgetOf, type RouteRecord, type RouteSource } from "./route-table.ts";

const prog = (text: string) => `[ #(load "http") (http/text 200 "${text}") ]`;
const resolveName = (t: RouteTable, method: string, path: string, tenant = "default") => {
  const m = t.resolve(tenant, method, path);
  return m === null ? null : { route: m.route.pattern.name, version: m.run.version, params: Object.fromEntries(m.params) };
};

describe("resolving", () => {
  test("static and parameter routes, best rank first", () => {
    const src = new MemoryRouteSource();
    src.put("GET /users/:id", prog("user"));
    src.put("GET /users/me", prog("me"));
    src.put("GET /files/*path", prog("file"));
    src.put("ANY /echo", prog("echo"));
    const t = new RouteTable(src);
    expect(resolveName(t, "GET", "/users/7")).toEqual({ route: "GET /users/:id", version: 1, params: { id: "7" } });
    expect(resolveName(t, "GET", "/users/me")).toEqual({ route: "GET /users/me", version: 1, params: {} });
    expect(resolveName(t, "GET", "/files/a/b.txt")?.params).toEqual({ path: "a/b.txt" });
    expect(resolveName(t, "DELETE", "/echo")?.route).toBe("ANY /echo");
    expect(resolveName(t, "POST", "/users/7")).toBeNull();
    expect(resolveName(t, "GET", "/nothing")).toBeNull();
  });

  test("HEAD falls back to GET; a HEAD route wins over it", () => {
    const src = new MemoryRouteSource();
    src.put("GET /a", prog("a"));
    src.put("GET /b/:x", prog("b"));
    const t = new RouteTable(src);
    expect(resolveName(t, "HEAD", "/a")?.route).toBe("GET /a");
    expect(resolveName(t, "HEAD", "/b/1")?.route).toBe("GET /b/:x");
    src.put("HEAD /a", prog("head"));
    expect(resolveName(t, "HEAD", "/a")?.route).toBe("HEAD /a");
  });

  test("tenants see only their own routes", () => {
    const src = new MemoryRouteSource();
    src.put("GET /x", prog("default"));
    src.put("GET /x", prog("acme"), { tenant: "acme" });
    src.put("GET /only-acme", prog("acme"), { tenant: "acme" });
    const t = new RouteTable(src);
    expect(t.resolve("acme", "GET", "/x")?.run.program.file.path).toBe("acme:GET /x");
    expect(t.resolve("default", "GET", "/x")?.run.program.file.path).toBe("default:GET /x");
    expect(resolveName(t, "GET", "/only-acme")).toBeNull();
    expect(resolveName(t, "GET", "/only-acme", "acme")?.route).toBe("GET /only-acme");
    expect(resolveName(t, "GET", "/x", "nobody")).toBeNull();
  });

  test("a route whose name does not parse is skipped; one whose code does not parse has no program", () => {
    const src = new MemoryRouteSource();
    src.put("FETCH users", prog("bad"));
    src.put("GET /broken", "[ (unclosed ");
    src.put("GET /fine", prog("ok"));
    const t = new RouteTable(src);
    expect(resolveName(t, "GET", "/fine")?.route).toBe("GET /fine");
    const broken = t.resolve("default", "GET", "/broken");
    expect(broken?.run.program.program).toBeNull();
    expect(broken?.run.program.diagnostics.length).toBeGreaterThan(0);
  });
});

describe("invalidation and caching", () => {
  /** A source that counts its listings, to show requests do not touch the store. */
  class CountingSource implements RouteSource {
    lists = 0;
    constructor(readonly inner: MemoryRouteSource) {}
    get seq(): number {
      return this.inner.seq;
    }
    listCode(tenant?: string): readonly RouteRecord[] {
      this.lists++;
      return this.inner.listCode(tenant);
    }
  }

  test("the table is rebuilt only when seq moves, and then serves the new code", () => {
    const mem = new MemoryRouteSource();
    mem.put("GET /v", prog("one"));
    const src = new CountingSource(mem);
    const t = new RouteTable(src);
    for (let i = 0; i < 100; i++) expect(resolveName(t, "GET", "/v")?.version).toBe(1);
    expect(src.lists).toBe(1);
    expect(t.stats.builds).toBe(1);
    mem.put("GET /v", prog("two"));
    expect(resolveName(t, "GET", "/v")?.version).toBe(2);
    expect(src.lists).toBe(2);
    mem.remove("GET /v");
    expect(resolveName(t, "GET", "/v")).toBeNull();
  });

  test("programs are parsed once per hash, across routes and rebuilds", () => {
    const src = new MemoryRouteSource();
    src.put("GET /a", prog("same"));
    src.put("GET /b", prog("same"));
    const t = new RouteTable(src);
    const a = t.resolve("default", "GET", "/a")!.run.program;
    expect(t.resolve("default", "GET", "/b")!.run.program).toBe(a);
    expect(t.stats.parses).toBe(1);
    src.put("GET /c", prog("other"));
    expect(t.resolve("default", "GET", "/a")!.run.program).toBe(a);
    expect(t.stats.parses).toBe(2);
    // Going back to an earlier program (a rollback) reparses nothing.
    src.put("GET /c", prog("same"));
    expect(t.resolve("default", "GET", "/c")!.run.program).toBe(a);
    expect(t.stats.parses).toBe(2);
  });

  test("a match keeps the version it resolved while newer code is written", () => {
    const src = new MemoryRouteSource();
    src.put("GET /v", prog("one"));
    const t = new RouteTable(src);
    const before = t.resolve("default", "GET", "/v")!;
    src.put("GET /v", prog("two"));
    const after = t.resolve("default", "GET", "/v")!;
    expect(before.run.version).toBe(1);
    expect(after.run.version).toBe(2);
    expect(before.run.program.file.text).toContain("one");
  });

  test(`at most ${COMPILED_PROGRAMS_MAX} programs stay compiled across rebuilds`, () => {
    const src = new MemoryRouteSource();
    const t = new RouteTable(src);
    for (let i = 0; i < COMPILED_PROGRAMS_MAX; i++) src.put(`GET /r${i}`, prog(`p${i}`));
    t.resolve("default", "GET", "/r0");
    expect(t.stats.parses).toBe(COMPILED_PROGRAMS_MAX);
    // At the maximum a rebuild finds every program cached (the same code written again moves seq).
    src.put("GET /r0", prog("p0"));
    t.resolve("default", "GET", "/r0");
    expect(t.stats.parses).toBe(COMPILED_PROGRAMS_MAX);
    // One past it the least recently used program is dropped, and the next rebuild parses again.
    src.put("GET /extra", prog("extra"));
    t.resolve("default", "GET", "/r0");
    expect(t.stats.parses).toBe(COMPILED_PROGRAMS_MAX + 1);
    src.put("GET /r0", prog("p0"));
    t.resolve("default", "GET", "/r0");
    expect(t.stats.parses).toBeGreaterThan(COMPILED_PROGRAMS_MAX + 1);
  });

  test(`at most ${TENANT_TABLES_MAX} tenant tables are kept`, () => {
    const src = new MemoryRouteSource();
    src.put("GET /", prog("x"));
    const t = new RouteTable(src);
    for (let i = 0; i < TENANT_TABLES_MAX; i++) t.resolve(`t${i}`, "GET", "/");
    t.resolve("t0", "GET", "/");
    expect(t.stats.builds).toBe(TENANT_TABLES_MAX);
    t.resolve("one-more", "GET", "/");
    t.resolve("t0", "GET", "/");
    expect(t.stats.builds).toBe(TENANT_TABLES_MAX + 2);
  });
});

describe("remembered matches", () => {
  test("a static route is matched once per spelling of its path; code changes are seen at once", () => {
    const src = new MemoryRouteSource();
    src.put("GET /a", prog("one"));
    src.put("GET /p/:id", prog("param"));
    const t = new RouteTable(src);
    for (let i = 0; i < 3; i++) expect(resolveName(t, "GET", "/a")).toEqual({ route: "GET /a", version: 1, params: {} });
    expect(t.stats.matches).toBe(1);
    // Parameter routes are matched every time: their paths are unbounded.
    for (let i = 0; i < 3; i++) expect(resolveName(t, "GET", `/p/${i}`)?.params).toEqual({ id: String(i) });
    expect(t.stats.matches).toBe(4);
    src.put("GET /a", prog("two"));
    expect(resolveName(t, "GET", "/a")?.version).toBe(2);
    src.put("POST /a", prog("post"));
    expect(resolveName(t, "POST", "/a")?.route).toBe("POST /a");
    expect(resolveName(t, "GET", "/a")?.route).toBe("GET /a");
  });

  test(`at most ${ROUTE_HITS_MAX} spellings are remembered per tenant table`, () => {
    const src = new MemoryRouteSource();
    src.put("GET /a", prog("a"));
    const t = new RouteTable(src);
    // `/a`, `/a/`, `/a//`, … all name the static route `/a`.
    const spelling = (k: number) => "/a" + "/".repeat(k);
    for (let k = 0; k < ROUTE_HITS_MAX; k++) expect(resolveName(t, "GET", spelling(k))?.route).toBe("GET /a");
    for (let k = 0; k < ROUTE_HITS_MAX; k++) t.resolve("default", "GET", spelling(k));
    expect(t.stats.matches).toBe(ROUTE_HITS_MAX);
    expect(resolveName(t, "GET", spelling(ROUTE_HITS_MAX))?.route).toBe("GET /a");
    expect(resolveName(t, "GET", spelling(ROUTE_HITS_MAX))?.route).toBe("GET /a");
    expect(t.stats.matches).toBe(ROUTE_HITS_MAX + 2);
  });

  test("a route with a split is drawn per request, not remembered", () => {
    const src = new MemoryRouteSource();
    src.put("GET /s", prog("v1"));
    src.put("GET /s", prog("v2"), { meta: { split: [{ version: 1, weight: 1 }, { version: 2, weight: 1 }] } });
    const rng = new Rng(7);
    const t = new RouteTable(src, { random: () => rng.next() });
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) seen.add(t.resolve("default", "GET", "/s")!.run.version);
    expect([...seen].sort()).toEqual([1, 2]);
  });
});

describe("budgets", () => {
  test("from meta, within the ceilings, defaults otherwise", () => {
    expect(budgetOf({})).toEqual({ steps: HANDLER_STEPS_DEFAULT, timeMs: HANDLER_TIME_MS_DEFAULT });
    expect(budgetOf({ budgetSteps: 500, budgetMs: 20 })).toEqual({ steps: 500, timeMs: 20 });
    expect(budgetOf({ budgetSteps: HANDLER_STEPS_MAX, budgetMs: HANDLER_TIME_MS_MAX })).toEqual({ steps: HANDLER_STEPS_MAX, timeMs: HANDLER_TIME_MS_MAX });
    expect(budgetOf({ budgetSteps: HANDLER_STEPS_MAX + 1, budgetMs: HANDLER_TIME_MS_MAX + 1 })).toEqual({ steps: HANDLER_STEPS_MAX, timeMs: HANDLER_TIME_MS_MAX });
    expect(budgetOf({ budgetSteps: 0, budgetMs: "5" })).toEqual({ steps: HANDLER_STEPS_DEFAULT, timeMs: HANDLER_TIME_MS_DEFAULT });
  });
});

describe("weighted splits", () => {
  const N = 1000;
  const splitSource = (meta: Record<string, unknown>) => {
    const src = new MemoryRouteSource();
    src.put("GET /r", prog("v1"));
    src.put("GET /r", prog("v2"));
    src.put("GET /r", prog("v3"), { meta });
    return src;
  };

  test(`random 70/20/10 over ${N} requests lands within tolerance (seeded)`, () => {
    const seed = 42;
    const rng = new Rng(seed);
    const src = splitSource({ split: [{ version: 1, weight: 70 }, { version: 2, weight: 20 }, { version: 3, weight: 10 }] });
    const t = new RouteTable(src, { random: () => rng.next() });
    const counts = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const v = t.resolve("default", "GET", "/r")!.run.version;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    // Within four standard deviations of the expected counts (binomial), so the check is not flaky.
    for (const [v, p] of [[1, 0.7], [2, 0.2], [3, 0.1]] as const) {
      const sd = Math.sqrt(N * p * (1 - p));
      expect(Math.abs((counts.get(v) ?? 0) - N * p), `version ${v}, seed ${seed}`).toBeLessThan(4 * sd);
    }
  });

  test(`sticky 90/10 by IP over ${N} clients: proportions hold and each client keeps its version`, () => {
    const src = splitSource({ split: [{ version: 3, weight: 90 }, { version: 1, weight: 10 }], sticky: true });
    const t = new RouteTable(src, { random: () => 0 });
    const client = (i: number) => ({ ip: `192.168.${i >> 8}.${i & 255}`, header: () => null });
    let old = 0;
    for (let i = 0; i < N; i++) {
      const v = t.resolve("default", "GET", "/r", client(i))!.run.version;
      if (v === 1) old++;
      for (let k = 0; k < 3; k++) expect(t.resolve("default", "GET", "/r", client(i))!.run.version).toBe(v);
    }
    const sd = Math.sqrt(N * 0.1 * 0.9);
    expect(Math.abs(old - 100)).toBeLessThan(4 * sd);
  });

  test("sticky by header keys on the header's value", () => {
    const src = splitSource({ split: [{ version: 3, weight: 50 }, { version: 2, weight: 50 }], sticky: true, stickyKey: "header:x-user" });
    const t = new RouteTable(src);
    const versions = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const c = { ip: `10.0.0.${i}`, header: (n: string) => (n === "x-user" ? "alice" : null) };
      versions.add(t.resolve("default", "GET", "/r", c)!.run.version);
    }
    expect(versions.size).toBe(1);
  });

  test("a split naming a missing version drops that arm; no arms left means the current version", () => {
    const src = splitSource({ split: [{ version: 9, weight: 99 }, { version: 2, weight: 1 }] });
    const t = new RouteTable(src, { random: () => 0 });
    expect(t.resolve("default", "GET", "/r")!.run.version).toBe(2);
    const only = splitSource({ split: [{ version: 9, weight: 1 }] });
    expect(new RouteTable(only).resolve("default", "GET", "/r")!.run.version).toBe(3);
  });

  test("a source without getCode serves the current version only", () => {
    const mem = splitSource({ split: [{ version: 1, weight: 99 }, { version: 3, weight: 1 }] });
    const src: RouteSource = { get seq() { return mem.seq; }, listCode: (tenant) => mem.listCode(tenant) };
    expect(new RouteTable(src, { random: () => 0 }).resolve("default", "GET", "/r")!.run.version).toBe(3);
  });
});
