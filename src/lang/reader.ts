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
 * Deepest nesting the reader accepts, counting lists and prefixes (`'`, `@`, `#`, `?`) alike. The
 * reader keeps its own frames, but the checker, compiler, printer and codec walk values by
 * recursion, so deeper input is rejected here instead of overflowing the stack there. The value
 * codec uses the same limit, so every value the reader produces can be encoded.
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
/** The lists and prefixes being read, three numbers each: the list kind or −(prefix byte), the start offset, the list's base in ITEMS. */
const FRAMES: number[] = [];
/** listNext's answer when the list has another element to read. */
const MORE: unique symbol = Symbol("more");
/** A ParseResult's diagnostics when there are none (most reads). */
const NO_DIAGNOSTICS: readonly ParseDiagnostic[] = Object.freeze([]);

/** Parses the first object of `src` (a latin1 byte string). */
export function read(src: string): ParseResult {
  ITEMS.length = 0;
  CLOSERS.length = 0;
  FRAMES.length = 0;
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
  private readonly frames = FRAMES;
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

  /**
   * Reads one object starting at a non-space, non-closer byte (the caller guarantees both). Lists
   * and prefixes being read are frames on FRAMES, not calls, so nesting up to NESTING_DEPTH_MAX
   * costs no JavaScript stack: a deep read must not depend on how much stack the caller has left.
   */
  private object(): Value {
    const s = this.s;
    const frames = this.frames;
    const floor = frames.length;
    for (;;) {
      // Going down: start the object at this.i; a list or prefix opens a frame and reads its first element.
      let v: Value;
      const start = this.i;
      const c = s.charCodeAt(start);
      if (c === 40 || c === 91 || c === 123) {
        this.i++;
        if (!this.enter(start)) v = 0;
        else {
          frames.push(c === 40 ? T_PAREN : c === 91 ? T_BRACKET : T_BRACE, start, this.stack.length);
          this.closers.push(c === 40 ? 41 : c === 91 ? 93 : 125);
          const r = this.listNext();
          if (r === MORE) continue;
          v = r;
        }
      } else if (c === 39 || c === 64 || c === 35 || c === 63) {
        if (!this.enter(start)) v = 0;
        else {
          this.i++;
          this.skip();
          const nc = s.charCodeAt(this.i);
          if (this.i < s.length && nc !== 41 && nc !== 93 && nc !== 125) {
            frames.push(-c, start, 0);
            continue;
          }
          this.error(6, `${PREFIX_NAMES[c]!} operator requires an object`, this.i);
          v = 0;
        }
      } else v = c === 34 ? this.string() : this.atom();
      // Going up: the finished object completes prefixes and joins its list, until a list wants another element.
      for (;;) {
        const n = frames.length;
        if (n === floor) return v;
        const tag = frames[n - 3]!;
        if (tag < 0) {
          const at = frames[n - 2]!;
          frames.length = n - 3;
          this.depth--;
          v = tag === -63 ? aberrantLiteral(v) : new Wrap(tag === -39 ? T_SOME : tag === -64 ? T_ERROR : T_DATUM, v, at);
          continue;
        }
        this.stack.push(v);
        const r = this.listNext();
        if (r === MORE) break;
        v = r;
      }
    }
  }

  /** Enters one nesting level for the object at `start`; past the limit, reports it and stops reading. */
  private enter(start: number): boolean {
    if (++this.depth <= NESTING_DEPTH_MAX) return true;
    this.error(9, `Objects nest deeper than ${NESTING_DEPTH_MAX} levels`, start);
    this.i = this.s.length;
    this.aborted = true;
    return false;
  }

  /**
   * Reads on in the innermost list (the top frame) up to its next element (MORE, with this.i at
   * it) or its end (then the list, its frame closed). Elements collect on one shared stack and are
   * copied out at their exact count: growing a fresh array per list leaves slack and garbage that
   * dominate memory on large data files.
   */
  private listNext(): Value | typeof MORE {
    const s = this.s;
    const n = s.length;
    const frames = this.frames;
    const f = frames.length - 3;
    const start = frames[f + 1]!;
    const close = this.closers[this.closers.length - 1]!;
    for (;;) {
      this.skip();
      if (this.i >= n) {
        const [code, msg] = UNCLOSED[s.charCodeAt(start)]!;
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
      return MORE;
    }
    this.closers.pop();
    this.depth--;
    const kind = frames[f]! as ListKind;
    const base = frames[f + 2]!;
    frames.length = f;
    const stack = this.stack;
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
