/**
 * Imports in a node: `#(import u "mod:util")` reads the tenant's current `mod:util` code from the
 * store. Nothing else resolves (no file system, no other tenant), both when code is checked as it
 * is written and when it runs.
 */
import { latin1FromText, type SourceFile } from "../lang/mod.ts";
import type { Store } from "../store/mod.ts";

/**
 * Module versions a tenant's resolver keeps: each version's SourceFile is handed out as the same
 * object every time, so the evaluator parses it once (lang/modules.ts caches by file) instead of
 * on every request that imports it. Past the bound the oldest is dropped and parsed again if used.
 */
export const MODULE_FILES_KEPT_MAX = 256;

/** The import resolver of one tenant. */
export function tenantModules(store: Store, tenant: string): (path: string) => SourceFile | null {
  const kept = new Map<string, { readonly hash: string; readonly file: SourceFile }>();
  return (path) => {
    if (!path.startsWith("mod:")) return null;
    try {
      const code = store.getCode(tenant, path);
      if (code === null || code.kind !== "module") return null;
      const hit = kept.get(path);
      kept.delete(path); // re-inserted below: the least recently used is dropped first
      if (hit !== undefined && hit.hash === code.hash) {
        kept.set(path, hit);
        return hit.file;
      }
      const file: SourceFile = { path, text: latin1FromText(code.source) };
      kept.set(path, { hash: code.hash, file });
      if (kept.size > MODULE_FILES_KEPT_MAX) kept.delete(kept.keys().next().value!);
      return file;
    } catch {
      return null; // A malformed name is simply not a module.
    }
  };
}
