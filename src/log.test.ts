import { afterEach, describe, expect, test } from "bun:test";
import { flushLog, log, logFormatted, setLogLevel } from "./log.ts";

/** Captures what the log writes to stderr, as text, while `fn` runs (flushing at the end). */
function capture(fn: () => void): string {
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

afterEach(() => setLogLevel("warn"));

describe("log", () => {
  test("buffered info lines come out whole and in order, across buffer refills, with warnings after what came before", () => {
    setLogLevel("info");
    const want: string[] = [];
    const got = capture(() => {
      for (let i = 0; i < 3000; i++) {
        logFormatted("info", "request", ` id=${i} path=/p${"x".repeat(i % 97)} note=é`);
        want.push(`info request id=${i} path=/p${"x".repeat(i % 97)} note=é\n`);
        if (i === 1500) {
          log("warn", "midway", { at: i });
          want.push("warn midway at=1500\n");
        }
      }
    });
    expect(got).toBe(want.join(""));
  });

  test("a line too long for the buffer is written in its place in the order", () => {
    setLogLevel("info");
    const long = "y".repeat(40_000);
    const got = capture(() => {
      logFormatted("info", "a", "");
      logFormatted("info", "b", ` v=${long}`);
      logFormatted("info", "c", "");
    });
    expect(got).toBe(`info a\ninfo b v=${long}\ninfo c\n`);
  });

  test("lines below the level are not written", () => {
    setLogLevel("warn");
    expect(capture(() => log("info", "quiet"))).toBe("");
  });
});
