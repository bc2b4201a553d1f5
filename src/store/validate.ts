/**
 * Checks on everything a write carries before it reaches a transaction: tenant and code names,
 * kinds, sizes and meta. Each check throws a StoreInputError or StoreLimitError whose message
 * starts with the action being refused, e.g. `Cannot store code "GET /x"`.
 */
import { StoreInputError, StoreLimitError } from "./errors.ts";
import { AUTHOR_BYTES_MAX, META_JSON_BYTES_MAX, NAME_BYTES_MAX, SOURCE_BYTES_MAX, TENANT_PATTERN } from "./limits.ts";
import type { CodeKind, CodeMeta } from "./types.ts";

/** The HTTP methods a route name may start with. */
export const ROUTE_METHODS: readonly string[] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** A `:param` path segment; the parameter name must be usable as a key in `$request` params. */
const PARAM_SEGMENT = /^:[A-Za-z_][A-Za-z0-9_]*$/;
/** A literal path segment: RFC 3986 path characters without `:` (which would read as a param). */
const LITERAL_SEGMENT = /^(?:[A-Za-z0-9._~!$&'()*+,;=@-]|%[0-9A-Fa-f]{2})+$/;
/** The name after `job:` or `mod:`: words separated by single slashes. */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/;

/** Longest piece of a refused string quoted in an error message. */
const SHOWN_CHARS_MAX = 100;

const NAME_RULES =
  `a route is "METHOD /path" (METHOD one of ${ROUTE_METHODS.join(", ")}; segments are words or :params), ` +
  `a job "job:<name>", a module "mod:<name>"`;

/** The UTF-8 size of a string, which is what every byte limit counts. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Throws StoreLimitError when `text` is over `limit` bytes. */
export function checkBytes(action: string, what: string, text: string, limit: number): void {
  // Every UTF-8 encoding is at most 3 bytes per UTF-16 unit, so short strings skip the count.
  if (text.length * 3 <= limit) return;
  const bytes = byteLength(text);
  if (bytes > limit) throw new StoreLimitError(action, what, bytes, limit);
}

/** Throws unless `tenant` is a valid tenant name. */
export function checkTenant(action: string, tenant: string): void {
  if (!TENANT_PATTERN.test(tenant)) {
    throw new StoreInputError("store-bad-tenant", `${action}: tenant "${shown(tenant)}" is not 1 to 63 of a-z, 0-9 and "-", starting with a letter or digit`);
  }
}

/** Why a route path is malformed, or null when it is fine. */
function routePathProblem(path: string): string | null {
  if (!path.startsWith("/")) return `path "${shown(path)}" does not start with "/"`;
  if (path === "/") return null;
  const params = new Set<string>();
  for (const segment of path.slice(1).split("/")) {
    if (segment === "") return `path "${shown(path)}" has an empty segment`;
    if (segment.startsWith(":")) {
      if (!PARAM_SEGMENT.test(segment)) return `":${segment.slice(1)}" is not a parameter name`;
      if (params.has(segment)) return `parameter "${segment}" appears twice`;
      params.add(segment);
    } else if (!LITERAL_SEGMENT.test(segment)) {
      return `path segment "${shown(segment)}" has a character that is not allowed`;
    }
  }
  return null;
}

/** The kind a well-formed code name designates, or a description of what is wrong with it. */
export function kindOfCodeName(name: string): { kind: CodeKind } | { problem: string } {
  if (name.startsWith("job:") || name.startsWith("mod:")) {
    const rest = name.slice(4);
    if (!PLAIN_NAME.test(rest)) return { problem: `"${shown(rest)}" is not a job or module name (words of A-Z, a-z, 0-9, "_", ".", "-" separated by "/")` };
    return { kind: name.startsWith("job:") ? "job" : "module" };
  }
  const space = name.indexOf(" ");
  const method = space < 0 ? name : name.slice(0, space);
  if (space < 0 || !ROUTE_METHODS.includes(method)) return { problem: NAME_RULES };
  const problem = routePathProblem(name.slice(space + 1));
  return problem === null ? { kind: "route" } : { problem };
}

/** Throws unless `name` is a well-formed name of a `kind` code. */
export function checkCodeName(action: string, name: string, kind: CodeKind): void {
  checkBytes(action, "name", name, NAME_BYTES_MAX);
  const r = kindOfCodeName(name);
  if ("problem" in r) throw new StoreInputError("store-bad-name", `${action}: ${r.problem}`);
  if (r.kind !== kind) throw new StoreInputError("store-kind-mismatch", `${action}: the name designates a ${r.kind}, not a ${kind}`);
}

/** Checks meta and returns its JSON text (what the store keeps). */
export function metaJson(action: string, meta: CodeMeta | undefined): string {
  if (meta === undefined) return "{}";
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
    throw new StoreInputError("store-bad-meta", `${action}: meta must be a JSON object`);
  }
  let json: string;
  try {
    json = JSON.stringify(meta);
  } catch (e) {
    // Cycles and bigints make JSON.stringify throw; neither can be stored as JSON.
    throw new StoreInputError("store-bad-meta", `${action}: meta is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  // An object with toJSON (a Date, say) can serialize as something other than an object.
  if (!json.startsWith("{")) throw new StoreInputError("store-bad-meta", `${action}: meta must be a JSON object, not ${shown(json)}`);
  checkBytes(action, "meta", json, META_JSON_BYTES_MAX);
  return json;
}

/** Throws unless `n` is a safe integer of at least `min` (version numbers, sequences, limits). */
export function checkInteger(action: string, what: string, n: number, min: number): void {
  if (!Number.isSafeInteger(n) || n < min) throw new StoreInputError("store-bad-argument", `${action}: ${what} ${n} is not an integer of at least ${min}`);
}

/** A string as it appears in a message: cut short, since a refused name may be megabytes long. */
export function shown(s: string): string {
  return s.length <= SHOWN_CHARS_MAX ? s : `${s.slice(0, SHOWN_CHARS_MAX)}…`;
}

/**
 * Checks a code write before it becomes a change-log entry (the checks putCode makes) and returns
 * its meta as JSON text; throws StoreInputError or StoreLimitError naming the problem.
 */
export function checkCodeWrite(w: { readonly tenant: string; readonly name: string; readonly kind: CodeKind; readonly source: string; readonly meta?: CodeMeta; readonly author: string }): string {
  const action = `Cannot store code "${shown(w.name)}"`;
  checkTenant(action, w.tenant);
  checkCodeName(action, w.name, w.kind);
  checkBytes(action, "source", w.source, SOURCE_BYTES_MAX);
  checkBytes(action, "author", w.author, AUTHOR_BYTES_MAX);
  return metaJson(action, w.meta);
}
