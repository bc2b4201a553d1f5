/**
 * The scopes a node's code runs in: one per tenant, carrying the services kernels may use on that
 * tenant's behalf (its kv data, its code). A kernel only ever sees the scope of the request or job
 * it was called for, so one tenant's code has no handle on another's data.
 */
import type { ScopeKey, SessionScope } from "../lang/mod.ts";

/** Builds the services of one tenant's scope. */
export type ServiceFactory = (tenant: string) => ReadonlyMap<ScopeKey<unknown>, unknown>;

/** One tenant's scope: a fixed set of services. */
class TenantScope implements SessionScope {
  constructor(
    readonly tenant: string,
    private readonly services: ReadonlyMap<ScopeKey<unknown>, unknown>,
  ) {}

  service<T>(key: ScopeKey<T>): T | undefined {
    return this.services.get(key as ScopeKey<unknown>) as T | undefined;
  }
}

/** Tenant scopes, built on first use and kept (they are small and tenant names are bounded by the store's routes). */
export class NodeScopes {
  private readonly scopes = new Map<string, SessionScope>();

  constructor(private readonly factory: ServiceFactory) {}

  /** The scope code of `tenant` runs in. */
  for(tenant: string): SessionScope {
    let s = this.scopes.get(tenant);
    if (s === undefined) {
      s = new TenantScope(tenant, this.factory(tenant));
      this.scopes.set(tenant, s);
    }
    return s;
  }
}
