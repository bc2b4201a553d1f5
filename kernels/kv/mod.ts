/**
 * The `kv` kernel (kernels spec §9): named stores of values, in memory or on disk, addressed by
 * literal `store:key` symbols. Invariants: store names and designators are never evaluated; checks
 * run in the spec's order (argument count, designator shape, store open) before any value is
 * evaluated; every failure is an error value, never an exception. Store names are global within
 * one kernel instance (one runtime), unless the session's scope offers a KvTable under KV_TABLE
 * (a node: one per tenant; with it store names are the tenant's own and `open-disk` keeps data
 * where the node decides). Imports only the kernel API.
 */
import { join } from "node:path";
import { KV_TABLE, Str, Sym, errorValue, parseValue, textFromLatin1, type CallContext, type KernelDefinition, type KernelFn, type KernelInstance, type KvStore, type KvTable, type Value } from "sup/kernel";
import { DiskStore } from "./disk-store.ts";
import { MemoryStore } from "./stores.ts";

const errorCache = new Map<string, Value>();

/**
 * The error value `@(<text>)` exactly as the original builds it: by parsing that text, so a word
 * such as `2` in "set requires 2 arguments" is an integer, not a symbol. Values are immutable, so
 * each text is parsed once.
 */
export function kvError(text: string): Value {
  let v = errorCache.get(text);
  if (v === undefined) {
    v = parseValue("@(" + text + ")") ?? errorValue(text);
    errorCache.set(text, v);
  }
  return v;
}

/** A designator resolved to its open store and key, or the error value that stopped it. */
type Target = { readonly ok: true; readonly store: KvStore; readonly key: string } | { readonly ok: false; readonly error: Value };

/** The failed Target for an error text. */
const fail = (text: string): Target => ({ ok: false, error: kvError(text) });

/** The original's table: stores global to the kernel instance, disk stores at the path given. */
class LocalTable implements KvTable {
  readonly stores = new Map<string, KvStore>();

  get(name: string): KvStore | undefined {
    return this.stores.get(name);
  }
  openMemory(name: string): void {
    if (!this.stores.has(name)) this.stores.set(name, new MemoryStore());
  }
  openDisk(name: string, path: string): void {
    // Relative to the process's current directory, as in the original (not the -w directory).
    if (!this.stores.has(name)) this.stores.set(name, new DiskStore(join(path, textFromLatin1(name))));
  }
}

/** Creates one kernel instance with its own set of open stores. */
const createKv = (): KernelInstance => {
  const local = new LocalTable();
  /** The stores a call may address: its tenant's when a node runs it, else this instance's. */
  const tableOf = (cx: CallContext): KvTable => cx.scope?.service(KV_TABLE) ?? local;

  /** Validates `fn`'s designator (first argument) in the spec's order. */
  const resolve = (cx: CallContext, fn: string, args: readonly Value[], count: number): Target => {
    if (args.length < count) return fail(`${fn} requires ${count} argument${count === 1 ? "" : "s"}`);
    const d = args[0];
    if (!(d instanceof Sym)) return fail(`${fn} requires symbol:key format`);
    // Split at the first colon; both the store name and the key must be non-empty.
    const colon = d.name.indexOf(":");
    if (colon <= 0 || colon === d.name.length - 1) return fail(`${fn} requires symbol:key format`);
    const store = tableOf(cx).get(d.name.slice(0, colon));
    if (store === undefined) return fail(`${fn}: store not found`);
    return { ok: true, store, key: d.name.slice(colon + 1) };
  };

  const openMemory: KernelFn = (cx, args) => {
    if (args.length < 1) return kvError("open-memory requires 1 argument");
    const name = args[0];
    if (!(name instanceof Sym)) return kvError("open-memory requires symbol argument");
    tableOf(cx).openMemory(name.name);
    return 0;
  };

  const openDisk: KernelFn = (cx, args) => {
    if (args.length < 2) return kvError("open-disk requires 2 arguments");
    // The original evaluates the path before it looks at the (literal) name.
    const path = cx.eval(args[1]!);
    const name = args[0];
    if (!(name instanceof Sym) || !(path instanceof Str)) return kvError("open-disk requires symbol and string arguments");
    try {
      tableOf(cx).openDisk(name.name, textFromLatin1(path.s));
    } catch {
      return kvError("open-disk: failed to create store");
    }
    return 0;
  };

  const set: KernelFn = (cx, args) => {
    const t = resolve(cx, "set", args, 2);
    if (!t.ok) return t.error;
    const v = cx.eval(args[1]!);
    return attempt(() => t.store.set(t.key, v)) ? 0 : kvError("set: failed to store value");
  };

  const get: KernelFn = (cx, args) => {
    const t = resolve(cx, "get", args, 1);
    if (!t.ok) return t.error;
    let r: ReturnType<KvStore["get"]>;
    try {
      r = t.store.get(t.key);
    } catch {
      // A backend that cannot read answers like the original's failed lookup.
      return kvError("get: key not found");
    }
    if (r.kind === "missing") return kvError("get: key not found");
    if (r.kind === "corrupt") return kvError("deserialize: invalid data");
    return r.value;
  };

  const del: KernelFn = (cx, args) => {
    const t = resolve(cx, "del", args, 1);
    if (!t.ok) return t.error;
    return attempt(() => t.store.delete(t.key)) ? 0 : kvError("del: failed to delete key");
  };

  const snx: KernelFn = (cx, args) => {
    const t = resolve(cx, "snx", args, 2);
    if (!t.ok) return t.error;
    // The value is evaluated even when the key turns out to exist, as in the original.
    const v = cx.eval(args[1]!);
    return attempt(() => t.store.setIfAbsent(t.key, v)) ? 0 : kvError("snx: key already exists");
  };

  const cas: KernelFn = (cx, args) => {
    const t = resolve(cx, "cas", args, 3);
    if (!t.ok) return t.error;
    const expected = cx.eval(args[1]!);
    const next = cx.eval(args[2]!);
    return attempt(() => t.store.compareAndSwap(t.key, expected, next)) ? 0 : kvError("cas: comparison failed");
  };

  return {
    functions: { "open-memory": openMemory, "open-disk": openDisk, set, get, del, snx, cas },
    shutdown(): void {
      for (const s of local.stores.values()) s.close();
      local.stores.clear();
    },
  };
};

/** Runs a store operation; a backend failure (I/O, locked or corrupt database) counts as false. */
function attempt(op: () => boolean): boolean {
  try {
    return op();
  } catch {
    return false;
  }
}

const kv: KernelDefinition = { apiVersion: 1, create: createKv };

export default kv;
