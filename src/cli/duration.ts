/**
 * Durations on the command line: `500ms`, `10s`, `1.5m`, `2h` to milliseconds and back, for
 * `sup code put job:NAME FILE --every 10s` and the job listings.
 */
import { UsageError } from "./args.ts";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration with a unit (ms, s, m, h) into whole milliseconds; UsageError otherwise. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  // A bare number is refused: "10" could mean 10 ms or 10 s, and guessing wrong is silent.
  if (m === null) throw new UsageError(`Invalid ${option} "${text}": expected a number with a unit ms, s, m or h, e.g. 500ms, 10s, 5m, 1h`);
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new UsageError(`Invalid ${option} "${text}": the duration must be at least 1 ms`);
  return ms;
}

/** Renders milliseconds in the largest unit that divides them exactly: `250ms`, `10s`, `5m`, `2h`. */
export function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"] as const) {
    const size = UNIT_MS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
