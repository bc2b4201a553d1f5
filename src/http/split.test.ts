import { describe, expect, test } from "bun:test";
import { SPLIT_ARMS_MAX } from "./limits.ts";
import { cookieValue, parseSplit, pickArm, stickyKey, stickyRoll, type SplitRule } from "./split.ts";

const rule = (meta: Record<string, unknown>): SplitRule => {
  const r = parseSplit(meta);
  if (r === null || typeof r === "string") throw new Error(`no split: ${r}`);
  return r;
};

describe("parseSplit", () => {
  test("reads arms, drops zero weights, and reads stickiness", () => {
    const r = rule({ split: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }, { version: 3, weight: 0 }] });
    expect(r.arms).toEqual([{ version: 1, weight: 90 }, { version: 2, weight: 10 }]);
    expect(r.total).toBe(100);
    expect(r.sticky).toBeNull();
    expect(rule({ split: [{ version: 1, weight: 1 }], sticky: true }).sticky).toEqual({ kind: "ip" });
    expect(rule({ split: [{ version: 1, weight: 1 }], sticky: true, stickyKey: "header:X-User" }).sticky).toEqual({ kind: "header", name: "x-user" });
    expect(rule({ split: [{ version: 1, weight: 1 }], sticky: true, stickyKey: "cookie:sid" }).sticky).toEqual({ kind: "cookie", name: "sid" });
  });

  test("no split, or only zero weights, is null; malformed meta says what is wrong", () => {
    expect(parseSplit({})).toBeNull();
    expect(parseSplit({ split: [{ version: 1, weight: 0 }] })).toBeNull();
    expect(parseSplit({ split: 3 })).toBe("split must be a list of {version, weight}");
    expect(parseSplit({ split: [{ version: 0, weight: 1 }] })).toBe("split version 0 is not a version number");
    expect(parseSplit({ split: [{ version: 1, weight: -1 }] })).toBe("split weight -1 is not a non-negative number");
    expect(parseSplit({ split: [{ version: 1, weight: 1 }], sticky: true, stickyKey: "ear" })).toBe('stickyKey "ear" is not "ip", "header:<name>" or "cookie:<name>"');
  });

  test(`at most ${SPLIT_ARMS_MAX} arms are kept`, () => {
    const arms = (n: number) => Array.from({ length: n }, (_, i) => ({ version: i + 1, weight: 1 }));
    expect(rule({ split: arms(SPLIT_ARMS_MAX) }).arms.length).toBe(SPLIT_ARMS_MAX);
    expect(rule({ split: arms(SPLIT_ARMS_MAX + 1) }).arms.length).toBe(SPLIT_ARMS_MAX);
  });
});

describe("picking", () => {
  const r = rule({ split: [{ version: 1, weight: 3 }, { version: 2, weight: 1 }] });
  test("rolls map to arms by cumulative weight, boundaries included", () => {
    expect(pickArm(r, 0).version).toBe(1);
    expect(pickArm(r, 0.7499).version).toBe(1);
    expect(pickArm(r, 0.75).version).toBe(2);
    expect(pickArm(r, 0.9999999).version).toBe(2);
  });

  test("sticky rolls are deterministic, salted, and spread evenly over consecutive keys", () => {
    expect(stickyRoll("10.0.0.1", "GET /")).toBe(stickyRoll("10.0.0.1", "GET /"));
    expect(stickyRoll("10.0.0.1", "GET /")).not.toBe(stickyRoll("10.0.0.1", "GET /x"));
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(stickyRoll(`10.0.${i >> 8}.${i & 255}`, "GET /") * 10)]!++;
    for (const b of buckets) expect(Math.abs(b - 1000)).toBeLessThan(150);
  });

  test("client keys come from the IP, a header or a cookie", () => {
    const client = { ip: "1.2.3.4", header: (n: string) => ({ "x-user": "u1", cookie: "a=1; sid=abc; b=2" })[n] ?? null };
    expect(stickyKey({ kind: "ip" }, client)).toBe("1.2.3.4");
    expect(stickyKey({ kind: "header", name: "x-user" }, client)).toBe("u1");
    expect(stickyKey({ kind: "cookie", name: "sid" }, client)).toBe("abc");
    expect(stickyKey({ kind: "cookie", name: "nope" }, client)).toBe("");
    expect(cookieValue(null, "a")).toBeNull();
  });
});
