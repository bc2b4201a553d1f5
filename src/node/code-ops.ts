/**
 * Writing code: every program is parsed and type checked against the node's kernels before it is
 * stored, and rejected with its diagnostics otherwise, so nothing invalid ever reaches the store.
 * Every write (put, rollback, removal, split) is a change-log entry committed through the node's
 * replication, so it is durable here when the call returns and travels to every node it targets.
 */
import type { EntryBody, Selector } from "../cluster/mod.ts";
import { SupError } from "../errors.ts";
import { checkProgram } from "../lang/checker.ts";
import { latin1FromText, parseFile, type Host, type SourceDiagnostic, type SourceFile } from "../lang/mod.ts";
import type { Value } from "../lang/value.ts";
import { DEFAULT_TENANT, kindOfCodeName, refText, type CodeKind, type CodeVersion, type Store, type VersionOp, type VersionRef } from "../store/mod.ts";
import { putBody, removeBody, rollbackBody } from "./code-entries.ts";
import { WriteRefusedError, type NodeReplication, type WriteOptions, type WriteResult } from "./replication.ts";

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
  /** The nodes that apply it (default: every node). */
  readonly target?: Selector | null;
}

/** What a code write works with: the store, the host code is checked against, the replication it goes through. */
export interface CodeContext {
  readonly store: Store;
  readonly host: Host;
  readonly replication: NodeReplication;
}

/** A code write: the version it made here (null when its target is other nodes) and the entry. */
export interface CodeWrite {
  readonly version: CodeVersion | null;
  readonly write: WriteResult;
}

/** Parses and checks a program; throws CodeRejectedError with every diagnostic on failure. */
function checked(host: Host, name: string, source: string): { kind: CodeKind; program: Value } {
  const named = kindOfCodeName(name);
  if ("problem" in named) throw new CodeNameError(name, named.problem);
  const file = { path: name, text: latin1FromText(source) };
  const parsed = parseFile(file);
  if (!parsed.ok) throw new CodeRejectedError(name, parsed.diagnostics);
  const diags = checkProgram(parsed.value, file, host).filter((d) => d.severity === "error");
  if (diags.length > 0) throw new CodeRejectedError(name, diags);
  return { kind: named.kind, program: parsed.value };
}

/** Commits a code entry; a refusal (a permission the node lacks) names the action. */
function commit(cx: CodeContext, action: string, body: EntryBody, o: WriteOptions): CodeWrite {
  let write: WriteResult;
  try {
    write = cx.replication.write(body, o);
  } catch (e) {
    if (e instanceof WriteRefusedError) throw new WriteRefusedError(action, e.reason);
    throw e;
  }
  if (write.result.startsWith("error")) throw new SupError("code-write-failed", `${action}: ${write.result.replace(/^error: /, "")}`);
  return { version: write.committed.version ?? null, write };
}

/** Parses, checks and stores a program as a new version, replicated to every node its target selects. */
export function putCode(cx: CodeContext, req: PutCodeRequest, op: VersionOp = "put", from: { number: number; origin: string } | null = null): CodeWrite {
  const { kind, program } = checked(cx.host, req.name, req.source);
  const tenant = req.tenant ?? DEFAULT_TENANT;
  const { body, blob } = putBody(cx.store, { tenant, name: req.name, kind, source: req.source, program, meta: req.meta, author: req.author, op, from });
  return commit(cx, `Cannot store code "${req.name}"`, body, { author: req.author, target: req.target ?? null, blob });
}

/** Makes an earlier version current as a new version (see Store.rollbackTarget); `to` is `N` or `N@ORIGIN`. */
export function rollbackCode(cx: CodeContext, tenant: string, name: string, to: VersionRef | undefined, author: string): CodeWrite {
  const { body, blob } = rollbackBody(cx.store, tenant, name, to);
  return commit(cx, `Cannot roll back "${name}"`, body, { author, blob });
}

/** Removes a name everywhere (its versions stay in history). */
export function removeCode(cx: CodeContext, tenant: string, name: string, author: string): CodeWrite {
  return commit(cx, `Cannot remove "${name}"`, removeBody(cx.store, tenant, name), { author });
}

/** Reads `3` or `3@web-2`; null when it is neither. */
export function parseVersionRef(text: string): VersionRef | null {
  const m = /^v?(\d+)(?:@([a-z0-9][a-z0-9-]*))?$/.exec(text.trim());
  if (m === null || !Number.isSafeInteger(Number(m[1])) || Number(m[1]) < 1) return null;
  return m[2] === undefined ? { number: Number(m[1]) } : { number: Number(m[1]), origin: m[2] };
}

/** A weighted split of a route between versions (docs/node.md, "Versions in production"). */
export interface SplitRequest {
  readonly tenant?: string;
  readonly name: string;
  /** Version (number, with its origin when several versions share it) → weight; empty turns the split off. */
  readonly arms: readonly { readonly version: number; readonly origin?: string; readonly weight: number }[];
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
 * (versions are immutable, so a split is a change like any other, kept in history and undone by
 * rollback). Each arm is stored with the origin of its version, so it names the same version on
 * every node.
 */
export function splitCode(cx: CodeContext, req: SplitRequest): CodeWrite {
  const { store } = cx;
  const tenant = req.tenant ?? DEFAULT_TENANT;
  const current = store.getCode(tenant, req.name);
  if (current === null) throw new SplitRejectedError(`Cannot split "${req.name}": no such code in tenant "${tenant}"`);
  if (current.kind !== "route") throw new SplitRejectedError(`Cannot split "${req.name}": only routes can be split, this is a ${current.kind}`);
  const arms: { version: number; origin: string; weight: number }[] = [];
  for (const a of req.arms) {
    if (!Number.isFinite(a.weight) || a.weight < 0) throw new SplitRejectedError(`Cannot split "${req.name}": weight ${a.weight} of version ${a.version} is not a non-negative number`);
    const found = store.versionsNumbered(tenant, req.name, a.version).filter((v) => a.origin === undefined || v.origin === a.origin);
    if (found.length === 0) {
      const known = store.history(tenant, req.name).map((v) => v.version);
      throw new SplitRejectedError(`Cannot split "${req.name}": it has no version ${refText({ number: a.version, origin: a.origin })} (versions: ${[...new Set(known)].join(", ")})`);
    }
    if (found.length > 1) throw new SplitRejectedError(`Cannot split "${req.name}": version ${a.version} was written on ${found.length} nodes at once: name one of ${found.map((v) => `${v.version}@${v.origin}`).join(", ")}`);
    arms.push({ version: a.version, origin: found[0]!.origin, weight: a.weight });
  }
  if (arms.length > 0 && arms.every((a) => a.weight === 0)) throw new SplitRejectedError(`Cannot split "${req.name}": every weight is 0`);
  const { split: _s, sticky: _k, stickyKey: _sk, ...rest } = current.meta as Record<string, unknown>;
  const meta: Record<string, unknown> = arms.length === 0 ? rest : { ...rest, split: arms, ...(req.sticky ? { sticky: true, stickyKey: req.stickyKey ?? "ip" } : {}) };
  return putCode(cx, { tenant, name: req.name, source: current.source, meta, author: req.author }, "split", { number: current.version, origin: current.origin });
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
