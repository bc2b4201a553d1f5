/**
 * Random SLP values for property tests and fuzzing (codec, C decoder), drawn from a seeded Rng so a
 * failure replays from its seed: integers at every encoding boundary, reals of any bit pattern,
 * byte strings, symbols, lambda ids, and nested lists and wrappers.
 */
import { Aberrant, aberrantLiteral, intFromBig, List, NONE, Real, Str, sym, T_BRACE, T_BRACKET, T_DATUM, T_ERROR, T_PAREN, T_SOME, Wrap, type ListKind, type Value, type WrapKind } from "../../src/lang/value.ts";
import type { Rng } from "./rng.ts";

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Integers at every boundary where the encoding changes length or representation. */
export const EDGE_INTS: readonly bigint[] = (() => {
  const out: bigint[] = [0n, 1n, -1n, INT64_MIN, INT64_MAX, INT64_MIN + 1n, INT64_MAX - 1n];
  for (let k = 1n; k < 64n; k++) {
    const p = 1n << k;
    out.push(p, p - 1n, p + 1n, -p, -p + 1n, -p - 1n);
  }
  // Varint length steps: zigzag values 2^(7j) sit at ±2^(7j-1).
  for (let j = 1n; j <= 9n; j++) {
    const p = 1n << (7n * j - 1n);
    out.push(p, p - 1n, -p, -p - 1n);
  }
  return out.filter((b) => b >= INT64_MIN && b <= INT64_MAX);
})();

/** The double with these IEEE bits. */
export function realFromBits(bits: bigint): Real {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, bits);
  return new Real(dv.getFloat64(0));
}

/** Reals at the edges of the format: zeros, subnormals, the largest finite, infinities, a NaN. */
export const EDGE_REAL_BITS: readonly bigint[] = [
  0x0000000000000000n, // 0.0
  0x8000000000000000n, // -0.0
  0x0000000000000001n, // smallest subnormal
  0x8000000000000001n,
  0x000fffffffffffffn, // largest subnormal
  0x0010000000000000n, // smallest normal
  0x7fefffffffffffffn, // largest finite
  0xffefffffffffffffn,
  0x7ff0000000000000n, // +inf
  0xfff0000000000000n, // -inf
  0x7ff8000000000000n, // the canonical quiet NaN
  0x3ff0000000000000n, // 1.0
  0x3fb999999999999an, // 0.1
];

function randomString(rng: Rng, alphabet: "bytes" | "name"): string {
  const len = rng.next() < 0.1 ? 32 + rng.int(300) : (alphabet === "name" ? 1 : 0) + rng.int(12);
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(alphabet === "name" && rng.next() < 0.7 ? 97 + rng.int(26) : rng.int(256));
  return s;
}

function randomInt(rng: Rng): Value {
  const r = rng.next();
  if (r < 0.4) return rng.int(200) - 100;
  if (r < 0.6) return intFromBig(rng.pick(EDGE_INTS));
  if (r < 0.8) return intFromBig(BigInt.asIntN(64, rng.u64()));
  return intFromBig(BigInt.asIntN(64, rng.u64()) >> BigInt(rng.int(64)));
}

function randomReal(rng: Rng): Real {
  const r = rng.next();
  if (r < 0.3) return realFromBits(rng.pick(EDGE_REAL_BITS));
  if (r < 0.6) return realFromBits(rng.u64()); // Any bits: includes NaNs, infinities, subnormals.
  if (r < 0.8) return realFromBits(BigInt(rng.u32()) & 0x800fffffffffffffn); // Subnormals of both signs.
  return new Real((rng.next() - 0.5) * 10 ** (rng.int(40) - 20));
}

const LIST_KINDS: readonly ListKind[] = [T_PAREN, T_BRACE, T_BRACKET];
const WRAP_KINDS: readonly WrapKind[] = [T_SOME, T_ERROR, T_DATUM];

/** A random value of any kind; `budget` bounds the nesting. */
export function randomValue(rng: Rng, budget: number): Value {
  const k = rng.int(budget > 0 ? 11 : 7);
  switch (k) {
    case 0:
      return NONE;
    case 1:
    case 2:
      return randomInt(rng);
    case 3:
      return randomReal(rng);
    case 4:
      return new Str(randomString(rng, "bytes"));
    case 5:
      return sym(randomString(rng, "name"));
    case 6:
      return new Aberrant(rng.next() < 0.5 ? 1 + rng.int(1000) : 1 + Math.floor(rng.next() * Number.MAX_SAFE_INTEGER));
    case 7:
    case 8: {
      const items: Value[] = [];
      // Now and then a long list (multi-byte count) of atoms; otherwise short lists of anything.
      const long = rng.next() < 0.03;
      const n = long ? 128 + rng.int(200) : rng.int(6);
      for (let i = 0; i < n; i++) items.push(randomValue(rng, long ? 0 : budget - 1));
      return new List(rng.pick(LIST_KINDS), items);
    }
    case 9:
      return new Wrap(rng.pick(WRAP_KINDS), randomValue(rng, budget - 1));
    default:
      return aberrantLiteral(randomValue(rng, budget - 1));
  }
}
