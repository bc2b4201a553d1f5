/**
 * One request from arrival to response, without any server: select the tenant, resolve the route
 * (the match holds its program version from here on), read the bounded body, run the handler, map
 * its value, count and log. Every error response (status 400 and up) carries an `x-request-id`; nothing here throws.
 */
import type { Host, SessionScope } from "../lang/mod.ts";
import { log, logValue } from "../log.ts";
import { accessFields, logAccess, logPath, nextRequest, requestId } from "./access.ts";
import { RequestBodyTooLargeError } from "./errors.ts";
import { runHandler } from "./handler.ts";
import { REMEMBERED_PATHS_MAX, REQUEST_BODY_BYTES_MAX } from "./limits.ts";
import { HttpMetrics, NO_ROUTE, type RouteSeries } from "./metrics.ts";
import { bodyWithoutReading, readBody, requestValueOf } from "./request.ts";
import { errorResponse, valueToResponse } from "./response.ts";
import type { RouteMatch, RouteTable, RouteVersion } from "./route-table.ts";
import type { ClientInfo } from "./split.ts";
import { parseTarget, queryPairs } from "./target.ts";
import { TenantSelector } from "./tenant.ts";

export { hundredths, newRequestId } from "./access.ts";

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
  /** The access line's fields from ` method=` to `status=` (accessFields). */
  access: string;
}

/** A static path's tenant, route path and fixed GET match, remembered while the code stays the same. */
interface Remembered {
  readonly tenant: string;
  /** The path the route matched (after any tenant prefix). */
  readonly path: string;
  readonly match: RouteMatch;
  readonly route: string;
  /** accessFields' text, encoded once. */
  readonly access: Uint8Array;
  /** Its metrics series, kept from request to request (HttpMetrics.observeKept). */
  series: RouteSeries | undefined;
}

/** Remembered for a path whose GET match is not fixed (handle answers it). */
const NOT_FIXED: Remembered = { tenant: "", path: "", match: null as unknown as RouteMatch, route: "", access: new Uint8Array(0), series: undefined };

const EMPTY_BODY = new Uint8Array(0);

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
  private readonly accessWhere = new WeakMap<RouteVersion, string>();
  /**
   * What handleStatic found for each path: its tenant and fixed GET match, so a repeated request
   * skips tenant selection and matching. Forgotten when the code changes (`rememberedSeq`) or
   * REMEMBERED_PATHS_MAX is reached.
   */
  private readonly remembered = new Map<string, Remembered>();
  private rememberedSeq = Number.NaN;
  /** Requests handleStatic answered without their URL: observable for tests. */
  readonly stats = { withoutUrl: 0 };

  /** Paths remembered now (observable for tests; at most REMEMBERED_PATHS_MAX). */
  get rememberedPaths(): number {
    return this.remembered.size;
  }

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
    const id = nextRequest();
    const t0 = performance.now();
    this.inFlightCount++;
    this.metrics.inFlight = this.inFlightCount;
    // The URL and method are read once (each read of a Request's getters makes a string).
    const url = req.url;
    const method = req.method;
    const trace: Trace = { tenant: this.tenants.defaultTenant, route: NO_ROUTE, access: "" };
    let res: Response | Promise<Response>;
    try {
      res = this.serve(req, url, method, clientIp, id, trace);
    } catch (e) {
      res = this.failed(e, id, trace);
    }
    if (trace.access === "") trace.access = accessFields(method, logPath(url), ` tenant=${logValue(trace.tenant)} route=${logValue(trace.route)} version=0`);
    if (res instanceof Promise) {
      return res.then(
        (r) => this.finish(r, id, trace, t0),
        (e: unknown) => this.finish(this.failed(e, id, trace), id, trace, t0),
      );
    }
    return this.finish(res, id, trace, t0);
  }

  /** A bug escaped serve: logged with the request id, answered 500. */
  private failed(e: unknown, n: number, at: { readonly tenant: string; readonly route: string }): Response {
    const id = requestId(n);
    log("error", "request failed", { id, tenant: at.tenant, route: at.route, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    return errorResponse(500, "Internal Server Error", id);
  }

  /** Counts, logs and releases request number `n`, which has its response. */
  private finish(res: Response, n: number, at: Trace | Remembered, t0: number): Response {
    const ms = performance.now() - t0;
    const status = res.status;
    this.inFlightCount--;
    this.metrics.inFlight = this.inFlightCount;
    if ("series" in at) at.series = this.metrics.observeKept(at.series, at.tenant, at.route, status, ms / 1000);
    else this.metrics.observe(at.tenant, at.route, status, ms / 1000);
    logAccess(n, at.access, status, ms);
    if (this.inFlightCount === 0 && this.idleWaiters.length > 0) for (const w of this.idleWaiters.splice(0)) w();
    return res;
  }

  /** The response (every one carries the request id), or a promise of it when the body must be read. */
  private serve(req: Request, url: string, method: string, clientIp: ClientIp, id: number, trace: Trace): Response | Promise<Response> {
    const target = parseTarget(url);
    // A server Request builds its Headers object on first use: only read it when needed.
    const host = this.tenants.byHost ? req.headers.get("host") : null;
    const { tenant, path } = this.tenants.select(host, target.path);
    trace.tenant = tenant;
    const match = this.routes.resolve(tenant, method, path, new RequestClient(req, clientIp));
    if (match === null) return errorResponse(404, "Not Found", requestId(id));
    trace.route = match.route.pattern.name;
    trace.access = accessFields(method, logPath(url), this.whereOf(match));
    let body: Uint8Array | null;
    try {
      body = bodyWithoutReading(req, this.bodyBytesMax);
    } catch (e) {
      if (e instanceof RequestBodyTooLargeError) return errorResponse(413, "Payload Too Large", requestId(id));
      throw e;
    }
    if (body !== null) return this.run(req, match, path, target.search, body, id, tenant);
    return readBody(req, this.bodyBytesMax).then(
      (b) => this.run(req, match, path, target.search, b, id, tenant),
      (e: unknown) => {
        if (e instanceof RequestBodyTooLargeError) return errorResponse(413, "Payload Too Large", requestId(id));
        throw e;
      },
    );
  }

  /**
   * Answers a request whose URL path is exactly `path`, as Bun's router matched it against a stored
   * static route's (plain segments, no escapes; any query follows). A GET of a fixed route is
   * answered without reading the request's URL, which Bun builds on first read at about the cost of
   * the rest of a small request; only a handler that reads `$request` makes it read (for the
   * query). Anything else (another method, a body, tenants by Host header) is answered by handle.
   */
  handleStatic(req: Request, path: string, clientIp: ClientIp = ""): Response | Promise<Response> {
    if (this.tenants.byHost || req.method !== "GET" || req.body !== null) return this.handle(req, clientIp);
    let known: Remembered;
    try {
      known = this.knownPath(path);
    } catch {
      // A bug in matching: handle meets it again, logs it with a request id and answers 500.
      return this.handle(req, clientIp);
    }
    if (known === NOT_FIXED) return this.handle(req, clientIp);
    const id = nextRequest();
    const t0 = performance.now();
    this.inFlightCount++;
    this.metrics.inFlight = this.inFlightCount;
    this.stats.withoutUrl++;
    let res: Response;
    try {
      res = this.run(req, known.match, known.path, null, EMPTY_BODY, id, known.tenant);
    } catch (e) {
      res = this.failed(e, id, known);
    }
    return this.finish(res, id, known, t0);
  }

  /** What a GET of a static path resolves to, remembered (see `remembered`). */
  private knownPath(path: string): Remembered {
    const seq = this.routes.source.seq;
    if (seq !== this.rememberedSeq) {
      this.remembered.clear();
      this.rememberedSeq = seq;
    }
    let known = this.remembered.get(path);
    if (known !== undefined) return known;
    const choice = this.tenants.select(null, path);
    const match = this.routes.resolveFixed(choice.tenant, "GET", choice.path);
    known = match === null ? NOT_FIXED : { tenant: choice.tenant, path: choice.path, match, route: match.route.pattern.name, access: Buffer.from(accessFields("GET", path, this.whereOf(match))), series: undefined };
    if (this.remembered.size >= REMEMBERED_PATHS_MAX) this.remembered.clear();
    this.remembered.set(path, known);
    return known;
  }

  /** ` tenant=… route=… version=…` of a matched route version, made once per version. */
  private whereOf(match: RouteMatch): string {
    let text = this.accessWhere.get(match.run);
    if (text === undefined) {
      text = ` tenant=${logValue(match.route.tenant)} route=${logValue(match.route.pattern.name)} version=${match.run.version}`;
      this.accessWhere.set(match.run, text);
    }
    return text;
  }

  /** Runs the matched route's handler for request number `n` and maps its outcome to a response. */
  private run(req: Request, match: RouteMatch, path: string, search: string | null, body: Uint8Array, n: number, tenant: string): Response {
    const route = match.route.pattern.name;
    // `$request` is built only if the handler reads it; a null `search` is read from the URL then.
    const request = () => requestValueOf(req, path, match.params, queryPairs(search ?? parseTarget(req.url).search), body);
    const outcome = runHandler(match.run, request, this.host, this.scopeFor?.(tenant) ?? null);
    if (outcome.kind === "value") {
      const r = valueToResponse(outcome.value, n);
      if (r.ok) return r.response;
      const id = requestId(n);
      this.metrics.handlerError(tenant, route, "invalid-response");
      log("error", "handler returned no response", { id, tenant, route, version: match.run.version, reason: r.reason });
      return errorResponse(500, "Internal Server Error", id);
    }
    const id = requestId(n);
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
