/**
 * `sup exec --on SELECTOR (-e EXPR | FILE) [--timeout D] [--json] [--tenant T] [--data DIR]`: runs an
 * SLP program on every node the selector picks, through the node this command reaches (its admin
 * socket, or `--connect`), which sends it to each of them at once and gathers the answers by the
 * deadline. Results are printed per node (node-results.ts); the exit code is 1 when any failed (an
 * error, `timeout` or `unreachable`).
 */
import { readFileSync } from "node:fs";
import { EXEC_CODE_BYTES_MAX, EXEC_TIMEOUT_MS_MAX } from "../cluster/mod.ts";
import { admin, AdminError, dataDirOf } from "./admin-client.ts";
import { atMostPositionals, EXIT_FAILURE, parse, UsageError } from "./args.ts";
import { printResults, selectorOption, timeoutOption, type NodeResult } from "./node-results.ts";
import { errorLine } from "./output.ts";

export const EXEC_USAGE = "Usage: sup exec --on SELECTOR (-e EXPR | FILE) [--timeout DURATION] [--json] [--tenant T] [--data DIR]\n  SELECTOR: all, node:NAME, role:R, label:K=V, or a comma-separated list of these";

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
  const on = selectorOption(values.on, EXEC_USAGE);
  atMostPositionals(positionals, 1, EXEC_USAGE);
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
  const timeoutMs = timeoutOption(values.timeout, EXEC_TIMEOUT_MS_MAX);
  try {
    const r = (await admin(dataDirOf(values.data), "POST", "/exec", { on, code, timeoutMs, tenant: values.tenant })) as { results: NodeResult[] };
    return printResults(r.results, values.json === true);
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    errorLine(`error: ${e.message}`);
    return EXIT_FAILURE;
  }
}
