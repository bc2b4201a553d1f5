/**
 * Admin requests over the backchannel, between an operator's CLI (a client connection) and a node:
 * the socket's HTTP request and JSON answer carried as two codec messages, so `handleAdmin` serves
 * both transports alike.
 *
 *   (admin 1 request ID METHOD PATH BODY)       BODY: the JSON text of a POST's body, "" for none
 *   (admin 1 response ID STATUS BODY)           BODY: the JSON answer ({ok} or {error})
 *
 * Texts travel as latin1 byte strings (the UTF-8 of the JSON). Reading never throws: a message of
 * the wrong shape is a reason, so the node can answer it with an error instead of ignoring it.
 */
import { isList, latin1FromText, List, Str, sym, T_PAREN, textFromLatin1, type Value } from "../lang/value.ts";
import { FRAME_BYTES_MAX } from "../net/mod.ts";

/** The channel symbol of admin messages. */
export const ADMIN_CHANNEL = sym("admin");

/** Version of the admin messages. */
export const ADMIN_WIRE_VERSION = 1;

const REQUEST = sym("request");
const RESPONSE = sym("response");

/**
 * Largest JSON body either way: what one backchannel frame holds with room for the message around
 * it. A code source (256 KiB at most) fits with any escaping; an answer over it is refused with an
 * error that says so rather than cut.
 */
export const ADMIN_WIRE_BODY_BYTES_MAX = FRAME_BYTES_MAX - 4096;

/** Longest method and path (with its query): an admin path is short, a query names a tenant and code. */
export const ADMIN_WIRE_PATH_BYTES_MAX = 4096;

/** Largest request number: any safe integer (the client counts from 1). */
const ID_MAX = Number.MAX_SAFE_INTEGER;

/** A decoded request. */
export interface WireRequest {
  readonly id: number;
  readonly method: string;
  readonly path: string;
  /** The parsed JSON body, or undefined when it was "". */
  readonly body: unknown;
}

/** A decoded response. */
export interface WireResponse {
  readonly id: number;
  readonly status: number;
  readonly body: unknown;
}

/** `(admin 1 request ID METHOD PATH BODY)` */
export function adminRequestMessage(id: number, method: string, path: string, body: unknown): List {
  const json = body === undefined ? "" : JSON.stringify(body);
  return new List(T_PAREN, [ADMIN_CHANNEL, ADMIN_WIRE_VERSION, REQUEST, id, new Str(method), new Str(latin1FromText(path)), new Str(latin1FromText(json))]);
}

/** `(admin 1 response ID STATUS BODY)` */
export function adminResponseMessage(id: number, status: number, body: unknown): List {
  return new List(T_PAREN, [ADMIN_CHANNEL, ADMIN_WIRE_VERSION, RESPONSE, id, status, new Str(latin1FromText(JSON.stringify(body)))]);
}

/** The encoded JSON size of a body, as the wire carries it (for the limit check before sending). */
export function wireBodyBytes(body: unknown): number {
  return Buffer.byteLength(JSON.stringify(body), "utf8");
}

type Read<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string; readonly id: number | null };

function head(v: Value, kind: typeof REQUEST): { items: readonly Value[]; id: number } | { reason: string; id: number | null } {
  if (!isList(v) || v.t !== T_PAREN || v.items[0] !== ADMIN_CHANNEL) return { reason: "not an admin message", id: null };
  const [, version, k, id] = v.items;
  const n = typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= ID_MAX ? id : null;
  if (version !== ADMIN_WIRE_VERSION) return { reason: `admin message version ${typeof version === "number" ? version : "?"} is not supported (this side speaks ${ADMIN_WIRE_VERSION})`, id: n };
  if (k !== kind) return { reason: `expected an admin ${kind.name}`, id: n };
  if (n === null) return { reason: "the request number is not a non-negative integer", id: null };
  return { items: v.items, id: n };
}

function json(s: Str, what: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (s.s.length > ADMIN_WIRE_BODY_BYTES_MAX) return { ok: false, reason: `${what} is ${s.s.length} bytes, more than ${ADMIN_WIRE_BODY_BYTES_MAX}` };
  if (s.s === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(textFromLatin1(s.s)) };
  } catch {
    return { ok: false, reason: `${what} is not JSON` };
  }
}

/** Reads a request; never throws. */
export function readAdminRequest(v: Value): Read<WireRequest> {
  const h = head(v, REQUEST);
  if ("reason" in h) return { ok: false, reason: h.reason, id: h.id };
  const [, , , , method, path, body] = h.items;
  if (!(method instanceof Str) || !(path instanceof Str) || !(body instanceof Str)) return { ok: false, reason: "a request needs a method, a path and a body text", id: h.id };
  if (method.s.length + path.s.length > ADMIN_WIRE_PATH_BYTES_MAX) return { ok: false, reason: `method and path are longer than ${ADMIN_WIRE_PATH_BYTES_MAX} bytes`, id: h.id };
  if (!path.s.startsWith("/")) return { ok: false, reason: "the path must start with /", id: h.id };
  const b = json(body, "the request body");
  if (!b.ok) return { ok: false, reason: b.reason, id: h.id };
  return { ok: true, value: { id: h.id, method: method.s, path: textFromLatin1(path.s), body: b.value } };
}

/** Reads a response; never throws. */
export function readAdminResponse(v: Value): Read<WireResponse> {
  const h = head(v, RESPONSE);
  if ("reason" in h) return { ok: false, reason: h.reason, id: h.id };
  const [, , , , status, body] = h.items;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599 || !(body instanceof Str)) return { ok: false, reason: "a response needs a status and a body text", id: h.id };
  const b = json(body, "the response body");
  if (!b.ok) return { ok: false, reason: b.reason, id: h.id };
  return { ok: true, value: { id: h.id, status, body: b.value } };
}
