/**
 * Writing code to a node's store: every program is parsed and type checked against the node's
 * kernels before it is stored, and rejected with its diagnostics otherwise, so nothing invalid ever
 * reaches the store. Reading, history, rollback and removal pass through to the store.
 */
import { SupError } from "../errors.ts";
import { checkProgram } from "../lang/checker.ts";
import { latin1FromText, parseFile, type Host, type SourceDiagnostic, type SourceFile } from "../lang/mod.ts";
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

/** A weighted split of a route between versions (docs/node.md, "Versions in production"). */
export interface SplitRequest {
  readonly tenant?: string;
  readonly name: string;
  /** Version → weight; empty turns the split off. */
  readonly arms: readonly { readonly version: number; readonly weight: number }[];
  readonly sticky?: boolean;
  /** `ip` (default), `header:<name>` or `cookie:<name>`. */
  readonly stickyKey?: string;
  readonly author: string;
}

/** A split names a version the route never had, or is malformed. */
export class SplitRejectedError extends SupError {
  constructor(message: string) {
    super("split-rejected", message);
  }
}

/**
 * Sets or clears a route's split: a new version with the current program and the split in its meta
 * (versions are immutable, so a split is a change like any other, kept in history and undone by rollback).
 */
export function splitCode(store: Store, host: Host, origin: string, req: SplitRequest): CodeVersion {
  const tenant = req.tenant ?? "default";
  const current = store.getCode(tenant, req.name);
  if (current === null) throw new SplitRejectedError(`Cannot split "${req.name}": no such code in tenant "${tenant}"`);
  if (current.kind !== "route") throw new SplitRejectedError(`Cannot split "${req.name}": only routes can be split, this is a ${current.kind}`);
  const known = new Set(store.history(tenant, req.name).map((v) => v.version));
  for (const a of req.arms) {
    if (!known.has(a.version)) throw new SplitRejectedError(`Cannot split "${req.name}": it has no version ${a.version} (versions: ${[...known].join(", ")})`);
    if (!Number.isFinite(a.weight) || a.weight < 0) throw new SplitRejectedError(`Cannot split "${req.name}": weight ${a.weight} of version ${a.version} is not a non-negative number`);
  }
  if (req.arms.length > 0 && req.arms.every((a) => a.weight === 0)) throw new SplitRejectedError(`Cannot split "${req.name}": every weight is 0`);
  const { split: _s, sticky: _k, stickyKey: _sk, ...rest } = current.meta as Record<string, unknown>;
  const meta: Record<string, unknown> =
    req.arms.length === 0 ? rest : { ...rest, split: req.arms.map((a) => ({ version: a.version, weight: a.weight })), ...(req.sticky ? { sticky: true, stickyKey: req.stickyKey ?? "ip" } : {}) };
  return putCode(store, host, origin, { tenant, name: req.name, source: current.source, meta, author: req.author });
}

/**
 * The host code is checked against when it is written to a node: the node's own, except that only
 * kernels of the node's set have manifests, so code loading any other kernel is rejected at once
 * instead of failing on every request, and imports resolve as they will when the code runs.
 */
export function checkingHost(host: Host, kernelSet: () => readonly string[], imports: (path: string) => SourceFile | null): Host {
  return {
    get workingDir() {
      return host.workingDir;
    },
    write: (bytes) => host.write(bytes),
    loadKernel: (name) => host.loadKernel(name),
    releaseKernel: (name, kernel) => host.releaseKernel?.(name, kernel),
    findManifest: (name) => (kernelSet().includes(name) ? host.findManifest(name) : null),
    readImport: imports,
    log: (level, message) => host.log(level, message),
  };
}
