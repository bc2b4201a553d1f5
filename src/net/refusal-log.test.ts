import { expect, test } from "bun:test";
import { flushLog, setLogLevel } from "../log.ts";
import { REFUSAL_LOGS_PER_SECOND_MAX, RefusalLog } from "./refusal-log.ts";

test("REFUSAL_LOGS_PER_SECOND_MAX lines are written in a second, the next is counted and summarised", () => {
  let now = 0;
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  setLogLevel("warn");
  try {
    const r = new RefusalLog(() => now);
    for (let i = 0; i < REFUSAL_LOGS_PER_SECOND_MAX + 1; i++) r.warn("refused", { i });
    flushLog();
    expect(lines.filter((l) => l.startsWith("warn refused")).length).toBe(REFUSAL_LOGS_PER_SECOND_MAX);
    now = 1000;
    r.warn("refused", { i: "next" });
    flushLog();
    expect(lines.some((l) => l.includes("backchannel refusals not logged count=1"))).toBe(true);
    expect(lines.at(-1)).toContain("i=next");
  } finally {
    process.stderr.write = write;
  }
});
