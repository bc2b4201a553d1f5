/** Capturing what the log writes to stderr, for unit tests of code that logs. */
import { flushLog } from "../../src/log.ts";

/** Runs `fn` and returns what was written to stderr meanwhile (log buffer flushed at the end), as text. */
export function captureStderr(fn: () => void): string {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")) > 0) as typeof process.stderr.write;
  try {
    fn();
    flushLog();
  } finally {
    process.stderr.write = write;
  }
  return chunks.join("");
}

/** Like captureStderr, split into lines (the empty last one dropped). */
export function captureLines(fn: () => void): string[] {
  return captureStderr(fn).split("\n").filter((l) => l !== "");
}
