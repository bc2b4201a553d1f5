/**
 * Background jobs on a real `sup start` node, seen only through the CLI, HTTP and the node's log:
 * a job on an interval runs and records its runs, failing jobs (an exception, a spent budget) are
 * recorded while the node keeps serving, new code is picked up, rm stops a job, an invalid interval
 * is refused with a warning, and a restart keeps the schedule and the runs without running early.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { NodeSandbox, type NodeProcess } from "./support/node-process.ts";

const box = new NodeSandbox();
const data = box.dataDir();
/** Every node logs at info so the test can read the job lines, whatever the environment says. */
const NODE_ENV = { SUP_LOG: "info" };
let node: NodeProcess;

const cli = (...args: string[]) => box.cli(data, args);
const put = (name: string, body: string, ...extra: string[]) => {
  const r = cli("code", "put", name, box.file(`${name.replace(/\W/g, "_")}-${Date.now()}.sxs`, body), ...extra);
  if (r.code !== 0) throw new Error(`put ${name} failed: ${r.err}`);
  return r;
};

/** A run as `sup code show` prints it in its table. */
interface ShownRun {
  readonly at: number;
  readonly ok: boolean;
  readonly text: string;
}

/** The runs `sup code show NAME` lists, oldest first. */
function runsOf(name: string, ...extra: string[]): ShownRun[] {
  const r = cli("code", "show", name, ...extra);
  if (r.code !== 0) throw new Error(`show ${name} failed: ${r.err}`);
  return r.out.split("\n").flatMap((line) => {
    const m = /^#   (\d{4}-\d\d-\d\dT[\d:.]+Z)\s+[\d.]+ ms\s+(ok|error)\s+(.*)$/.exec(line);
    return m === null ? [] : [{ at: Date.parse(m[1]!), ok: m[2] === "ok", text: m[3]! }];
  });
}

/** Polls `probe` until it returns a value (not null), failing after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => T | null, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- node log ---\n${node.stderr()}`);
    await Bun.sleep(50);
  }
}

const atLeast = (name: string, n: number, where: (r: ShownRun) => boolean = () => true, ...extra: string[]) =>
  waitFor(`${n} runs of ${name}`, () => {
    const runs = runsOf(name, ...extra);
    return runs.filter(where).length >= n ? runs : null;
  });

beforeAll(async () => {
  node = await box.start(data, [], NODE_ENV);
});
afterAll(() => box.cleanup());

describe("background jobs", () => {
  test("a job with an interval runs repeatedly and its runs show in sup code show and ls", async () => {
    const r = put("job:tick", '[ "tick" ]', "--every", "200ms");
    expect(r.out).toContain("stored job:tick version 1");
    expect(r.out).toContain("every 200ms");
    const runs = await atLeast("job:tick", 2);
    expect(runs.every((x) => x.ok && x.text === '"tick"')).toBe(true);
    // Runs are an interval apart (timers may fire late, never early).
    expect(runs[1]!.at - runs[0]!.at).toBeGreaterThanOrEqual(200);
    const show = cli("code", "show", "job:tick").out;
    expect(show).toContain("# schedule: every 200ms (intervalMs 200), next run ");
    expect(show).toContain('[ "tick" ]');
    expect(cli("code", "ls").out).toMatch(/default\tjob:tick\tv1\tjob\t\S+\tevery 200ms\n/);
    await node.waitForStderr(/info job run tenant=default name=job:tick version=1 ms=[\d.]+ ok=true/);
  });

  test("failing jobs record their errors, and the node keeps serving HTTP", async () => {
    put("job:boom", '[\n  (assert 0 "boom") ]', "--every", "200ms");
    // A loop that never ends, stopped by its time budget every time it runs.
    put("job:spin", "[ (do [ 1 ]) ]", "--every", "300ms", "--meta", '{"budgetMs": 100, "budgetSteps": 100000000}');
    const boom = await atLeast("job:boom", 2);
    expect(boom.every((x) => !x.ok && x.text === "Exception during execution: boom (at default:job:boom:2:3)")).toBe(true);
    const spin = await atLeast("job:spin", 2);
    expect(spin.every((x) => !x.ok && x.text === "Stopped program: time budget of 100 ms exhausted")).toBe(true);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${node.url}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("Welcome to sup");
    }
    await node.waitForStderr('warn job run tenant=default name=job:boom version=1');
    expect(node.proc.exitCode).toBeNull();
  });

  test("replacing a job's code changes its result from the next run on", async () => {
    expect(put("job:tick", '[ "tock" ]', "--every", "200ms").out).toContain("version 2");
    const runs = await atLeast("job:tick", 2, (x) => x.text === '"tock"');
    // Once the new version ran, the old one never runs again.
    const first = runs.findIndex((x) => x.text === '"tock"');
    expect(runs.slice(first).every((x) => x.ok && x.text === '"tock"')).toBe(true);
    await node.waitForStderr("job run tenant=default name=job:tick version=2");
  });

  test("sup code rm stops a job at once", async () => {
    expect(cli("code", "rm", "job:boom").code).toBe(0);
    expect(cli("code", "rm", "job:spin").code).toBe(0);
    await waitFor("the unscheduled line", () => (node.stderr().includes("job unscheduled tenant=default name=job:boom") ? true : null));
    const before = runsOf("job:boom", "--version", "1");
    // Give the removed job several of its intervals while another job keeps running.
    const removedAt = Date.now();
    await waitFor("job:tick to run on", () => ((runsOf("job:tick").at(-1)?.at ?? 0) >= removedAt + 800 ? true : null));
    expect(runsOf("job:boom", "--version", "1")).toEqual(before);
    expect(cli("code", "show", "job:boom", "--version", "1").out).toContain("# schedule: none");
  });

  test("a job without a valid interval is stored but not scheduled, with a warning", async () => {
    const r = put("job:bad", '[ "never" ]', "--meta", '{"intervalMs": 5}');
    expect(r.err).toContain('warning: job:bad is stored but not scheduled: meta "intervalMs" is 5: the shortest interval is 100 ms');
    await waitFor("the warning in the node's log", () => (node.stderr().includes("warn job not scheduled tenant=default name=job:bad version=1") ? true : null));
    const show = cli("code", "show", "job:bad").out;
    expect(show).toContain("# schedule: not scheduled: meta \"intervalMs\" is 5");
    expect(show).toContain("# runs: none yet");
    expect(cli("code", "ls").out).toMatch(/job:bad\tv1\tjob\t\S+\tnot scheduled\n/);
    // The CLI refuses what the node would not schedule before sending anything.
    const bare = cli("code", "put", "job:bad", box.file("bad.sxs", "[1]"), "--every", "10");
    expect(bare.code).toBe(2);
    expect(bare.err).toContain('Invalid --every "10"');
    const fast = cli("code", "put", "job:bad", box.file("bad.sxs", "[1]"), "--every", "50ms");
    expect(fast.code).toBe(2);
    expect(fast.err).toContain("at most every 100ms");
    expect(cli("code", "history", "job:bad").out.trim().split("\n")).toHaveLength(1);
  });

  test("a job runs in its own tenant", async () => {
    put("job:tick", '[ "acme" ]', "--every", "200ms", "--tenant", "acme");
    const runs = await atLeast("job:tick", 1, () => true, "--tenant", "acme");
    expect(runs.every((x) => x.ok && x.text === '"acme"')).toBe(true);
    expect(cli("code", "rm", "job:tick", "--tenant", "acme").code).toBe(0);
  });

  test("a restart keeps jobs scheduled and their runs, without running them early", async () => {
    put("job:hourly", '[ "hourly" ]', "--every", "1h");
    const [hourly] = await atLeast("job:hourly", 1);
    const before = runsOf("job:tick");
    node.proc.kill("SIGTERM");
    expect(await node.proc.exited).toBe(0);
    const stoppedAt = Date.now();

    node = await box.start(data, [], NODE_ENV);
    const after = await atLeast("job:tick", 1, (x) => x.at > stoppedAt);
    // The runs from before the restart are still there, and the first new run came an interval
    // after the last old one: a restart neither skips the job nor runs it twice.
    expect(after).toContainEqual(before.at(-1)!);
    const lastOld = after.filter((x) => x.at < stoppedAt).at(-1)!;
    const firstNew = after.find((x) => x.at > stoppedAt)!;
    expect(firstNew.at - lastOld.at).toBeGreaterThanOrEqual(200);
    expect(firstNew.text).toBe('"tock"');
    // The hourly job ran an hour ago as far as the store knows: not again, next run one hour after the last.
    expect(runsOf("job:hourly")).toEqual([hourly!]);
    expect(cli("code", "show", "job:hourly").out).toContain(`next run ${new Date(hourly!.at + 3_600_000).toISOString()}`);
    await node.waitForStderr("job scheduled tenant=default name=job:hourly version=1");
    expect((await fetch(`${node.url}/`)).status).toBe(200);
  });
});
