/**
 * `sup exec --on SELECTOR (-e EXPR | FILE) [--timeout D] [--json] [--tenant T] [--data DIR]`: runs an
 * SLP program on every node the selector picks, through the node this command reaches (its admin
 * socket, or `--connect`), which sends it to each of them at once and gathers the answers by the
 * deadline. Partial results are results: every node's line is printed, the failed ones are named on
 * stderr, and the exit code is 1 when any failed (an error, `timeout` or `unreachable`).
 */
import { readFileSync } from "node:fs";
import { EXEC_CODE_BYTES_MAX, EXEC_TIMEOUT_MS_MAX, parseSelector, SelectorError } from "../cluster/mod.ts";
import { admin, AdminError, dataDirOf } from "./admin-client.ts";
import { EXIT_FAILURE, EXIT_OK, parse, UsageError } from "./args.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { errorLine } from "./output.ts";

export const EXEC_USAGE = "Usage: sup exec --on SELECTOR (-e EXPR | FILE) [--timeout DURATION] [--json] [--tenant T] [--data DIR]\n  SELECTOR: all, node:NAME, role:R, label:K=V, or a comma-separated list of these";

/** One node's result, as the node returns it. */
interface ExecResult {
  readonly node: string;
  readonly ok: boolean;
  readonly status: string;
  readonly value?: string;
  readonly error?: string;
  readonly detail?: string;
  readonly ms: number;
}

/** The text after a node's status: its value, its error, or why it was unreachable. */
function outcomeText(r: ExecResult): string {
  if (r.ok) return r.value ?? "";
  if (r.status === "unreachable") return r.detail ?? "";
  if (r.status === "timeout") return "";
  return r.error ?? "";
}

/** Runs the `exec` subcommand. */
export async function execCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    on: { type: "string" },
    expr: { type: "string", short: "e" },
    timeout: { type: "string" },
    json: { type: "boolean" },
    tenant: { type: "string" },
    data: { type: "string" },
  });
  if (values.on === undefined) throw new UsageError(`"sup exec" needs --on SELECTOR\n${EXEC_USAGE}`);
  try {
    parseSelector(values.on);
  } catch (e) {
    if (e instanceof SelectorError) throw new UsageError(`${e.message}\n${EXEC_USAGE}`);
    throw e;
  }
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}"\n${EXEC_USAGE}`);
  if ((values.expr === undefined) === (positionals.length === 0)) throw new UsageError(`"sup exec" needs exactly one program: -e EXPR or a FILE\n${EXEC_USAGE}`);
  let code: string;
  if (values.expr !== undefined) code = values.expr;
  else {
    try {
      code = readFileSync(positionals[0]!, "utf8");
    } catch (e) {
      throw new UsageError(`Cannot read "${positionals[0]}": ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "file does not exist" : (e as Error).message}`);
    }
  }
  const bytes = Buffer.byteLength(code, "utf8");
  if (bytes > EXEC_CODE_BYTES_MAX) throw new UsageError(`Program is ${bytes} bytes, more than ${EXEC_CODE_BYTES_MAX} (sup exec's limit): store it as a module (sup code put mod:NAME FILE) and exec a program that imports it`);
  const timeoutMs = values.timeout === undefined ? undefined : parseDuration(values.timeout, "--timeout");
  if (timeoutMs !== undefined && timeoutMs > EXEC_TIMEOUT_MS_MAX) throw new UsageError(`Invalid --timeout "${values.timeout}": at most ${formatDuration(EXEC_TIMEOUT_MS_MAX)}`);
  let results: ExecResult[];
  try {
    const r = (await admin(dataDirOf(values.data), "POST", "/exec", { on: values.on, code, timeoutMs, tenant: values.tenant })) as { results: ExecResult[] };
    results = r.results;
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    errorLine(`error: ${e.message}`);
    return EXIT_FAILURE;
  }
  if (values.json) process.stdout.write(JSON.stringify(results, null, 2) + "\n");
  else {
    const rows = results.map((r) => [r.node, r.status, `${r.ms} ms`, outcomeText(r)]);
    const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
    for (const row of rows) process.stdout.write(`${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]!.padStart(widths[2]!)}  ${row[3]}`.trimEnd() + "\n");
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return EXIT_OK;
  errorLine(`error: ${failed.length} of ${results.length} node${results.length === 1 ? "" : "s"} failed: ${failed.map((r) => `${r.node} (${r.status})`).join(", ")}`);
  return EXIT_FAILURE;
}
