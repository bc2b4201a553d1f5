/**
 * One request from arrival to response, without any server: select the tenant, resolve the route
 * (the match holds its program version from here on), read the bounded body, run the handler, map
 * its value, count and log. Every response carries an `x-request-id`; nothing here throws.
 */
import type { Host, SessionScope } from "../lang/mod.ts";
import { log } from "../log.ts";
import { RequestBodyTooLargeError } from "./errors.ts";
import { runHandler } from "./handler.ts";
import { REQUEST_BODY_BYTES_MAX } from "./limits.ts";
import { HttpMetrics, NO_ROUTE } from "./metrics.ts";
import { readBody, requestToValue } from "./request.ts";
import { REQUEST_ID_HEADER, errorResponse, valueToResponse } from "./response.ts";
import type { RouteTable } from "./route-table.ts";
import { TenantSelector } from "./tenant.ts";

/** What a Dispatcher serves from. */
export interface DispatcherOptions {
  readonly routes: RouteTable;
  /** The node's host (its Runtime's): handlers load kernels through it. */
  readonly host: Host;
  readonly tenants?: TenantSelector;
  readonly metrics?: HttpMetrics;
  /** Request body limit (default REQUEST_BODY_BYTES_MAX). */
  readonly bodyBytesMax?: number;
  /** The scope (tenant and its services) handlers of a tenant run in; none when omitted. */
  readonly scopeFor?: (tenant: string) => SessionScope;
}

/** Where a request went, for its log line and metrics. */
interface Trace {
  tenant: string;
  route: string;
  version: number;
}

// Request ids: a per-process random prefix (ids from different processes do not collide in merged
// logs) and a counter (cheaper than a UUID per request, and ordered).
const ID_PREFIX = Math.floor(Math.random() * 0x1_0000_0000)
  .toString(16)
  .padStart(8, "0");
let nextId = 0;

/** A fresh request id, e.g. `3f2a9c01-1k`. */
export function newRequestId(): string {
  return `${ID_PREFIX}-${(nextId++).toString(36)}`;
}

/** Turns requests into responses by running the routes' handlers. */
export class Dispatcher {
  readonly routes: RouteTable;
  readonly tenants: TenantSelector;
  readonly metrics: HttpMetrics;
  private readonly host: Host;
  private readonly bodyBytesMax: number;
  private readonly scopeFor: ((tenant: string) => SessionScope) | null;
  private inFlightCount = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: DispatcherOptions) {
    this.routes = options.routes;
    this.host = options.host;
    this.scopeFor = options.scopeFor ?? null;
    this.tenants = options.tenants ?? new TenantSelector();
    this.metrics = options.metrics ?? new HttpMetrics();
    this.bodyBytesMax = options.bodyBytesMax ?? REQUEST_BODY_BYTES_MAX;
  }

  /** Requests being handled now. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.inFlightCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Answers one request; `clientIp` keys sticky splits. Never rejects. */
  async handle(req: Request, clientIp = ""): Promise<Response> {
    const id = newRequestId();
    const t0 = performance.now();
    const trace: Trace = { tenant: this.tenants.defaultTenant, route: NO_ROUTE, version: 0 };
    this.inFlightCount++;
    this.metrics.inFlight = this.inFlightCount;
    let status = 500;
    try {
      const res = await this.serve(req, clientIp, id, trace);
      res.headers.set(REQUEST_ID_HEADER, id);
      status = res.status;
      return res;
    } catch (e) {
      log("error", "request failed", { id, tenant: trace.tenant, route: trace.route, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      return errorResponse(500, "Internal Server Error", id);
    } finally {
      const ms = performance.now() - t0;
      this.inFlightCount--;
      this.metrics.inFlight = this.inFlightCount;
      this.metrics.observe(trace.tenant, trace.route, status, ms / 1000);
      log("info", "request", { id, method: req.method, path: safePath(req.url), tenant: trace.tenant, route: trace.route, version: trace.version, status, ms: Math.round(ms * 100) / 100 });
      if (this.inFlightCount === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async serve(req: Request, clientIp: string, id: string, trace: Trace): Promise<Response> {
    const url = new URL(req.url);
    const { tenant, path } = this.tenants.select(req.headers.get("host"), url.pathname);
    trace.tenant = tenant;
    const match = this.routes.resolve(tenant, req.method, path, { ip: clientIp, header: (n) => req.headers.get(n) });
    if (match === null) return errorResponse(404, "Not Found", id);
    const route = match.route.pattern.name;
    trace.route = route;
    trace.version = match.run.version;
    let body: Uint8Array;
    try {
      body = await readBody(req, this.bodyBytesMax);
    } catch (e) {
      if (e instanceof RequestBodyTooLargeError) return errorResponse(413, "Payload Too Large", id);
      throw e;
    }
    const outcome = runHandler(match.run, requestToValue(req, url, path, match.params, body), this.host, this.scopeFor?.(tenant) ?? null);
    const where = { id, tenant, route, version: match.run.version };
    switch (outcome.kind) {
      case "value": {
        const r = valueToResponse(outcome.value);
        if (r.ok) return r.response;
        this.metrics.handlerError(tenant, route, "invalid-response");
        log("error", "handler returned no response", { ...where, reason: r.reason });
        return errorResponse(500, "Internal Server Error", id);
      }
      case "budget":
        this.metrics.budgetExhausted(tenant, route, outcome.error.kind);
        log("warn", "handler stopped", { ...where, reason: outcome.error.message });
        return errorResponse(503, "Service Unavailable: the handler ran out of budget", id);
      case "exception": {
        this.metrics.handlerError(tenant, route, "exception");
        const at = outcome.where === null ? undefined : `${outcome.where.file}:${outcome.where.line}:${outcome.where.col}`;
        log("error", "handler failed", { ...where, exception: outcome.message, ...(at === undefined ? {} : { at }) });
        return errorResponse(500, "Internal Server Error", id);
      }
      case "internal":
        this.metrics.handlerError(tenant, route, "internal");
        log("error", "handler failed", { ...where, error: outcome.message });
        return errorResponse(500, "Internal Server Error", id);
    }
  }
}

/** The path of a request URL for logs (the query may hold secrets, so it is left out). */
function safePath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const q = url.indexOf("?", start);
  return start === -1 ? "/" : url.slice(start, q === -1 ? undefined : q);
}
