/**
 * The node's HTTP server: an Elysia app with `GET /_sup/health`, `GET /_sup/metrics` (Prometheus
 * text) and a catch-all that hands every other request, of any method, to the Dispatcher. Paths
 * under `/_sup/` are the server's own and never reach routes. The paths of stored static routes
 * are also given to Bun's own router (its `routes`), which hands them to the same Dispatcher
 * without Elysia's router and per-request context: only a shortcut, since every path still reaches
 * the Dispatcher, which alone decides what a request gets. The table is rebuilt after the store's
 * change sequence moves, between requests. `stop` is graceful: it stops
 * accepting connections, answers requests that still arrive on open connections with 503, waits for
 * requests in flight (up to `drainMs`), then closes what is left.
 */
import { Elysia } from "elysia";
import type { Host, SessionScope } from "../lang/mod.ts";
import { log } from "../log.ts";
import { Dispatcher } from "./dispatch.ts";
import { HttpServerStateError } from "./errors.ts";
import { DRAIN_MS_DEFAULT } from "./limits.ts";
import { HttpMetrics } from "./metrics.ts";
import { parseRouteName } from "./route-pattern.ts";
import { RouteTable, type RouteSource } from "./route-table.ts";
import { TenantSelector, type TenantSelectorOptions } from "./tenant.ts";

/** What a server serves and how. */
export interface HttpServerOptions {
  /** The routes (the node's Store). */
  readonly source: RouteSource;
  /** The host handlers run against (the node's Runtime host). */
  readonly host: Host;
  readonly tenants?: TenantSelectorOptions;
  /** Request body limit in bytes (default REQUEST_BODY_BYTES_MAX). */
  readonly bodyBytesMax?: number;
  /** Uniform draws for non-sticky splits (default Math.random). */
  readonly random?: () => number;
  /** The scope handlers of a tenant run in (the node's tenant-bound services). */
  readonly scopeFor?: (tenant: string) => SessionScope;
  /** Extra fields for the health answer (node id, versions…). */
  readonly health?: () => Readonly<Record<string, unknown>>;
  /** More Prometheus text appended to /_sup/metrics (the node's backchannel metrics). */
  readonly extraMetrics?: () => string;
}

/** Where a server listens. */
export interface ListenOptions {
  /** Default 127.0.0.1. */
  readonly hostname?: string;
  /** Default 0: any free port (read it back from `port`). */
  readonly port?: number;
}

const PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";
/** Paths the server keeps for itself; no route is ever matched under it. */
const RESERVED_PREFIX = "/_sup/";

/**
 * Stored static paths given to Bun's router at most: the rest still reach the Dispatcher through
 * the catch-all. Bounds the table rebuilt after every code change.
 */
export const NATIVE_ROUTES_MAX = 1_000;
/**
 * Methods Bun's router hands the Dispatcher for a stored static path; others (and HEAD, which Bun
 * gives the GET handler) reach it through Elysia's catch-all.
 */
const NATIVE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
/** Path segments Bun's router reads literally (no `:param`, `*` or percent-escapes). */
const PLAIN_SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** The Bun server under the Elysia app. */
type BunServer = NonNullable<Elysia["server"]>;

/** The HTTP front of a node. */
export class HttpServer {
  readonly routes: RouteTable;
  readonly metrics = new HttpMetrics();
  readonly dispatcher: Dispatcher;
  private readonly health: () => Readonly<Record<string, unknown>>;
  private readonly extraMetrics: () => string;
  private server: BunServer | null = null;
  /** The app's compiled request handler, while listening. */
  private fetch: ((request: Request) => Response | Promise<Response>) | null = null;
  private draining = false;
  private stopping: Promise<void> | null = null;
  private startedAt = 0;
  /** The change sequence the native route table was built for, and whether a rebuild is queued. */
  private nativeSeq = Number.NaN;
  private nativeQueued = false;
  private nativeTable: readonly string[] = [];
  /** What Bun's router calls for a stored static path, but for GET (see nativeGet). */
  private readonly forward = (request: Request): Response | Promise<Response> => {
    if (this.routes.source.seq !== this.nativeSeq) this.queueNativeRoutes();
    if (this.draining) return new Response("Service Unavailable: shutting down\n", { status: 503, headers: { connection: "close" } });
    return this.dispatcher.handle(request, this.clientIp);
  };

  /** What Bun's router calls for a GET (and a HEAD, which Bun gives the GET handler) of stored static path `path`. */
  private nativeGet(path: string): (request: Request) => Response | Promise<Response> {
    return (request) => {
      if (this.routes.source.seq !== this.nativeSeq) this.queueNativeRoutes();
      if (this.draining) return new Response("Service Unavailable: shutting down\n", { status: 503, headers: { connection: "close" } });
      return this.dispatcher.handleStatic(request, path, this.clientIp);
    };
  }
  /** The address a request came from (looked up only when a sticky split asks). */
  private readonly clientIp = (request: Request): string => this.server?.requestIP(request)?.address ?? "";

  constructor(options: HttpServerOptions) {
    this.routes = new RouteTable(options.source, { random: options.random });
    this.dispatcher = new Dispatcher({
      routes: this.routes,
      host: options.host,
      tenants: new TenantSelector(options.tenants),
      metrics: this.metrics,
      bodyBytesMax: options.bodyBytesMax,
      scopeFor: options.scopeFor,
    });
    this.health = options.health ?? (() => ({}));
    this.extraMetrics = options.extraMetrics ?? (() => "");
  }

  /** The port being listened on; throws when the server is not started. */
  get port(): number {
    const port = this.server?.port;
    if (port === undefined) throw new HttpServerStateError("Cannot read the port: the HTTP server is not listening");
    return port;
  }

  /** Starts listening; returns the address (the real port when 0 was asked). */
  start(options: ListenOptions = {}): { hostname: string; port: number } {
    if (this.server !== null) throw new HttpServerStateError("Cannot start the HTTP server: it is already started");
    const hostname = options.hostname ?? "127.0.0.1";
    // Elysia compiles each route from its handler's source text. A handler that names `body` gets
    // the body parsed before it runs; one that names `server` pays a property definition per
    // request; one whose text looks asynchronous (`return f(`, `=> f(`, the words async or await)
    // or that sets `parse` is wrapped in an async function, a promise per request. So the
    // catch-all names only `request` and `path` and returns a variable assigned apart from its
    // declaration (Bun's transpiler folds `const r = f(); return r` into `return f()`): it
    // compiles to a plain synchronous call, and the dispatcher reads the body itself, bounded.
    // A test checks that a request without a body is answered without a promise.
    const serve = (request: Request, path: string): Response | Promise<Response> => this.serveRoute(request, path);
    const app = new Elysia()
      .get("/_sup/health", () => this.healthResponse())
      .get("/_sup/metrics", () => new Response(this.metrics.render(this.routes.currentVersions()) + this.extraMetrics(), { headers: { "content-type": PROMETHEUS_TYPE } }))
      .all("/*", function catchAll({ request, path }) {
        let response: Response | Promise<Response>;
        response = serve(request, path);
        return response;
      });
    try {
      // Elysia asks for SO_REUSEPORT, under which a second node on a port in use starts without
      // an error and takes half of the first one's connections; refuse the port instead.
      app.listen({ hostname, port: options.port ?? 0, reusePort: false });
    } catch (e) {
      throw new HttpServerStateError(`Cannot listen on ${hostname}:${options.port ?? 0}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (app.server === null) throw new HttpServerStateError(`Cannot listen on ${hostname}:${options.port ?? 0}: no server was started`);
    this.server = app.server;
    this.fetch = app.fetch;
    this.draining = false;
    this.startedAt = Date.now();
    // After the current turn: Elysia's listen installs its own route table in a microtask.
    this.queueNativeRoutes();
    const address = { hostname, port: this.port };
    log("info", "http listening", address);
    return address;
  }

  /** Stops accepting, waits up to `drainMs` for requests in flight, then closes every connection. */
  stop(options: { readonly drainMs?: number } = {}): Promise<void> {
    // A second stop while one is draining waits for the same one.
    this.stopping ??= this.drainAndClose(options.drainMs ?? DRAIN_MS_DEFAULT).finally(() => (this.stopping = null));
    return this.stopping;
  }

  private async drainAndClose(drainMs: number): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.draining = true;
    // Stop listening; requests already received keep running.
    void server.stop(false);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      this.dispatcher.idle().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), drainMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) log("warn", "http stop: requests still in flight after drain", { inFlight: this.dispatcher.inFlight, drainMs });
    await server.stop(true);
    this.server = null;
    this.fetch = null;
    log("info", "http stopped", {});
  }

  /**
   * Answers one request the way the listening server does (tests use it to check the server's fast
   * path without a socket); throws when the server is not started.
   */
  handle(request: Request): Response | Promise<Response> {
    if (this.fetch === null) throw new HttpServerStateError("Cannot handle a request: the HTTP server is not started");
    return this.fetch(request);
  }

  /** Rebuilds the native route table once the current request is answered. */
  private queueNativeRoutes(): void {
    if (this.nativeQueued) return;
    this.nativeQueued = true;
    setTimeout(() => {
      this.nativeQueued = false;
      this.refreshNativeRoutes();
    }, 0);
  }

  /** Gives Bun's router the paths of the stored static routes (of every tenant, bare and under `/t/<tenant>`). */
  private refreshNativeRoutes(): void {
    const server = this.server;
    const fetch = this.fetch;
    if (server === null || fetch === null || this.draining) return;
    const seq = this.routes.source.seq;
    type Handler = (request: Request) => Response | Promise<Response>;
    const routes: Record<string, Partial<Record<(typeof NATIVE_METHODS)[number], Handler>>> = {};
    let count = 0;
    for (const rec of this.routes.source.listCode(undefined, "route")) {
      let segments: string[];
      try {
        const pattern = parseRouteName(rec.name);
        if (!pattern.isStatic) continue;
        segments = pattern.segments.map((x) => (x.kind === "static" ? x.text : ""));
      } catch {
        continue; // the route table logs unusable names
      }
      if (segments.length === 0 || !segments.every((x) => PLAIN_SEGMENT.test(x)) || segments[0] === RESERVED_PREFIX.slice(1, -1)) continue;
      const path = "/" + segments.join("/");
      for (const p of [path, `/t/${rec.tenant}${path}`]) {
        if (routes[p] !== undefined || !PLAIN_SEGMENT.test(rec.tenant)) continue;
        if (count++ >= NATIVE_ROUTES_MAX) break;
        routes[p] = { GET: this.nativeGet(p) };
        for (const m of NATIVE_METHODS) routes[p][m] ??= this.forward;
      }
    }
    // Elysia's own routes are left to its fetch (`/_sup/*` is answered there as before).
    server.reload({ fetch, routes });
    this.nativeSeq = seq;
    this.nativeTable = Object.keys(routes);
  }

  /** The paths Bun's router hands to the Dispatcher directly (observable for tests and status). */
  nativePaths(): readonly string[] {
    return this.nativeTable;
  }

  /** The catch-all: every request that is not one of the server's own. */
  private serveRoute(request: Request, path: string): Response | Promise<Response> {
    if (this.routes.source.seq !== this.nativeSeq) this.queueNativeRoutes();
    if (this.draining) return new Response("Service Unavailable: shutting down\n", { status: 503, headers: { connection: "close" } });
    if (path.startsWith(RESERVED_PREFIX)) return new Response("Not Found\n", { status: 404 });
    // The client address is looked up only if a sticky split asks for it.
    return this.dispatcher.handle(request, this.clientIp);
  }

  private healthResponse(): Response {
    const body = { status: this.draining ? "draining" : "ok", inFlight: this.dispatcher.inFlight, uptimeMs: Date.now() - this.startedAt, routesSeq: this.routes.source.seq, ...this.health() };
    return Response.json(body, { status: this.draining ? 503 : 200 });
  }
}
