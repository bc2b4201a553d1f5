/**
 * How a node runs a program `sup exec` (or `cluster/exec`) sent it: parsed, then run like a job run
 * (a fresh session in the tenant's scope, with the node's kernel set), under the node's exec budget:
 * EXEC_STEPS steps and the asker's time, capped at EXEC_TIME_MS_MAX. The answer is data, never an
 * exception: the value in SLP source form, or the error a job run would record.
 */
import type { RunAnswer } from "../cluster/mod.ts";
import { isTenantName } from "../http/mod.ts";
import { latin1FromText, parseFile, type Host, type SessionScope, type SourceFile } from "../lang/mod.ts";
import { log } from "../log.ts";
import { runJobProgram } from "./job-runner.ts";
import { EXEC_STEPS, EXEC_TIME_MS_MAX } from "./limits.ts";

/** Runs one exec'd program (source and answer as latin1 byte strings); never throws. */
export function runExecProgram(host: Host, scopeFor: (tenant: string) => SessionScope, tenant: string, code: string, budgetMs: number): RunAnswer {
  const fail = (text: string): RunAnswer => ({ ok: false, error: latin1FromText(text) });
  if (!isTenantName(tenant)) return fail(`Cannot run exec in tenant "${tenant}": a tenant name is lower-case letters, digits and hyphens`);
  const file: SourceFile = { path: "exec", text: code };
  const parsed = parseFile(file);
  if (!parsed.ok) return fail(`program does not parse: ${parsed.diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join("; ")}`);
  const outcome = runJobProgram(parsed.value, file, host, { steps: EXEC_STEPS, timeMs: Math.min(Math.max(1, budgetMs), EXEC_TIME_MS_MAX) }, scopeFor(tenant));
  if (outcome.ok) return { ok: true, value: latin1FromText(outcome.result) };
  if (outcome.internal !== undefined) log("error", "exec failed inside sup", { tenant, error: outcome.internal });
  return fail(outcome.error);
}
