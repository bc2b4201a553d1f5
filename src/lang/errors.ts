/**
 * Failures raised while running SLP. An SlpException is the language's own exception (caught by
 * `recover`, fatal at top level) and carries the exact text the spec prescribes. BudgetExceeded is
 * raised by the host's limits and is deliberately not catchable by `recover`.
 */
import { SupError } from "../errors.ts";

/** A language-level exception with the spec's message text; `pos` is a byte offset when known. */
export class SlpException extends Error {
  pos: number;
  file: string | undefined;
  constructor(
    readonly text: string,
    pos = -1,
  ) {
    super(text);
    this.pos = pos;
    this.file = undefined;
  }
}

/** Which budget ran out. */
export type BudgetKind = "steps" | "time" | "depth";

/** Evaluation ran out of its step or time budget, or nested too deep; `recover` cannot catch it. */
export class BudgetExceeded extends SupError {
  constructor(
    readonly kind: BudgetKind,
    readonly limit: number,
    /** For "depth": the engine's stack ran out first, `limit` calls deep (deeply nested code or data, not only calls). */
    stackOut = false,
  ) {
    super(
      `budget-${kind}`,
      kind !== "depth"
        ? `Stopped program: ${kind} budget of ${limit}${kind === "time" ? " ms" : ""} exhausted`
        : stackOut
          ? `Stopped program: out of stack ${limit} calls deep (code or data nested too deeply)`
          : `Stopped program: calls nest deeper than ${limit}`,
    );
  }
}

/**
 * The stop for a JavaScript stack overflow (the engine's RangeError) during evaluation, `callDepth`
 * calls deep; null for any other error. Deeply nested code or data can exhaust the stack before
 * CALL_DEPTH_MAX does.
 */
export function stackExhausted(e: unknown, callDepth: number): BudgetExceeded | null {
  return e instanceof RangeError && /call stack/i.test(e.message) ? new BudgetExceeded("depth", callDepth, true) : null;
}
