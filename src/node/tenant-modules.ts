/**
 * Imports in a node: `#(import u "mod:util")` reads the tenant's current `mod:util` code from the
 * store. Nothing else resolves (no file system, no other tenant), both when code is checked as it
 * is written and when it runs.
 */
import { latin1FromText, type SourceFile } from "../lang/mod.ts";
import type { Store } from "../store/mod.ts";

/** The import resolver of one tenant. */
export function tenantModules(store: Store, tenant: string): (path: string) => SourceFile | null {
  return (path) => {
    if (!path.startsWith("mod:")) return null;
    try {
      const code = store.getCode(tenant, path);
      return code === null || code.kind !== "module" ? null : { path, text: latin1FromText(code.source) };
    } catch {
      return null; // A malformed name is simply not a module.
    }
  };
}
