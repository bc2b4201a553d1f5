import { afterEach, describe, expect, test } from "bun:test";
import { captureStderr as capture } from "../test/support/log-capture.ts";
import { flushLog, log, logFormatted, setLogLevel } from "./log.ts";


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

  test("a stderr that takes no more holds at most 1 MiB of log lines, and says how many it dropped", () => {
    const written: string[] = [];
    let accepting = false;
    const write = process.stderr.write;
    // A stream whose reader stopped: it takes the first write and refuses more (returns false).
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return accepting;
    }) as typeof process.stderr.write;
    setLogLevel("info");
    const line = "x".repeat(100);
    try {
      log("warn", "first", { line });
      for (let i = 0; i < 100_000; i++) log(i % 2 === 0 ? "info" : "error", "flood", { i, line });
      flushLog();
      // Only the first line reached the stream; the flood (about 12 MB) was held or dropped.
      expect(written.length).toBe(1);
      accepting = true;
      process.stderr.emit("drain");
      flushLog();
    } finally {
      process.stderr.write = write;
    }
    const held = written.slice(1).join("");
    expect(held.length).toBeLessThanOrEqual(1024 * 1024 + 200);
    expect(held.length).toBeGreaterThan(1024 * 1024 - 2048);
    const dropped = Number(/^warn log lines dropped count=(\d+) reason="stderr was not being read"$/m.exec(held)?.[1]);
    const kept = held.split("\n").filter((l) => l.includes(" flood ")).length;
    expect(kept + dropped).toBe(100_000);
    // Lines kept their order: the held ones are the first of the flood.
    expect(held.split("\n")[0]).toContain("i=0 ");
  });
});
