/**
 * A request's id and its access line (`info request id=… method=… path=… tenant=… route=…
 * version=… status=… ms=…`, docs/node.md). Both are made for every request a node answers, so a
 * request is numbered and its id text made only when something shows it (an error response, an
 * error line), and the access line is written into the log's buffer byte by byte, without making
 * a string: the fields a route's requests share (`accessFields`) are encoded once.
 */
import { logBuffer, logCommit, logLineStart, logReserve, logValue } from "../log.ts";

// Request ids: a per-process random prefix (ids from different processes do not collide in merged
// logs) and a counter (cheaper than a UUID per request, and ordered).
const ID_PREFIX = Math.floor(Math.random() * 0x1_0000_0000)
  .toString(16)
  .padStart(8, "0");
let nextNumber = 0;

/** A fresh request number; its id is requestId(n). */
export function nextRequest(): number {
  return nextNumber++;
}

/** The id of request number `n`, e.g. `3f2a9c01-1k`: the prefix and `n` in base 36. */
export function requestId(n: number): string {
  return `${ID_PREFIX}-${n.toString(36)}`;
}

/** A fresh request id (requestId of nextRequest). */
export function newRequestId(): string {
  return requestId(nextRequest());
}

/**
 * A duration rounded to hundredths, written as `${Math.round(ms * 100) / 100}` would be ("0.05",
 * "1.5", "3") but with integer arithmetic: formatting a fraction is a costly part of an access line.
 */
export function hundredths(ms: number): string {
  const h = Math.round(ms * 100);
  const whole = Math.floor(h / 100);
  const frac = h - whole * 100;
  if (frac === 0) return `${whole}`;
  return frac % 10 === 0 ? `${whole}.${frac / 10}` : `${whole}.${frac < 10 ? "0" : ""}${frac}`;
}

/**
 * The fields of an access line between the id and the status, ending with `status=`: ` method=…
 * path=…` and the route's ` tenant=… route=… version=…` (`where`). A method is an HTTP token: never
 * spaces, quotes or `=`, so never quoted.
 */
export function accessFields(method: string, path: string, where: string): string {
  return ` method=${method} path=${logValue(path)}${where} status=`;
}

/** The path of a request URL as it is logged: as sent, without the query (it may hold secrets). */
export function logPath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const q = url.indexOf("?", start);
  return start === -1 ? "/" : url.slice(start, q === -1 ? undefined : q);
}

/** What every access line starts with: `info request id=` and the id prefix. */
const LINE_HEAD = Buffer.from(`${logLineStart("info", "request")} id=${ID_PREFIX}-`);
/**
 * Most bytes of the numbers in a line: a request number in base 36 (11 digits below 2^53), a
 * status, and a duration in whole milliseconds, a point and two digits (a double's integer part
 * has at most 309 digits, but a duration in ms has far fewer than 20).
 */
const NUMBERS_BYTES_MAX = 11 + 3 + 24;
const ZERO = 0x30;
const DIGITS36 = Buffer.from("0123456789abcdefghijklmnopqrstuvwxyz");

/**
 * Writes the access line of request number `n`: `fields` is accessFields' text, or that text
 * encoded once (UTF-8) for the requests that share it. Nothing when info lines are not written.
 */
export function logAccess(n: number, fields: string | Uint8Array, status: number, ms: number): void {
  const fieldsMax = typeof fields === "string" ? fields.length * 3 : fields.byteLength;
  const start = logReserve("info", LINE_HEAD.byteLength + fieldsMax + " ms=\n".length + NUMBERS_BYTES_MAX);
  if (start < 0) return;
  const buf = logBuffer();
  buf.set(LINE_HEAD, start);
  let at = writeBase36(buf, start + LINE_HEAD.byteLength, n);
  if (typeof fields === "string") at += buf.utf8Write(fields, at);
  else {
    buf.set(fields, at);
    at += fields.byteLength;
  }
  at = writeDecimal(buf, at, status);
  // ` ms=`: four stores cost less than a copy call.
  buf[at] = 0x20;
  buf[at + 1] = 0x6d;
  buf[at + 2] = 0x73;
  buf[at + 3] = 0x3d;
  at = writeHundredths(buf, at + 4, ms);
  buf[at] = 0x0a;
  logCommit(at + 1);
}

/** Writes a non-negative integer in base 36; returns the offset after it. */
function writeBase36(buf: Uint8Array, at: number, n: number): number {
  let digits = 1;
  for (let m = n; m >= 36; m = Math.floor(m / 36)) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = DIGITS36[n % 36]!;
    n = Math.floor(n / 36);
  }
  return at + digits;
}

/** Writes a non-negative integer in decimal; returns the offset after it. */
function writeDecimal(buf: Uint8Array, at: number, n: number): number {
  let digits = 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = ZERO + (n % 10);
    n = Math.floor(n / 10);
  }
  return at + digits;
}

/** Writes what hundredths(ms) returns; returns the offset after it. */
function writeHundredths(buf: Uint8Array, at: number, ms: number): number {
  // Never negative (durations come from a monotonic clock); the digit loops assume it.
  const h = Math.max(0, Math.round(ms * 100));
  const whole = Math.floor(h / 100);
  const frac = h - whole * 100;
  at = writeDecimal(buf, at, whole);
  if (frac === 0) return at;
  buf[at++] = 0x2e;
  if (frac % 10 === 0) {
    buf[at] = ZERO + frac / 10;
    return at + 1;
  }
  buf[at] = ZERO + Math.floor(frac / 10);
  buf[at + 1] = ZERO + (frac % 10);
  return at + 2;
}
