/**
 * A Fetch API Request as the `$request` value a handler reads (docs/node.md): method, the path the
 * route matched (after any tenant prefix), path params, query, lower-case headers and the body, all
 * as byte strings — text is UTF-8, as the language's strings are. Bodies are bounded.
 */
import type { List } from "../lang/mod.ts";
import { latin1FromBytes, latin1FromText } from "../lang/mod.ts";
import { requestValue } from "../../kernels/http/shape.ts";
import { RequestBodyTooLargeError } from "./errors.ts";
import { REQUEST_BODY_BYTES_MAX } from "./limits.ts";

const EMPTY = new Uint8Array(0);

/**
 * Reads a request body of at most `maxBytes`; throws RequestBodyTooLargeError (→ 413) as soon as a
 * declared length or the bytes received pass the limit, without reading the rest.
 */
export async function readBody(req: Request, maxBytes: number = REQUEST_BODY_BYTES_MAX): Promise<Uint8Array> {
  const now = bodyWithoutReading(req, maxBytes);
  if (now !== null) return now;
  const reader = req.body!.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new RequestBodyTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * The body of a request that has none (empty), without waiting: null when there is a body to read
 * with readBody. Throws RequestBodyTooLargeError when the declared length is over the limit.
 */
export function bodyWithoutReading(req: Request, maxBytes: number = REQUEST_BODY_BYTES_MAX): Uint8Array | null {
  // Without a body there is nothing to bound, and a server Request's headers are only built when
  // first used, so a request without a body never needs them here.
  if (req.body === null) return EMPTY;
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw new RequestBodyTooLargeError(maxBytes);
  return null;
}

/** Plain ASCII text is its own latin1 byte string; only other text needs encoding to UTF-8. */
const ASCII = /^[\x00-\x7f]*$/;
const bytesOf = (text: string) => (ASCII.test(text) ? text : latin1FromText(text));

function textPairs(entries: Iterable<readonly [string, string]>): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of entries) out.push([bytesOf(k), bytesOf(v)]);
  return out;
}

/** Builds the `$request` value of a request whose body was read and whose route matched `path`. */
export function requestToValue(req: Request, url: URL, path: string, params: ReadonlyMap<string, string>, body: Uint8Array): List {
  return requestValueOf(req, path, params, url.searchParams, body);
}

/** As requestToValue, with the query pairs already parsed (see target.ts). */
export function requestValueOf(req: Request, path: string, params: ReadonlyMap<string, string>, query: Iterable<readonly [string, string]>, body: Uint8Array): List {
  return requestValue({
    method: req.method,
    path: bytesOf(path),
    params: textPairs(params),
    query: textPairs(query),
    // Header values are byte strings in the Fetch API already (one char per byte).
    headers: req.headers,
    body: body.byteLength === 0 ? "" : latin1FromBytes(body),
  });
}
