/**
 * JSON text → value, the inverse of encode.ts: objects become brace lists of `("key" value)` pairs in
 * document order (duplicate keys kept), arrays bracket lists, integers ints — parsed exactly, through
 * bigint when long, never through a JS number — while integers beyond int64 and every number with a
 * fraction or exponent become reals. The text is a latin1 byte string; bytes from 0x80 up inside
 * strings pass through unchanged and `\u` escapes become UTF-8. Failures are `@(json: <reason>)`
 * values carrying the byte offset; the whole text must be one value with only whitespace around it.
 */
import { List, Real, Str, T_BRACE, T_BRACKET, T_PAREN, intFromBig, type Value, type Wrap } from "sup/kernel";
import { FALSE, JSON_NESTING_MAX, NULL, TRUE } from "./encode.ts";
import { jsonError } from "./reason.ts";

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** Integers of at most this many digits are exact as JS numbers (below 2^53). */
const SAFE_DIGITS = 15;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** Thrown inside the parse to stop at the first error. */
class Malformed {
  constructor(readonly error: Wrap) {}
}

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  fail(reason: string, at: number = this.i): never {
    if (at >= this.s.length) throw new Malformed(jsonError("unexpected end of input"));
    throw new Malformed(jsonError(reason + " at", at));
  }

  skip(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
    this.i = i;
  }

  value(depth: number): Value {
    this.skip();
    const c = this.s.charCodeAt(this.i);
    if (c === 34) return new Str(this.string());
    if (c === 123 || c === 91) {
      if (depth >= JSON_NESTING_MAX) this.fail(`nesting deeper than ${JSON_NESTING_MAX}`);
      return c === 123 ? this.object(depth + 1) : this.array(depth + 1);
    }
    if (c === 45 || (c >= 48 && c <= 57)) return this.number();
    if (this.s.startsWith("true", this.i)) return this.literal(4, TRUE);
    if (this.s.startsWith("false", this.i)) return this.literal(5, FALSE);
    if (this.s.startsWith("null", this.i)) return this.literal(4, NULL);
    return this.fail("unexpected character");
  }

  literal(n: number, v: Value): Value {
    this.i += n;
    return v;
  }

  object(depth: number): Value {
    const pairs: Value[] = [];
    this.i++;
    this.skip();
    if (this.s.charCodeAt(this.i) === 125) {
      this.i++;
      return new List(T_BRACE, pairs);
    }
    for (;;) {
      this.skip();
      if (this.s.charCodeAt(this.i) !== 34) this.fail("expected string key");
      const key = new Str(this.string());
      this.skip();
      if (this.s.charCodeAt(this.i) !== 58) this.fail("expected colon");
      this.i++;
      pairs.push(new List(T_PAREN, [key, this.value(depth)]));
      this.skip();
      const c = this.s.charCodeAt(this.i++);
      if (c === 125) return new List(T_BRACE, pairs);
      if (c !== 44) this.fail("expected comma or closing brace", this.i - 1);
    }
  }

  array(depth: number): Value {
    const items: Value[] = [];
    this.i++;
    this.skip();
    if (this.s.charCodeAt(this.i) === 93) {
      this.i++;
      return new List(T_BRACKET, items);
    }
    for (;;) {
      items.push(this.value(depth));
      this.skip();
      const c = this.s.charCodeAt(this.i++);
      if (c === 93) return new List(T_BRACKET, items);
      if (c !== 44) this.fail("expected comma or closing bracket", this.i - 1);
    }
  }

  number(): Value {
    const start = this.i;
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(this.s);
    if (m === null) return this.fail("malformed number");
    const text = m[0];
    this.i = start + text.length;
    if (m[1] === undefined && m[2] === undefined) {
      const digits = text.length - (text.charCodeAt(0) === 45 ? 1 : 0);
      if (digits <= SAFE_DIGITS) return parseInt(text, 10) || 0;
      const b = BigInt(text);
      if (b >= INT64_MIN && b <= INT64_MAX) return intFromBig(b);
    }
    const x = Number(text);
    if (!Number.isFinite(x)) this.fail("number out of range", start);
    return new Real(x);
  }

  /** Reads a string literal starting at its opening quote; returns its bytes. */
  string(): string {
    const s = this.s;
    let i = ++this.i;
    let out = "";
    let from = i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 34) break;
      if (Number.isNaN(c)) this.fail("unterminated string", s.length);
      if (c < 0x20) this.fail("control character in string", i);
      if (c !== 92) {
        i++;
        continue;
      }
      out += s.slice(from, i);
      const e = s.charCodeAt(i + 1);
      const short = ESCAPES[e];
      if (short !== undefined) {
        out += short;
        i += 2;
      } else if (e === 117) {
        let cp = this.hex4(i + 2);
        i += 6;
        // A high surrogate followed by an escaped low one is one code point; a lone surrogate is
        // kept as its own three bytes (WTF-8) so no escape loses information.
        if (cp >= 0xd800 && cp < 0xdc00 && s.charCodeAt(i) === 92 && s.charCodeAt(i + 1) === 117) {
          const lo = this.hex4(i + 2);
          if (lo >= 0xdc00 && lo < 0xe000) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
          }
        }
        out += utf8(cp);
      } else this.fail("invalid escape", i);
      from = i;
    }
    this.i = i + 1;
    return out + s.slice(from, i);
  }

  hex4(at: number): number {
    const h = this.s.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail("invalid escape", at - 2);
    return parseInt(h, 16);
  }
}

const ESCAPES: Readonly<Record<number, string>> = { 34: '"', 92: "\\", 47: "/", 98: "\b", 102: "\f", 110: "\n", 114: "\r", 116: "\t" };

/** The UTF-8 bytes of a code point (surrogates included, as WTF-8), as a latin1 string. */
function utf8(cp: number): string {
  if (cp < 0x80) return String.fromCharCode(cp);
  if (cp < 0x800) return String.fromCharCode(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  if (cp < 0x10000) return String.fromCharCode(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  return String.fromCharCode(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
}

/** Decodes JSON text (a latin1 byte string) into a value, or returns `@(json: <reason>)`. */
export function decodeJson(text: string): Value | Wrap {
  const p = new Parser(text);
  try {
    const v = p.value(0);
    p.skip();
    if (p.i < text.length) p.fail("unexpected data after value");
    return v;
  } catch (e) {
    if (e instanceof Malformed) return e.error;
    throw e;
  }
}
