/**
 * TypeScript equivalents of pure scalar kernel functions. A kernel manifest may mark a scalar
 * function `:pure NAME` (e.g. alu's `add` is `:pure int-add`); the JS tier then inlines NAME's
 * code at call sites that resolved to that function, instead of crossing bun:ffi. Each equivalent
 * reproduces the scalar convention exactly: arguments that are not of the declared type count as
 * 0 / 0.0, integers wrap at 64 bits, reals come back through FIXED6 rounding, and non-finite reals
 * become the symbols `inf`, `-inf`, `nan`, `-nan`. The C kernel stays the reference: a property
 * test checks these against it on random and edge inputs.
 */
import { fixed6 } from "./printer.ts";
import { Real, bigOf, intAdd, intMul, intSub, sym, wrapInt, type Int, type Value } from "./value.ts";

const asInt = (v: Value): Int => (typeof v === "number" || typeof v === "bigint" ? v : 0);
const asReal = (v: Value): number => (v instanceof Real ? v.v : 0);

/** Below this magnitude, the double quotient of two integers truncates to the exact integer quotient. */
const EXACT_DIVISION_MAX = 2 ** 31;
/** At or above this magnitude FIXED6 text always parses back to the double itself (native/sup_value.c). */
const FIXED6_FAST_LIMIT = 9.0e9;
/** Dekker's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134217729;

/** The exact error of the product a*b rounded to p (Dekker's two-product, no fma in JS). */
function productError(a: number, b: number, p: number): number {
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * A double rounded to 6 decimals half to even and read back, as printf("%f") then strtod would:
 * the same function as sv_fixed6 in native/sup_value.c.
 */
export function fixed6Round(x: number): number {
  if (x - x !== 0) return x;
  const ax = Math.abs(x);
  if (ax >= FIXED6_FAST_LIMIT) return x;
  const p = ax * 1e6;
  const err = productError(ax, 1e6, p);
  const f = Math.floor(p);
  const s = p - f - 0.5 + err;
  const n = s > 0 ? f + 1 : s < 0 ? f : f % 2 === 1 ? f + 1 : f;
  if (n === 0) return x < 0 || Object.is(x, -0) ? -0 : 0;
  const r = n / 1e6;
  return x < 0 ? -r : r;
}

/** A scalar :real result as a value: finite reals as they are, others as their FIXED6 symbol. */
export function realValue(x: number): Value {
  return x - x === 0 ? new Real(x) : sym(fixed6(x));
}

function intDiv(a: Value, b: Value): Value {
  const x = asInt(a);
  const y = asInt(b);
  if (y === 0) return 0;
  if (y === -1) return wrapInt(-bigOf(x));
  if (typeof x === "number" && typeof y === "number" && Math.abs(x) < EXACT_DIVISION_MAX && Math.abs(y) < EXACT_DIVISION_MAX) return Math.trunc(x / y) + 0;
  return wrapInt(bigOf(x) / bigOf(y));
}

function intMod(a: Value, b: Value): Value {
  const x = asInt(a);
  const y = asInt(b);
  if (y === 0 || y === -1) return 0;
  // JS % on doubles is exact for integers and takes the dividend's sign, as C's does.
  if (typeof x === "number" && typeof y === "number") return (x % y) + 0;
  return wrapInt(bigOf(x) % bigOf(y));
}

/** One inlinable equivalent: its semantics as a function, and optionally a faster inline template. */
export interface Intrinsic {
  readonly name: string;
  /** Small positive id the JS tier compares call sites against. */
  readonly id: number;
  readonly params: readonly ("int" | "real")[];
  readonly ret: "int" | "real";
  readonly fn: (a: Value, b: Value) => Value;
  /**
   * JS source of the common case, given operand and scratch variable names (made by the code
   * generator, never from program text); falls back to the function `I<id>` otherwise.
   */
  readonly inline?: (a: string, b: string, t: string, slow: string) => string;
}

const SAFE = "9007199254740991";
/**
 * The tests that a and b are numbers, each followed by `&&`; none for an integer literal the
 * generator wrote (jit.ts: digits, negative ones in parentheses), which keeps generated code short.
 */
const numbers = (a: string, b: string): string =>
  [a, b]
    .filter((x) => !/^(\d+|\(-\d+\))$/.test(x))
    .map((x) => `typeof ${x} === "number" && `)
    .join("");
const additive = (op: string) => (a: string, b: string, t: string, slow: string) =>
  `(${numbers(a, b)}(${t} = ${a} ${op} ${b}) <= ${SAFE} && ${t} >= -${SAFE} ? ${t} + 0 : ${slow}(${a}, ${b}))`;

const LIST: readonly Omit<Intrinsic, "id">[] = [
  { name: "int-add", params: ["int", "int"], ret: "int", fn: (a, b) => intAdd(asInt(a), asInt(b)), inline: additive("+") },
  { name: "int-sub", params: ["int", "int"], ret: "int", fn: (a, b) => intSub(asInt(a), asInt(b)), inline: additive("-") },
  { name: "int-mul", params: ["int", "int"], ret: "int", fn: (a, b) => intMul(asInt(a), asInt(b)), inline: additive("*") },
  { name: "int-div", params: ["int", "int"], ret: "int", fn: intDiv },
  { name: "int-mod", params: ["int", "int"], ret: "int", fn: intMod },
  {
    name: "int-eq",
    params: ["int", "int"],
    ret: "int",
    fn: (a, b) => (asInt(a) === asInt(b) ? 1 : 0),
    inline: (a, b, _t, slow) => {
      const guard = numbers(a, b);
      return guard === "" ? `(${a} === ${b} ? 1 : 0)` : `(${guard.slice(0, -4)} ? (${a} === ${b} ? 1 : 0) : ${slow}(${a}, ${b}))`;
    },
  },
  { name: "real-add", params: ["real", "real"], ret: "real", fn: (a, b) => realValue(fixed6Round(asReal(a) + asReal(b))) },
  { name: "real-sub", params: ["real", "real"], ret: "real", fn: (a, b) => realValue(fixed6Round(asReal(a) - asReal(b))) },
  { name: "real-mul", params: ["real", "real"], ret: "real", fn: (a, b) => realValue(fixed6Round(asReal(a) * asReal(b))) },
  {
    name: "real-div",
    params: ["real", "real"],
    ret: "real",
    fn: (a, b) => {
      const y = asReal(b);
      return y === 0 ? new Real(0) : realValue(fixed6Round(asReal(a) / y));
    },
  },
  { name: "real-eq", params: ["real", "real"], ret: "int", fn: (a, b) => (asReal(a) === asReal(b) ? 1 : 0) },
];

/** The equivalents by name. */
export const INTRINSICS: ReadonlyMap<string, Intrinsic> = new Map(LIST.map((x, i) => [x.name, { ...x, id: i + 1 }]));
/** The equivalents by id (index 0 unused). */
export const INTRINSICS_BY_ID: readonly (Intrinsic | undefined)[] = [undefined, ...INTRINSICS.values()];
