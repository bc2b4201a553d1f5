/**
 * Writing code to a node's store: every program is parsed and type checked against the node's
 * kernels before it is stored, and rejected with its diagnostics otherwise, so nothing invalid ever
 * reaches the store. Reading, history, rollback and removal pass through to the store.
 */
import { SupError } from "../errors.ts";
import { checkProgram } from "../lang/checker.ts";
import { latin1FromText, parseFile, type Host, type SourceDiagnostic } from "../lang/mod.ts";
import { kindOfCodeName, type CodeVersion, type Store } from "../store/mod.ts";

/** Code was rejected: it does not parse or does not check. */
export class CodeRejectedError extends SupError {
  constructor(
    readonly codeName: string,
    readonly diagnostics: readonly SourceDiagnostic[],
  ) {
    super("code-rejected", `Cannot store code "${codeName}": ${diagnostics.length} problem${diagnostics.length === 1 ? "" : "s"}: ${diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`).join("; ")}`);
  }
}

/** A code name is not a route, job or module name. */
export class CodeNameError extends SupError {
  constructor(name: string, problem: string) {
    super("code-bad-name", `Cannot store code "${name}": ${problem}`);
  }
}

/** What a code write carries. */
export interface PutCodeRequest {
  readonly tenant?: string;
  readonly name: string;
  /** Program text as UTF-8 (stored as given; parsed as bytes). */
  readonly source: string;
  readonly meta?: Record<string, unknown>;
  readonly author: string;
}


/** Parses, checks and stores a program; throws CodeRejectedError with every diagnostic on failure. */
export function putCode(store: Store, host: Host, origin: string, req: PutCodeRequest): CodeVersion {
  const named = kindOfCodeName(req.name);
  if ("problem" in named) throw new CodeNameError(req.name, named.problem);
  const file = { path: req.name, text: latin1FromText(req.source) };
  const parsed = parseFile(file);
  if (!parsed.ok) throw new CodeRejectedError(req.name, parsed.diagnostics);
  const diags = checkProgram(parsed.value, file, host).filter((d) => d.severity === "error");
  if (diags.length > 0) throw new CodeRejectedError(req.name, diags);
  return store.putCode({
    tenant: req.tenant,
    name: req.name,
    kind: named.kind,
    source: req.source,
    program: parsed.value,
    meta: req.meta,
    author: req.author,
    origin,
  });
}
