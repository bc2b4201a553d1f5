/**
 * Value helpers kernels need beyond lang/: structural equality and reading one value from text.
 */
import { read } from "../../lang/reader.ts";
import { Aberrant, List, Real, Str, Wrap, type Value } from "../../lang/value.ts";

const bitsView = new DataView(new ArrayBuffer(16));
/** Bit pattern equality of two doubles: -0.0 differs from 0.0, NaNs compare by payload. */
function sameBits(a: number, b: number): boolean {
  bitsView.setFloat64(0, a);
  bitsView.setFloat64(8, b);
  return bitsView.getBigUint64(0) === bitsView.getBigUint64(8);
}

/** Structural equality: same type and deep contents, reals bit-exact, aberrant values by identity. */
export function valueEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object") return false; // Ints are canonical, so === decided.
  if (a.t !== b.t) return false;
  if (a instanceof Real) return sameBits(a.v, (b as Real).v);
  if (a instanceof Str) return a.s === (b as Str).s;
  if (a instanceof List) {
    const bi = (b as List).items;
    if (a.items.length !== bi.length) return false;
    for (let i = 0; i < bi.length; i++) if (!valueEquals(a.items[i]!, bi[i]!)) return false;
    return true;
  }
  if (a instanceof Wrap) return valueEquals(a.inner, (b as Wrap).inner);
  if (a instanceof Aberrant) return a.id === (b as Aberrant).id;
  return a.t === 0; // NONE; a symbol is interned, so two different Sym objects never match.
}

/** The first value of SLP source text (latin1), or null when the text does not parse. */
export function parseValue(text: string): Value | null {
  return read(text).value;
}
