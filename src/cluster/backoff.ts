/**
 * Reconnect back-off with jitter, as a pure function: cores use it for dials and join attempts, and
 * a driver may use it for anything else it retries. Delays double from `baseMs` up to `capMs`, and
 * each is drawn from its upper half ("equal jitter"): never shorter than half the nominal delay, so
 * a refusing peer is not hammered, and spread out, so nodes that lost the same peer at the same
 * moment do not all come back at the same instant.
 */
import type { Random } from "./core.ts";

/** How a back-off grows. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
}

/** The wait before attempt number `failures` + 1, after `failures` consecutive failures (≥ 1). */
export function backoffMs(failures: number, random: Random, policy: BackoffPolicy): number {
  const exp = Math.min(Math.max(failures - 1, 0), 30);
  const nominal = Math.min(policy.capMs, policy.baseMs * 2 ** exp);
  return nominal / 2 + (nominal / 2) * random.next();
}
