/**
 * A tenant's `kv` stores in a node. Memory stores live as long as the node, bounded in what they
 * hold (tenant-memory-kv.ts); disk stores live in the node's database (table kv, keyed by tenant and
 * store name), whatever path the program gave, so a tenant's code reaches neither the file system
 * nor another tenant's data. Each write is its own commit: a value acknowledged to a handler
 * survives the node being killed (the store skips the fsync for kv writes, so a power loss may lose
 * the last ones).
 */
import { KV_TABLE, valueEquals, type KvStore, type KvTable, type StoreRead } from "../kernel/mod.ts";
import { decode, encode } from "../lang/codec.ts";
import type { ScopeKey, Value } from "../lang/mod.ts";
import type { Store } from "../store/mod.ts";
import { BoundedMemoryStore, MemoryBudget } from "./tenant-memory-kv.ts";

/** Most stores one tenant may open; names come from code, so this bounds what code can make a node hold. */
export const TENANT_KV_STORES_MAX = 1_000;

/** One persistent store of one tenant, in the node's database. */
class NodeDiskStore implements KvStore {
  constructor(
    private readonly store: Store,
    private readonly tenant: string,
    private readonly name: string,
  ) {}

  get(key: string): StoreRead {
    const bytes = this.store.kvGet(this.tenant, this.name, key);
    if (bytes === null) return { kind: "missing" };
    const r = decode(bytes);
    return r.ok ? { kind: "value", value: r.value } : { kind: "corrupt" };
  }
  set(key: string, v: Value): boolean {
    try {
      this.store.kvSet(this.tenant, this.name, key, encode(v));
      return true;
    } catch {
      // Over a limit or the disk refused: the kernel answers with its error value; the store logs I/O errors.
      return false;
    }
  }
  setIfAbsent(key: string, v: Value): boolean {
    // Handlers run one at a time on the node's thread, so read-then-write cannot interleave.
    return this.store.kvGet(this.tenant, this.name, key) === null && this.set(key, v);
  }
  delete(key: string): boolean {
    try {
      this.store.kvDelete(this.tenant, this.name, key);
      return true; // Like the original disk store: deleting a missing key succeeds.
    } catch {
      return false;
    }
  }
  compareAndSwap(key: string, expected: Value, next: Value): boolean {
    const cur = this.get(key);
    return cur.kind === "value" && valueEquals(cur.value, expected) && this.set(key, next);
  }
  close(): void {}
}

/** The stores one tenant has opened in this node. */
class TenantKvTable implements KvTable {
  private readonly stores = new Map<string, KvStore>();
  /** What the tenant's memory stores hold together (tenant-memory-kv.ts). */
  private readonly memory: MemoryBudget;

  constructor(
    private readonly store: Store,
    private readonly tenant: string,
  ) {
    this.memory = new MemoryBudget(tenant);
  }

  get(name: string): KvStore | undefined {
    return this.stores.get(name);
  }
  openMemory(name: string): void {
    if (!this.stores.has(name) && this.room()) this.stores.set(name, new BoundedMemoryStore(this.memory, name));
  }
  openDisk(name: string, _path: string): void {
    if (this.stores.has(name)) return;
    if (!this.room()) throw new RangeError(`tenant "${this.tenant}" has ${TENANT_KV_STORES_MAX} kv stores open`);
    this.stores.set(name, new NodeDiskStore(this.store, this.tenant, name));
  }
  private room(): boolean {
    return this.stores.size < TENANT_KV_STORES_MAX;
  }
}

/** The kv service entry for a tenant's scope. */
export function tenantKvService(store: Store, tenant: string): [ScopeKey<unknown>, unknown] {
  return [KV_TABLE as ScopeKey<unknown>, new TenantKvTable(store, tenant)];
}
