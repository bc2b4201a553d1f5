/**
 * One request from arrival to response, without any server: select the tenant, resolve the route
 * (the match holds its program version from here on), read the bounded body, run the handler, map
 * its value, count and log. Every error response (status 400 and up) carries an `x-request-id`; nothing here throws.
 */
import type { Host, SessionScope } from "../lang/mod.ts";
import { log, logEnabled, logFormatted, logValue } from "../log.ts";
import { RequestBodyTooLargeError } from "./errors.ts";
import { runHandler } from "./handler.ts";
import { REQUEST_BODY_BYTES_MAX } from "./limits.ts";
import { HttpMetrics, NO_ROUTE } from "./metrics.ts";
import { bodyWithoutReading, readBody, requestValueOf } from "./request.ts";
import { errorResponse, valueToResponse } from "./response.ts";
import type { RouteMatch, RouteTable, RouteVersion } from "./route-table.ts";
import type { ClientInfo } from "./split.ts";
import { parseTarget, queryPairs } from "./target.ts";
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
  /** The request's URL and method, read once (each read of a Request's getters makes a string). */
  readonly url: string;
  readonly method: string;
  tenant: string;
  route: string;
  version: number;
  /** The access line's ` tenant=… route=… version=…`, once a route version matched. */
  where: string | null;
}

// Request ids: a per-process random prefix (ids from different processes do not collide in merged
// logs) and a counter (cheaper than a UUID per request, and ordered).
const ID_PREFIX = Math.floor(Math.random() * 0x1_0000_0000)
  .toString(16)
  .padStart(8, "0");
let nextId = 0;
const BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz";
/** `${ID_PREFIX}-` and the base-36 digits of nextId but the last, redone once every 36 ids. */
let idHead = `${ID_PREFIX}-`;

/** A fresh request id, e.g. `3f2a9c01-1k`: the prefix and a base-36 counter. */
export function newRequestId(): string {
  const n = nextId++;
  const last = n % 36;
  // Number-to-text with a radix is a runtime call; only the last digit changes between most ids.
  if (last === 0) idHead = n === 0 ? `${ID_PREFIX}-` : `${ID_PREFIX}-${(n / 36).toString(36)}`;
  return idHead + BASE36[last]!;
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
  /** The fixed fields of each route version's access lines, formatted once. */
  private readonly accessFields = new WeakMap<RouteVersion, string>();

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

  /**
   * Answers one request; `clientIp` (or a function of the request giving it, called only when a
   * sticky split needs it) keys sticky splits. Never throws or rejects. A request without a body
   * is answered synchronously: no promise, no microtask hop.
   */
  handle(req: Request, clientIp: ClientIp = ""): Response | Promise<Response> {
    const id = newRequestId();
    const t0 = performance.now();
    const trace: Trace = { url: req.url, method: req.method, tenant: this.tenants.defaultTenant, route: NO_ROUTE, version: 0, where: null };
    this.inFlightCount++;
    this.metrics.inFlight = this.inFlightCount;
    let res: Response | Promise<Response>;
    try {
      res = this.serve(req, clientIp, id, trace);
    } catch (e) {
      res = this.failed(e, id, trace);
    }
    if (res instanceof Promise) {
      return res.then(
        (r) => this.finish(r, id, trace, t0),
        (e: unknown) => this.finish(this.failed(e, id, trace), id, trace, t0),
      );
    }
    return this.finish(res, id, trace, t0);
  }

  /** A bug escaped serve: logged with the request id, answered 500. */
  private failed(e: unknown, id: string, trace: Trace): Response {
    log("error", "request failed", { id, tenant: trace.tenant, route: trace.route, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    return errorResponse(500, "Internal Server Error", id);
  }

  /** Counts, logs and releases a request that has its response. */
  private finish(res: Response, id: string, trace: Trace, t0: number): Response {
    const ms = performance.now() - t0;
    const status = res.status;
    this.inFlightCount--;
    this.metrics.inFlight = this.inFlightCount;
    this.metrics.observe(trace.tenant, trace.route, status, ms / 1000);
    // The access line is built only when it is written, and only its changing fields per request
    // (ids are hex, a dash and base 36: never quoted).
    if (logEnabled("info")) {
      const where = trace.where ?? ` tenant=${logValue(trace.tenant)} route=${logValue(trace.route)} version=${trace.version}`;
      // A method is an HTTP token: never spaces, quotes or `=`, so never quoted.
      logFormatted("info", "request", ` id=${id} method=${trace.method} path=${logValue(safePath(trace.url))}${where} status=${status} ms=${hundredths(ms)}`);
    }
    if (this.inFlightCount === 0 && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
    return res;
  }

  /** The response (every one carries the request id), or a promise of it when the body must be read. */
  private serve(req: Request, clientIp: ClientIp, id: string, trace: Trace): Response | Promise<Response> {
    const target = parseTarget(trace.url);
    // A server Request builds its Headers object on first use: only read it when needed.
    const host = this.tenants.byHost ? req.headers.get("host") : null;
    const { tenant, path } = this.tenants.select(host, target.path);
    trace.tenant = tenant;
    const client = new RequestClient(req, clientIp);
    const match = this.routes.resolve(tenant, trace.method, path, client);
    if (match === null) return errorResponse(404, "Not Found", id);
    trace.route = match.route.pattern.name;
    trace.version = match.run.version;
    trace.where = this.accessFieldsOf(match);
    let body: Uint8Array | null;
    try {
      body = bodyWithoutReading(req, this.bodyBytesMax);
    } catch (e) {
      if (e instanceof RequestBodyTooLargeError) return errorResponse(413, "Payload Too Large", id);
      throw e;
    }
    if (body !== null) return this.run(req, match, path, target.search, body, id, tenant);
    return readBody(req, this.bodyBytesMax).then(
      (b) => this.run(req, match, path, target.search, b, id, tenant),
      (e: unknown) => {
        if (e instanceof RequestBodyTooLargeError) return errorResponse(413, "Payload Too Large", id);
        throw e;
      },
    );
  }

  /** ` tenant=… route=… version=…` of a matched route version, made once per version. */
  private accessFieldsOf(match: RouteMatch): string {
    let text = this.accessFields.get(match.run);
    if (text === undefined) {
      text = ` tenant=${logValue(match.route.tenant)} route=${logValue(match.route.pattern.name)} version=${match.run.version}`;
      this.accessFields.set(match.run, text);
    }
    return text;
  }

  /** Runs the matched route's handler and maps its outcome to a response. */
  private run(req: Request, match: RouteMatch, path: string, search: string, body: Uint8Array, id: string, tenant: string): Response {
    const route = match.route.pattern.name;
    // `$request` is built only if the handler reads it.
    const request = () => requestValueOf(req, path, match.params, queryPairs(search), body);
    const outcome = runHandler(match.run, request, this.host, this.scopeFor?.(tenant) ?? null);
    if (outcome.kind === "value") {
      const r = valueToResponse(outcome.value, id);
      if (r.ok) return r.response;
      this.metrics.handlerError(tenant, route, "invalid-response");
      log("error", "handler returned no response", { id, tenant, route, version: match.run.version, reason: r.reason });
      return errorResponse(500, "Internal Server Error", id);
    }
    const where = { id, tenant, route, version: match.run.version };
    switch (outcome.kind) {
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

/** A client address, or how to find it for a request. */
export type ClientIp = string | ((req: Request) => string);

/** What a sticky split may key on, read from the request only if a split asks. */
class RequestClient implements ClientInfo {
  constructor(
    private readonly req: Request,
    private readonly clientIp: ClientIp,
  ) {}

  get ip(): string {
    return typeof this.clientIp === "string" ? this.clientIp : this.clientIp(this.req);
  }

  header(name: string): string | null {
    return this.req.headers.get(name);
  }
}

/**
 * A duration rounded to hundredths, written as `${Math.round(ms * 100) / 100}` would be ("0.05",
 * "1.5", "3") but with integer arithmetic: formatting a fraction is a costly part of an access line.
 */
export function hundredths(ms: number): string {
  const h = Math.round(ms * 100);
  const whole = Math.floor(h / 100);
  const frac = h - whole * 100;
  if (frac === 0) return `${whole}`;
  return frac % 10 === 0 ? `${whole}.${frac / 10}` : `${whole}.${frac < 10 ? "0" : ""}${frac}`;
}

/** The path of a request URL for logs (the query may hold secrets, so it is left out). */
function safePath(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const q = url.indexOf("?", start);
  return start === -1 ? "/" : url.slice(start, q === -1 ? undefined : q);
}
