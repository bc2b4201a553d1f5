/**
 * Services an embedder (a node) offers kernels through a session's scope (`cx.scope.service(KEY)`),
 * declared here so the embedder and every copy of a kernel agree on the key objects: a key is found
 * by identity, so one defined in a kernel's own file would not be the node's once that kernel is
 * loaded from disk. Outside a node `cx.scope` is null and kernels fall back to their own behaviour.
 */
import { ScopeKey } from "../../lang/host.ts";
import type { Value } from "../../lang/value.ts";

/** A change to stored code that was refused, with the reason as the program sees it. */
export interface CodeRefusal {
  readonly refused: string;
}

/** One tenant's code, as the `code` kernel reads and writes it. Texts are JS (UTF-16) strings. */
export interface CodeStoreService {
  /** Checks and stores a new version (with meta, e.g. a job's intervalMs); its number, or why not. */
  put(name: string, source: string, meta?: Record<string, unknown>): number | CodeRefusal;
  /** The current version's source and number, or null when there is no such code. */
  get(name: string): { readonly source: string; readonly version: number } | null;
  /** Names with a current version. */
  list(): string[];
  /** Makes the previous version current again (as a new version); its number, or why not. */
  rollback(name: string): number | CodeRefusal;
  /** Removes the name (its versions are kept); null, or why not. */
  remove(name: string): CodeRefusal | null;
}

/** The scope key under which a node offers a tenant's CodeStoreService. */
export const CODE_STORE = new ScopeKey<CodeStoreService>("code");

/** What `get` found: a value, nothing under that key, or stored bytes that do not decode. */
export type StoreRead = { readonly kind: "value"; readonly value: Value } | { readonly kind: "missing" } | { readonly kind: "corrupt" };

/** A named store of values under string keys (the `kv` kernel's stores). */
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

/**
 * The `kv` stores one program (or one tenant) can address, by name. With a node's table, store
 * names are the tenant's own and `open-disk` keeps data where the node decides (its database),
 * never at a path the program chose.
 */
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

/** One node as the `cluster` kernel shows it. Texts are JS (UTF-16) strings. */
export interface ClusterNodeInfo {
  readonly name: string;
  /** `alive`, `suspect`, `dead` or `left` (this node is always `alive`). */
  readonly state: string;
  readonly roles: readonly string[];
  readonly labels: readonly (readonly [string, string])[];
  /** Backchannel and HTTP addresses (`host:port`), or null while unknown or off. */
  readonly backchannel: string | null;
  readonly http: string | null;
  /** Its kernel set, or null when this node does not know it. */
  readonly kernels: readonly string[] | null;
  /** True for the node the code runs on. */
  readonly self: boolean;
}

/** What became of one node of a `cluster/exec`: its value in SLP source form, or why not. */
export type ClusterExecResult =
  | { readonly node: string; readonly status: "ok"; readonly value: string }
  | { readonly node: string; readonly status: "error"; readonly error: string }
  | { readonly node: string; readonly status: "timeout" }
  | { readonly node: string; readonly status: "unreachable"; readonly detail: string };

/**
 * The cluster this node is part of, as the `cluster` kernel reads and commands it. `exec` is
 * synchronous (kernel functions are): it returns within `waitMs` (the caller's remaining budget,
 * capped by the node), with `timeout` for the nodes that had not answered by then.
 */
export interface ClusterService {
  /** This node. */
  self(): ClusterNodeInfo;
  /** Every member this node knows, itself first. */
  nodes(): ClusterNodeInfo[];
  /** Runs `code` on the nodes `selector` picks: one result per node, or why nothing ran (a bad selector, no `admin` permission). */
  exec(selector: string, code: string, waitMs: number): readonly ClusterExecResult[] | CodeRefusal;
}

/** The scope key under which a node offers its ClusterService (null outside a cluster node). */
export const CLUSTER = new ScopeKey<ClusterService>("cluster");
