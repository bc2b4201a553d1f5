import { describe, expect, test } from "bun:test";
import { Rng } from "../../test/support/rng.ts";
import { RouteNameError } from "./errors.ts";
import { compareRank, matchSegments, parseRouteName, splitPath, type RoutePattern } from "./route-pattern.ts";

const match = (name: string, path: string) => {
  const m = matchSegments(parseRouteName(name), splitPath(path));
  return m === null ? null : Object.fromEntries(m);
};

describe("parseRouteName", () => {
  test("reads method, literal segments, params and rests", () => {
    const p = parseRouteName("GET /users/:id/files/*rest?");
    expect(p.method).toBe("GET");
    expect(p.segments).toEqual([
      { kind: "static", text: "users" },
      { kind: "param", name: "id", optional: false },
      { kind: "static", text: "files" },
      { kind: "rest", name: "rest", optional: true },
    ]);
    expect(p.isStatic).toBe(false);
    expect(parseRouteName("ANY /").segments).toEqual([]);
    expect(parseRouteName("POST /a/b").isStatic).toBe(true);
  });

  test("rejects malformed names with a RouteNameError saying why", () => {
    const rows: [string, string][] = [
      ["/users", "expected an upper-case method"],
      ["get /users", "expected an upper-case method"],
      ["GET users", "must start with /"],
      ["GET", "expected an upper-case method"],
      ["GET /a/:", 'invalid parameter name ""'],
      ["GET /a/:1x", 'invalid parameter name "1x"'],
      ["GET /a/:id/:id", 'parameter "id" appears twice'],
      ["GET /a/:id?/b", '":id?" must be the last segment'],
      ["GET /a/*rest/b", '"*rest" must be the last segment'],
    ];
    for (const [name, detail] of rows) {
      expect(() => parseRouteName(name)).toThrow(RouteNameError);
      expect(() => parseRouteName(name)).toThrow(detail);
    }
  });
});

describe("matching", () => {
  test("params take one segment; literals must be equal", () => {
    expect(match("GET /users/:id", "/users/7")).toEqual({ id: "7" });
    expect(match("GET /users/:id", "/users")).toBeNull();
    expect(match("GET /users/:id", "/users/7/x")).toBeNull();
    expect(match("GET /users/:id", "/user/7")).toBeNull();
    expect(match("GET /", "/")).toEqual({});
    expect(match("GET /", "/x")).toBeNull();
  });

  test("optional params and rests", () => {
    expect(match("GET /a/:x?", "/a")).toEqual({});
    expect(match("GET /a/:x?", "/a/1")).toEqual({ x: "1" });
    expect(match("GET /a/:x?", "/a/1/2")).toBeNull();
    expect(match("GET /f/*path", "/f")).toBeNull();
    expect(match("GET /f/*path", "/f/a/b/c")).toEqual({ path: "a/b/c" });
    expect(match("GET /f/*path?", "/f")).toEqual({});
    expect(match("GET /f/*path?", "/f/a")).toEqual({ path: "a" });
  });

  test("segments are percent-decoded after splitting; empty segments are ignored", () => {
    expect(match("GET /users/:id", "/users/caf%C3%A9")).toEqual({ id: "café" });
    expect(match("GET /users/:id", "/users/a%2Fb")).toEqual({ id: "a/b" });
    expect(match("GET /a b/:x", "/a%20b/1")).toEqual({ x: "1" });
    expect(match("GET /a/b", "//a///b/")).toEqual({});
    // A malformed escape is kept as written rather than failing the request.
    expect(match("GET /x/:v", "/x/%E0%A4%A")).toEqual({ v: "%E0%A4%A" });
  });
});

describe("ranking", () => {
  const order = (names: string[]) => names.map(parseRouteName).sort(compareRank).map((p) => p.name);

  test("literal beats param beats optional param beats rest, segment by segment", () => {
    expect(order(["GET /a/*r", "GET /a/:x?", "GET /a/:x", "GET /a/b"])).toEqual(["GET /a/b", "GET /a/:x", "GET /a/:x?", "GET /a/*r"]);
    expect(order(["GET /:x/b", "GET /a/:y"])).toEqual(["GET /a/:y", "GET /:x/b"]);
  });

  test("longer beats shorter; the exact pattern beats one with an optional tail", () => {
    expect(order(["GET /a/*r", "GET /a/:x/*r"])).toEqual(["GET /a/:x/*r", "GET /a/*r"]);
    expect(order(["GET /a/:x?", "GET /a"])).toEqual(["GET /a", "GET /a/:x?"]);
    expect(order(["GET /a/*r?", "GET /a"])).toEqual(["GET /a", "GET /a/*r?"]);
  });

  test("an exact method beats ANY, then names order", () => {
    expect(order(["ANY /a/:x", "GET /a/:x"])).toEqual(["GET /a/:x", "ANY /a/:x"]);
    expect(order(["GET /a/:y", "GET /a/:x"])).toEqual(["GET /a/:x", "GET /a/:y"]);
  });

  test("the order is total and independent of input order (seeded shuffles)", () => {
    const names = [
      "GET /",
      "GET /a",
      "GET /a/b",
      "GET /a/:x",
      "GET /a/:x?",
      "GET /a/*r",
      "GET /a/*r?",
      "ANY /a/:x",
      "GET /:p",
      "GET /:p/b",
      "GET /:p/:q",
      "GET /*all",
      "POST /a/:x",
      "GET /a/:x/*r",
      "GET /a/b/c",
    ];
    const expected = order(names);
    const seed = 7;
    const rng = new Rng(seed);
    for (let i = 0; i < 200; i++) {
      const shuffled = [...names];
      for (let j = shuffled.length - 1; j > 0; j--) {
        const k = rng.int(j + 1);
        [shuffled[j], shuffled[k]] = [shuffled[k]!, shuffled[j]!];
      }
      expect(order(shuffled)).toEqual(expected);
    }
    // Transitivity over every triple.
    const ps: RoutePattern[] = names.map(parseRouteName);
    for (const a of ps) for (const b of ps) for (const c of ps) if (compareRank(a, b) <= 0 && compareRank(b, c) <= 0) expect(compareRank(a, c)).toBeLessThanOrEqual(0);
  });
});
