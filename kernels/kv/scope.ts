/**
 * How an embedding (a sup node) gives the `kv` kernel its stores: a KvTable per tenant, offered
 * through the session scope under KV_TABLE. With it, store names are the tenant's own (two tenants
 * opening `users` get two stores) and `open-disk` keeps data where the embedder decides (a node: its
 * database), never at a path the program chose. Without it (plain `sup run`), the kernel keeps the
 * original's behaviour: stores global to the kernel instance, disk stores at the given path.
 */
import { ScopeKey } from "../../src/lang/host.ts";
import type { KvStore } from "./stores.ts";

/** The open stores one program (or one tenant) can address, by name. */
export interface KvTable {
  /** The store opened under name, or undefined. */
  get(name: string): KvStore | undefined;
  /** Opens a store kept in memory under name (no-op when name is open). */
  openMemory(name: string): void;
  /** Opens a persistent store under name; `path` is where a plain run keeps it (no-op when name is open). Throws when it cannot. */
  openDisk(name: string, path: string): void;
}

/** The scope key under which a node offers a tenant's KvTable. */
export const KV_TABLE = new ScopeKey<KvTable>("kv");
