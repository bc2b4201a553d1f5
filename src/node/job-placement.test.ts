/** Job placement by rendezvous hashing: one owner from the same view everywhere, only alive members with the job's kernels, stable when others come and go. */
import { describe, expect, test } from "bun:test";
import { jobOwner, kernelsLoaded, type Candidate } from "./job-placement.ts";

const member = (name: string, kernels = ["http", "kv"], alive = true): Candidate => ({ name, alive, kernels });
const SRC = '[ #(load "kv") (kv/get "x") ]';

describe("job placement", () => {
  test("every node picks the same owner whatever order it lists members in", () => {
    const ms = ["a", "b", "c", "d", "e"].map((n) => member(n));
    const owner = jobOwner("default", "job:x", SRC, ms);
    expect(owner).not.toBeNull();
    expect(jobOwner("default", "job:x", SRC, [...ms].reverse())).toBe(owner);
  });

  test("jobs spread over members, and a death moves only the dead member's jobs", () => {
    const ms = ["a", "b", "c", "d"].map((n) => member(n));
    const jobs = Array.from({ length: 200 }, (_, i) => `job:j${i}`);
    const before = new Map(jobs.map((j) => [j, jobOwner("t", j, SRC, ms)!]));
    const counts = new Map<string, number>();
    for (const o of before.values()) counts.set(o, (counts.get(o) ?? 0) + 1);
    expect([...counts.values()].every((c) => c > 20)).toBe(true);
    const after = ms.map((m) => (m.name === "b" ? { ...m, alive: false } : m));
    for (const j of jobs) {
      const o = jobOwner("t", j, SRC, after)!;
      if (before.get(j) !== "b") expect(o).toBe(before.get(j)!);
      else expect(o).not.toBe("b");
    }
  });

  test("only members with every kernel the job loads; none: null", () => {
    expect(kernelsLoaded('[ #(load "kv") #( load "http") (http/x) #(load "kv") ]')).toEqual(["kv", "http"]);
    expect(jobOwner("t", "job:x", SRC, [member("a", ["http"]), member("b", ["kv"])])).toBe("b");
    expect(jobOwner("t", "job:x", SRC, [member("a", ["http"])])).toBeNull();
    expect(jobOwner("t", "job:x", SRC, [member("a", ["kv"], false)])).toBeNull();
  });
});
