/**
 * Durations on the command line: each unit, what is refused, and the way intervals are printed.
 */
import { describe, expect, test } from "bun:test";
import { JOB_INTERVAL_MS_MAX } from "../node/limits.ts";
import { formatDuration, parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  test("reads each unit", () => {
    expect(parseDuration("250ms", "--every")).toBe(250);
    expect(parseDuration("10s", "--every")).toBe(10_000);
    expect(parseDuration("1.5s", "--every")).toBe(1500);
    expect(parseDuration("5m", "--every")).toBe(300_000);
    expect(parseDuration("2h", "--every")).toBe(7_200_000);
  });

  test("refuses bare numbers, unknown units and zero", () => {
    for (const bad of ["10", "10d", "s", "-1s", "1e3ms", "0ms", "0.1ms", ""]) expect(() => parseDuration(bad, "--every")).toThrow(/Invalid --every/);
  });

  test("formats in the largest exact unit", () => {
    expect(formatDuration(250)).toBe("250ms");
    expect(formatDuration(1500)).toBe("1500ms");
    expect(formatDuration(10_000)).toBe("10s");
    expect(formatDuration(300_000)).toBe("5m");
    expect(formatDuration(JOB_INTERVAL_MS_MAX)).toBe("168h");
  });
});
