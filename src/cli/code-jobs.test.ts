/**
 * The job helpers of `sup code`: `--every` at the node's interval limits and merged with --meta,
 * the ls column, the put warning and the show table.
 */
import { describe, expect, test } from "bun:test";
import { JOB_INTERVAL_MS_MAX, JOB_INTERVAL_MS_MIN } from "../node/limits.ts";
import { jobInterval, jobPutWarning, jobShowLines, metaWithEvery } from "./code-jobs.ts";

describe("job helpers of sup code", () => {
  test("--every sets intervalMs, merged with --meta, within the node's limits", () => {
    expect(metaWithEvery("job:x", undefined, "10s")).toEqual({ intervalMs: 10_000 });
    expect(metaWithEvery("job:x", { budgetMs: 50, intervalMs: 1 }, "100ms")).toEqual({ budgetMs: 50, intervalMs: 100 });
    expect(metaWithEvery("job:x", undefined, `${JOB_INTERVAL_MS_MIN}ms`)).toEqual({ intervalMs: JOB_INTERVAL_MS_MIN });
    expect(metaWithEvery("job:x", undefined, "168h")).toEqual({ intervalMs: JOB_INTERVAL_MS_MAX });
    expect(() => metaWithEvery("job:x", undefined, `${JOB_INTERVAL_MS_MIN - 1}ms`)).toThrow(/at most every 100ms/);
    expect(() => metaWithEvery("job:x", undefined, `${JOB_INTERVAL_MS_MAX + 1}ms`)).toThrow(/at least every 168h/);
    expect(() => metaWithEvery("GET /x", undefined, "10s")).toThrow(/only jobs/);
    expect(() => metaWithEvery("job:x", [1], "10s")).toThrow(/JSON object/);
  });

  test("ls column and put warning follow the node's rules", () => {
    expect(jobInterval({ intervalMs: 60_000 })).toBe("every 1m");
    expect(jobInterval({})).toBe("not scheduled");
    expect(jobPutWarning("job:x", { intervalMs: 60_000 })).toBeNull();
    expect(jobPutWarning("job:x", { intervalMs: 5 })).toBe('warning: job:x is stored but not scheduled: meta "intervalMs" is 5: the shortest interval is 100 ms');
  });

  test("show prints the schedule and a table of runs", () => {
    const at = Date.UTC(2030, 0, 2, 3, 4, 5);
    const text = jobShowLines({ scheduled: true, version: 3, intervalMs: 10_000, nextRunAt: at + 10_000 }, [
      { at, durationMs: 1.234, ok: true, result: '"fine"' },
      { at: at + 10_000, durationMs: 1000.5, ok: false, error: "line one\nline two" },
    ]);
    expect(text).toBe(
      [
        "# schedule: every 10s (intervalMs 10000), next run 2030-01-02T03:04:15.000Z, version 3",
        "# last 2 runs, oldest first:",
        "#   at                        duration    ok     result / error",
        '#   2030-01-02T03:04:05.000Z  1.23 ms     ok     "fine"',
        "#   2030-01-02T03:04:15.000Z  1000.50 ms  error  line one\\nline two",
        "",
      ].join("\n"),
    );
    expect(jobShowLines({ scheduled: false, version: 1, reason: "why" }, [])).toBe("# schedule: not scheduled: why\n# runs: none yet\n");
    expect(jobShowLines(null, [])).toContain("# schedule: none");
  });
});
