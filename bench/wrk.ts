/**
 * Running wrk from a benchmark and reading its report: requests per second, latency percentiles,
 * error counts, and (with the body-recording script) the status and body of every response.
 */
import { writeFileSync } from "node:fs";

/** What one wrk run measured. */
export interface WrkResult {
  readonly requestsPerSec: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The slowest response (wrk's thread stats; requests past the timeout are errors instead). */
  readonly maxMs: number;
  /** Responses wrk counted as neither 2xx nor 3xx. */
  readonly non2xx3xx: number;
  /** Connect, read, write and timeout errors added up. */
  readonly socketErrors: number;
  /** Filled only by runs with the body-recording script. */
  readonly recorded: RecordedResponses | null;
  readonly output: string;
}

/** What the body-recording script saw: every distinct body with its count, and non-2xx statuses. */
export interface RecordedResponses {
  readonly non2xx: number;
  readonly bodies: ReadonlyMap<string, number>;
}

/** How to load a server. */
export interface WrkOptions {
  readonly url: string;
  readonly threads: number;
  readonly connections: number;
  readonly durationS: number;
  /** Path of a Lua script (see writeRecordingScript). */
  readonly script?: string;
  /** wrk's per-request timeout (default wrk's 2 s); slower responses count as timeout errors. */
  readonly timeoutS?: number;
}

/**
 * A wrk script that records the status and body of every response, per thread (each wrk thread
 * has its own Lua state), and prints the merged counts when the run is done: `NON2XX <n>`, then
 * `BODY <count> <body>` per distinct body. Bodies must not contain newlines.
 */
const RECORDING_SCRIPT = `
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
non2xx = 0
bodies = {}
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  bodies[body] = (bodies[body] or 0) + 1
end
function done(summary, latency, requests)
  local bad = 0
  local merged = {}
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
    for body, n in pairs(t:get("bodies")) do merged[body] = (merged[body] or 0) + n end
  end
  io.write(string.format("NON2XX %d\\n", bad))
  for body, n in pairs(merged) do io.write(string.format("BODY %d %s\\n", n, body)) end
end
`;

/** Writes the body-recording Lua script to `path`. */
export function writeRecordingScript(path: string): void {
  writeFileSync(path, RECORDING_SCRIPT);
}

/** Milliseconds from a wrk latency such as `812.00us`, `2.29ms` or `1.02s`. */
function latencyMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (m === null) return Number.NaN;
  const scale: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
  return Number(m[1]) * scale[m[2]!]!;
}

/** Reads a wrk report (run with --latency). */
export function parseWrk(output: string): WrkResult {
  const num = (re: RegExp) => Number(re.exec(output)?.[1] ?? Number.NaN);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  let recorded: RecordedResponses | null = null;
  const non2xx = /^NON2XX (\d+)$/m.exec(output);
  if (non2xx !== null) {
    const bodies = new Map<string, number>();
    for (const m of output.matchAll(/^BODY (\d+) (.*)$/gm)) bodies.set(m[2]!, Number(m[1]));
    recorded = { non2xx: Number(non2xx[1]), bodies };
  }
  return {
    requestsPerSec: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in /),
    p50Ms: latencyMs(/^\s+50%\s+(\S+)\s*$/m.exec(output)?.[1] ?? ""),
    p99Ms: latencyMs(/^\s+99%\s+(\S+)\s*$/m.exec(output)?.[1] ?? ""),
    maxMs: latencyMs(/^\s+Latency\s+\S+\s+\S+\s+(\S+)/m.exec(output)?.[1] ?? ""),
    non2xx3xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: errors === null ? 0 : errors.slice(1).reduce((t, n) => t + Number(n), 0),
    recorded,
    output,
  };
}

/** Runs wrk to completion; throws with wrk's output when it fails. */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = ["wrk", `-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, "--latency", ...(o.timeoutS !== undefined ? ["--timeout", `${o.timeoutS}s`] : []), ...(o.script !== undefined ? ["-s", o.script] : []), o.url];
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`wrk failed (exit ${code}): ${err}${out}`);
  const r = parseWrk(out);
  if (!Number.isFinite(r.requestsPerSec)) throw new Error(`Cannot read the wrk report:\n${out}`);
  return r;
}
