/**
 * Running one job version: what a value, an error value, an exception, a spent budget and a program
 * that does not parse each become in the run record.
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { CodeVersion } from "../store/mod.ts";
import { NodeJobExecutor } from "./job-runner.ts";
import { Runtime } from "./runtime.ts";

const runtime = new Runtime({ workingDir: import.meta.dir });
afterAll(() => runtime.close());

let hashes = 0;
function job(source: string, meta: Record<string, unknown> = {}): CodeVersion {
  return { tenant: "default", name: "job:t", version: 1, hash: `h${++hashes}`, kind: "job", meta, source, author: "t", origin: "t", createdAt: 0, seq: 1, hlc: { ms: 0, n: 0 }, op: "put" };
}

describe("NodeJobExecutor", () => {
  const exec = new NodeJobExecutor(runtime.host, () => ({ tenant: "default", service: () => undefined }));

  test("a value is the result, printed as source", () => {
    expect(exec.run(job('[ #(load "alu") (alu/add 40 2) ]'))).toEqual({ ok: true, result: "42" });
    expect(exec.run(job('[ "héllo\\n" ]'))).toEqual({ ok: true, result: '"héllo\\n"' });
    expect(exec.run(job("[ (def x 1) ]"))).toEqual({ ok: true, result: "<none>" });
  });

  test("an error value is a failed run", () => {
    expect(exec.run(job('[ @"disk full" ]'))).toEqual({ ok: false, error: 'returned an error value: @"disk full"' });
  });

  test("an uncaught exception is a failed run with its position", () => {
    expect(exec.run(job('[\n  (assert 0 "boom") ]'))).toEqual({ ok: false, error: "Exception during execution: boom (at default:job:t:2:3)" });
  });

  test("a spent budget is a failed run; meta sets the budget", () => {
    expect(exec.run(job("[ (do [ 1 ]) ]", { budgetSteps: 1000 }))).toEqual({ ok: false, error: "Stopped program: steps budget of 1000 exhausted" });
    const timed = exec.run(job("[ (do [ 1 ]) ]", { budgetSteps: 100_000_000, budgetMs: 20 }));
    expect(timed).toEqual({ ok: false, error: "Stopped program: time budget of 20 ms exhausted" });
  });

  test("a program that does not parse is a failed run, not a throw", () => {
    const r = exec.run(job("[ (unclosed "));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toStartWith("job program does not parse: 1:");
  });

  test("a new hash for the same job is parsed again", () => {
    expect(exec.run(job('[ "one" ]'))).toEqual({ ok: true, result: '"one"' });
    expect(exec.run(job('[ "two" ]'))).toEqual({ ok: true, result: '"two"' });
    exec.forget("default", "job:t");
    expect(exec.run(job('[ "three" ]'))).toEqual({ ok: true, result: '"three"' });
  });
});
