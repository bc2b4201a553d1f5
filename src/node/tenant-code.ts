/**
 * A tenant's code as the `code` kernel sees it: the same checked writes as the admin interface
 * (parse + type check, rejected with the first diagnostics), bound to one tenant, with the author
 * recorded as `slp` so history shows which changes code made.
 */
import { SupError } from "../errors.ts";
import { CODE_STORE, type CodeRefusal, type CodeStoreService } from "../kernel/mod.ts";
import type { ScopeKey } from "../lang/mod.ts";
import { CodeRejectedError, putCode, removeCode, rollbackCode, type CodeContext } from "./code-ops.ts";

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
    private readonly cx: () => CodeContext,
    private readonly tenant: string,
  ) {}

  put(name: string, source: string, meta?: Record<string, unknown>): number | CodeRefusal {
    try {
      return putCode(this.cx(), { tenant: this.tenant, name, source, meta, author: SLP_AUTHOR }).write.committed.version!.version;
    } catch (e) {
      return refusal(e);
    }
  }
  get(name: string): { source: string; version: number } | null {
    try {
      return this.cx().store.getCode(this.tenant, name);
    } catch {
      return null;
    }
  }
  list(): string[] {
    return this.cx().store.listCode(this.tenant).map((c) => c.name);
  }
  rollback(name: string): number | CodeRefusal {
    try {
      return rollbackCode(this.cx(), this.tenant, name, undefined, SLP_AUTHOR).write.committed.version!.version;
    } catch (e) {
      return refusal(e);
    }
  }
  remove(name: string): CodeRefusal | null {
    try {
      removeCode(this.cx(), this.tenant, name, SLP_AUTHOR);
      return null;
    } catch (e) {
      return refusal(e);
    }
  }
}

/** The code service entry for a tenant's scope: its code as this node's replication writes it. */
export function tenantCodeService(cx: () => CodeContext, tenant: string): [ScopeKey<unknown>, unknown] {
  return [CODE_STORE as ScopeKey<unknown>, new TenantCode(cx, tenant)];
}
