/**
 * A handler's value as a Fetch API Response (docs/node.md): a string is a 200 text/plain response;
 * an `http-response` value is exactly its status, headers and body; anything else is a 500. The error
 * responses of the layer (404, 413, 500, 503) are built here too, each carrying the request id.
 */
import { List, Str, T_BRACE, TYPE_NAMES, typeOf, type Value } from "../lang/mod.ts";
import { RESPONSE_TAG, TEXT_TYPE, readResponse } from "../../kernels/http/shape.ts";
import { requestId as idOf } from "./access.ts";

/** The header every response carries with its request id. */
export const REQUEST_ID_HEADER = "x-request-id";

/** The lowest status that carries the request id: the responses someone will want to look up. */
const ERROR_STATUS_MIN = 400;

/** A response, or why the value could not be one. */
export type ResponseOutcome = { readonly ok: true; readonly response: Response } | { readonly ok: false; readonly reason: string };

/** ASCII-only text: a Response encodes it as UTF-8, which for ASCII is the same bytes. */
const ASCII = /^[\x00-\x7f]*$/;

/** A latin1 byte string as a response body (strings as they are when ASCII, skipping a copy). */
function bytes(latin1: string): string | Uint8Array {
  return ASCII.test(latin1) ? latin1 : Buffer.from(latin1, "latin1");
}

/**
 * Converts a handler's value into a response. With a request id, an error response (status 400 and
 * above) carries it in REQUEST_ID_HEADER, replacing any such header the handler set; a success does
 * not, because the header costs a tenth of a small response's throughput and the id is in the log.
 * The id may be given as the request's number (access.ts), whose id text is then made only for an error.
 */
export function valueToResponse(v: Value, request?: string | number): ResponseOutcome {
  if (v instanceof Str) return { ok: true, response: build(bytes(v.s), 200, [["content-type", TEXT_TYPE]], undefined) };
  const r = readResponse(v);
  if (r === null) {
    const tagged = v instanceof List && v.t === T_BRACE && v.items[0] === RESPONSE_TAG;
    const reason = tagged ? "handler returned a malformed http-response (status 200-599, string header pairs, string body)" : `handler returned a value of type ${TYPE_NAMES[typeOf(v)]}, not a string or a response`;
    return { ok: false, reason };
  }
  const requestId = r.status < ERROR_STATUS_MIN || request === undefined ? undefined : typeof request === "number" ? idOf(request) : request;
  return { ok: true, response: build(bytes(r.body), r.status, r.headers, requestId) };
}

/**
 * Kept header sets of the common response, a content type and the request id, by content type.
 * Response copies headers when it is built, so one Headers object per content type can be refilled
 * for every response; that is cheaper than Response reading a fresh object each time. Content
 * types come from handlers, so at most this many are kept.
 */
const KEPT_HEADER_SETS_MAX = 64;
const keptHeaders = new Map<string, Headers>();

/**
 * Kept inits of the commonest response, a 200 with only a content type (what http/json and
 * http/text build), by content type: the same object for every such response, which Response
 * reads faster than a fresh one (measured: 218 ns a response against 320). Bounded as above.
 */
const keptInits = new Map<string, { readonly headers: Headers }>();

/** A response with the given headers (names lower case) and request id. */
function build(body: string | Uint8Array, status: number, headers: readonly (readonly [string, string])[], requestId: string | undefined): Response {
  if (status === 200 && requestId === undefined && headers.length === 1 && headers[0]![0] === "content-type") {
    const type = headers[0]![1];
    let kept = keptInits.get(type);
    if (kept === undefined && keptInits.size < KEPT_HEADER_SETS_MAX) keptInits.set(type, (kept = { headers: new Headers([["content-type", type]]) }));
    if (kept !== undefined) return new Response(body, kept);
  }
  let init: Headers | Record<string, string> | [string, string][] | undefined;
  if (requestId !== undefined && headers.length === 1 && headers[0]![0] === "content-type") {
    const type = headers[0]![1];
    let kept = keptHeaders.get(type);
    if (kept === undefined && keptHeaders.size < KEPT_HEADER_SETS_MAX) keptHeaders.set(type, (kept = new Headers([["content-type", type]])));
    kept?.set(REQUEST_ID_HEADER, requestId);
    init = kept;
  }
  init ??= headersOf(headers, requestId);
  // 200 is Response's default; an init without a status is read faster.
  return new Response(body, status === 200 ? { headers: init } : { status, headers: init });
}

/**
 * Response headers from name/value pairs (names lower case). A plain object is several times
 * cheaper for Response to take than a list of pairs, so it is used unless a name repeats
 * (set-cookie), which only a list of pairs can express.
 */
function headersOf(pairs: readonly (readonly [string, string])[], requestId: string | undefined): Record<string, string> | [string, string][] {
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    // `__proto__` is a valid header name but not a plain object key.
    if (Object.hasOwn(out, name) || name === "__proto__") return headerList(pairs, requestId);
    out[name] = value;
  }
  if (requestId !== undefined) out[REQUEST_ID_HEADER] = requestId;
  return out;
}

function headerList(pairs: readonly (readonly [string, string])[], requestId: string | undefined): [string, string][] {
  if (requestId === undefined) return pairs as [string, string][];
  const out = pairs.filter(([name]) => name !== REQUEST_ID_HEADER) as [string, string][];
  out.push([REQUEST_ID_HEADER, requestId]);
  return out;
}

/** A plain-text error response of the HTTP layer itself. */
export function errorResponse(status: number, message: string, requestId: string): Response {
  return new Response(`${message} (request ${requestId})\n`, { status, headers: { "content-type": TEXT_TYPE, [REQUEST_ID_HEADER]: requestId } });
}
