/**
 * Text renderings of values (spec §2.6): DEBUG-FORM, FIXED6, STR-FORM, TEXT-FORM re-serialisation,
 * and a readable source form for the REPL and diagnostics. All strings here are latin1 byte strings.
 */
import { read } from "./reader.ts";
import {
  Aberrant,
  List,
  Real,
  Str,
  Sym,
  Wrap,
  T_BRACE,
  T_BRACKET,
  T_DATUM,
  T_ERROR,
  T_NONE,
  T_PAREN,
  T_SOME,
  type ListKind,
  type Value,
  typeOf,
} from "./value.ts";

/** C `printf("%f")` of a double: exact decimal rounded half-to-even at 6 places, never exponential. */
export function fixed6(x: number): string {
  if (Number.isNaN(x)) {
    const sign = new Float64Array([x]);
    return new BigUint64Array(sign.buffer)[0]! >> 63n ? "-nan" : "nan";
  }
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let body: string;
  if (a < 1e21 && !Number.isInteger(a * 2e6)) body = a.toFixed(6);
  else body = exactFixed6(a);
  return neg ? "-" + body : body;
}

/** Exact half-to-even rounding of a non-negative finite double to 6 decimals, using bigint. */
function exactFixed6(a: number): string {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, a);
  const bits = buf.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let e: number;
  if (expBits === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = expBits - 1075;
  }
  let q: bigint;
  if (e >= 0) q = (mant << BigInt(e)) * 1_000_000n;
  else {
    const k = BigInt(-e);
    const num = mant * 1_000_000n;
    q = num >> k;
    const r2 = (num - (q << k)) << 1n;
    const half = 1n << k;
    if (r2 > half || (r2 === half && (q & 1n) === 1n)) q += 1n;
  }
  const digits = q.toString().padStart(7, "0");
  return digits.slice(0, -6) + "." + digits.slice(-6);
}

/** Shortest round-trip rendering of a double in the style of fmt's `{}` (spec §2.6.1). */
export function shortestReal(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const neg = x < 0;
  const ex = Math.abs(x).toExponential();
  const ePos = ex.indexOf("e");
  const digits = ex.slice(0, ePos).replace(".", "");
  const e = parseInt(ex.slice(ePos + 1), 10);
  let body: string;
  if (e >= -4 && e < 16) {
    if (e >= 0) {
      body = digits.length <= e + 1 ? digits + "0".repeat(e + 1 - digits.length) : digits.slice(0, e + 1) + "." + digits.slice(e + 1);
    } else body = "0." + "0".repeat(-e - 1) + digits;
  } else {
    const ae = Math.abs(e);
    body = digits[0] + (digits.length > 1 ? "." + digits.slice(1) : "") + "e" + (e < 0 ? "-" : "+") + (ae < 10 ? "0" + ae : String(ae));
  }
  return neg ? "-" + body : body;
}

/** DEBUG-FORM (what `debug` prints for one value). */
export function debugForm(v: Value): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (v instanceof Real) return shortestReal(v.v);
  if (v instanceof Sym) return v.name;
  if (v instanceof Str) return '"' + v.s + '"';
  return "[" + v.t + "]";
}

/** Bytes of a list for STR-FORM: integers give one byte each, strings their bytes, others nothing. */
function listBytes(items: readonly Value[]): string {
  // A list of bytes (the usual case: text made with cast :list-c) is its own run.
  let k = 0;
  while (k < items.length) {
    const it = items[k];
    if (typeof it !== "number" || (it & 255) !== it) break;
    k++;
  }
  if (k === items.length) return bytesText(items as number[]);
  // Runs of integers are turned into text with one fromCharCode call each, not one per byte.
  let out = "";
  let run: number[] = [];
  for (const it of items) {
    // `& 255` is the value mod 256 for every safe integer, negative ones included (ToInt32 wraps mod 2^32).
    if (typeof it === "number") run.push(it & 255);
    else if (typeof it === "bigint") run.push(Number(BigInt.asUintN(8, it)));
    else if (it instanceof Str) {
      if (run.length > 0) {
        out += bytesText(run);
        run = [];
      }
      out += it.s;
    }
  }
  return run.length > 0 ? out + bytesText(run) : out;
}

/** Latin1 text of byte values, in chunks small enough for fromCharCode's argument limit. */
function bytesText(codes: readonly number[]): string {
  if (codes.length <= 8192) return String.fromCharCode.apply(null, codes as number[]);
  let s = "";
  for (let i = 0; i < codes.length; i += 8192) s += String.fromCharCode.apply(null, codes.slice(i, i + 8192));
  return s;
}

/** STR-FORM (spec §2.6.4): the result of `(cast :str v)`, also used by `eq`. */
export function strForm(v: Value): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (v instanceof Str) return v.s;
  if (v instanceof Real) return fixed6(v.v);
  if (v instanceof Sym) return v.name;
  if (v instanceof List) return listBytes(v.items);
  if (v instanceof Aberrant) return "?lambda";
  if (v instanceof Wrap) {
    if (v.t === T_ERROR) return "@(" + strForm(v.inner) + ")";
    if (v.t === T_DATUM) return "#" + strForm(v.inner);
    const inner = v.inner;
    if (inner instanceof Str) return inner.s;
    if (inner instanceof List) return listBytes(inner.items);
    return "";
  }
  return "()"; // NONE
}

/** TEXT-FORM of one element, or null when the element has no text form (nested lists, wrappers…). */
export function textFormElement(v: Value): string | null {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (v instanceof Real) return fixed6(v.v);
  if (v instanceof Sym) return v.name;
  if (v instanceof Str) return '"' + v.s + '"';
  return null;
}

const OPEN: Record<number, string> = { [T_PAREN]: "(", [T_BRACE]: "{", [T_BRACKET]: "[" };
const CLOSE: Record<number, string> = { [T_PAREN]: ")", [T_BRACE]: "}", [T_BRACKET]: "]" };

/** Thrown by rebuildList when an element has no text form and the caller asked for that. */
export class NoTextForm extends Error {}

/**
 * Builds a list of `kind` from items the way the original does: print each with TEXT-FORM, join with
 * spaces, wrap in brackets and parse the text again (spec §2.6.3). Items without a text form become
 * `()` when `other` is "empty", or throw NoTextForm when it is "throw". The result is exactly what
 * the re-parse would give; the text is only built when a string could change meaning on re-parse.
 */
export function rebuildList(kind: ListKind, items: readonly Value[], other: "empty" | "throw"): List {
  const out: Value[] = new Array(items.length);
  let needText = false;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (typeof it === "number" || typeof it === "bigint" || it instanceof Sym) out[i] = it;
    else if (it instanceof Str) {
      if (it.s.includes('"') || it.s.includes("\\")) needText = true;
      out[i] = it;
    } else if (it instanceof Real) out[i] = realThroughText(it.v);
    else if (other === "throw") throw new NoTextForm();
    else out[i] = new List(T_PAREN, []);
  }
  if (!needText) return new List(kind, out);
  const parts: string[] = [];
  for (const it of items) parts.push(textFormElement(it) ?? "()");
  const parsed = read(OPEN[kind]! + parts.join(" ") + CLOSE[kind]!).value;
  return parsed instanceof List ? parsed : new List(kind, []);
}

/** A real passed through FIXED6 text and parsed again (how kernels return reals). */
export function realThroughText(x: number): Value {
  const text = fixed6(x);
  const parsed = read(text).value;
  return parsed ?? new Real(0);
}

function escapeString(s: string): string {
  return s.replace(/[\\"\n\t\r\0]/g, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : c === "\r" ? "\\r" : c === "\0" ? "\\0" : "\\" + c));
}

/** A readable rendering in SLP source syntax (strings escaped), for the REPL and messages. */
export function sourceForm(v: Value): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (v instanceof Real) {
    const s = shortestReal(v.v);
    return /[.en]/.test(s) ? s : s + ".0";
  }
  if (v instanceof Sym) return v.name;
  if (v instanceof Str) return '"' + escapeString(v.s) + '"';
  if (v instanceof List) {
    // A plain loop, not items.map: a value nested as deep as the reader allows must print with the
    // stack a job or the REPL has left, and map's frames tripled the stack used per level.
    let out = OPEN[v.t]!;
    for (let i = 0; i < v.items.length; i++) out += (i === 0 ? "" : " ") + sourceForm(v.items[i]!);
    return out + CLOSE[v.t]!;
  }
  if (v instanceof Wrap) return (v.t === T_SOME ? "'" : v.t === T_ERROR ? "@" : "#") + sourceForm(v.inner);
  if (v instanceof Aberrant) return v.inner !== null ? "?" + sourceForm(v.inner) : `<lambda ${v.id}>`;
  return typeOf(v) === T_NONE ? "<none>" : "?";
}
