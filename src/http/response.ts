/**
 * A handler's value as a Fetch API Response (docs/node.md): a string is a 200 text/plain response;
 * an `http-response` value is exactly its status, headers and body; anything else is a 500. The error
 * responses of the layer (404, 413, 500, 503) are built here too, each carrying the request id.
 */
import { List, Str, T_BRACE, TYPE_NAMES, typeOf, type Value } from "../lang/mod.ts";
import { RESPONSE_TAG, TEXT_TYPE, readResponse } from "../../kernels/http/shape.ts";

/** The header every response carries with its request id. */
export const REQUEST_ID_HEADER = "x-request-id";

/** A response, or why the value could not be one. */
export type ResponseOutcome = { readonly ok: true; readonly response: Response } | { readonly ok: false; readonly reason: string };

/** ASCII-only text: a Response encodes it as UTF-8, which for ASCII is the same bytes. */
const ASCII = /^[\x00-\x7f]*$/;

/** A latin1 byte string as a response body (strings as they are when ASCII, skipping a copy). */
function bytes(latin1: string): string | Uint8Array {
  return ASCII.test(latin1) ? latin1 : Buffer.from(latin1, "latin1");
}

/** Converts a handler's value into a response (the request id header is added by the caller). */
export function valueToResponse(v: Value): ResponseOutcome {
  if (v instanceof Str) return { ok: true, response: new Response(bytes(v.s), { status: 200, headers: { "content-type": TEXT_TYPE } }) };
  const r = readResponse(v);
  if (r === null) {
    const tagged = v instanceof List && v.t === T_BRACE && v.items[0] === RESPONSE_TAG;
    const reason = tagged ? "handler returned a malformed http-response (status 200-599, string header pairs, string body)" : `handler returned a value of type ${TYPE_NAMES[typeOf(v)]}, not a string or a response`;
    return { ok: false, reason };
  }
  // A list of pairs keeps repeated names (set-cookie) as separate headers.
  return { ok: true, response: new Response(bytes(r.body), { status: r.status, headers: r.headers as [string, string][] }) };
}

/** A plain-text error response of the HTTP layer itself. */
export function errorResponse(status: number, message: string, requestId: string): Response {
  return new Response(`${message} (request ${requestId})\n`, { status, headers: { "content-type": TEXT_TYPE, [REQUEST_ID_HEADER]: requestId } });
}
