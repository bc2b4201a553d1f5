/** How a node runs an exec'd program: its value in source form, or the error a job run would record; the node's budget stops a runaway program. */
import { afterAll, expect, test } from "bun:test";
import { latin1FromText, textFromLatin1 } from "../lang/mod.ts";
import { runExecProgram } from "./exec-run.ts";
import { EXEC_STEPS } from "./limits.ts";
import { Runtime } from "./runtime.ts";

const rt = new Runtime({ supHome: null });
afterAll(() => rt.close());
const run = (code: string, budgetMs = 5000, tenant = "default") => {
  const a = runExecProgram(rt.host, () => ({ tenant, service: () => undefined }), tenant, latin1FromText(code), budgetMs);
  return a.ok ? { ok: true, value: textFromLatin1(a.value) } : { ok: false, error: textFromLatin1(a.error) };
};

test("the value in SLP source form; an error value, an exception and a parse error are failures", () => {
  expect(run('[#(load "alu") (alu/add 40 2)]')).toEqual({ ok: true, value: "42" });
  expect(run('{1 "é" x}')).toEqual({ ok: true, value: '{1 "é" x}' });
  expect(run("@(disk full)")).toEqual({ ok: false, error: "returned an error value: @(disk full)" });
  expect(run('(assert 0 "boom")')).toEqual({ ok: false, error: "Exception during execution: boom (at exec:1:1)" });
  expect(run("(1 2")).toMatchObject({ ok: false });
  expect(run("(1 2").error).toStartWith("program does not parse: 1:");
  expect(run("1", 100, "Bad_Tenant")).toEqual({ ok: false, error: 'Cannot run exec in tenant "Bad_Tenant": a tenant name is lower-case letters, digits and hyphens' });
});

test(`a program that never ends stops at the node's EXEC_STEPS (${EXEC_STEPS}) or at the asker's time, whichever comes first`, () => {
  expect(run("(do [0])", 60_000)).toEqual({ ok: false, error: `Stopped program: steps budget of ${EXEC_STEPS} exhausted` });
  expect(run('[#(load "alu") (do [(alu/add 1 1)])]', 1)).toEqual({ ok: false, error: "Stopped program: time budget of 1 ms exhausted" });
});
