/**
 * SLP values: one representation shared by the evaluator, kernels, the codec and the store.
 *
 * Integers are JS numbers while they fit in the safe-integer range and bigints outside it (never a
 * bigint inside it), so equality is `===` and the common case stays unboxed. Every other value is
 * an object whose `t` field is its type code (spec §2.1). Strings are byte strings held as latin1
 * JS strings (one char per byte, 0–255). Values are immutable once built.
 */

import type { LambdaDef } from "./interp.ts";

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
 * after the symbol is collected (see sym), so it means this symbol only while the symbol is alive.
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

/**
 * The symbol table. Interning is weak: the table refers to each symbol through a WeakRef, so a
 * symbol that no value, program or binding refers to any more is collected, and the next sweep of
 * the table drops its entry and puts its id on a free list. Code that makes symbols from request
 * data (`eval` of a string, decoded kv values) therefore leaves nothing behind once its values are
 * gone. A sweep runs when a new symbol needs an id, none is free, and the table has grown by half
 * since the last one, so its cost is a constant per symbol made.
 *
 * Ids index the per-interpreter binding tables (interp.ts), which are sized by symbolCount(): ids
 * are reused from the free list, so that count follows the number of symbols alive at once (plus
 * those the collector has not taken yet) instead of growing with every symbol ever made. An id is
 * only meaningful while its symbol is alive; anything keyed by id must hold the symbol itself (an
 * interpreter's trail does, for every binding it has), so a reused id never meets a stale binding.
 * An entry is the weak reference itself, carrying the id to free once its symbol is collected (one
 * object per symbol rather than a reference and a record).
 */
class SymbolEntry extends WeakRef<Sym> {
  declare readonly id: number;
  constructor(s: Sym, id: number) {
    super(s);
    this.id = id;
  }
}
const symbols = new Map<string, SymbolEntry>();
/** Ids of collected symbols, to be given to new ones. */
const freeIds: number[] = [];
/** One more than the highest id given out: the size binding tables need. */
let idsInUse = 0;
/** Smallest table that is swept: below it, a sweep would free too little to be worth its time. */
const SWEEP_TABLE_SIZE_MIN = 1024;
/**
 * How much the table must grow past what the last sweep left before the next one runs: a sweep
 * visits every entry, so the growth it waits for keeps its cost a constant per symbol made.
 */
const SWEEP_GROWTH = 1.5;
let sweepAt = SWEEP_TABLE_SIZE_MIN;
/**
 * Set by a sweep, cleared when the current task ends. A WeakRef keeps its target alive until the
 * end of the task that made or read it, so a second sweep in one task (reading a large file makes
 * many symbols) could only find symbols older tasks left, which the first one already looked at:
 * it waits for the next task instead.
 */
let sweptThisTask = false;

/**
 * Symbols interned lately, by a hash of their name. Most lookups are of a few names (kernel
 * functions, a program's variables, read again with every `eval`ed text), and a slot here costs
 * far less than a probe of the large table (hashing the name, cache misses). The cache holds the
 * symbols in it alive, at most SYMBOL_CACHE_SIZE of them, which bounds what it keeps from the
 * collector.
 */
const SYMBOL_CACHE_SIZE = 512;
const recent: (Sym | undefined)[] = new Array<Sym | undefined>(SYMBOL_CACHE_SIZE).fill(undefined);

/**
 * The slot in `recent` of the name src[start, end), from its length, first byte and last four
 * bytes: names made in sequence (`key1`, `key2`, …) differ at the end.
 */
function recentSlot(src: string, start: number, end: number): number {
  const n = end - start;
  let h = (n * 31 + src.charCodeAt(start)) | 0;
  for (let i = n > 4 ? end - 4 : start; i < end; i++) h = (h * 31 + src.charCodeAt(i)) | 0;
  return (h ^ (h >>> 9)) & (SYMBOL_CACHE_SIZE - 1);
}

/** Interns a symbol name (a latin1 byte string). */
export function sym(name: string): Sym {
  const slot = recentSlot(name, 0, name.length);
  const c = recent[slot];
  if (c !== undefined && c.name === name) return c;
  return symSlow(name, slot);
}

/**
 * Interns the name src[start, end) (the reader's atoms): a name interned lately is found without
 * cutting it out of the source first.
 */
export function symIn(src: string, start: number, end: number): Sym {
  const slot = recentSlot(src, start, end);
  const c = recent[slot];
  if (c !== undefined && c.name.length === end - start && src.startsWith(c.name, start)) return c;
  return symSlow(src.slice(start, end), slot);
}

/** Interns a name not found in `recent` at its slot. */
function symSlow(name: string, slot: number): Sym {
  const e = symbols.get(name);
  let s = e?.deref();
  if (s === undefined) s = internNew(name, e);
  recent[slot] = s;
  return s;
}

/** Makes a symbol; `dead` is the table's entry for a collected symbol of this name, if any. */
function internNew(name: string, dead: SymbolEntry | undefined): Sym {
  // A collected symbol of this name, not yet swept: its id is free now.
  if (dead !== undefined) freeIds.push(dead.id);
  else if (freeIds.length === 0 && symbols.size >= sweepAt && !sweptThisTask) {
    sweepSymbols();
    sweptThisTask = true;
    queueMicrotask(() => {
      sweptThisTask = false;
    });
  }
  const s = new Sym(name, freeIds.length > 0 ? freeIds.pop()! : idsInUse++);
  symbols.set(name, new SymbolEntry(s, s.id));
  return s;
}

/** Drops the entries of collected symbols and frees their ids (after a collection, all of them). */
export function sweepSymbols(): void {
  for (const [name, e] of symbols) {
    if (e.deref() !== undefined) continue;
    symbols.delete(name);
    freeIds.push(e.id);
  }
  sweepAt = Math.max(SWEEP_TABLE_SIZE_MIN, Math.ceil(SWEEP_GROWTH * symbols.size));
}

/**
 * The symbol of this name if it is interned already, else undefined: lets a decoder of untrusted
 * input refuse unknown symbols instead of interning them.
 */
export function internedSym(name: string): Sym | undefined {
  return symbols.get(name)?.deref();
}

/** One more than the highest symbol id in use: the size binding tables grow to. */
export function symbolCount(): number {
  return idsInUse;
}

/**
 * The symbol table's size, for a node's memory report: symbols in the table (alive, or collected
 * since the last sweep) and ids given out.
 */
export function symbolStats(): { readonly live: number; readonly ids: number } {
  return { live: symbols.size, ids: idsInUse };
}

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
