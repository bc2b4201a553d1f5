/**
 * The static type model of the checker (spec §7.2): a type code plus, for lambdas, a signature.
 * Also the checker's failure type. Pure data and small helpers; no checking logic lives here.
 */
import { T_ABERRANT, T_BRACE, T_BRACKET, T_ERROR, T_INT, T_NONE, T_PAREN, T_REAL, T_STR, T_SYMBOL } from "./value.ts";
import type { SourceFile } from "./host.ts";

/**
 * Internal code for "unknown because an earlier statement failed". It only exists after the first
 * error, when the checker keeps going to find more errors; it is compatible with everything so that
 * nothing downstream of a failure can be reported as a (false) error.
 */
export const POISON = -1;

/** Parameter and return types of a lambda or kernel function. */
export interface Signature {
  readonly params: readonly StaticType[];
  readonly ret: StaticType;
  /** Kernel functions only: the last parameter repeats (spec §7.6). */
  readonly variadic: boolean;
}

/** A static type: a type code (§2.1) and, for lambdas made by `fn`, their signature. */
export interface StaticType {
  readonly code: number;
  readonly sig?: Signature;
}

const plain = new Map<number, StaticType>();

/** The signature-less static type for a code (shared instances). */
export function typeFor(code: number): StaticType {
  let t = plain.get(code);
  if (t === undefined) {
    t = { code };
    plain.set(code, t);
  }
  return t;
}

export const NONE_T = typeFor(T_NONE);
export const INT_T = typeFor(T_INT);
export const REAL_T = typeFor(T_REAL);
export const STR_T = typeFor(T_STR);
export const SYMBOL_T = typeFor(T_SYMBOL);
export const PAREN_T = typeFor(T_PAREN);
export const BRACE_T = typeFor(T_BRACE);
export const BRACKET_T = typeFor(T_BRACKET);
export const ERROR_T = typeFor(T_ERROR);
export const ABERRANT_T = typeFor(T_ABERRANT);
export const POISON_T = typeFor(POISON);

/**
 * `ok(expected, actual)` of spec §7.2: only the expected side is a wildcard. POISON on either side
 * is accepted because it stands for a type the checker could not compute after an earlier error.
 */
export function ok(expected: StaticType, actual: StaticType): boolean {
  if (expected.code === T_NONE || expected.code === POISON || actual.code === POISON) return true;
  return expected.code === actual.code;
}

/** True when `actual` has exactly the code `code`, or is unknown after an earlier error. */
export function isCode(actual: StaticType, code: number): boolean {
  return actual.code === code || actual.code === POISON;
}

/** A check error: the original checker's exception, with where it happened. */
export class CheckFailure extends Error {
  constructor(
    message: string,
    readonly file: SourceFile,
    readonly offset: number,
    /** A circular import: passes through enclosing imports unwrapped. */
    readonly cycle = false,
  ) {
    super(message);
  }
}

/** Too many errors: checking stops; never caught by statement recovery. */
export class CheckStopped extends Error {}
