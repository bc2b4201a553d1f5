/**
 * A tenant's code as the `code` kernel sees it: the same checked writes as the admin interface
 * (parse + type check, rejected with the first diagnostics), bound to one tenant, with the author
 * recorded as `slp` so history shows which changes code made.
 */
import { SupError } from "../errors.ts";
import { CODE_STORE, type CodeRefusal, type CodeStoreService } from "../kernel/mod.ts";
import type { Host, ScopeKey } from "../lang/mod.ts";
import type { Store } from "../store/mod.ts";
import { CodeRejectedError, putCode } from "./code-ops.ts";

/** Author of the changes programs make through the `code` kernel. */
export const SLP_AUTHOR = "slp";

function refusal(e: unknown): CodeRefusal {
  if (e instanceof CodeRejectedError) {
    const d = e.diagnostics[0];
    return { refused: `rejected: ${d === undefined ? "invalid" : `${d.line}:${d.col}: ${d.message}`}` };
  }
  if (e instanceof SupError) return { refused: e.message };
  throw e; // A bug, not a refusal: the handler's run reports it.
}

class TenantCode implements CodeStoreService {
  constructor(
    private readonly store: Store,
    private readonly host: Host,
    private readonly origin: string,
    private readonly tenant: string,
  ) {}

  put(name: string, source: string, meta?: Record<string, unknown>): number | CodeRefusal {
    try {
      return putCode(this.store, this.host, this.origin, { tenant: this.tenant, name, source, meta, author: SLP_AUTHOR }).version;
    } catch (e) {
      return refusal(e);
    }
  }
  get(name: string): { source: string; version: number } | null {
    try {
      return this.store.getCode(this.tenant, name);
    } catch {
      return null;
    }
  }
  list(): string[] {
    return this.store.listCode(this.tenant).map((c) => c.name);
  }
  rollback(name: string): number | CodeRefusal {
    try {
      return this.store.rollback(this.tenant, name, undefined, SLP_AUTHOR, this.origin).version;
    } catch (e) {
      return refusal(e);
    }
  }
  remove(name: string): CodeRefusal | null {
    try {
      this.store.removeCode(this.tenant, name, SLP_AUTHOR, this.origin);
      return null;
    } catch (e) {
      return refusal(e);
    }
  }
}

/** The code service entry for a tenant's scope. */
export function tenantCodeService(store: Store, host: Host, origin: string, tenant: string): [ScopeKey<unknown>, unknown] {
  return [CODE_STORE as ScopeKey<unknown>, new TenantCode(store, host, origin, tenant)];
}
