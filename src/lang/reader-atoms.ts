/**
 * Numbers in the reader's atoms (spec §1.4): which atoms are numbers, and their values with the
 * original's `stoll`/`stod` semantics (reader.ts reads the plainest forms inline).
 */
import { Real, intFromBig, type Value } from "./value.ts";

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Kind of an atom per spec §1.4. */
export function atomKind(a: string): "int" | "real" | "sym" {
  let i = 0;
  const n = a.length;
  const c0 = a.charCodeAt(0);
  if (c0 === 43 || c0 === 45) i = 1;
  if (i >= n) return "sym";
  const c1 = a.charCodeAt(i);
  if (!isDigit(c1) && c1 !== 46) return "sym";
  let dot = false;
  let exp = false;
  for (; i < n; i++) {
    const c = a.charCodeAt(i);
    if (isDigit(c)) continue;
    if (c === 46) {
      if (dot || exp) return "sym";
      dot = true;
    } else if (c === 101 || c === 69) {
      if (exp) return "sym";
      exp = true;
      const nx = a.charCodeAt(i + 1);
      if (nx === 43 || nx === 45) i++;
    } else return "sym";
  }
  return dot || exp ? "real" : "int";
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const DBL_MIN = 2.2250738585072014e-308;
const PLAIN_REAL = /^[+-]?\d+\.\d+$/;
/** Plain reals shorter than this cannot overflow or underflow, so parseFloat reads them as strtod would. */
export const PLAIN_REAL_CHARS_MAX = 24;
/**
 * Most digits of a plain real read by dividing its digits by a power of ten: below 10^15 both are
 * exact doubles (< 2^53, and 10^k is exact up to 10^22), so the quotient is correctly rounded.
 */
export const EXACT_REAL_DIGITS_MAX = 15;
/** 10^k for k up to EXACT_REAL_DIGITS_MAX, made by multiplying (each product exact). */
export const POW10: readonly number[] = [1];
for (let k = 1; k <= EXACT_REAL_DIGITS_MAX; k++) (POW10 as number[]).push((POW10[k - 1] as number) * 10);
const STOD_PREFIX = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/;

/** Converts an atom to a number value, or returns the C++ exception text (`stoll`/`stod`). */
export function atomNumber(a: string, kind: "int" | "real"): Value | "stoll" | "stod" {
  if (kind === "int") {
    if (a.length < 16) return parseInt(a, 10) || 0;
    const b = BigInt(a.charCodeAt(0) === 43 ? a.slice(1) : a);
    if (b < INT64_MIN || b > INT64_MAX) return "stoll";
    return intFromBig(b);
  }
  // Plain `digits.digits` (the usual real in data) needs no prefix search: parseFloat reads it
  // exactly as strtod would, and it cannot overflow or underflow at this length.
  if (a.length < PLAIN_REAL_CHARS_MAX && PLAIN_REAL.test(a)) return new Real(parseFloat(a));
  const m = STOD_PREFIX.exec(a);
  if (m === null) return "stod";
  const x = parseFloat(m[0]);
  if (!Number.isFinite(x)) return "stod";
  if (x === 0 ? /[1-9]/.test(m[1] ?? "") : Math.abs(x) < DBL_MIN) return "stod";
  return new Real(x);
}
