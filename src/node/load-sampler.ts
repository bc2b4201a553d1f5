/**
 * Measures this process's load for the stats a member reports: event-loop lag (how late a timer
 * fires, the worst in each window) and CPU use (user + system time over wall time, in permille of
 * one core). Sampling costs one timer per SAMPLE_MS.
 */

/** How often the event loop is sampled: fine enough to see a one-second stall, cheap when idle. */
export const SAMPLE_MS = 250;

/** One window's figures. */
export interface LoadSample {
  /** The worst timer lateness in the window, in ms. */
  readonly lagMs: number;
  /** CPU time used over the window, in permille of one core (can exceed 1000 with threads). */
  readonly cpuPermille: number;
}

/** See the file comment. */
export class LoadSampler {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private expected = 0;
  private worstLag = 0;
  private windowStart = performance.now();
  private cpuStart = process.cpuUsage();

  /** Starts sampling. */
  start(): this {
    this.arm();
    return this;
  }

  /** The figures since the last call (or the start), and a new window. */
  take(): LoadSample {
    const now = performance.now();
    const cpu = process.cpuUsage(this.cpuStart);
    const wallMs = Math.max(1, now - this.windowStart);
    // A timer that is due but has not fired yet counts too: a node blocked right now reports it.
    const pendingLag = this.timer === null ? 0 : Math.max(0, now - this.expected);
    const sample = { lagMs: Math.round(Math.max(this.worstLag, pendingLag)), cpuPermille: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) };
    this.worstLag = 0;
    this.windowStart = now;
    this.cpuStart = process.cpuUsage();
    return sample;
  }

  /** Stops sampling. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.expected = performance.now() + SAMPLE_MS;
    this.timer = setTimeout(() => {
      this.worstLag = Math.max(this.worstLag, performance.now() - this.expected);
      this.arm();
    }, SAMPLE_MS);
    this.timer.unref?.();
  }
}
