/**
 * A tenant's `kv` memory stores in a node, bounded: request data can reach them (a handler may store
 * what it was sent), and they live as long as the node, so every value is measured when it is stored
 * and a tenant's memory stores together hold at most TENANT_MEMORY_KV_BYTES_MAX. A write past a
 * limit is refused, which the kernel answers with its error value (`@(set: failed to store value)`),
 * and the node logs a warning the first time each store refuses one.
 */
import { valueEquals, type KvStore, type StoreRead } from "../kernel/mod.ts";
import { Aberrant, List, Str, Sym, Wrap, type Value } from "../lang/mod.ts";
import { log } from "../log.ts";
import { KV_KEY_BYTES_MAX, KV_VALUE_BYTES_MAX } from "../store/limits.ts";

/**
 * What one tenant's memory stores may hold, by the estimate below: far more than a cache of sessions
 * or counters needs, and small enough that a node with many tenants is not at the mercy of one.
 */
export const TENANT_MEMORY_KV_BYTES_MAX = 64 * 1024 * 1024;

/** What every stored value or key is counted as besides its contents: a map entry and an object. */
const ENTRY_OVERHEAD_BYTES = 64;
/** What one value node (a number, a list, a wrapper) is counted as, besides its contents. */
const NODE_BYTES = 16;

/**
 * An estimate of the memory a value holds, in bytes, or Infinity once it passes `limit` (so a huge
 * value costs no more than `limit` to measure). Shared parts are counted each time they appear.
 */
export function valueBytes(v: Value, limit: number): number {
  let total = 0;
  const stack: Value[] = [v];
  while (stack.length > 0) {
    const x = stack.pop()!;
    total += NODE_BYTES;
    if (x instanceof Str) total += x.s.length;
    else if (x instanceof Sym) total += x.name.length;
    else if (x instanceof List) for (const item of x.items) stack.push(item);
    else if (x instanceof Wrap) stack.push(x.inner);
    else if (x instanceof Aberrant && x.inner !== null) stack.push(x.inner);
    if (total > limit) return Infinity;
  }
  return total;
}

/** The bytes a tenant's memory stores hold together. */
export class MemoryBudget {
  used = 0;
  constructor(readonly tenant: string) {}
}

/** One memory store of one tenant, counting what it holds against the tenant's budget. */
export class BoundedMemoryStore implements KvStore {
  private readonly map = new Map<string, { readonly value: Value; readonly bytes: number }>();
  private warned = false;

  constructor(
    private readonly budget: MemoryBudget,
    private readonly name: string,
  ) {}

  get(key: string): StoreRead {
    const e = this.map.get(key);
    return e === undefined ? { kind: "missing" } : { kind: "value", value: e.value };
  }

  set(key: string, v: Value): boolean {
    return this.put(key, v);
  }

  setIfAbsent(key: string, v: Value): boolean {
    return !this.map.has(key) && this.put(key, v);
  }

  delete(key: string): boolean {
    const e = this.map.get(key);
    if (e === undefined) return false; // as the original's memory store: deleting a missing key fails
    this.map.delete(key);
    this.budget.used -= e.bytes;
    return true;
  }

  compareAndSwap(key: string, expected: Value, next: Value): boolean {
    const e = this.map.get(key);
    return e !== undefined && valueEquals(e.value, expected) && this.put(key, next);
  }

  close(): void {
    for (const e of this.map.values()) this.budget.used -= e.bytes;
    this.map.clear();
  }

  /** Stores v under key when the key, the value and the tenant's total stay within their limits. */
  private put(key: string, v: Value): boolean {
    const old = this.map.get(key);
    const free = TENANT_MEMORY_KV_BYTES_MAX - this.budget.used + (old?.bytes ?? 0);
    const bytes = key.length > KV_KEY_BYTES_MAX ? Infinity : ENTRY_OVERHEAD_BYTES + key.length + valueBytes(v, Math.min(KV_VALUE_BYTES_MAX, free));
    if (bytes > free || bytes > KV_VALUE_BYTES_MAX) {
      if (!this.warned) {
        this.warned = true;
        log("warn", "kv memory store refused a value", { tenant: this.budget.tenant, store: this.name, usedBytes: this.budget.used, limitBytes: TENANT_MEMORY_KV_BYTES_MAX, valueLimitBytes: KV_VALUE_BYTES_MAX });
      }
      return false;
    }
    this.map.set(key, { value: v, bytes });
    this.budget.used += bytes - (old?.bytes ?? 0);
    return true;
  }
}
