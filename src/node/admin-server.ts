/**
 * The admin interface of a node: JSON over HTTP on a Unix socket in the data directory, readable and
 * writable by the owner only, so nothing on the network can reach it. Every failure becomes a JSON
 * error with a code and a status; a bad request never takes the node down.
 */
import { chmodSync, existsSync, rmSync } from "node:fs";
import { SupError } from "../errors.ts";
import { log } from "../log.ts";
import { DEFAULT_TENANT, NothingToRollBackError, StoreIoError, StoreNotFoundError } from "../store/mod.ts";
import { parseSelector, SelectorError } from "../cluster/mod.ts";
import { CodeRejectedError, parseVersionRef, putCode, removeCode, rollbackCode, splitCode, type CodeWrite } from "./code-ops.ts";
import type { WaitFor } from "./receipts.ts";
import { WriteRefusedError } from "./replication.ts";
import type { SupNode } from "./node.ts";

/** Largest admin request body: code is at most 256 KiB, plus JSON framing and metadata. */
const ADMIN_BODY_BYTES_MAX = 1024 * 1024;

/** A request the admin interface refuses, with its HTTP status. */
export class AdminRequestError extends SupError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
  ) {
    super(code, message);
  }
}

type Json = Record<string, unknown>;
type Handler = (node: SupNode, body: Json, query: URLSearchParams) => Promise<unknown> | unknown;

function field(body: Json | URLSearchParams, name: string, required = true): string | undefined {
  const v = body instanceof URLSearchParams ? body.get(name) ?? undefined : body[name];
  if (v === undefined || v === null || v === "") {
    if (required) throw new AdminRequestError("admin-bad-request", `Missing field "${name}"`, 400);
    return undefined;
  }
  if (typeof v !== "string") throw new AdminRequestError("admin-bad-request", `Field "${name}" must be a string`, 400);
  return v;
}


/** Longest `--wait` an admin request may hold its connection: the CLI's timeout is capped by it. */
const WAIT_MS_MAX = 10 * 60 * 1000;

/** `wait`: "all" or a node count; absent when the request does not wait. */
function waitField(body: Json): WaitFor | undefined {
  const w = body.wait;
  if (w === undefined || w === null) return undefined;
  if (w === "all") return "all";
  if (typeof w === "number" && Number.isSafeInteger(w) && w >= 1) return w;
  throw new AdminRequestError("admin-bad-request", `Field "wait" must be "all" or a positive integer, got ${JSON.stringify(w)}`, 400);
}

function timeoutField(body: Json): number {
  const t = body.timeoutMs ?? 10_000;
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0 || t > WAIT_MS_MAX) throw new AdminRequestError("admin-bad-request", `Field "timeoutMs" must be 0 to ${WAIT_MS_MAX}, got ${JSON.stringify(t)}`, 400);
  return t;
}

function targetField(body: Json) {
  const on = field(body, "on", false);
  if (on === undefined) return null;
  try {
    return parseSelector(on);
  } catch (e) {
    if (e instanceof SelectorError) throw new AdminRequestError("admin-bad-request", e.message, 400);
    throw e;
  }
}

/** A code write as the admin interface answers it: the version made here, the entry, and receipts when it waited. */
async function answer(node: SupNode, w: CodeWrite, body: Json): Promise<unknown> {
  const wait = waitField(body);
  const entry = { origin: w.write.origin, seq: w.write.seq, result: w.write.result, target: w.write.target?.text ?? null };
  const receipts = wait === undefined ? undefined : await node.waitReceipts(w.write, wait, timeoutField(body));
  return { ...(w.version ?? {}), entry, ...(receipts === undefined ? {} : { receipts }) };
}

/** `to`: a version number, or `N@ORIGIN` for one of several versions that share a number. */
function versionRefField(body: Json, name: string) {
  const v = body[name];
  if (v === undefined || v === null || v === "") return undefined;
  const ref = parseVersionRef(String(v));
  if (ref === null) throw new AdminRequestError("admin-bad-request", `Field "${name}" must be a positive integer, got ${JSON.stringify(v)} (a version number, or N@ORIGIN for one of versions written on several nodes at once)`, 400);
  return ref;
}

function notFound(what: string): AdminRequestError {
  return new AdminRequestError("not-found", what, 404);
}

const ROUTES: Record<string, Handler> = {
  "POST /code/put": (node, b) => {
    const meta = b.meta;
    if (meta !== undefined && (typeof meta !== "object" || meta === null || Array.isArray(meta))) throw new AdminRequestError("admin-bad-request", 'Field "meta" must be an object', 400);
    const tenant = field(b, "tenant", false);
    waitField(b);
    timeoutField(b);
    const w = putCode(node.codeContext(tenant ?? DEFAULT_TENANT), {
      tenant,
      name: field(b, "name")!,
      source: field(b, "source")!,
      meta: meta as Record<string, unknown> | undefined,
      author: field(b, "author", false) ?? "admin",
      target: targetField(b),
    });
    return answer(node, w, b);
  },
  "POST /code/split": (node, b) => {
    const arms = b.arms;
    if (!Array.isArray(arms) || !arms.every((a) => typeof a === "object" && a !== null && typeof a.version === "number" && typeof a.weight === "number" && (a.origin === undefined || typeof a.origin === "string"))) {
      throw new AdminRequestError("admin-bad-request", 'Field "arms" must be a list of {version, weight} (with origin when versions share a number)', 400);
    }
    const tenant = field(b, "tenant", false);
    const w = splitCode(node.codeContext(tenant ?? DEFAULT_TENANT), {
      tenant,
      name: field(b, "name")!,
      arms: arms as { version: number; origin?: string; weight: number }[],
      sticky: b.sticky === true,
      stickyKey: field(b, "stickyKey", false),
      author: field(b, "author", false) ?? "admin",
    });
    return answer(node, w, b);
  },
  "GET /code/ls": (node, _b, q) => node.store.listCode(q.get("tenant") ?? undefined).map(({ source: _s, ...rest }) => rest),
  "GET /code/show": (node, _b, q) => {
    const tenant = q.get("tenant") ?? "default";
    const name = field(q, "name")!;
    const ref = q.get("version") ? parseVersionRef(q.get("version")!) : undefined;
    if (ref === null) throw new AdminRequestError("admin-bad-request", `Field "version" must be a positive integer, got ${JSON.stringify(q.get("version"))} (a version number, or N@ORIGIN for one of versions written on several nodes at once)`, 400);
    const v = ref === undefined ? node.store.getCode(tenant, name) : node.store.getCode(tenant, name, ref.number, ref.origin);
    if (v === null) throw notFound(`No code named "${name}"${q.get("version") ? ` at version ${q.get("version")}` : ""} in tenant "${tenant}"`);
    if (v.kind !== "job") return v;
    // A job's recorded runs, and what the scheduler does with its current version (null: not current).
    return { ...v, runs: node.store.jobRuns(tenant, name), schedule: node.jobs?.state(tenant, name) ?? null };
  },
  "GET /code/history": (node, _b, q) => {
    const tenant = q.get("tenant") ?? "default";
    const name = field(q, "name")!;
    const h = node.store.history(tenant, name);
    if (h.length === 0) throw notFound(`No code named "${name}" in tenant "${tenant}"`);
    return h.map(({ source: _s, ...rest }) => rest);
  },
  "POST /code/rollback": (node, b) => {
    const tenant = field(b, "tenant", false) ?? DEFAULT_TENANT;
    waitField(b);
    return answer(node, rollbackCode(node.codeContext(tenant), tenant, field(b, "name")!, versionRefField(b, "to"), field(b, "author", false) ?? "admin"), b);
  },
  "POST /code/rm": async (node, b) => {
    const tenant = field(b, "tenant", false) ?? DEFAULT_TENANT;
    waitField(b);
    const w = removeCode(node.codeContext(tenant), tenant, field(b, "name")!, field(b, "author", false) ?? "admin");
    return { removed: b.name, ...((await answer(node, w, b)) as object) };
  },
  "GET /kernels": (node) => ({ set: node.kernelSet(), loaded: node.runtime.kernels() }),
  "POST /kernels/load": async (node, b) => {
    await node.loadKernel(field(b, "name")!);
    return { set: node.kernelSet() };
  },
  "POST /kernels/unload": async (node, b) => {
    await node.unloadKernel(field(b, "name")!);
    return { set: node.kernelSet() };
  },
  "GET /status": (node) => node.status(),
  "GET /nodes": (node) => {
    if (node.cluster === null) throw new AdminRequestError("not-in-cluster", "This node runs alone: start it with --identity FILE (and --join HOST:PORT) to be part of a cluster", 409);
    return node.nodesWithReplication();
  },
  "POST /gc": async (node) => {
    await node.collectGarbage();
    return node.memory();
  },
};

/** Turns any failure into a JSON error response. */
function errorResponse(e: unknown): Response {
  if (e instanceof CodeRejectedError) {
    return Response.json({ error: { code: e.code, message: e.message, diagnostics: e.diagnostics } }, { status: 422 });
  }
  if (e instanceof AdminRequestError) return Response.json({ error: { code: e.code, message: e.message } }, { status: e.status });
  if (e instanceof WriteRefusedError) return Response.json({ error: { code: e.code, message: e.message } }, { status: 403 });
  if (e instanceof StoreNotFoundError) return Response.json({ error: { code: e.code, message: e.message } }, { status: 404 });
  if (e instanceof NothingToRollBackError) return Response.json({ error: { code: e.code, message: e.message } }, { status: 409 });
  if (e instanceof StoreIoError) {
    log("error", "admin request failed in the store", { code: e.code, error: e.message });
    return Response.json({ error: { code: e.code, message: e.message } }, { status: 500 });
  }
  if (e instanceof SupError) return Response.json({ error: { code: e.code, message: e.message } }, { status: 400 });
  log("error", "admin request failed", { error: e instanceof Error ? e.stack ?? e.message : String(e) });
  return Response.json({ error: { code: "internal", message: "Internal error; see the node's log" } }, { status: 500 });
}

/** The admin socket server of one node. */
export class AdminServer {
  private constructor(
    private readonly server: ReturnType<typeof Bun.serve>,
    readonly socketPath: string,
  ) {}

  /**
   * Refuses to go on when another node answers on `socketPath`, and removes a stale socket. Called
   * before a node touches its store, so a second node in the same directory changes nothing.
   */
  static async claim(socketPath: string): Promise<void> {
    if (!existsSync(socketPath)) return;
    const alive = await fetch("http://localhost/status", { unix: socketPath }).then(
      () => true,
      () => false,
    );
    if (alive) throw new AdminRequestError("node-running", `Another node is already running in this data directory (its admin socket ${socketPath} answers)`, 409);
    rmSync(socketPath, { force: true });
  }

  /** Listens on `socketPath`, which `claim` has made free. */
  static start(node: SupNode, socketPath: string): AdminServer {
    const server = Bun.serve({
      unix: socketPath,
      maxRequestBodySize: ADMIN_BODY_BYTES_MAX,
      fetch: async (req) => {
        const url = new URL(req.url);
        const handler = ROUTES[`${req.method} ${url.pathname}`];
        if (handler === undefined) return errorResponse(notFound(`No admin endpoint ${req.method} ${url.pathname}`));
        try {
          let body: Json = {};
          if (req.method === "POST") {
            const parsed: unknown = await req.json().catch(() => {
              throw new AdminRequestError("admin-bad-request", "Request body is not valid JSON", 400);
            });
            if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new AdminRequestError("admin-bad-request", "Request body must be a JSON object", 400);
            body = parsed as Json;
          }
          return Response.json({ ok: await handler(node, body, url.searchParams) });
        } catch (e) {
          return errorResponse(e);
        }
      },
    });
    // Owner-only: the socket is the node's administrative authority.
    chmodSync(socketPath, 0o600);
    return new AdminServer(server, socketPath);
  }

  /** Stops listening and removes the socket file. */
  async stop(): Promise<void> {
    await this.server.stop(true);
    rmSync(this.socketPath, { force: true });
  }
}
