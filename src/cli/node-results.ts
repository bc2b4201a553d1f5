/**
 * Per-node results as the control-plane commands print them (`sup exec`, `sup kernels load|unload
 * --on`, `sup nodes revoke`): one line per node (name, status, round trip, value or error), or
 * the JSON array with `--json`. Partial results are results: every node's line is printed, the
 * failed ones are named on stderr, and the exit code is 1 when any failed.
 */
import { parseSelector, SelectorError } from "../cluster/mod.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "./args.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { errorLine, writeOut } from "./output.ts";

/** One node's result, as the node returns it. */
export interface NodeResult {
  readonly node: string;
  readonly ok: boolean;
  /** `ok`, `error`, `timeout` or `unreachable`. */
  readonly status: string;
  readonly value?: string;
  readonly error?: string;
  readonly detail?: string;
  readonly ms: number;
}

/** The text after a node's status: its value, its error, or why it was unreachable. */
function outcomeText(r: NodeResult): string {
  if (r.ok) return r.value ?? "";
  if (r.status === "unreachable") return r.detail ?? "";
  if (r.status === "timeout") return "";
  return r.error ?? "";
}

/** Prints the results and returns the exit code (1 when any node failed). */
export function printResults(results: readonly NodeResult[], json: boolean): number {
  if (json) writeOut(JSON.stringify(results, null, 2) + "\n");
  else {
    const rows = results.map((r) => [r.node, r.status, `${r.ms} ms`, outcomeText(r)]);
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
    writeOut(rows.map((row) => `${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]!.padStart(widths[2]!)}  ${row[3]}`.trimEnd() + "\n").join(""));
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return EXIT_OK;
  errorLine(`error: ${failed.length} of ${results.length} node${results.length === 1 ? "" : "s"} failed: ${failed.map((r) => `${r.node} (${r.status})`).join(", ")}`);
  return EXIT_FAILURE;
}

/** Checks an `--on SELECTOR` before anything is sent: a malformed one is a usage error. */
export function selectorOption(text: string, usage: string): string {
  try {
    return parseSelector(text).text;
  } catch (e) {
    if (e instanceof SelectorError) throw new UsageError(`${e.message}\n${usage}`);
    throw e;
  }
}

/** Reads `--timeout DURATION`, at most `maxMs`. */
export function timeoutOption(text: string | undefined, maxMs: number): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text, "--timeout");
  if (ms > maxMs) throw new UsageError(`Invalid --timeout "${text}": at most ${formatDuration(maxMs)}`);
  return ms;
}
