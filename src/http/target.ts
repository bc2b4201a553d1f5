/**
 * A request URL's path and query, read without building a URL object in the common case. The result
 * is always what `new URL(url)` gives (`pathname`, `searchParams`): the fast path only
 * takes targets the URL parser would leave exactly as they are, and anything else goes through URL.
 * The query is kept as text and parsed only when a handler reads it.
 */

/** A request target split into the parts routing and `$request` use. */
export interface RequestTarget {
  /** The path as `URL.pathname` has it (percent-encoded, dot segments resolved). */
  readonly path: string;
  /**
   * The query, `?…`, or empty when there is none. Read it with queryPairs: its pairs are exactly
   * URL's, though the text may differ where URL would percent-encode a character (a quote).
   */
  readonly search: string;
}

/** Character classes of the fast path, by ASCII code: bit 1 for the authority, bit 2 for the target. */
const CLASS = new Uint8Array(128);
const IN_AUTHORITY = 1;
const IN_TARGET = 2;
const mark = (chars: string, bit: number) => {
  for (let i = 0; i < chars.length; i++) CLASS[chars.charCodeAt(i)]! |= bit;
};
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// A plain authority (host name or address, port): anything else may end or move the path.
mark(ALNUM + ".-:[]", IN_AUTHORITY);
// What the URL parser leaves untouched in a path and query: no spaces or controls (removed or
// encoded), no backslash (a slash in http URLs), no `#`, no quotes or brackets (encoded), ASCII.
mark(ALNUM + "-._~!$&'()*+,;=:@/%?", IN_TARGET);
const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const QUESTION = 0x3f;

const NO_QUERY: readonly (readonly [string, string])[] = [];

/** The decoded query pairs of a `search` string, as `URL.searchParams` lists them. */
export function queryPairs(search: string): Iterable<readonly [string, string]> {
  // Parsing the raw query decodes exactly what URL would first have percent-encoded. The
  // constructor strips one leading `?`, so a query that itself starts with `?` keeps it.
  return search.length <= 1 ? NO_QUERY : new URLSearchParams(search);
}

/** The path and query of an absolute request URL (as a server's Request.url is). */
export function parseTarget(url: string): RequestTarget {
  // One pass over the characters; anything the URL parser might change sends the URL to it.
  const scheme = url.indexOf("://");
  if (scheme === -1) return viaUrl(url);
  const n = url.length;
  let i = scheme + 3;
  for (; i < n; i++) {
    const c = url.charCodeAt(i);
    if (c === SLASH) break;
    if (c >= 128 || (CLASS[c]! & IN_AUTHORITY) === 0) return viaUrl(url);
  }
  if (i === scheme + 3 || i === n) return viaUrl(url);
  const start = i;
  let q = -1;
  for (; i < n; i++) {
    const c = url.charCodeAt(i);
    if (c >= 128 || (CLASS[c]! & IN_TARGET) === 0) return viaUrl(url);
    if (q !== -1) continue;
    if (c === QUESTION) q = i;
    // `.` and `..` segments, also percent-encoded, are resolved by the parser: leave those to it.
    else if (c === DOT && url.charCodeAt(i - 1) === SLASH) return viaUrl(url);
    else if (c === PERCENT && url.charCodeAt(i + 1) === 0x32 && (url.charCodeAt(i + 2) | 0x20) === 0x65) return viaUrl(url);
  }
  const path = q === -1 ? url.slice(start) : url.slice(start, q);
  return { path, search: q === -1 || q === n - 1 ? "" : url.slice(q) };
}

function viaUrl(url: string): RequestTarget {
  const parsed = new URL(url);
  return { path: parsed.pathname, search: parsed.search };
}
