/**
 * The HTTP layer's metrics in the Prometheus text format (version 0.0.4): requests by tenant, route
 * and status, a latency histogram by route, handler errors, budget exhaustions, requests in flight
 * the code version each route currently serves, and how many units the JS tier compiled. Label sets
 * are capped (METRIC_SERIES_MAX), and the tenants of requests that matched no route, which clients
 * choose, more tightly still.
 */
import { tierStats } from "../lang/mod.ts";
import { LATENCY_BUCKETS_SECONDS, METRIC_SERIES_MAX, UNMATCHED_TENANT_LABELS_MAX } from "./limits.ts";

/** The route label of requests that matched no route. */
export const NO_ROUTE = "(none)";
/** The route label that absorbs label sets past the cap. */
const OVERFLOW_ROUTE = "other";

type Labels = Readonly<Record<string, string>>;

/** Escapes a label value (backslash, double quote, newline), as the text format requires. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** A counter family keyed by label values (in the family's label order). */
class Counter {
  /** By the label values joined with NUL: cheap to build per request; label text is made when scraping. */
  private readonly all = new Map<string, { values: readonly string[]; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  inc(...values: string[]): void {
    this.series(values).value++;
  }

  /** The series of these label values (the overflow series past the cap), made on first use. */
  series(values: readonly string[]): { value: number } {
    let key = values.join("\0");
    let s = this.all.get(key);
    if (s === undefined) {
      if (this.all.size >= METRIC_SERIES_MAX) {
        // Tenant and route are the first two labels of every family; they carry the cardinality.
        values = [OVERFLOW_ROUTE, OVERFLOW_ROUTE, ...values.slice(2)];
        key = values.join("\0");
        s = this.all.get(key);
      }
      if (s === undefined) this.all.set(key, (s = { values, value: 0 }));
    }
    return s;
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`);
    for (const s of this.all.values()) out.push(`${this.name}${labelText(zip(this.labelNames, s.values))} ${s.value}`);
  }
}

/** Counts one observation in the first bucket that holds it; render() accumulates, as the text format wants. */
function count(h: HistogramSeries, seconds: number): void {
  const buckets = LATENCY_BUCKETS_SECONDS;
  for (let i = 0; i < buckets.length; i++) {
    if (seconds <= buckets[i]!) {
      h.counts[i]!++;
      break;
    }
  }
  h.sum += seconds;
  h.count++;
}

function zip(names: readonly string[], values: readonly string[]): Labels {
  const out: Record<string, string> = {};
  for (let i = 0; i < names.length; i++) out[names[i]!] = values[i]!;
  return out;
}

/** What one tenant's route has counted: its latency histogram and its request counters by status. */
export interface RouteSeries {
  readonly latency: HistogramSeries;
  readonly byStatus: Map<number, { value: number }>;
}

interface HistogramSeries {
  readonly labels: Labels;
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Counts, latency and failures of the requests a server answered. */
export class HttpMetrics {
  private readonly requests = new Counter("sup_http_requests_total", "HTTP requests answered, by tenant, route and status.", ["tenant", "route", "status"]);
  private readonly errors = new Counter("sup_http_handler_errors_total", "Handler runs that ended in an exception, a value that is not a response, or an internal error.", ["tenant", "route", "kind"]);
  private readonly budgets = new Counter("sup_http_budget_exhausted_total", "Handler runs stopped by their step, time or depth budget (answered 503).", ["tenant", "route", "kind"]);
  private readonly latency = new Map<string, HistogramSeries>();
  /** Requests being handled now; set by the dispatcher. */
  inFlight = 0;

  /**
   * The series of each tenant and route, found without building label keys: observe runs once per
   * request. Bounded like the series themselves; past the bound, observe takes the slow path.
   */
  private readonly routes = new Map<string, Map<string, RouteSeries>>();
  private routesCount = 0;

  /**
   * Tenant names that requests matching no route were labelled with. A request's tenant comes from
   * its path or Host header, so these are made up by clients; past UNMATCHED_TENANT_LABELS_MAX more
   * are labelled "other", and a client inventing names cannot use up the series routes need.
   */
  private readonly unmatchedTenants = new Set<string>();

  /** Records one answered request. */
  observe(tenant: string, route: string, status: number, seconds: number): void {
    if (route === NO_ROUTE && !this.unmatchedTenants.has(tenant)) {
      if (this.unmatchedTenants.size < UNMATCHED_TENANT_LABELS_MAX) this.unmatchedTenants.add(tenant);
      else tenant = OVERFLOW_ROUTE;
    }
    const r = this.routes.get(tenant)?.get(route);
    const counter = r?.byStatus.get(status);
    if (r === undefined || counter === undefined) {
      this.observeFirst(tenant, route, status, seconds);
      return;
    }
    counter.value++;
    count(r.latency, seconds);
  }

  /**
   * observe, for a caller that keeps its tenant and route's series between requests (a route the
   * dispatcher remembers): given back what the last call returned (undefined the first time), it
   * skips finding them by name. Returns the series to keep.
   */
  observeKept(kept: RouteSeries | undefined, tenant: string, route: string, status: number, seconds: number): RouteSeries | undefined {
    const counter = kept?.byStatus.get(status);
    if (counter === undefined) {
      this.observe(tenant, route, status, seconds);
      return this.routes.get(tenant)?.get(route);
    }
    counter.value++;
    count(kept!.latency, seconds);
    return kept;
  }

  /** observe for a tenant, route and status seen for the first time (or past the bound). */
  private observeFirst(tenant: string, route: string, status: number, seconds: number): void {
    const counter = this.requests.series([tenant, route, String(status)]);
    counter.value++;
    const latency = this.histogram(tenant, route);
    count(latency, seconds);
    let byRoute = this.routes.get(tenant);
    let r = byRoute?.get(route);
    if (r === undefined) {
      if (this.routesCount >= METRIC_SERIES_MAX) return;
      if (byRoute === undefined) this.routes.set(tenant, (byRoute = new Map()));
      byRoute.set(route, (r = { latency, byStatus: new Map() }));
      this.routesCount++;
    }
    // Statuses are HTTP statuses (200-599), so this map stays small.
    r.byStatus.set(status, counter);
  }

  private histogram(tenant: string, route: string): HistogramSeries {
    let key = tenant + "\0" + route;
    let h = this.latency.get(key);
    if (h === undefined && this.latency.size >= METRIC_SERIES_MAX) {
      tenant = route = OVERFLOW_ROUTE;
      key = tenant + "\0" + route;
      h = this.latency.get(key);
    }
    if (h === undefined) this.latency.set(key, (h = { labels: { tenant, route }, counts: LATENCY_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 }));
    return h;
  }

  /** Records a handler error (`exception`, `invalid-response` or `internal`). */
  handlerError(tenant: string, route: string, kind: string): void {
    this.errors.inc(tenant, route, kind);
  }

  /** Records a budget exhaustion (`steps`, `time` or `depth`). */
  budgetExhausted(tenant: string, route: string, kind: string): void {
    this.budgets.inc(tenant, route, kind);
  }

  /** The metrics as Prometheus text; `versions` are the routes' current code versions. */
  render(versions: readonly { readonly tenant: string; readonly name: string; readonly version: number }[]): string {
    const out: string[] = [];
    this.requests.render(out);
    const name = "sup_http_request_duration_seconds";
    out.push(`# HELP ${name} Time from receiving a request to its response, by tenant and route.`, `# TYPE ${name} histogram`);
    for (const h of this.latency.values()) {
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS_SECONDS.length; i++) {
        cumulative += h.counts[i]!;
        out.push(`${name}_bucket${labelText({ ...h.labels, le: String(LATENCY_BUCKETS_SECONDS[i]) })} ${cumulative}`);
      }
      out.push(`${name}_bucket${labelText({ ...h.labels, le: "+Inf" })} ${h.count}`, `${name}_sum${labelText(h.labels)} ${h.sum}`, `${name}_count${labelText(h.labels)} ${h.count}`);
    }
    this.errors.render(out);
    this.budgets.render(out);
    out.push("# HELP sup_http_requests_in_flight Requests being handled now.", "# TYPE sup_http_requests_in_flight gauge", `sup_http_requests_in_flight ${this.inFlight}`);
    out.push(
      "# HELP sup_compiled_units_total Units of SLP code (handlers, jobs, modules, hot lambda and loop bodies, eval text) the JS tier compiled since the process started.",
      "# TYPE sup_compiled_units_total counter",
      `sup_compiled_units_total ${tierStats.compiledUnits}`,
    );
    out.push("# HELP sup_http_route_version Code version each route currently serves.", "# TYPE sup_http_route_version gauge");
    for (const v of versions) out.push(`sup_http_route_version${labelText({ tenant: v.tenant, route: v.name })} ${v.version}`);
    return out.join("\n") + "\n";
  }
}
