/**
 * Runs one route's program for one request, as data: a fresh Session against the node's host
 * (kernels are acquired by the program's `#(load …)` and released when it ends), `$request` bound in
 * the interpreter's global scope, and the route's budget. Never throws: a spent budget, an SLP
 * exception, a program that did not parse and a bug in a kernel all come back as outcomes.
 * (Only a failure to release kernels at the end, itself a bug, would escape; the dispatcher catches it.)
 */
import { BudgetExceeded, Interp, SlpException, Session, runUnit, locate, stackExhausted, type Host, type SessionScope, type SourceDiagnostic, type Value } from "../lang/mod.ts";
import { REQUEST_SYMBOL } from "../../kernels/http/shape.ts";
import type { RouteVersion } from "./route-table.ts";

/** How a handler run ended. */
export type HandlerOutcome =
  | { readonly kind: "value"; readonly value: Value }
  | { readonly kind: "budget"; readonly error: BudgetExceeded }
  | { readonly kind: "exception"; readonly message: string; readonly where: SourceDiagnostic | null }
  | { readonly kind: "internal"; readonly message: string };

/**
 * Runs a route version's program with `request` bound to `$request`. Given as a function, the
 * request value is built only if the program reads `$request` (many handlers never do).
 */
export function runHandler(run: RouteVersion, request: Value | (() => Value), host: Host, scope: SessionScope | null = null): HandlerOutcome {
  const { program, file, diagnostics } = run.program;
  if (program === null) return { kind: "internal", message: `route program does not parse: ${diagnostics[0]?.message ?? "unknown error"}` };
  const session = new Session(host, run.budget, scope);
  let it: Interp | undefined;
  try {
    it = new Interp(session, file.path);
    session.importStack.push(file.path);
    if (typeof request === "function") it.defineLazy(REQUEST_SYMBOL, request);
    else it.define(REQUEST_SYMBOL, request);
    return { kind: "value", value: runUnit(program, "handler", it) };
  } catch (e) {
    if (e instanceof BudgetExceeded) return { kind: "budget", error: e };
    if (e instanceof SlpException) return { kind: "exception", message: e.text, where: e.pos >= 0 ? locate(file, e.pos, e.text) : null };
    const stop = stackExhausted(e, it?.callDepth ?? 0);
    if (stop !== null) return { kind: "budget", error: stop };
    // Anything else is a bug (in a kernel or the evaluator); the request still gets an answer.
    return { kind: "internal", message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  } finally {
    session.close();
  }
}
