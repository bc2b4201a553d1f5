/**
 * The pieces of a request's access line (`info request id=… method=… path=… tenant=… route=…
 * version=… status=… ms=…`, docs/node.md) that are made per request: the request id, the path and the
 * duration. They are written for every request a node answers, so each is made the cheap way.
 */
import { logValue } from "../log.ts";

// Request ids: a per-process random prefix (ids from different processes do not collide in merged
// logs) and a counter (cheaper than a UUID per request, and ordered).
const ID_PREFIX = Math.floor(Math.random() * 0x1_0000_0000)
  .toString(16)
  .padStart(8, "0");
let nextId = 0;
const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";
/** `${ID_PREFIX}-` and the base-36 digits of nextId but the last, redone once every 36 ids. */
let idHead = `${ID_PREFIX}-`;

/** A fresh request id, e.g. `3f2a9c01-1k`: the prefix and a base-36 counter. */
export function newRequestId(): string {
  const n = nextId++;
  const last = n % 36;
  // Number-to-text with a radix is a runtime call; only the last digit changes between most ids.
  if (last === 0) idHead = n === 0 ? `${ID_PREFIX}-` : `${ID_PREFIX}-${(n / 36).toString(36)}`;
  return idHead + BASE36[last]!;
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
