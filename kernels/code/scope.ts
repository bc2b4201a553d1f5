/**
 * What the `code` kernel needs from its embedder: the code store of the tenant the program runs for,
 * offered through the session scope under CODE_STORE. Outside a node there is none.
 */
import { ScopeKey } from "../../src/lang/host.ts";

/** A change that was refused, with the reason as the program sees it. */
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
