/**
 * SLP values: one representation shared by the evaluator, kernels, the codec and the store.
 *
 * Integers are JS numbers while they fit in the safe-integer range and bigints outside it (never a
 * bigint inside it), so equality is `===` and the common case stays unboxed. Every other value is
 * an object whose `t` field is its type code (spec §2.1). Strings are byte strings held as latin1
 * JS strings (one char per byte, 0–255). Values are immutable once built.
 */

import type { LambdaDef } from "./interp.ts";
import { sym } from "./symbols.ts";

export const T_NONE = 0;
export const T_SOME = 1;
export const T_PAREN = 2;
export const T_BRACE = 4;
export const T_STR = 5;
export const T_SYMBOL = 7;
export const T_INT = 9;
export const T_REAL = 10;
export const T_BRACKET = 11;
export const T_ERROR = 12;
export const T_DATUM = 13;
export const T_ABERRANT = 14;

export type TypeCode = 0 | 1 | 2 | 4 | 5 | 7 | 9 | 10 | 11 | 12 | 13 | 14;
export type ListKind = typeof T_PAREN | typeof T_BRACE | typeof T_BRACKET;
export type WrapKind = typeof T_SOME | typeof T_ERROR | typeof T_DATUM;

/** An SLP integer: a number when safe, a bigint otherwise (always within int64). */
export type Int = number | bigint;

/** The NONE value (type 0). */
export class NoneValue {
  readonly t = T_NONE;
}
export const NONE = new NoneValue();

/*
 * The value classes below assign their fields in their constructors (`declare` keeps the types)
 * instead of declaring class fields: the engine runs class field initializers as a separate
 * function on every construction, which values, made by the million when a large file is read,
 * should not pay for. Fields are assigned in the order class fields had them.
 */

/** A real number (IEEE double). */
export class Real {
  declare readonly v: number;
  declare readonly t: typeof T_REAL;
  constructor(v: number) {
    this.v = v;
    this.t = T_REAL;
  }
}

/** A byte string, held as a latin1 JS string. */
export class Str {
  declare readonly s: string;
  declare readonly t: typeof T_STR;
  constructor(s: string) {
    this.s = s;
    this.t = T_STR;
  }
}

/**
 * An interned symbol; compare with `===`. `id` indexes per-interpreter binding tables; it is reused
 * after the symbol is collected (see symbols.ts), so it means this symbol only while the symbol is alive.
 */
export class Sym {
  declare readonly name: string;
  declare readonly id: number;
  declare readonly t: typeof T_SYMBOL;
  /** The code that evaluates this symbol (compile.ts), made once: symbols are interned. */
  declare compiled: unknown;
  constructor(name: string, id: number) {
    this.name = name;
    this.id = id;
    this.t = T_SYMBOL;
    this.compiled = undefined;
  }
}

/** A paren, brace or bracket list. `pos` is the source byte offset of its opening character, or -1. */
export class List {
  declare readonly t: ListKind;
  declare readonly items: readonly Value[];
  declare readonly pos: number;
  /** Compiled form, filled in lazily by the evaluator; lists are immutable so it never goes stale. */
  declare compiled: unknown;
  constructor(t: ListKind, items: readonly Value[], pos = -1) {
    this.t = t;
    this.items = items;
    this.pos = pos;
    this.compiled = undefined;
  }
}

/** A quote (`'x`), error (`@x`) or datum (`#x`) wrapping one value. */
export class Wrap {
  declare readonly t: WrapKind;
  declare readonly inner: Value;
  declare readonly pos: number;
  declare compiled: unknown;
  constructor(t: WrapKind, inner: Value, pos = -1) {
    this.t = t;
    this.inner = inner;
    this.pos = pos;
    this.compiled = undefined;
  }
}

/**
 * An ABERRANT value. A lambda reference has `id > 0` (the lambda's number in its interpreter);
 * an aberrant literal `?x` has `id < 0`, a fresh identity that never names a lambda, and keeps
 * its inner object. `ref` caches the lambda object for fast calls; it is only a hint.
 */
export class Aberrant {
  declare readonly id: number;
  declare readonly inner: Value | null;
  declare readonly t: typeof T_ABERRANT;
  declare ref: LambdaDef | undefined;
  constructor(id: number, inner: Value | null = null) {
    this.id = id;
    this.inner = inner;
    this.t = T_ABERRANT;
    this.ref = undefined;
  }
}

export type Value = Int | NoneValue | Real | Str | Sym | List | Wrap | Aberrant;

// The symbol table (interning) is in symbols.ts; these are re-exported for the rest of the code.
export { internedSym, sweepSymbols, sym, symbolCount, symbolStats, symIn } from "./symbols.ts";

let nextLiteralId = -1;
/** Makes an aberrant literal `?inner` with a fresh identity. */
export function aberrantLiteral(inner: Value): Aberrant {
  return new Aberrant(nextLiteralId--, inner);
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Normalises a bigint (already within int64) to the canonical Int form. */
export function intFromBig(b: bigint): Int {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** Wraps any bigint to int64 and normalises it. */
export function wrapInt(b: bigint): Int {
  return intFromBig(b >= INT64_MIN && b <= INT64_MAX ? b : BigInt.asIntN(64, b));
}

/** Converts an Int to bigint. */
export function bigOf(i: Int): bigint {
  return typeof i === "bigint" ? i : BigInt(i);
}

/** int64 addition with wraparound. */
export function intAdd(a: Int, b: Int): Int {
  if (typeof a === "number" && typeof b === "number") {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  return wrapInt(bigOf(a) + bigOf(b));
}

/** int64 subtraction with wraparound. */
export function intSub(a: Int, b: Int): Int {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b;
    if (Number.isSafeInteger(r)) return r;
  }
  return wrapInt(bigOf(a) - bigOf(b));
}

/** int64 multiplication with wraparound. */
export function intMul(a: Int, b: Int): Int {
  if (typeof a === "number" && typeof b === "number") {
    const r = a * b;
    if (Number.isSafeInteger(r)) return r;
  }
  return wrapInt(bigOf(a) * bigOf(b));
}

/** The type code of a value. */
export function typeOf(v: Value): TypeCode {
  return typeof v === "object" ? (v.t as TypeCode) : T_INT;
}

/** True when v is an integer. */
export function isInt(v: Value): v is Int {
  return typeof v === "number" || typeof v === "bigint";
}

/** True when v is a paren, brace or bracket list. */
export function isList(v: Value): v is List {
  return v instanceof List;
}

/** Builds a string value from latin1 text. */
export function str(s: string): Str {
  return new Str(s);
}

/** Builds a paren list. */
export function paren(items: readonly Value[]): List {
  return new List(T_PAREN, items);
}

/** The empty paren list `()`, which kernels use to mean "nothing". */
export const EMPTY_PAREN = new List(T_PAREN, []);

/** Builds an error value wrapping a paren list of the message's words as symbols (spec §3.5). */
export function errorValue(message: string): Wrap {
  const words = message.split(" ").filter((w) => w.length > 0);
  return new Wrap(T_ERROR, new List(T_PAREN, words.map(sym)));
}

/** Decodes UTF-8/any bytes into the latin1 form used for Str and Sym. */
export function latin1FromBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** Encodes a latin1 string to its bytes. */
export function bytesFromLatin1(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/** Converts a JS (UTF-16) string to the latin1 byte form via UTF-8. */
export function latin1FromText(text: string): string {
  return Buffer.from(text, "utf8").toString("latin1");
}

/** Converts a latin1 byte string to JS text by decoding it as UTF-8. */
export function textFromLatin1(s: string): string {
  return Buffer.from(s, "latin1").toString("utf8");
}

/** Type names used in checker messages and signatures, by code. */
export const TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "none",
  1: "some",
  2: "list-p",
  4: "list-c",
  5: "str",
  7: "symbol",
  9: "int",
  10: "real",
  11: "list-b",
  12: "error",
  13: "datum",
  14: "aberrant",
};

/** Built-in type symbols (spec §2.1) to type codes; `..` variants are handled by the lookup. */
const BASE_TYPE_SYMBOLS: Readonly<Record<string, TypeCode>> = {
  ":int": T_INT,
  ":real": T_REAL,
  ":symbol": T_SYMBOL,
  ":str": T_STR,
  ":list-p": T_PAREN,
  ":list-c": T_BRACE,
  ":list-b": T_BRACKET,
  ":none": T_NONE,
  ":some": T_SOME,
  ":error": T_ERROR,
  ":datum": T_DATUM,
  ":aberrant": T_ABERRANT,
  ":any": T_NONE,
  ":list": T_PAREN,
};

/**
 * Resolves a type symbol name to its code, or undefined if it is not one. `forms` holds R2 form
 * names (without the colon) that count as brace-list types.
 */
export function typeSymbolCode(name: string, forms?: ReadonlySet<string> | ReadonlyMap<string, unknown>): TypeCode | undefined {
  const base = name.endsWith("..") ? name.slice(0, -2) : name;
  const code = BASE_TYPE_SYMBOLS[base];
  if (code !== undefined) return code;
  if (forms !== undefined && base.startsWith(":") && forms.has(base.slice(1))) return T_BRACE;
  return undefined;
}
