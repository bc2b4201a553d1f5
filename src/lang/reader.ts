/**
 * The SLP reader (spec §1): turns source bytes into one value. Like the original it parses only the
 * first object of the source; unlike it, it keeps going after a syntax error so one run reports
 * every error it can find in that object, each with its byte offset.
 */
import {
  aberrantLiteral,
  List,
  Real,
  Str,
  sym,
  symIn,
  T_BRACE,
  T_BRACKET,
  T_DATUM,
  T_ERROR,
  T_PAREN,
  T_SOME,
  Wrap,
  type ListKind,
  type Value,
} from "./value.ts";
import { EXACT_REAL_DIGITS_MAX, PLAIN_REAL_CHARS_MAX, POW10, atomKind, atomNumber } from "./reader-atoms.ts";

/** One syntax error. `code` follows spec §1.6 (1–6); 7 is a bad number, 8 a mismatched closer, 9 too deep. */
export interface ParseDiagnostic {
  readonly code: number;
  readonly message: string;
  readonly offset: number;
}

export interface ParseResult {
  /** The first object, or null when there were errors. */
  readonly value: Value | null;
  readonly diagnostics: readonly ParseDiagnostic[];
  /** Offset just past the first object (text after it is ignored, as in the original). */
  readonly end: number;
}

/**
 * Deepest nesting the reader accepts, counting lists and prefixes (`'`, `@`, `#`, `?`) alike: both
 * recurse, so deeper input is rejected instead of overflowing the stack. The value codec uses the
 * same limit, so every value the reader produces can be encoded.
 */
export const NESTING_DEPTH_MAX = 10_000;

const UNCLOSED: Record<number, [number, string]> = {
  40: [1, "Unclosed paren list"],
  91: [2, "Unclosed environment"],
  123: [3, "Unclosed brace list"],
};
const PREFIX_NAMES: Record<number, string> = { 39: "Quote", 64: "Error", 35: "Datum", 63: "Aberrant" };

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** True for the bytes that end an atom: whitespace, a closer or a comment. */
function isDelimiter(c: number): boolean {
  return isSpace(c) || c === 41 || c === 93 || c === 125 || c === 59;
}

/**
 * Elements of the lists being read and their closing characters, shared by every read: reading
 * never calls out, so reads never nest, and `eval` reads many short texts, each of which would
 * otherwise allocate both.
 */
const ITEMS: Value[] = [];
const CLOSERS: number[] = [];
/** A ParseResult's diagnostics when there are none (most reads). */
const NO_DIAGNOSTICS: readonly ParseDiagnostic[] = Object.freeze([]);

/** Parses the first object of `src` (a latin1 byte string). */
export function read(src: string): ParseResult {
  ITEMS.length = 0;
  CLOSERS.length = 0;
  return READER.run(src);
}

/** The reader's state for one read; one instance serves every read (they never nest, see ITEMS). */
class Reader {
  private s = "";
  private i = 0;
  private depth = 0;
  /** Set once nesting went too deep: reading stopped there, so enclosing lists are not "unclosed". */
  private aborted = false;
  /** Closing characters of the lists being read, innermost last. */
  private readonly closers = CLOSERS;
  private readonly stack = ITEMS;
  private diags: ParseDiagnostic[] | null = null;

  run(src: string): ParseResult {
    this.s = src;
    this.i = 0;
    this.depth = 0;
    this.aborted = false;
    this.diags = null;
    try {
      return this.first();
    } finally {
      // The source may be large (a file, a request body): the shared reader does not keep it.
      this.s = "";
      this.diags = null;
    }
  }

  private first(): ParseResult {
    this.skip();
    const c = this.s.charCodeAt(this.i);
    if (this.i >= this.s.length || c === 41 || c === 93 || c === 125) {
      return { value: null, diagnostics: [{ code: 5, message: "No object found in source", offset: 0 }], end: 0 };
    }
    const v = this.object();
    return { value: this.diags === null ? v : null, diagnostics: this.diags ?? NO_DIAGNOSTICS, end: this.i };
  }

  private error(code: number, message: string, offset: number): void {
    (this.diags ??= []).push({ code, message, offset });
  }

  /** Skips whitespace and comments. */
  private skip(): void {
    const s = this.s;
    const n = s.length;
    let i = this.i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (isSpace(c)) i++;
      else if (c === 59) {
        while (i < n && s.charCodeAt(i) !== 10) i++;
        i++;
      } else break;
    }
    this.i = Math.min(i, n);
  }

  /** Reads one object starting at a non-space, non-closer byte (the caller guarantees both). */
  private object(): Value {
    const s = this.s;
    const start = this.i;
    const c = s.charCodeAt(start);
    switch (c) {
      case 40:
        return this.list(c, 41, T_PAREN);
      case 91:
        return this.list(c, 93, T_BRACKET);
      case 123:
        return this.list(c, 125, T_BRACE);
      case 34:
        return this.string();
      case 39:
      case 64:
      case 35:
      case 63:
        return this.prefixed(c, start);
      default:
        return this.atom();
    }
  }

  /** A quote, error, datum or aberrant prefix (`'`, `@`, `#`, `?`) and the object it wraps. */
  private prefixed(c: number, start: number): Value {
    const s = this.s;
    const prefix = PREFIX_NAMES[c]!;
    if (!this.enter(start)) return 0;
    this.i++;
    this.skip();
    const nc = s.charCodeAt(this.i);
    if (this.i >= s.length || nc === 41 || nc === 93 || nc === 125) {
      this.error(6, `${prefix} operator requires an object`, this.i);
      return 0;
    }
    const inner = this.object();
    this.depth--;
    if (c === 63) return aberrantLiteral(inner);
    return new Wrap(c === 39 ? T_SOME : c === 64 ? T_ERROR : T_DATUM, inner, start);
  }

  /** Enters one nesting level for the object at `start`; past the limit, reports it and stops reading. */
  private enter(start: number): boolean {
    if (++this.depth <= NESTING_DEPTH_MAX) return true;
    this.error(9, `Objects nest deeper than ${NESTING_DEPTH_MAX} levels`, start);
    this.i = this.s.length;
    this.aborted = true;
    return false;
  }

  private list(open: number, close: number, kind: ListKind): Value {
    const s = this.s;
    const n = s.length;
    const start = this.i++;
    if (!this.enter(start)) return 0;
    // Elements collect on one shared stack and are copied out at their exact count: growing a
    // fresh array per list leaves slack and garbage that dominate memory on large data files.
    const stack = this.stack;
    const base = stack.length;
    this.closers.push(close);
    for (;;) {
      this.skip();
      if (this.i >= n) {
        const [code, msg] = UNCLOSED[open]!;
        // Report only the innermost unclosed list or string: everything enclosing it is unclosed for
        // the same reason, and after a nesting error reading stopped early on purpose.
        if (!this.aborted && !(this.diags ?? []).some((d) => d.code >= 1 && d.code <= 4)) this.error(code, msg, start);
        break;
      }
      const c = s.charCodeAt(this.i);
      if (c === close) {
        this.i++;
        break;
      }
      if (c === 41 || c === 93 || c === 125) {
        const at = lineCol(s, start);
        this.error(
          8,
          `Mismatched closing '${String.fromCharCode(c)}': expected '${String.fromCharCode(close)}' to close the list opened at line ${at.line}, column ${at.col}`,
          this.i,
        );
        // A closer that belongs to an enclosing list closes this one too (the usual missing-closer
        // typo); any other stray closer is skipped.
        if (this.closers.includes(c)) break;
        this.i++;
        continue;
      }
      stack.push(this.object());
    }
    this.closers.pop();
    this.depth--;
    const items = stack.slice(base);
    stack.length = base;
    return new List(kind, items, start);
  }

  private string(): Value {
    const s = this.s;
    const n = s.length;
    const start = this.i++;
    let out = "";
    let run = this.i;
    for (;;) {
      if (this.i >= n) {
        this.error(4, "Unclosed string", start);
        return new Str(out);
      }
      const c = s.charCodeAt(this.i);
      if (c === 34) {
        out += s.slice(run, this.i);
        this.i++;
        return new Str(out);
      }
      if (c === 92) {
        out += s.slice(run, this.i);
        if (this.i + 1 >= n) {
          this.i = n;
          this.error(4, "Unclosed string", start);
          return new Str(out);
        }
        const e = s.charCodeAt(this.i + 1);
        out += e === 110 ? "\n" : e === 116 ? "\t" : e === 114 ? "\r" : e === 48 ? "\0" : s[this.i + 1];
        this.i += 2;
        run = this.i;
        continue;
      }
      this.i++;
    }
  }

  private atom(): Value {
    const s = this.s;
    const n = s.length;
    const start = this.i;
    let i = start;
    // Plain decimal integers (the commonest atom in data) are read without making a substring.
    let digits = 0;
    let acc = 0;
    const neg = s.charCodeAt(i) === 45;
    if (neg) i++;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      acc = acc * 10 + (c - 48);
      digits++;
      i++;
    }
    const end = i < n ? s.charCodeAt(i) : 32;
    if (digits > 0 && digits < 16 && isDelimiter(end)) {
      this.i = i;
      return neg ? (acc === 0 ? 0 : -acc) : acc;
    }
    // So are plain `digits.digits` reals: atomNumber would read them with parseFloat too.
    if (digits > 0 && end === 46) {
      let j = i + 1;
      let frac = 0;
      while (j < n) {
        const c = s.charCodeAt(j);
        if (c < 48 || c > 57) break;
        frac = frac * 10 + (c - 48);
        j++;
      }
      const fracDigits = j - i - 1;
      if (fracDigits > 0 && j - start < PLAIN_REAL_CHARS_MAX && isDelimiter(j < n ? s.charCodeAt(j) : 32)) {
        this.i = j;
        // With few enough digits the digits and the power of ten are exact doubles, and one
        // division of exact doubles is correctly rounded: exactly parseFloat's result.
        if (digits + fracDigits <= EXACT_REAL_DIGITS_MAX) {
          const x = (acc * POW10[fracDigits]! + frac) / POW10[fracDigits]!;
          return new Real(neg ? -x : x);
        }
        return new Real(parseFloat(s.slice(start, j)));
      }
    }
    i = start;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (isSpace(c) || c === 41 || c === 93 || c === 125 || c === 59) break;
      i++;
    }
    this.i = i;
    // Only a sign, a digit or a dot can start a number (atomKind): the rest, most symbols, are symbols.
    const c0 = s.charCodeAt(start);
    if (!(c0 === 43 || c0 === 45 || c0 === 46 || (c0 >= 48 && c0 <= 57))) return symIn(s, start, i);
    const a = s.slice(start, i);
    const kind = atomKind(a);
    if (kind === "sym") return sym(a);
    const v = atomNumber(a, kind);
    if (v === "stod" || v === "stoll") {
      this.error(7, `${v}: number out of range or malformed: ${a}`, start);
      return 0;
    }
    return v;
  }
}

const READER = new Reader();

/** Line and column (both 1-based, column in bytes) of a byte offset. */
export function lineCol(src: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, src.length);
  for (let i = 0; i < end; i++) {
    if (src.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}
