/**
 * A RouteSource held in memory: versioned routes per tenant with a change sequence, as the Store
 * keeps them, for tests and for embedding the HTTP layer without a database. Hashes are sha256 of
 * the source text (the Store hashes the parsed program; either identifies the code).
 */
import { createHash } from "node:crypto";
import type { RouteRecord, RouteSource } from "./route-table.ts";

/** Routes in memory; every write bumps `seq`. */
export class MemoryRouteSource implements RouteSource {
  private seqValue = 0;
  /** Versions by `tenant name`, oldest first; `current` is null after removal. */
  private readonly names = new Map<string, { versions: RouteRecord[]; current: RouteRecord | null }>();

  /** The latest change sequence. */
  get seq(): number {
    return this.seqValue;
  }

  /** Stores a new version of a route and makes it current; returns it. */
  put(name: string, source: string, options: { readonly tenant?: string; readonly meta?: Readonly<Record<string, unknown>> } = {}): RouteRecord {
    const tenant = options.tenant ?? "default";
    const key = `${tenant} ${name}`;
    const entry = this.names.get(key) ?? { versions: [], current: null };
    const rec: RouteRecord = { tenant, name, version: entry.versions.length + 1, hash: createHash("sha256").update(source).digest("hex"), source, meta: options.meta ?? {} };
    entry.versions.push(rec);
    entry.current = rec;
    this.names.set(key, entry);
    this.seqValue++;
    return rec;
  }

  /** Removes a route (its versions stay readable through getCode). */
  remove(name: string, tenant = "default"): void {
    const entry = this.names.get(`${tenant} ${name}`);
    if (entry === undefined || entry.current === null) return;
    entry.current = null;
    this.seqValue++;
  }

  /** Current versions, of one tenant or all. */
  listCode(tenant?: string): RouteRecord[] {
    const out: RouteRecord[] = [];
    for (const { current } of this.names.values()) if (current !== null && (tenant === undefined || current.tenant === tenant)) out.push(current);
    return out;
  }

  /** A given version (the current one when omitted), or null. */
  getCode(tenant: string, name: string, version?: number): RouteRecord | null {
    const entry = this.names.get(`${tenant} ${name}`);
    if (entry === undefined) return null;
    return version === undefined ? entry.current : (entry.versions[version - 1] ?? null);
  }
}
