/**
 * Every limit of the HTTP layer, in one place, each with the reason for its value.
 */

/**
 * Largest request body a handler may receive (1 MiB). A handler gets its body as one string in
 * memory, so this bounds what one request can make a node hold; larger bodies are refused with 413.
 */
export const REQUEST_BODY_BYTES_MAX = 1024 * 1024;

/**
 * Steps (lambda calls and loop turns) a handler may take unless its route's meta says otherwise.
 * Far above what a request handler that reads, computes and answers needs; a loop that never ends
 * hits it quickly and becomes a 503 instead of a stalled server.
 */
export const HANDLER_STEPS_DEFAULT = 100_000;

/**
 * Wall time a handler may run unless its route's meta says otherwise. Handlers run on the server's
 * one JS thread, so while one runs no other request is served: this bounds that stall.
 */
export const HANDLER_TIME_MS_DEFAULT = 100;

/** Highest step budget route meta may ask for (`budgetSteps`): a ceiling on any one request's work. */
export const HANDLER_STEPS_MAX = 100_000_000;

/** Highest time budget route meta may ask for (`budgetMs`): the longest the server may stall on one request. */
export const HANDLER_TIME_MS_MAX = 10_000;

/** Most versions one weighted split may name; a split is a rollout between a few versions, not a table. */
export const SPLIT_ARMS_MAX = 16;

/**
 * Compiled programs kept by hash across route-table rebuilds. Programs are small and shared by
 * content; the cap only matters for a node whose code churns, where the oldest unused ones go.
 */
export const COMPILED_PROGRAMS_MAX = 4_096;

/**
 * Distinct label sets per metric. Labels come from tenant and route names in the store and from the
 * statuses handlers choose, so the number is bounded by content, not requests; the cap keeps a node
 * with very many tenants from growing its metrics without end (excess goes to route="other").
 */
export const METRIC_SERIES_MAX = 10_000;

/**
 * Tenant labels given to requests that matched no route (404s). Their tenant is whatever the path
 * prefix or Host header said, so a client can invent any number; past this many, such requests are
 * counted under tenant "other" and the METRIC_SERIES_MAX series stay for the store's routes.
 */
export const UNMATCHED_TENANT_LABELS_MAX = 100;

/**
 * Tenant tables kept between rebuilds. Tenant names come from requests (Host header, path prefix),
 * so a client inventing names would otherwise grow the table map; past the cap the oldest go.
 */
export const TENANT_TABLES_MAX = 10_000;

/**
 * Request paths a tenant table remembers as matching a static route, so a repeated request skips
 * splitting and matching. Distinct spellings of one path (`/a`, `/a/`, `//a`) are separate entries
 * and come from clients, hence the cap; past it, requests are matched the long way. The table is
 * rebuilt, and the entries forgotten, whenever code changes.
 */
export const ROUTE_HITS_MAX = 1_024;

/**
 * Static paths the dispatcher remembers with their tenant and route (Dispatcher.handleStatic), so
 * a repeated GET skips tenant selection and matching. The server passes only the paths of stored
 * static routes (at most NATIVE_ROUTES_MAX), but the cap holds for any caller; when it is reached
 * the whole set is forgotten and refilled by the paths still requested. Forgotten too whenever
 * code changes.
 */
export const REMEMBERED_PATHS_MAX = 2_048;

/** Upper bounds (seconds) of the request latency histogram: handlers are budgeted at 100 ms by default. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** How long `stop` waits for requests in flight by default before closing their connections. */
export const DRAIN_MS_DEFAULT = 10_000;

/** Longest tenant name: one DNS label, so a tenant can always be selected by host name. */
export const TENANT_NAME_BYTES_MAX = 63;
