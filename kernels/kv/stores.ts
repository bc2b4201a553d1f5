/**
 * The `kv` store interface and the memory store, which keeps values as the immutable values they
 * are. The disk store is in ./disk-store.ts. Both compare for `cas` by structure, never by origin,
 * which the kernels spec (§9.6) allows.
 */
import { Aberrant, List, Real, Str, Wrap, type Value } from "../../src/lang/value.ts";

/** What `get` found: a value, nothing under that key, or stored bytes that do not decode. */
export type StoreRead = { readonly kind: "value"; readonly value: Value } | { readonly kind: "missing" } | { readonly kind: "corrupt" };

/** A named store of values under string keys. */
export interface KvStore {
  get(key: string): StoreRead;
  /** Stores v under key; false when the backend refused. */
  set(key: string, v: Value): boolean;
  /** Stores v only when key is absent; false when it was present (or the backend refused). */
  setIfAbsent(key: string, v: Value): boolean;
  /** Deletes key; reports whether the store counts that as success. */
  delete(key: string): boolean;
  /** Replaces the value under key with next when it equals expected; false otherwise. */
  compareAndSwap(key: string, expected: Value, next: Value): boolean;
  close(): void;
}

const bitsView = new DataView(new ArrayBuffer(16));
/** Bit pattern equality of two doubles: -0.0 differs from 0.0, NaNs compare by payload. */
function sameBits(a: number, b: number): boolean {
  bitsView.setFloat64(0, a);
  bitsView.setFloat64(8, b);
  return bitsView.getBigUint64(0) === bitsView.getBigUint64(8);
}

/** Structural equality: same type and deep contents, reals bit-exact, aberrant values by identity. */
export function valueEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object") return false; // Ints are canonical, so === decided.
  if (a.t !== b.t) return false;
  if (a instanceof Real) return sameBits(a.v, (b as Real).v);
  if (a instanceof Str) return a.s === (b as Str).s;
  if (a instanceof List) {
    const bi = (b as List).items;
    if (a.items.length !== bi.length) return false;
    for (let i = 0; i < bi.length; i++) if (!valueEquals(a.items[i]!, bi[i]!)) return false;
    return true;
  }
  if (a instanceof Wrap) return valueEquals(a.inner, (b as Wrap).inner);
  if (a instanceof Aberrant) return a.id === (b as Aberrant).id;
  return a.t === 0; // NONE; a symbol is interned, so two different Sym objects never match.
}

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
