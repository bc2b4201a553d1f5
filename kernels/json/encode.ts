/**
 * Value → JSON text per docs/node.md: a brace list of `("key" value)` pairs is an object, a bracket
 * list an array, a string a string, an int a JSON integer, a real a JSON number that reads back as a
 * real (an integral value gets `.0`), and the symbols `true`, `false`, `null` the JSON literals.
 * Strings are byte strings: bytes from 0x80 up pass through unchanged, so UTF-8 text stays UTF-8 and
 * any byte string decodes back to itself. Everything else has no JSON form and gives
 * `@(json: cannot encode <type>)`.
 */
import { List, Real, Str, Sym, T_BRACE, T_BRACKET, T_PAREN, TYPE_NAMES, sym, typeOf, type Value, type Wrap } from "sup/kernel";
import { jsonError } from "./reason.ts";

/**
 * Deepest nesting encoded or decoded. Equal to the reader's NESTING_DEPTH_MAX, so every value a
 * program can be read into also round-trips through JSON; it bounds the recursion of both walkers.
 */
export const JSON_NESTING_MAX = 10_000;

/** The JSON literals' symbols. */
export const TRUE = sym("true");
export const FALSE = sym("false");
export const NULL = sym("null");

/** Bytes that must be escaped inside a JSON string. */
const NEEDS_ESCAPE = /["\\\x00-\x1f]/;
const SHORT_ESCAPES: Readonly<Record<number, string>> = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\" };

/** Writes a byte string as a JSON string literal (bytes ≥ 0x80 unchanged). */
export function quoteJson(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 34 && c !== 92) continue;
    out += s.slice(from, i) + (SHORT_ESCAPES[c] ?? "\\u00" + (c < 16 ? "0" : "") + c.toString(16));
    from = i + 1;
  }
  return out + s.slice(from) + '"';
}

/** Writes a finite real so that it reads back as the same real (never as an int). */
export function realJson(x: number): string {
  if (Object.is(x, -0)) return "-0.0";
  // String() is the shortest text that reads back to the same double; it has no `.` or exponent
  // exactly when the value is integral and below 1e21, which would read back as an int.
  const t = String(x);
  return /[.e]/.test(t) ? t : t + ".0";
}

/** Thrown inside the walk to stop at the first value without a JSON form. */
class NoJsonForm {
  constructor(readonly error: Wrap) {}
}

function walk(v: Value, depth: number): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (v instanceof Str) return quoteJson(v.s);
  if (v instanceof Real) {
    if (!Number.isFinite(v.v)) throw new NoJsonForm(jsonError("cannot encode real"));
    return realJson(v.v);
  }
  if (v instanceof Sym) {
    if (v === TRUE || v === FALSE || v === NULL) return v.name;
    throw new NoJsonForm(jsonError("cannot encode symbol"));
  }
  if (v instanceof List && (v.t === T_BRACKET || v.t === T_BRACE)) {
    if (depth >= JSON_NESTING_MAX) throw new NoJsonForm(jsonError("cannot encode nesting deeper than", JSON_NESTING_MAX));
    const items = v.items;
    if (v.t === T_BRACKET) {
      let out = "[";
      for (let i = 0; i < items.length; i++) out += (i === 0 ? "" : ",") + walk(items[i]!, depth + 1);
      return out + "]";
    }
    let out = "{";
    for (let i = 0; i < items.length; i++) {
      const pair = items[i]!;
      if (!(pair instanceof List) || pair.t !== T_PAREN || pair.items.length !== 2 || !(pair.items[0] instanceof Str)) {
        throw new NoJsonForm(jsonError("cannot encode list-c"));
      }
      out += (i === 0 ? "" : ",") + quoteJson(pair.items[0].s) + ":" + walk(pair.items[1]!, depth + 1);
    }
    return out + "}";
  }
  throw new NoJsonForm(jsonError("cannot encode " + TYPE_NAMES[typeOf(v)]!));
}

/** Encodes a value as JSON text (a latin1 byte string), or returns `@(json: cannot encode <type>)`. */
export function encodeJson(v: Value): string | Wrap {
  try {
    return walk(v, 0);
  } catch (e) {
    if (e instanceof NoJsonForm) return e.error;
    throw e;
  }
}
