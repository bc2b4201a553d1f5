/**
 * The base of sup's expected failures: every error that is not a bug and not an SLP program's own
 * exception is a SupError with a stable code. Imports nothing, so every layer may use it.
 */

/** An expected failure (bad input, I/O, a refusing peer) with a stable machine-readable code. */
export class SupError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
