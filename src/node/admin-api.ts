/**
 * The admin interface as a transport-neutral function: a request (method, path with its query,
 * JSON body) and who asks (a principal) in; a status and a JSON body out. The Unix socket
 * (admin-server.ts) and the backchannel's clients (node-clients.ts) both call `handleAdmin`, so a
 * command behaves the same whether the CLI runs beside the node or on an operator's machine.
 *
 * Authority: the socket's owner (mode 0600 in the data directory) may do everything, as before;
 * a backchannel client is an identity of this cluster, allowed what its certificate's permissions
 * say: reads with any certificate of the cluster, code writes with `code`, the control plane
 * (exec, kernel sets, revocation) with `admin`. Every failure becomes a JSON error with a code and
 * a status; a bad request never takes the node down.
 */
import { SupError } from "../errors.ts";
import { log } from "../log.ts";
import { can, type Certificate, type Permission } from "../net/mod.ts";
import { DEFAULT_TENANT, NothingToRollBackError, StoreIoError, StoreNotFoundError } from "../store/mod.ts";
import { replicationLimits } from "../cluster/mod.ts";
import { AdminRequestError, field, intField, targetField, timeoutField, versionRefField, waitField, type Json } from "./admin-fields.ts";
import { CodeRejectedError, putCode, removeCode, rollbackCode, splitCode, type CodeWrite } from "./code-ops.ts";
import { WriteRefusedError } from "./replication.ts";
import type { SupNode } from "./node.ts";

export { AdminRequestError } from "./admin-fields.ts";

/** Who is asking: the owner of the admin socket, or a cluster identity over the backchannel. */
export type Principal = { readonly kind: "owner" } | { readonly kind: "identity"; readonly cert: Certificate };

/** One admin request, whatever carried it. `path` may hold a query string. */
export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  /** The parsed JSON body of a POST (an object), or undefined. */
  readonly body?: unknown;
}

/** The answer: an HTTP-like status and the JSON body (`{ok: …}` or `{error: {code, message, …}}`). */
export interface AdminReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

type Handler = (node: SupNode, body: Json, query: URLSearchParams, principal: Principal) => Promise<unknown> | unknown;

/** What a route needs: `read` (any identity of the cluster), or a certificate permission. */
type Need = "read" | Permission;

interface Route {
  readonly need: Need;
  /** What the route does, for refusals: `Cannot ${what} as "op": …`. */
  readonly what: string;
  readonly handle: Handler;
}

/** A code write as the admin interface answers it: the version made here, the entry, and receipts when it waited. */
async function answer(node: SupNode, w: CodeWrite, body: Json): Promise<unknown> {
  const wait = waitField(body);
  const entry = { origin: w.write.origin, seq: w.write.seq, result: w.write.result, target: w.write.target?.text ?? null };
  const receipts = wait === undefined ? undefined : await node.waitReceipts(w.write, wait, timeoutField(body));
  return { ...(w.version ?? {}), entry, ...(receipts === undefined ? {} : { receipts }) };
}

function notFound(what: string): AdminRequestError {
  return new AdminRequestError("not-found", what, 404);
}

/** The author recorded for a change: a remote identity is its certificate's name, whatever the body says. */
function authorOf(body: Json, principal: Principal): string {
  return principal.kind === "identity" ? principal.cert.name : field(body, "author", false) ?? "admin";
}

function cluster(node: SupNode) {
  if (node.cluster === null) throw new AdminRequestError("not-in-cluster", "This node runs alone: start it with --identity FILE (and --join HOST:PORT) to be part of a cluster", 409);
  return node.cluster;
}

const ROUTES: Record<string, Route> = {
  "POST /code/put": {
    need: "code",
    what: "write code",
    handle: (node, b, _q, who) => {
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
        author: authorOf(b, who),
        target: targetField(b),
      });
      return answer(node, w, b);
    },
  },
  "POST /code/split": {
    need: "code",
    what: "split code",
    handle: (node, b, _q, who) => {
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
        author: authorOf(b, who),
      });
      return answer(node, w, b);
    },
  },
  "GET /code/ls": { need: "read", what: "list code", handle: (node, _b, q) => node.store.listCode(q.get("tenant") ?? undefined).map(({ source: _s, ...rest }) => rest) },
  "GET /code/show": {
    need: "read",
    what: "show code",
    handle: (node, _b, q) => {
      const tenant = q.get("tenant") ?? "default";
      const name = field(q, "name")!;
      const ref = versionRefField(q, "version");
      const v = ref === undefined ? node.store.getCode(tenant, name) : node.store.getCode(tenant, name, ref.number, ref.origin);
      if (v === null) throw notFound(`No code named "${name}"${q.get("version") ? ` at version ${q.get("version")}` : ""} in tenant "${tenant}"`);
      if (v.kind !== "job") return v;
      // A job's recorded runs, and what the scheduler does with its current version (null: not current).
      return { ...v, runs: node.store.jobRuns(tenant, name), schedule: node.jobs?.state(tenant, name) ?? null };
    },
  },
  "GET /code/history": {
    need: "read",
    what: "show code history",
    handle: (node, _b, q) => {
      const tenant = q.get("tenant") ?? "default";
      const name = field(q, "name")!;
      const h = node.store.history(tenant, name);
      if (h.length === 0) throw notFound(`No code named "${name}" in tenant "${tenant}"`);
      return h.map(({ source: _s, ...rest }) => rest);
    },
  },
  "POST /code/rollback": {
    need: "code",
    what: "roll back code",
    handle: (node, b, _q, who) => {
      const tenant = field(b, "tenant", false) ?? DEFAULT_TENANT;
      waitField(b);
      return answer(node, rollbackCode(node.codeContext(tenant), tenant, field(b, "name")!, versionRefField(b, "to"), authorOf(b, who)), b);
    },
  },
  "POST /code/rm": {
    need: "code",
    what: "remove code",
    handle: async (node, b, _q, who) => {
      const tenant = field(b, "tenant", false) ?? DEFAULT_TENANT;
      waitField(b);
      const w = removeCode(node.codeContext(tenant), tenant, field(b, "name")!, authorOf(b, who));
      return { removed: b.name, ...((await answer(node, w, b)) as object) };
    },
  },
  "GET /kernels": { need: "read", what: "list kernels", handle: (node) => ({ set: node.kernelSet(), loaded: node.runtime.kernels() }) },
  "POST /kernels/load": { need: "admin", what: "load a kernel", handle: (node, b, _q, who) => kernelChange(node, b, "load", authorOf(b, who)) },
  "POST /kernels/unload": { need: "admin", what: "unload a kernel", handle: (node, b, _q, who) => kernelChange(node, b, "unload", authorOf(b, who)) },
  "GET /status": { need: "read", what: "read the status", handle: (node) => node.status() },
  "GET /nodes": {
    need: "read",
    what: "list nodes",
    handle: (node) => {
      cluster(node);
      return node.nodesWithReplication();
    },
  },
  "POST /gc": {
    need: "admin",
    what: "collect garbage",
    handle: async (node) => {
      await node.collectGarbage();
      return node.memory();
    },
  },
  "POST /nodes/revoke": {
    need: "admin",
    what: "revoke a certificate",
    handle: (node, b, _q, who) => {
      const timeoutMs = b.timeoutMs === undefined ? undefined : intField(b, "timeoutMs");
      const reason = field(b, "reason", false) ?? "";
      const bytes = Buffer.byteLength(reason, "utf8");
      // The entry's own limit, checked here so the message names the field.
      if (bytes > replicationLimits.REASON_BYTES_MAX) throw new AdminRequestError("admin-bad-request", `Field "reason" is ${bytes} bytes, more than ${replicationLimits.REASON_BYTES_MAX}`, 400);
      return cluster(node).control.revoke(field(b, "name")!, field(b, "serial", false), reason, authorOf(b, who), timeoutMs);
    },
  },
  "POST /exec": {
    need: "admin",
    what: "run exec",
    handle: async (node, b) => {
      const timeoutMs = b.timeoutMs === undefined ? undefined : intField(b, "timeoutMs");
      const results = await cluster(node).control.exec({ on: field(b, "on")!, code: field(b, "code")!, tenant: field(b, "tenant", false) ?? DEFAULT_TENANT, timeoutMs });
      return { results };
    },
  },
};

/** Loads or unloads a kernel: here, or with `on` on the nodes it selects (a result per node). */
async function kernelChange(node: SupNode, b: Json, op: "load" | "unload", author: string): Promise<unknown> {
  const name = field(b, "name")!;
  const on = field(b, "on", false);
  if (on === undefined) {
    if (op === "load") await node.kernels.load(name);
    else await node.kernels.unload(name);
    return { set: node.kernelSet() };
  }
  const timeoutMs = b.timeoutMs === undefined ? undefined : intField(b, "timeoutMs");
  return { results: await cluster(node).control.kernels(op, name, on, author, timeoutMs) };
}

/** Why `principal` may not use `route`, or null when it may. */
function refusal(route: Route, principal: Principal): AdminRequestError | null {
  if (principal.kind === "owner" || route.need === "read" || can(principal.cert, route.need)) return null;
  const grants = principal.cert.can.length === 0 ? "none" : principal.cert.can.join(", ");
  return new AdminRequestError("forbidden", `Cannot ${route.what} as "${principal.cert.name}": its certificate lacks the "${route.need}" permission (it grants: ${grants})`, 403);
}

/** Turns any failure into a JSON error reply. */
function errorReply(e: unknown): AdminReply {
  const reply = (status: number, error: Json): AdminReply => ({ status, body: { error } });
  if (e instanceof CodeRejectedError) return reply(422, { code: e.code, message: e.message, diagnostics: e.diagnostics });
  if (e instanceof AdminRequestError) return reply(e.status, { code: e.code, message: e.message });
  if (e instanceof WriteRefusedError) return reply(e.code === "permission" ? 403 : 400, { code: e.code, message: e.message });
  if (e instanceof StoreNotFoundError) return reply(404, { code: e.code, message: e.message });
  if (e instanceof NothingToRollBackError) return reply(409, { code: e.code, message: e.message });
  if (e instanceof StoreIoError) {
    log("error", "admin request failed in the store", { code: e.code, error: e.message });
    return reply(500, { code: e.code, message: e.message });
  }
  if (e instanceof SupError) return reply(400, { code: e.code, message: e.message });
  log("error", "admin request failed", { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  return reply(500, { code: "internal", message: "Internal error; see the node's log" });
}

/** Answers one admin request for `principal`; never throws. */
export async function handleAdmin(node: SupNode, request: AdminRequest, principal: Principal): Promise<AdminReply> {
  const url = new URL(request.path, "http://admin");
  const route = Object.hasOwn(ROUTES, `${request.method} ${url.pathname}`) ? ROUTES[`${request.method} ${url.pathname}`]! : undefined;
  if (route === undefined) return errorReply(notFound(`No admin endpoint ${request.method} ${url.pathname}`));
  try {
    const refused = refusal(route, principal);
    if (refused !== null) throw refused;
    let body: Json = {};
    if (request.method === "POST") {
      const b = request.body;
      if (typeof b !== "object" || b === null || Array.isArray(b)) throw new AdminRequestError("admin-bad-request", "Request body must be a JSON object", 400);
      body = b as Json;
    }
    return { status: 200, body: { ok: await route.handle(node, body, url.searchParams, principal) } };
  } catch (e) {
    return errorReply(e);
  }
}
