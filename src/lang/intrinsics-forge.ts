/**
 * TypeScript equivalents of the `forge` kernel's value functions (kernels/forge/forge.c, which stays
 * the reference: src/kernel/intrinsics-forge.test.ts calls both on the same arguments). Crossing
 * into C costs an encode of every argument and a decode of the result, so list building through
 * forge was quadratic in bytes; here the same functions work on the values themselves.
 *
 * Each equivalent reproduces forge.c's quirks exactly: a non-list target is "upcast" to a one-item
 * paren list by evaluating it again; a string target keeps the string kind but has no items; list
 * results are rebuilt through TEXT-FORM (nested values become `()`, reals are rounded to 6
 * decimals); string results are made of the items' bytes, cut at the first NUL.
 *
 * An equivalent declines (returns undefined) wherever matching C exactly would take more than it
 * is worth, and the caller then runs the C function on the same argument values: a result at or
 * near forge's size limits (C reports the exact sizes), a real that is not finite (NaN payloads
 * and signs are the codec's business), and evaluating a list or wrapper (the C side evaluates a
 * decoded copy, whose errors carry no source position). Invariant: an equivalent declines before
 * it evaluates anything but a symbol or a scalar, whose evaluation has no effects, so the C
 * function evaluating them again changes nothing.
 */
import { decode, encodeView } from "./codec.ts";
import { SlpException } from "./errors.ts";
import type { CallContext } from "./host.ts";
import { fixed6Round } from "./intrinsics.ts";
import type { ValueEquivalent } from "./pure.ts";
import { textFormElement } from "./printer.ts";
import { read } from "./reader.ts";
import { Aberrant, List, Real, Str, Sym, Wrap, T_BRACE, T_BRACKET, T_NONE, T_PAREN, T_STR, type Int, type ListKind, type Value } from "./value.ts";

/** forge.c's FORGE_ITEMS_MAX: most items in one result. */
const FORGE_ITEMS_MAX = 256 * 1024;
/** forge.c's FORGE_RESULT_BYTES_MAX: most encoded bytes of a result's items. */
const FORGE_RESULT_BYTES_MAX = 8 * 1024 * 1024;
/** Bits in an integer (to_bits, from_bits). */
const FORGE_BITS = 64;
/** Most bytes one integer takes encoded: a tag and a 10-byte varint. */
const INT_ENCODED_BYTES_MAX = 11;

/** What a value function's equivalent returns: a value, or undefined to have the C function run. */
type Result = Value | undefined;
type ForgeEquivalent = ValueEquivalent;

/** Items of a target and the kind of its results: a list kind, or T_STR for a string target. */
interface Elems {
  readonly kind: ListKind | typeof T_STR;
  readonly items: readonly Value[];
}

const emptyParen = (): List => new List(T_PAREN, []);

/** L(t) (forge.c get_elems): a list's items, none for a string, else the upcast [eval(t)]. */
function elems(cx: CallContext, t: Value): Elems | undefined {
  if (t instanceof List) return { kind: t.t, items: t.items };
  if (t instanceof Str) return { kind: T_STR, items: [] };
  if (t instanceof Wrap) return undefined; // evaluating a datum runs code: the C side's
  return { kind: T_PAREN, items: [cx.eval(t)] };
}

/**
 * An upper bound of the encoded bytes of items (exact for strings and symbols), or Infinity past
 * the limit; C compares the exact sum, so a bound over the limit leaves the call to it.
 */
function boundBytes(items: readonly Value[]): number {
  let bytes = 0;
  let nested: Value[] | null = null;
  for (let i = 0; i < items.length; i++) {
    const v = items[i]!;
    // Scalars (nearly every item) are counted here; nested values on a stack, without recursion.
    if (typeof v === "number" || typeof v === "bigint") bytes += INT_ENCODED_BYTES_MAX;
    else if (v instanceof Str) bytes += INT_ENCODED_BYTES_MAX + v.s.length;
    else if (v instanceof Sym) bytes += INT_ENCODED_BYTES_MAX + v.name.length;
    else (nested ??= []).push(v);
  }
  while (nested !== null && nested.length > 0 && bytes <= FORGE_RESULT_BYTES_MAX) {
    const v = nested.pop()!;
    if (typeof v === "number" || typeof v === "bigint") bytes += INT_ENCODED_BYTES_MAX;
    else if (v instanceof Str) bytes += INT_ENCODED_BYTES_MAX + v.s.length;
    else if (v instanceof Sym) bytes += INT_ENCODED_BYTES_MAX + v.name.length;
    else if (v instanceof Real) bytes += 9;
    else if (v instanceof List) {
      bytes += INT_ENCODED_BYTES_MAX;
      for (const x of v.items) nested.push(x);
    } else if (v instanceof Wrap) {
      bytes += 1;
      nested.push(v.inner);
    } else if (v instanceof Aberrant) {
      bytes += INT_ENCODED_BYTES_MAX;
      if (v.inner !== null) nested.push(v.inner);
    } else bytes += 1;
  }
  return bytes > FORGE_RESULT_BYTES_MAX ? Infinity : bytes;
}

/** A value as C returns it: encoded and decoded again (fresh aberrant literals, no source positions). */
function codecCopy(v: Value): Value {
  if (!(v instanceof List || v instanceof Wrap || v instanceof Aberrant)) return v;
  const d = decode(encodeView(v));
  if (!d.ok) throw new Error(`bug: a value did not decode after encoding: ${d.error.message}`);
  return d.value;
}

/** forge.c build: a string from the items' bytes, or a TEXT-FORM list of kind. */
function build(kind: ListKind | typeof T_STR, items: readonly Value[]): Result {
  if (items.length > FORGE_ITEMS_MAX || boundBytes(items) > FORGE_RESULT_BYTES_MAX) return undefined;
  return kind === T_STR ? new Str(stringOfItems(items)) : textFormList(kind, items);
}

/** sv_put_string_from_items: integers give one byte, strings and symbols their bytes, up to the first NUL. */
function stringOfItems(items: readonly Value[]): string {
  let out = "";
  let run: number[] = [];
  for (const it of items) {
    let b: string | null = null;
    if (typeof it === "number") {
      const byte = it & 255; // the value mod 256 for every safe integer, negatives included
      if (byte === 0) break;
      run.push(byte);
      continue;
    }
    if (typeof it === "bigint") {
      const byte = Number(BigInt.asUintN(8, it));
      if (byte === 0) break;
      run.push(byte);
      continue;
    }
    if (it instanceof Str) b = it.s;
    else if (it instanceof Sym) b = it.name;
    if (b === null) continue;
    if (run.length > 0) {
      out += bytesText(run);
      run = [];
    }
    const nul = b.indexOf("\0");
    if (nul >= 0) return out + b.slice(0, nul);
    out += b;
  }
  return run.length > 0 ? out + bytesText(run) : out;
}

/** Latin1 text of byte values, in chunks small enough for fromCharCode's argument limit. */
function bytesText(codes: number[]): string {
  if (codes.length <= 8192) return String.fromCharCode.apply(null, codes);
  let s = "";
  for (let i = 0; i < codes.length; i += 8192) s += String.fromCharCode.apply(null, codes.slice(i, i + 8192));
  return s;
}

const OPEN: Readonly<Record<number, string>> = { [T_PAREN]: "(", [T_BRACE]: "{", [T_BRACKET]: "[" };
const CLOSE: Readonly<Record<number, string>> = { [T_PAREN]: ")", [T_BRACE]: "}", [T_BRACKET]: "]" };

/** sv_put_textform_list: scalars kept (reals rounded), anything else `()`; re-read when a string would change. */
function textFormList(kind: ListKind, items: readonly Value[]): Result {
  // Lists (and their item arrays) are immutable, so when every item stays as it is (the usual
  // case: integers, symbols, plain strings) the result shares the items instead of copying them.
  let i = 0;
  for (; i < items.length; i++) {
    const it = items[i]!;
    if (typeof it === "number" || it instanceof Sym) continue;
    if (it instanceof Str && it.s.indexOf('"') < 0 && it.s.indexOf("\\") < 0) continue;
    break;
  }
  if (i === items.length) return new List(kind, items);
  const out: Value[] = items.slice(0, i);
  let needText = false;
  for (; i < items.length; i++) {
    const it = items[i]!;
    if (typeof it === "number" || typeof it === "bigint" || it instanceof Sym) out.push(it);
    else if (it instanceof Str) {
      if (it.s.includes('"') || it.s.includes("\\")) needText = true;
      out.push(it);
    } else if (it instanceof Real) {
      if (!Number.isFinite(it.v)) return undefined;
      out.push(new Real(fixed6Round(it.v)));
    } else out.push(emptyParen());
  }
  if (!needText) return new List(kind, out);
  // Some string reads back differently unescaped: print the list and read it, as C does.
  const parsed = read(OPEN[kind]! + items.map((it) => textFormElement(it) ?? "()").join(" ") + CLOSE[kind]!).value;
  return parsed instanceof List ? codecCopy(parsed) : new List(kind, []);
}

/** sv_equal: same type and equal scalars; lists and wrappers never. */
function forgeEqual(a: Value, b: Value): boolean {
  if (typeof a === "number" || typeof a === "bigint") return a === b;
  if (a instanceof Real) return b instanceof Real && a.v === b.v;
  if (a instanceof Str) return b instanceof Str && a.s === b.s;
  if (a instanceof Sym) return a === b;
  return a.t === T_NONE && typeof b === "object" && b.t === T_NONE;
}

const isInt = (v: Value): v is Int => typeof v === "number" || typeof v === "bigint";
const big = (v: Int): bigint => (typeof v === "bigint" ? v : BigInt(v));

/** forge/resize t size d. */
function resize(cx: CallContext, argc: number, t: Value, size: Value, d: Value): Result {
  if (argc < 3 || !isInt(size)) return emptyParen();
  const want = size < 0 ? 0 : size;
  if (want > FORGE_ITEMS_MAX) throw new SlpException(`forge/resize: size ${want} exceeds the limit of ${FORGE_ITEMS_MAX} items`);
  const e = elems(cx, t);
  if (e === undefined) return undefined;
  const n = Number(want);
  const out: Value[] = new Array(n);
  for (let k = 0; k < n; k++) out[k] = k < e.items.length ? e.items[k]! : d;
  return build(e.kind, out);
}

/** forge/pf and forge/pb: x added at the front or the back. */
const addOne =
  (front: boolean): ForgeEquivalent =>
  (cx, argc, t, x) => {
    if (argc < 2) return emptyParen();
    const e = elems(cx, t);
    if (e === undefined) return undefined;
    return build(e.kind, front ? [x, ...e.items] : [...e.items, x]);
  };

/** forge/rf and forge/rb: without the first or the last item. */
const dropOne =
  (front: boolean): ForgeEquivalent =>
  (cx, argc, t) => {
    if (argc < 1) return emptyParen();
    const e = elems(cx, t);
    if (e === undefined) return undefined;
    const n = e.items.length;
    return build(e.kind, n === 0 ? [] : front ? e.items.slice(1) : e.items.slice(0, n - 1));
  };

/**
 * forge/lsh, rsh, rotr, rotl (shift_prepare): a count that is not an integer gives `()`, one of
 * zero or less the target unchanged; else k = count mod n picks the items kept.
 */
const shift =
  (pick: (items: readonly Value[], k: number) => readonly Value[]): ForgeEquivalent =>
  (cx, argc, t, count) => {
    if (argc < 2 || !isInt(count)) return emptyParen();
    if (count <= 0) return codecCopy(t);
    const e = elems(cx, t);
    if (e === undefined) return undefined;
    const n = e.items.length;
    const k = n === 0 ? 0 : Number(big(count) % BigInt(n));
    return build(e.kind, pick(e.items, k));
  };

const rotateLeft = (items: readonly Value[], k: number): readonly Value[] => (k === 0 ? items : [...items.slice(k), ...items.slice(0, k)]);

/** forge/count: a string's byte length, a list's item count, else 1 (after the upcast's evaluation). */
function count(cx: CallContext, argc: number, t: Value): Result {
  if (argc < 1) return 0;
  if (t instanceof Str) return t.s.length;
  if (t instanceof List) return t.items.length;
  return elems(cx, t)?.items.length;
}

/** forge/concat t o: t's items then o's (o upcast; a string adds nothing), of t's kind. */
function concat(cx: CallContext, argc: number, t: Value, o: Value): Result {
  if (argc < 2) return emptyParen();
  // Two lists (text joined as byte lists, the usual case) need no upcast.
  if (t instanceof List && o instanceof List) return build(t.t, joined(t.items, o.items));
  const e = elems(cx, t);
  if (e === undefined) return undefined;
  const f = elems(cx, o);
  if (f === undefined) return undefined;
  return build(e.kind, joined(e.items, f.items));
}

/** a's items then b's (a list's own items when the other is empty: lists are immutable). */
function joined(a: readonly Value[], b: readonly Value[]): readonly Value[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  // The engine's own concat copies in bulk, fast even before the JIT has looked at this code.
  return a.concat(b);
}

/** forge/replace t m r: items equal to m replaced by r. */
function replace(cx: CallContext, argc: number, t: Value, m: Value, r: Value): Result {
  if (argc < 3) return emptyParen();
  const e = elems(cx, t);
  if (e === undefined) return undefined;
  return build(
    e.kind,
    e.items.map((x) => (forgeEqual(x, m) ? r : x)),
  );
}

/** True when evaluating v may run code (C evaluates a decoded copy, without source positions). */
const runsCode = (v: Value): boolean => v instanceof List || v instanceof Wrap;

/** forge/drop_match t m: each item evaluated; those not equal to m are kept. */
function dropMatch(cx: CallContext, argc: number, t: Value, m: Value): Result {
  if (argc < 2) return emptyParen();
  const e = elems(cx, t);
  if (e === undefined || e.items.some(runsCode)) return undefined;
  const kept: Value[] = [];
  for (const x of e.items) {
    const v = cx.eval(x);
    if (!forgeEqual(v, m)) kept.push(v);
  }
  return build(e.kind, kept);
}

/** forge/drop_period t s p: items with index i >= s and (i - s) mod p = 0 removed. */
function dropPeriod(cx: CallContext, argc: number, t: Value, s: Value, p: Value): Result {
  if (argc < 3 || !isInt(s) || !isInt(p)) return emptyParen();
  if (p <= 0) return codecCopy(t);
  const e = elems(cx, t);
  if (e === undefined) return undefined;
  const start = big(s);
  const period = big(p);
  return build(
    e.kind,
    e.items.filter((_, i) => !(BigInt(i) >= start && (BigInt(i) - start) % period === 0n)),
  );
}

/** 64 integers 0/1 of a 64-bit pattern, most significant first, in a brace list. */
function bitsList(bits: bigint): List {
  const out: Value[] = new Array(FORGE_BITS);
  for (let k = 0; k < FORGE_BITS; k++) out[k] = Number((bits >> BigInt(FORGE_BITS - 1 - k)) & 1n);
  return new List(T_BRACE, out);
}

/** forge/to_bits v. */
function toBits(_cx: CallContext, argc: number, v: Value): Result {
  if (argc < 1 || !isInt(v)) return new List(T_BRACE, []);
  return bitsList(BigInt.asUintN(64, big(v)));
}

const f64 = new DataView(new ArrayBuffer(8));

/** forge/to_bits_r v: the bits of the double. */
function toBitsR(_cx: CallContext, argc: number, v: Value): Result {
  if (argc < 1 || !(v instanceof Real)) return new List(T_BRACE, []);
  if (Number.isNaN(v.v)) return undefined; // NaN payloads live in the codec
  f64.setFloat64(0, v.v);
  return bitsList(f64.getBigUint64(0));
}

/** gather_bits: the first 64 items evaluated; a nonzero integer at j sets bit count-1-j (below 64). */
function gatherBits(cx: CallContext, b: List): bigint | undefined {
  const n = Math.min(b.items.length, FORGE_BITS);
  for (let j = 0; j < n; j++) if (runsCode(b.items[j]!)) return undefined;
  let bits = 0n;
  for (let j = 0; j < n; j++) {
    const ev = cx.eval(b.items[j]!);
    const bit = b.items.length - 1 - j;
    if (isInt(ev) && ev !== 0 && bit < FORGE_BITS) bits |= 1n << BigInt(bit);
  }
  return bits;
}

/** forge/from_bits b. */
function fromBits(cx: CallContext, argc: number, b: Value): Result {
  if (argc < 1 || !(b instanceof List)) return 0;
  const bits = gatherBits(cx, b);
  if (bits === undefined) return undefined;
  const v = BigInt.asIntN(64, bits);
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** forge/from_bits_r b: the bits as a double, through FIXED6 (non-finite ones are left to C). */
function fromBitsR(cx: CallContext, argc: number, b: Value): Result {
  if (argc < 1 || !(b instanceof List)) return new Real(0);
  const bits = gatherBits(cx, b);
  if (bits === undefined) return undefined;
  f64.setBigUint64(0, bits);
  const x = f64.getFloat64(0);
  return Number.isFinite(x) ? new Real(fixed6Round(x)) : undefined;
}

/** The equivalents by the name a manifest gives after `:pure`, with the signature it must declare. */
export const FORGE_EQUIVALENTS: readonly { readonly name: string; readonly params: readonly string[]; readonly ret: string; readonly fn: ForgeEquivalent }[] = [
  { name: "forge-resize", params: [":any", ":int", ":any"], ret: ":any", fn: resize },
  { name: "forge-pf", params: [":any", ":any"], ret: ":any", fn: addOne(true) },
  { name: "forge-pb", params: [":any", ":any"], ret: ":any", fn: addOne(false) },
  { name: "forge-rf", params: [":any"], ret: ":any", fn: dropOne(true) },
  { name: "forge-rb", params: [":any"], ret: ":any", fn: dropOne(false) },
  { name: "forge-lsh", params: [":any", ":int"], ret: ":any", fn: shift((items, k) => items.slice(k)) },
  { name: "forge-rsh", params: [":any", ":int"], ret: ":any", fn: shift((items, k) => items.slice(0, items.length - k)) },
  { name: "forge-rotr", params: [":any", ":int"], ret: ":any", fn: shift((items, k) => rotateLeft(items, k === 0 ? 0 : items.length - k)) },
  { name: "forge-rotl", params: [":any", ":int"], ret: ":any", fn: shift(rotateLeft) },
  { name: "forge-rev", params: [":any"], ret: ":any", fn: (cx, argc, t) => (argc < 1 ? emptyParen() : revOf(cx, t)) },
  { name: "forge-count", params: [":any"], ret: ":int", fn: count },
  { name: "forge-concat", params: [":any", ":any"], ret: ":any", fn: concat },
  { name: "forge-replace", params: [":any", ":any", ":any"], ret: ":any", fn: replace },
  { name: "forge-drop-match", params: [":any", ":any"], ret: ":any", fn: dropMatch },
  { name: "forge-drop-period", params: [":any", ":int", ":int"], ret: ":any", fn: dropPeriod },
  { name: "forge-to-bits", params: [":int"], ret: ":list-c", fn: toBits },
  { name: "forge-from-bits", params: [":list-c"], ret: ":int", fn: fromBits },
  { name: "forge-to-bits-r", params: [":real"], ret: ":list-c", fn: toBitsR },
  { name: "forge-from-bits-r", params: [":list-c"], ret: ":real", fn: fromBitsR },
];

function revOf(cx: CallContext, t: Value): Result {
  const e = elems(cx, t);
  return e === undefined ? undefined : build(e.kind, [...e.items].reverse());
}
