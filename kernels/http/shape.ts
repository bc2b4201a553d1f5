/**
 * The shapes of HTTP messages as SLP values (docs/node.md), shared by the `http` kernel, which reads
 * requests and builds responses, and by src/http, which builds requests and reads responses.
 * A request is `{(method "GET") (path "/u/7") (params {("id" "7")}) (query {…}) (headers {…}) (body "…")}`
 * bound to `$request`; a response is `{http-response <status> {("name" "value") …} "body"}`. Header
 * names are lower case. Imports only the kernel API.
 */
import { List, Str, Sym, T_BRACE, T_ERROR, T_PAREN, Wrap, sym, type Value } from "sup/kernel";

/** The symbol a handler's request is bound to. */
export const REQUEST_SYMBOL = sym("$request");
/** The tag (first element) of a response value. */
export const RESPONSE_TAG = sym("http-response");
/** Lowest and highest status a response may carry: what the Fetch API's Response accepts. */
export const STATUS_MIN = 200;
export const STATUS_MAX = 599;
/** `content-type` of text responses (strings are UTF-8 by convention). */
export const TEXT_TYPE = "text/plain; charset=utf-8";
/** `content-type` of JSON responses. */
export const JSON_TYPE = "application/json";

/** An HTTP token (RFC 9110 §5.6.2), the only valid header name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Header values may hold any byte except NUL, CR and LF (no header injection). */
const FIELD_VALUE = /^[^\0\r\n]*$/;

/** The parts of a request value, as latin1 byte strings. */
export interface RequestParts {
  readonly method: string;
  readonly path: string;
  readonly params: Iterable<readonly [string, string]>;
  readonly query: Iterable<readonly [string, string]>;
  readonly headers: Iterable<readonly [string, string]>;
  readonly body: string;
}

/** A response read back from its value. */
export interface ResponseParts {
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

const pair = (k: Value, v: Value) => new List(T_PAREN, [k, v]);

function pairs(entries: Iterable<readonly [string, string]>): List {
  const items: Value[] = [];
  for (const [k, v] of entries) items.push(pair(new Str(k), new Str(v)));
  return new List(T_BRACE, items);
}

// The request's keys, interned once rather than per request.
const METHOD = sym("method");
const PATH = sym("path");
const PARAMS = sym("params");
const QUERY = sym("query");
const HEADERS = sym("headers");
const BODY = sym("body");

/** Builds the `$request` value. */
export function requestValue(r: RequestParts): List {
  return new List(T_BRACE, [
    pair(METHOD, new Str(r.method)),
    pair(PATH, new Str(r.path)),
    pair(PARAMS, pairs(r.params)),
    pair(QUERY, pairs(r.query)),
    pair(HEADERS, pairs(r.headers)),
    pair(BODY, new Str(r.body)),
  ]);
}

/** The value of `(key value)` in a brace list whose keys are symbols or strings, or undefined. */
export function lookupPair(list: Value, key: string | Sym): Value | undefined {
  if (!(list instanceof List) || list.t !== T_BRACE) return undefined;
  for (const p of list.items) {
    if (!(p instanceof List) || p.t !== T_PAREN || p.items.length !== 2) continue;
    const k = p.items[0];
    if (k === key || (k instanceof Str && k.s === key)) return p.items[1];
  }
  return undefined;
}

/** True when a name is a valid header name and a value a valid header value. */
export function validHeader(name: string, value: string): boolean {
  return TOKEN.test(name) && FIELD_VALUE.test(value);
}

/** Builds a response value; headers must be valid (see validHeader) and names lower case, or a header list made by headerList. */
export function responseValue(status: number, headers: readonly (readonly [string, string])[] | List, body: string): List {
  return new List(T_BRACE, [RESPONSE_TAG, status, headers instanceof List ? headers : pairs(headers), new Str(body)]);
}

/** A response's header list value, to build many responses with (values are immutable). */
export function headerList(headers: readonly (readonly [string, string])[]): List {
  return pairs(headers);
}

/**
 * Header lists already read by readResponse, with what it read. Values are immutable, so a list
 * is checked once: responses built with a shared list (http/json's, http/text's) skip the
 * header checks on every later request.
 */
const readHeaders = new WeakMap<List, readonly (readonly [string, string])[] | null>();

/** The headers of a response's header list as lower-case name and value pairs, or null when any is invalid. */
function readHeaderList(hs: List): readonly (readonly [string, string])[] | null {
  let headers = readHeaders.get(hs);
  if (headers !== undefined) return headers;
  const out: (readonly [string, string])[] = [];
  for (const p of hs.items) {
    if (!(p instanceof List) || p.t !== T_PAREN || p.items.length !== 2) return cache(hs, null);
    const [k, val] = p.items;
    if (!(k instanceof Str) || !(val instanceof Str) || !validHeader(k.s, val.s)) return cache(hs, null);
    out.push([k.s.toLowerCase(), val.s]);
  }
  headers = out;
  return cache(hs, headers);
}

function cache(hs: List, headers: readonly (readonly [string, string])[] | null): readonly (readonly [string, string])[] | null {
  readHeaders.set(hs, headers);
  return headers;
}

/**
 * Reads a response value back, or null when `v` is not exactly a well-formed one (tag, status in
 * range, valid headers as string pairs, string body).
 */
export function readResponse(v: Value): ResponseParts | null {
  if (!(v instanceof List) || v.t !== T_BRACE || v.items.length !== 4 || v.items[0] !== RESPONSE_TAG) return null;
  const [, status, hs, body] = v.items;
  if (typeof status !== "number" || !Number.isInteger(status) || status < STATUS_MIN || status > STATUS_MAX) return null;
  if (!(hs instanceof List) || hs.t !== T_BRACE || !(body instanceof Str)) return null;
  const headers = readHeaderList(hs);
  return headers === null ? null : { status, headers, body: body.s };
}

/** The error value `@(http: w1 w2 … "s")`: text words become symbols, Str parts stay strings. */
export function httpError(...parts: readonly (string | Str)[]): Wrap {
  const items: Value[] = [sym("http:")];
  for (const p of parts) {
    if (p instanceof Str) items.push(p);
    else for (const w of p.split(" ")) if (w.length > 0) items.push(/^\d{1,15}$/.test(w) ? Number(w) : sym(w));
  }
  return new Wrap(T_ERROR, new List(T_PAREN, items));
}
