/**
 * Log lines for refused connections, at most a fixed number per second: a flood of garbage
 * connections must not turn into a flood of log lines. The rest are counted (the metrics count
 * every one) and summarised in one line when the next second starts.
 */
import { log } from "../log.ts";

/** Refusal log lines written per second at most. */
export const REFUSAL_LOGS_PER_SECOND_MAX = 20;

/** See the file comment. */
export class RefusalLog {
  private windowStartMs = 0;
  private logged = 0;
  private suppressed = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Writes one warning, unless this second's share is used up. */
  warn(message: string, fields: Record<string, unknown>): void {
    const now = this.now();
    if (now - this.windowStartMs >= 1000) {
      if (this.suppressed > 0) log("warn", "backchannel refusals not logged", { count: this.suppressed, reason: `more than ${REFUSAL_LOGS_PER_SECOND_MAX} per second` });
      this.windowStartMs = now;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (this.logged >= REFUSAL_LOGS_PER_SECOND_MAX) {
      this.suppressed++;
      return;
    }
    this.logged++;
    log("warn", message, fields);
  }
}
