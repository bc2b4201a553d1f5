/**
 * The TypeScript equivalents a kernel manifest may name with `:pure NAME`. Scalar ones
 * (intrinsics.ts, alu's arithmetic) the JS tier inlines at call sites; value ones
 * (intrinsics-forge.ts) replace the native call in both tiers, because crossing into C costs an
 * encode of the arguments and a decode of the result, as much work as the function itself. The C
 * kernel stays the reference for both: property tests call each equivalent and its C function on
 * the same arguments (src/kernel/intrinsics.test.ts, intrinsics-forge.test.ts).
 */
import type { CallContext } from "./host.ts";
import { INTRINSICS } from "./intrinsics.ts";
import { FORGE_EQUIVALENTS } from "./intrinsics-forge.ts";
import type { Value } from "./value.ts";

/**
 * An equivalent of a value-convention function, given its evaluated arguments (missing ones as
 * NONE, and none evaluated when the call wrote fewer than the function takes: `argc` says how many
 * it wrote). Returns the function's result, or undefined when the C function must run instead on
 * the same values: an equivalent declines before it evaluates anything that has effects.
 */
export type ValueEquivalent = (cx: CallContext, argc: number, a: Value, b: Value, c: Value) => Value | undefined;

/** One value equivalent and the exact signature (manifest type symbols) it stands for. */
export interface ValueIntrinsic {
  readonly name: string;
  readonly params: readonly string[];
  readonly ret: string;
  readonly fn: ValueEquivalent;
}

/** The value equivalents by name. */
export const VALUE_INTRINSICS: ReadonlyMap<string, ValueIntrinsic> = new Map(FORGE_EQUIVALENTS.map((x) => [x.name, x]));

/**
 * Checks that `pure` names an equivalent whose signature is exactly the function's; returns an
 * error message, or null when it fits.
 */
export function pureMismatch(pure: string, params: readonly string[], ret: string): string | null {
  const scalar = INTRINSICS.get(pure);
  const value = VALUE_INTRINSICS.get(pure);
  if (scalar === undefined && value === undefined) {
    return `unknown pure equivalent "${pure}": expected one of ${[...INTRINSICS.keys(), ...VALUE_INTRINSICS.keys()].join(", ")}`;
  }
  const want = (scalar !== undefined ? [...scalar.params.map((p) => `:${p}`), `:${scalar.ret}`] : [...value!.params, value!.ret]).join(" ");
  const got = [...params, ret].join(" ");
  return want === got ? null : `pure equivalent "${pure}" takes ${want}, not ${got}`;
}
