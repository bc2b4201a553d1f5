/**
 * The `http` kernel: what a route's handler uses to read its request and build its response
 * (docs/node.md). Readers (`method path param query header body`) look up `$request` in the caller's
 * dynamic scope; builders (`respond text json with-header`) return `http-response` values that the
 * server turns into responses. Invariants: every failure is an error value `@(http: …)`, never an
 * exception — a missing param, query parameter or header included (`(try (http/query "q") "")` gives a
 * default); header names are matched case-insensitively and stored lower case; a response value
 * always satisfies shape.ts's readResponse. No state. Imports only the kernel API and the json kernel.
 */
import { List, Str, T_BRACE, sym, type CallContext, type KernelDefinition, type KernelFn, type Value } from "sup/kernel";
import { encodeJson } from "../json/encode.ts";
import { JSON_TYPE, REQUEST_SYMBOL, STATUS_MAX, STATUS_MIN, TEXT_TYPE, headerList, httpError, lookupPair, readResponse, responseValue, validHeader } from "./shape.ts";

export * from "./shape.ts";

/** The request the caller is serving, or an error value outside a handler. */
function currentRequest(cx: CallContext): Value {
  const r = cx.eval(REQUEST_SYMBOL);
  return r instanceof List && r.t === T_BRACE ? r : httpError("no request");
}

/** A reader of one string field of the request: `(http/method)`, `(http/path)`, `(http/body)`. */
function fieldReader(field: string): KernelFn {
  const key = sym(field);
  return (cx, args) => {
    if (args.length !== 0) return httpError(`${field} takes no arguments`);
    const r = currentRequest(cx);
    if (!(r instanceof List)) return r;
    const v = lookupPair(r, key);
    return v instanceof Str ? v : httpError(`no ${field}`);
  };
}

/** A reader of one entry of a request table: `(http/param n)`, `(http/query n)`, `(http/header n)`. */
function tableReader(fn: string, table: string, what: string, lowerCase: boolean): KernelFn {
  const key = sym(table);
  return (cx, args) => {
    if (args.length !== 1) return httpError(`${fn} requires 1 argument`);
    const name = cx.eval(args[0]!);
    if (!(name instanceof Str)) return httpError(`${fn} requires a string`);
    const r = currentRequest(cx);
    if (!(r instanceof List)) return r;
    const entries = lookupPair(r, key);
    const v = entries === undefined ? undefined : lookupPair(entries, lowerCase ? name.s.toLowerCase() : name.s);
    return v instanceof Str ? v : httpError(`no ${what}`, name);
  };
}

function validStatus(status: Value): status is number {
  return typeof status === "number" && Number.isInteger(status) && status >= STATUS_MIN && status <= STATUS_MAX;
}

// The header lists of text and JSON responses, one value each for every response.
const TEXT_HEADERS = headerList([["content-type", TEXT_TYPE]]);
const JSON_HEADERS = headerList([["content-type", JSON_TYPE]]);

/** `(http/respond status body)`: a string body is text, anything else is encoded as JSON. */
function respond(status: Value, body: Value): Value {
  return body instanceof Str ? text(status, body) : json(status, body);
}

/** `(http/text status body)`. */
function text(status: Value, body: Value): Value {
  if (!validStatus(status)) return httpError(`invalid status ${typeof status === "number" ? status : ""}`);
  if (!(body instanceof Str)) return httpError("text requires a string body");
  return responseValue(status, TEXT_HEADERS, body.s);
}

/** `(http/json status value)`: the value's JSON text, or the json kernel's error value. */
function json(status: Value, value: Value): Value {
  if (!validStatus(status)) return httpError(`invalid status ${typeof status === "number" ? status : ""}`);
  const body = encodeJson(value);
  if (typeof body !== "string") return body;
  return responseValue(status, JSON_HEADERS, body);
}

/**
 * `(http/with-header response name value)`: the response with that header set. A header of the
 * same name is replaced, except `set-cookie`, which is the one header sent once per value.
 */
function withHeader(response: Value, name: Value, value: Value): Value {
  const r = readResponse(response);
  if (r === null) return httpError("with-header requires a response");
  if (!(name instanceof Str) || !(value instanceof Str)) return httpError("with-header requires string name and value");
  if (!validHeader(name.s, value.s)) return httpError("invalid header", name);
  const n = name.s.toLowerCase();
  const kept = n === "set-cookie" ? r.headers : r.headers.filter(([k]) => k !== n);
  return responseValue(r.status, [...kept, [n, value.s]], r.body);
}

/** A builder: evaluates its arguments in order (general form) or takes them evaluated (eager form). */
function builder(fn: string, arity: 2 | 3, impl: (a: Value, b: Value, c: Value) => Value): KernelFn {
  const general = (cx: CallContext, args: readonly Value[]): Value => {
    if (args.length !== arity) return httpError(`${fn} requires ${arity} arguments`);
    const a = cx.eval(args[0]!);
    const b = cx.eval(args[1]!);
    return arity === 3 ? impl(a, b, cx.eval(args[2]!)) : impl(a, b, b);
  };
  return Object.assign(general, { eager: { arity, call: impl } });
}

const createHttp = () => ({
  functions: {
    method: fieldReader("method"),
    path: fieldReader("path"),
    body: fieldReader("body"),
    param: tableReader("param", "params", "param", false),
    query: tableReader("query", "query", "query", false),
    header: tableReader("header", "headers", "header", true),
    respond: builder("respond", 2, (a, b) => respond(a, b)),
    text: builder("text", 2, (a, b) => text(a, b)),
    json: builder("json", 2, (a, b) => json(a, b)),
    "with-header": builder("with-header", 3, withHeader),
  },
});

const http: KernelDefinition = { apiVersion: 1, create: createHttp };

export default http;
