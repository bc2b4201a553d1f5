/**
 * Structured logs on stderr: `level message key=value …`. The level comes from SUP_LOG
 * (debug, info, warn, error; default warn for CLI commands so program runs stay quiet).
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

let threshold: number = RANK[(process.env.SUP_LOG as LogLevel) ?? "warn"] ?? RANK.warn;

/** Sets the lowest level that is written. */
export function setLogLevel(level: LogLevel): void {
  threshold = RANK[level];
}

function fmt(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/** Writes one log line if its level is enabled. */
export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  if (RANK[level] < threshold) return;
  const extra = Object.entries(fields)
    .map(([k, v]) => ` ${k}=${fmt(v)}`)
    .join("");
  process.stderr.write(`${level} ${message}${extra}\n`);
}
