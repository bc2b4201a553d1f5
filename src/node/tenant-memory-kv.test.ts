import { describe, expect, test } from "bun:test";
import { List, Str, T_BRACKET, sym } from "../lang/mod.ts";
import { KV_VALUE_BYTES_MAX } from "../store/limits.ts";
import { BoundedMemoryStore, MemoryBudget, TENANT_MEMORY_KV_BYTES_MAX, valueBytes } from "./tenant-memory-kv.ts";

/** What a string value under a one-letter key is counted as: entry, key, node, bytes. */
const counted = (chars: number) => 64 + 1 + 16 + chars;
/** A string that, stored under a one-letter key, counts exactly `bytes`. */
const worth = (bytes: number) => new Str("x".repeat(bytes - counted(0)));

describe("a tenant's memory kv stores are bounded", () => {
  test("values are measured by their contents, and the walk stops past its limit", () => {
    expect(valueBytes(new Str("abc"), Infinity)).toBe(19);
    expect(valueBytes(new List(T_BRACKET, [1, sym("ab"), new Str("c")]), Infinity)).toBe(16 + 16 + 18 + 17);
    const long = new List(T_BRACKET, Array.from({ length: 100_000 }, (_, i) => i));
    expect(valueBytes(long, 1000)).toBe(Infinity);
  });

  test("a value of exactly the value limit is stored; one byte more is refused", () => {
    const s = new BoundedMemoryStore(new MemoryBudget("t"), "m");
    expect(s.set("a", worth(KV_VALUE_BYTES_MAX))).toBe(true);
    expect(s.set("b", worth(KV_VALUE_BYTES_MAX + 1))).toBe(false);
    expect(s.get("b")).toEqual({ kind: "missing" });
  });

  test("a tenant's stores together hold exactly the tenant limit; past it writes are refused until room is made", () => {
    const budget = new MemoryBudget("t");
    const a = new BoundedMemoryStore(budget, "a");
    const b = new BoundedMemoryStore(budget, "b");
    const full = TENANT_MEMORY_KV_BYTES_MAX / KV_VALUE_BYTES_MAX;
    // Distinct one-letter keys, half in each store: the two share the tenant's budget.
    for (let i = 0; i < full; i++) expect((i < full / 2 ? a : b).set(String.fromCharCode(0x41 + i), worth(KV_VALUE_BYTES_MAX))).toBe(true);
    expect(budget.used).toBe(TENANT_MEMORY_KV_BYTES_MAX);
    expect(b.set("!", worth(counted(0)))).toBe(false);
    expect(a.setIfAbsent("!", worth(counted(0)))).toBe(false);
    // Deleting makes room; replacing a value counts only the difference.
    expect(a.delete("A")).toBe(true);
    expect(b.set("!", worth(KV_VALUE_BYTES_MAX))).toBe(true);
    expect(b.set("!", worth(KV_VALUE_BYTES_MAX - 100))).toBe(true);
    expect(budget.used).toBe(TENANT_MEMORY_KV_BYTES_MAX - 100);
    expect(a.setIfAbsent("A", worth(101))).toBe(false);
    expect(a.setIfAbsent("A", worth(100))).toBe(true);
    expect(budget.used).toBe(TENANT_MEMORY_KV_BYTES_MAX);
    a.close();
    b.close();
    expect(budget.used).toBe(0);
  });
});
