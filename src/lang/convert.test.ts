/**
 * `cast` of a string to a list reuses the list made for the same string lately (convert.ts,
 * byteList): the lists must be the string's bytes whatever the cache holds.
 */
import { describe, expect, test } from "bun:test";
import { BYTE_LIST_CACHED_CHARS_MAX, castValue } from "./convert.ts";
import { List, Str, T_BRACE, T_BRACKET, T_PAREN, type ListKind } from "./value.ts";

const bytesOf = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const cast = (kind: ListKind, s: Str): List => castValue(kind, false, s, 0) as List;

describe("cast of a string to a list", () => {
  test("gives the string's bytes as a list of the kind asked for, for every kind in turn", () => {
    const s = new Str("(kv/set store:key\0\xff");
    for (const kind of [T_BRACE, T_PAREN, T_BRACKET, T_BRACE] as ListKind[]) {
      const l = cast(kind, s);
      expect(l.t).toBe(kind);
      expect([...l.items]).toEqual(bytesOf(s.s));
    }
  });

  test("the same string cast again gives the same list, up to the longest kept", () => {
    const at = new Str("x".repeat(BYTE_LIST_CACHED_CHARS_MAX));
    expect(cast(T_BRACE, at)).toBe(cast(T_BRACE, at));
    const past = new Str("y".repeat(BYTE_LIST_CACHED_CHARS_MAX + 1));
    const a = cast(T_BRACE, past);
    const b = cast(T_BRACE, past);
    expect(a).not.toBe(b);
    expect([...b.items]).toEqual(bytesOf(past.s));
  });

  test("strings of the same length take each other's slot without mixing their bytes", () => {
    const strs = Array.from({ length: 50 }, (_, i) => new Str(`k${String(i).padStart(3, "0")}`));
    for (let round = 0; round < 3; round++) {
      for (const s of strs) expect([...cast(T_BRACE, s).items]).toEqual(bytesOf(s.s));
    }
  });
});
