/**
 * HTTP: serving routes whose handlers are SLP code in the node's store (docs/node.md). A request is
 * given a tenant (Host name or `/t/<tenant>/` prefix), matched against that tenant's routes (ranked
 * patterns, rebuilt when the store's change sequence moves), possibly split between versions, and
 * answered by running the route's compiled program with `$request` bound and a budget; its value
 * becomes the response. An Elysia server adds health, Prometheus metrics and graceful stop.
 *
 * Invariants: a request never parses code (programs are compiled once per content hash); a request
 * finishes on the version it matched, whatever is written meanwhile; every request is answered —
 * 404 no route, 413 body over REQUEST_BODY_BYTES_MAX, 500 handler exception or non-response value
 * (with a logged request id), 503 budget exhausted — and nothing here throws into the server.
 *
 * Imports lang/, the `http` kernel's value shapes and log/errors; never node/ or cli/. The store is
 * reached only through the RouteSource interface (the Store satisfies it), so this layer can be
 * tested with an in-memory source.
 */
export { HttpServer, type HttpServerOptions, type ListenOptions } from "./server.ts";
export { Dispatcher, newRequestId, type DispatcherOptions, type ClientIp } from "./dispatch.ts";
export { RouteTable, budgetOf, type RouteSource, type RouteRecord, type Route, type RouteMatch, type RouteVersion, type CompiledProgram, type RouteTableOptions } from "./route-table.ts";
export { parseRouteName, splitPath, matchSegments, compareRank, ANY_METHOD, type RoutePattern, type Segment } from "./route-pattern.ts";
export { TenantSelector, DEFAULT_TENANT, isTenantName, type TenantSelectorOptions, type TenantChoice } from "./tenant.ts";
export { parseSplit, pickArm, stickyRoll, stickyKey, type SplitRule, type SplitArm, type ClientInfo } from "./split.ts";
export { readBody, requestToValue } from "./request.ts";
export { valueToResponse, errorResponse, REQUEST_ID_HEADER } from "./response.ts";
export { runHandler, type HandlerOutcome } from "./handler.ts";
export { HttpMetrics } from "./metrics.ts";
export { MemoryRouteSource } from "./memory-source.ts";
export { RouteNameError, RequestBodyTooLargeError, HttpServerStateError } from "./errors.ts";
export * from "./limits.ts";
