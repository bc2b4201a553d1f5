/**
 * Value conversions and comparisons with the original's exact semantics: `cast` (spec §4.13),
 * `eq` (§4.16) and `match` equality (§4.12).
 */
import { SlpException } from "./errors.ts";
import { NoTextForm, rebuildList, strForm } from "./printer.ts";
import {
  Aberrant,
  List,
  Real,
  Str,
  Wrap,
  T_BRACE,
  T_BRACKET,
  T_INT,
  T_PAREN,
  T_REAL,
  T_SOME,
  T_STR,
  type ListKind,
  type TypeCode,
  type Value,
  intFromBig,
  typeOf,
} from "./value.ts";

const INT64_MIN = -(1n << 63n);
const TWO63 = 2 ** 63;

function isTextual(t: TypeCode): boolean {
  return t === T_STR || t === T_PAREN || t === T_BRACE || t === T_BRACKET;
}

/** `(cast E v)` after the type symbol was resolved to `target`; `isForm` when it named an R2 form. */
export function castValue(target: TypeCode, isForm: boolean, v: Value, pos: number): Value {
  let a = typeOf(v);
  if (a === target) return v;
  if (isForm) return v; // a form cast of a non-brace value returns it unchanged (quirk, spec §4.13 step 2)
  if (target === T_INT && a === T_REAL) {
    const x = Math.trunc((v as Real).v);
    if (Number.isNaN(x) || x >= TWO63 || x < -TWO63) return intFromBig(INT64_MIN);
    return Number.isSafeInteger(x) ? x : intFromBig(BigInt(x));
  }
  if (target === T_REAL && a === T_INT) return new Real(Number(v));
  if ((isTextual(a) || a === T_SOME) && isTextual(target)) {
    if (a === T_SOME) {
      v = (v as Wrap).inner;
      a = typeOf(v);
    }
    if (target === T_STR) {
      if (v instanceof Str) return v;
      if (v instanceof List) return new Str(strForm(v));
      return new Str("");
    }
    const kind = target as ListKind;
    if (v instanceof Str) return byteList(kind, v);
    if (v instanceof List) {
      try {
        return rebuildList(kind, v.items, "throw");
      } catch (e) {
        if (e instanceof NoTextForm) throw new SlpException("cast: cannot convert complex list structures", pos);
        throw e;
      }
    }
    return new List(kind, []);
  }
  if (target === T_STR) return new Str(strForm(v));
  throw new SlpException(`cast: type mismatch: expected ${target}, got ${a}`, pos);
}

/**
 * Strings whose byte lists are kept for reuse (a cast is often of the same string each time: text
 * built as byte lists joins constant parts around a variable one), direct-mapped by length and
 * kind: a slot holds the last string cast to that kind at that length, found by identity. Values
 * are immutable, so a list made once serves every cast of its string.
 */
const BYTE_LIST_SLOTS = 64;
/** Longest string whose byte list is kept: what the slots hold alive stays small. */
export const BYTE_LIST_CACHED_CHARS_MAX = 256;
const byteListOf: (Str | undefined)[] = new Array<Str | undefined>(BYTE_LIST_SLOTS).fill(undefined);
const byteLists: (List | undefined)[] = new Array<List | undefined>(BYTE_LIST_SLOTS).fill(undefined);

/** `(cast :list-… s)` of a string: a list of its bytes (the same list for the same string lately). */
function byteList(kind: ListKind, v: Str): List {
  const s = v.s;
  const n = s.length;
  const slot = (n * 3 + kind) & (BYTE_LIST_SLOTS - 1);
  if (byteListOf[slot] === v) {
    const l = byteLists[slot]!;
    if (l.t === kind) return l;
  }
  const bytes: Value[] = new Array(n);
  for (let i = 0; i < n; i++) bytes[i] = s.charCodeAt(i);
  const l = new List(kind, bytes);
  if (n <= BYTE_LIST_CACHED_CHARS_MAX) {
    byteListOf[slot] = v;
    byteLists[slot] = l;
  }
  return l;
}

/** `eq` (spec §4.16): structural on lists and wrappers, STR-FORM on scalars, id on lambdas. */
export function valuesEq(a: Value, b: Value): boolean {
  if (typeof a === "number" || typeof a === "bigint") return a === b;
  const ta = a.t;
  if (typeof b !== "object" || b.t !== ta) return false;
  if (a instanceof Aberrant) return a.id === (b as Aberrant).id;
  if (a instanceof Wrap) return valuesEq(a.inner, (b as Wrap).inner);
  if (a instanceof List) {
    const bi = (b as List).items;
    const ai = a.items;
    if (ai.length !== bi.length) return false;
    for (let i = 0; i < ai.length; i++) if (!valuesEq(ai[i]!, bi[i]!)) return false;
    return true;
  }
  if (ta === T_REAL) return strForm(a) === strForm(b);
  return strForm(a) === strForm(b);
}

/** `match` pattern equality (spec §4.12): same type and equal scalars; lists and others never match. */
export function matchEq(v: Value, p: Value): boolean {
  if (typeof v === "number" || typeof v === "bigint") return v === p;
  if (typeof p !== "object" || p.t !== v.t) return false;
  if (v instanceof Real) return v.v === (p as Real).v;
  if (v instanceof Str) return v.s === (p as Str).s;
  if (v instanceof Aberrant) return v.id === (p as Aberrant).id;
  return v.t === 7 && v === p; // symbols are interned
}
