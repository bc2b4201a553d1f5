/**
 * The memory store, which keeps values as the immutable values they are (the KvStore interface is
 * the kernel API's, which a node's stores implement too). The disk store is in ./disk-store.ts. Both
 * compare for `cas` by structure (the API's valueEquals), never by origin, which the kernels spec
 * (§9.6) allows.
 */
import { valueEquals, type KvStore, type StoreRead, type Value } from "sup/kernel";

/** A store that lives as long as its kernel instance. */
export class MemoryStore implements KvStore {
  private readonly map = new Map<string, Value>();

  get(key: string): StoreRead {
    const v = this.map.get(key);
    return v === undefined ? { kind: "missing" } : { kind: "value", value: v };
  }
  set(key: string, v: Value): boolean {
    this.map.set(key, v);
    return true;
  }
  setIfAbsent(key: string, v: Value): boolean {
    if (this.map.has(key)) return false;
    this.map.set(key, v);
    return true;
  }
  delete(key: string): boolean {
    // The original's memory store reports deleting a missing key as a failure.
    return this.map.delete(key);
  }
  compareAndSwap(key: string, expected: Value, next: Value): boolean {
    const cur = this.map.get(key);
    if (cur === undefined || !valueEquals(cur, expected)) return false;
    this.map.set(key, next);
    return true;
  }
  close(): void {
    this.map.clear();
  }
}
