/**
 * Route names as patterns: `METHOD /path` where a segment is literal text, `:name` (one segment),
 * `:name?` (one optional last segment) or `*name` / `*name?` (the rest of the path: one or more
 * segments, or zero or more; last only). METHOD is an upper-case HTTP method or `ANY`. Paths are
 * compared segment by segment after percent-decoding each request segment; empty segments are
 * ignored, so `/a//b/` is `/a/b`. When several patterns match, rank decides (compareRank): literal
 * segments beat parameters, longer patterns beat shorter, then exact methods beat ANY, then names
 * order. Rank is a total order that does not depend on the request, so a table sorted once answers
 * with its first match.
 */
import { RouteNameError } from "./errors.ts";

/** One segment of a pattern. */
export type Segment =
  | { readonly kind: "static"; readonly text: string }
  | { readonly kind: "param"; readonly name: string; readonly optional: boolean }
  | { readonly kind: "rest"; readonly name: string; readonly optional: boolean };

/** A parsed route name. */
export interface RoutePattern {
  /** The route name as written, e.g. `GET /users/:id`. */
  readonly name: string;
  /** Upper-case method, or `ANY`. */
  readonly method: string;
  readonly segments: readonly Segment[];
  /** True when every segment is literal: such routes are looked up by exact path. */
  readonly isStatic: boolean;
}

/** The method that matches every request method. */
export const ANY_METHOD = "ANY";
const METHOD = /^[A-Z]+$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Parses a route name; throws RouteNameError saying what is wrong. */
export function parseRouteName(name: string): RoutePattern {
  const space = name.indexOf(" ");
  const method = space > 0 ? name.slice(0, space) : "";
  const path = space > 0 ? name.slice(space + 1) : "";
  const bad = (detail: string) => new RouteNameError(`Cannot parse route "${name}": ${detail}`);
  if (!METHOD.test(method)) throw bad("expected an upper-case method, a space and a path");
  if (!path.startsWith("/")) throw bad("the path must start with /");
  const parts = path.split("/").filter((p) => p.length > 0);
  const segments: Segment[] = [];
  const names = new Set<string>();
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const last = i === parts.length - 1;
    const c = p[0];
    if (c !== ":" && c !== "*") {
      segments.push({ kind: "static", text: p });
      continue;
    }
    const optional = p.endsWith("?");
    const pname = p.slice(1, optional ? -1 : undefined);
    if (!PARAM_NAME.test(pname)) throw bad(`invalid parameter name "${pname}"`);
    if (names.has(pname)) throw bad(`parameter "${pname}" appears twice`);
    names.add(pname);
    if ((optional || c === "*") && !last) throw bad(`"${p}" must be the last segment`);
    segments.push(c === ":" ? { kind: "param", name: pname, optional } : { kind: "rest", name: pname, optional });
  }
  return { name, method, segments, isStatic: segments.every((s) => s.kind === "static") };
}

/** Splits a request path (as in a URL, percent-encoded) into decoded, non-empty segments. */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  // Scanned with indexOf rather than split: this runs for every request.
  const n = path.length;
  let at = 0;
  while (at < n) {
    let end = path.indexOf("/", at);
    if (end === -1) end = n;
    const start = at;
    at = end + 1;
    if (end === start) continue;
    const p = path.slice(start, end);
    if (!p.includes("%")) out.push(p);
    else {
      try {
        out.push(decodeURIComponent(p));
      } catch {
        // A malformed escape is kept as written; it can still match a literal segment or a param.
        out.push(p);
      }
    }
  }
  return out;
}

/**
 * The key of a static pattern (and of a request) in a table's exact-path map. NUL separates the
 * segments because a decoded segment may contain `/` (from `%2F`) but never NUL in a route name.
 */
export function staticKey(method: string, segments: readonly string[]): string {
  return method + "\0" + segments.join("\0");
}

/** Matches decoded path segments against a pattern; returns the parameters, or null. */
export function matchSegments(p: RoutePattern, path: readonly string[]): Map<string, string> | null {
  const segs = p.segments;
  const n = segs.length;
  const last = segs[n - 1];
  const tail = last !== undefined && last.kind !== "static" && last.optional ? 1 : 0;
  if (last?.kind === "rest" ? path.length < n - tail : path.length < n - tail || path.length > n) return null;
  const params = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const s = segs[i]!;
    if (s.kind === "static") {
      if (path[i] !== s.text) return null;
    } else if (s.kind === "param") {
      if (i < path.length) params.set(s.name, path[i]!);
    } else if (i < path.length) params.set(s.name, path.slice(i).join("/"));
  }
  return params;
}

/** Segment kinds from most to least specific. */
function segmentRank(s: Segment | undefined): number {
  if (s === undefined) return END_RANK;
  if (s.kind === "static") return 4;
  if (s.kind === "param") return s.optional ? 2 : 3;
  return s.optional ? 0 : 1;
}

/**
 * The rank of "no more segments", compared with the other pattern's next segment: below a required
 * parameter (so a longer pattern is more specific, "longer beats shorter") but above an optional
 * one (when `/a` and `/a/:x?` both match `/a`, the exact `/a` wins).
 */
const END_RANK = 2.5;

/**
 * Orders patterns best first, comparing segment ranks left to right (literal, parameter, end of
 * pattern, optional parameter, rest, optional rest); then an exact method beats ANY; then the name
 * decides. Lexicographic, hence a total order, and independent of the request and of listing order.
 */
export function compareRank(a: RoutePattern, b: RoutePattern): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i <= n; i++) {
    const d = segmentRank(b.segments[i]) - segmentRank(a.segments[i]);
    if (d !== 0) return d;
  }
  const am = a.method === ANY_METHOD ? 1 : 0;
  const bm = b.method === ANY_METHOD ? 1 : 0;
  if (am !== bm) return am - bm;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
