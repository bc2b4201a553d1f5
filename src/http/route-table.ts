/**
 * The routes of every tenant as the store holds them, ready to serve: patterns parsed and ranked,
 * programs parsed and compiled once. The table follows its source's change sequence: when `seq`
 * moves, tenant tables are dropped and rebuilt on their next request, while compiled programs stay
 * cached by content hash, so a rebuild reparses only code that actually changed and a request never
 * parses. A match holds its program, so a request in flight finishes on the version it started with.
 */
import { compile, latin1FromText, parseFile, type Budget, type SourceDiagnostic, type SourceFile, type Value } from "../lang/mod.ts";
import { log } from "../log.ts";
import { COMPILED_PROGRAMS_MAX, ROUTE_HITS_MAX, TENANT_TABLES_MAX, HANDLER_STEPS_DEFAULT, HANDLER_STEPS_MAX, HANDLER_TIME_MS_DEFAULT, HANDLER_TIME_MS_MAX } from "./limits.ts";
import { ANY_METHOD, compareRank, matchSegments, parseRouteName, splitPath, staticKey, type RoutePattern } from "./route-pattern.ts";
import { armKey, parseSplit, pickArm, stickyKey, stickyRoll, type ClientInfo, type SplitRule } from "./split.ts";

/** One stored version of a route, as the store lists it (a subset of its CodeVersion). */
export interface RouteRecord {
  readonly tenant: string;
  readonly name: string;
  readonly version: number;
  /** The node that wrote this version (versions written at once on two nodes share a number). */
  readonly origin?: string;
  readonly hash: string;
  readonly source: string;
  readonly meta: Readonly<Record<string, unknown>>;
}

/** Where routes come from: the node's Store implements this. */
export interface RouteSource {
  /** The latest change sequence; any write moves it. */
  readonly seq: number;
  /** Current versions, of one tenant or all. */
  listCode(tenant?: string, kind?: "route"): readonly RouteRecord[];
  /** A given version; needed only for weighted splits (without it a split serves the current version). */
  getCode?(tenant: string, name: string, version?: number, origin?: string): RouteRecord | null;
}

/** A program parsed and compiled once, shared by every version with the same hash. */
export interface CompiledProgram {
  readonly hash: string;
  /** The name diagnostics use: `<tenant>:<route name>` of the first version seen with this hash. */
  readonly file: SourceFile;
  /** Null when the source does not parse (the store should never hold such code). */
  readonly program: Value | null;
  readonly diagnostics: readonly SourceDiagnostic[];
}

/** One version of a route, ready to run. */
export interface RouteVersion {
  readonly version: number;
  readonly program: CompiledProgram;
  readonly budget: { readonly steps: number; readonly timeMs: number };
}

/** A route of one tenant. */
export interface Route {
  readonly tenant: string;
  readonly pattern: RoutePattern;
  readonly current: RouteVersion;
  /** The split between versions, when the current version's meta sets one. */
  readonly split: { readonly rule: SplitRule; readonly versions: ReadonlyMap<string, RouteVersion> } | null;
}

/** A request's route, the version to run and the path parameters (decoded text). */
export interface RouteMatch {
  readonly route: Route;
  readonly run: RouteVersion;
  readonly params: ReadonlyMap<string, string>;
  /**
   * True when every request for this tenant, method and path gets this same match until the code
   * changes: a static route without a split. Such matches may be remembered by their request.
   */
  readonly fixed: boolean;
}

interface TenantRoutes {
  readonly exact: ReadonlyMap<string, Route>;
  /** Routes with parameters, best rank first. */
  readonly ranked: readonly Route[];
  /** Matches of static routes without a split by `METHOD path`, as requests asked for them. */
  readonly hits: Map<string, RouteMatch>;
}

/** Reads `budgetSteps` / `budgetMs` from meta: a positive integer up to the ceiling, else the default. */
export function budgetOf(meta: Readonly<Record<string, unknown>>): Required<Budget> {
  const pick = (v: unknown, dflt: number, max: number) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? Math.min(v, max) : dflt);
  return { steps: pick(meta["budgetSteps"], HANDLER_STEPS_DEFAULT, HANDLER_STEPS_MAX), timeMs: pick(meta["budgetMs"], HANDLER_TIME_MS_DEFAULT, HANDLER_TIME_MS_MAX) };
}

/** Options of a RouteTable. */
export interface RouteTableOptions {
  /** Uniform draws in [0, 1) for non-sticky splits (default Math.random; tests pass a seeded one). */
  readonly random?: () => number;
}

/** Routes by tenant, rebuilt lazily when the source's seq changes. */
export class RouteTable {
  private seq = Number.NaN;
  private readonly tenants = new Map<string, TenantRoutes>();
  /** Compiled programs by hash, least recently used first. */
  private readonly programs = new Map<string, CompiledProgram>();
  private readonly random: () => number;
  /** How many tenant tables were built, programs parsed and requests matched the long way: observable for tests. */
  readonly stats = { builds: 0, parses: 0, matches: 0 };

  constructor(
    readonly source: RouteSource,
    options: RouteTableOptions = {},
  ) {
    this.random = options.random ?? Math.random;
  }

  /** Finds the route for a request; HEAD falls back to GET. Null when no route matches. */
  resolve(tenant: string, method: string, path: string, client?: ClientInfo): RouteMatch | null {
    const table = this.tenant(tenant);
    // A static route without a split always gives the same match: remember it by the request's
    // path as written, so the next request for it skips splitting and matching.
    const key = method + " " + path;
    const hit = table.hits.get(key);
    if (hit !== undefined) return hit;
    this.stats.matches++;
    const segs = splitPath(path);
    const found = find(table, method, segs) ?? (method === "HEAD" ? find(table, "GET", segs) : null);
    if (found === null) return null;
    const [route, params] = found;
    const fixed = params === NO_PARAMS && route.split === null;
    const match: RouteMatch = { route, params, run: this.pickVersion(route, client), fixed };
    if (fixed && table.hits.size < ROUTE_HITS_MAX) table.hits.set(key, match);
    return match;
  }

  /**
   * The match of a request whose match is fixed (RouteMatch.fixed), or null when it is not: no
   * route matches, or the route has parameters or a split. Never draws a split's arm.
   */
  resolveFixed(tenant: string, method: string, path: string): RouteMatch | null {
    const hit = this.tenant(tenant).hits.get(method + " " + path);
    if (hit !== undefined) return hit;
    const segs = splitPath(path);
    const table = this.tenant(tenant);
    const found = find(table, method, segs) ?? (method === "HEAD" ? find(table, "GET", segs) : null);
    if (found === null || found[1] !== NO_PARAMS || found[0].split !== null) return null;
    return this.resolve(tenant, method, path);
  }

  /** Every tenant's current route versions (for the metrics' version gauge). */
  currentVersions(): readonly RouteRecord[] {
    return this.source.listCode(undefined, "route");
  }

  private pickVersion(route: Route, client: ClientInfo | undefined): RouteVersion {
    const split = route.split;
    if (split === null) return route.current;
    const { rule } = split;
    const roll = rule.sticky !== null && client !== undefined ? stickyRoll(stickyKey(rule.sticky, client), route.tenant + " " + route.pattern.name) : this.random();
    const arm = pickArm(rule, roll);
    return split.versions.get(armKey(arm.version, arm.origin)) ?? route.current;
  }

  private tenant(name: string): TenantRoutes {
    const seq = this.source.seq;
    if (seq !== this.seq) {
      this.tenants.clear();
      this.seq = seq;
    }
    let t = this.tenants.get(name);
    if (t === undefined) {
      t = this.build(name);
      this.tenants.set(name, t);
      // Tenant names come from requests (Host, path), so unknown ones must not grow the map without end.
      if (this.tenants.size > TENANT_TABLES_MAX) this.tenants.delete(this.tenants.keys().next().value!);
    }
    return t;
  }

  private build(tenant: string): TenantRoutes {
    this.stats.builds++;
    const exact = new Map<string, Route>();
    const ranked: Route[] = [];
    for (const rec of this.source.listCode(tenant, "route")) {
      if (rec.tenant !== tenant) continue;
      let pattern: RoutePattern;
      try {
        pattern = parseRouteName(rec.name);
      } catch (e) {
        log("warn", "route skipped", { tenant, route: rec.name, reason: e instanceof Error ? e.message : String(e) });
        continue;
      }
      const route: Route = { tenant, pattern, current: this.version(rec), split: this.split(rec) };
      if (pattern.isStatic) {
        const key = staticKey(pattern.method, pattern.segments.map((s) => (s.kind === "static" ? s.text : "")));
        exact.set(key, route);
      } else ranked.push(route);
    }
    ranked.sort((a, b) => compareRank(a.pattern, b.pattern));
    return { exact, ranked, hits: new Map() };
  }

  private split(rec: RouteRecord): Route["split"] {
    const parsed = parseSplit(rec.meta);
    if (parsed === null) return null;
    if (typeof parsed === "string") {
      log("warn", "route split ignored", { tenant: rec.tenant, route: rec.name, reason: parsed });
      return null;
    }
    const versions = new Map<string, RouteVersion>();
    for (const arm of parsed.arms) {
      const key = armKey(arm.version, arm.origin);
      if (arm.version === rec.version && (arm.origin === undefined || arm.origin === rec.origin)) versions.set(key, this.version(rec));
      else {
        // A replicated split can arrive before the version it names (from another origin): that arm waits.
        const other = this.source.getCode?.(rec.tenant, rec.name, arm.version, arm.origin) ?? null;
        if (other !== null && other.version === arm.version) versions.set(key, this.version(other));
        else log("warn", "route split version missing", { tenant: rec.tenant, route: rec.name, version: key });
      }
    }
    const arms = parsed.arms.filter((a) => versions.has(armKey(a.version, a.origin)));
    if (arms.length === 0) return null;
    return { rule: { ...parsed, arms, total: arms.reduce((t, a) => t + a.weight, 0) }, versions };
  }

  private version(rec: RouteRecord): RouteVersion {
    return { version: rec.version, program: this.program(rec), budget: budgetOf(rec.meta) };
  }

  private program(rec: RouteRecord): CompiledProgram {
    const cached = this.programs.get(rec.hash);
    if (cached !== undefined) {
      this.programs.delete(rec.hash);
      this.programs.set(rec.hash, cached);
      return cached;
    }
    this.stats.parses++;
    const file: SourceFile = { path: `${rec.tenant}:${rec.name}`, text: latin1FromText(rec.source) };
    const parsed = parseFile(file);
    const compiled: CompiledProgram = parsed.ok ? { hash: rec.hash, file, program: parsed.value, diagnostics: [] } : { hash: rec.hash, file, program: null, diagnostics: parsed.diagnostics };
    // Compiling caches the closures on the program's nodes, so the first request does not pay for it.
    if (parsed.ok) compile(parsed.value);
    else log("error", "route does not parse", { tenant: rec.tenant, route: rec.name, version: rec.version, problems: parsed.diagnostics.length });
    this.programs.set(rec.hash, compiled);
    if (this.programs.size > COMPILED_PROGRAMS_MAX) this.programs.delete(this.programs.keys().next().value!);
    return compiled;
  }
}

function find(table: TenantRoutes, method: string, segs: readonly string[]): [Route, ReadonlyMap<string, string>] | null {
  // The segment counts guard against a decoded segment holding the key's separator.
  const exact = table.exact.get(staticKey(method, segs));
  if (exact !== undefined && exact.pattern.segments.length === segs.length) return [exact, NO_PARAMS];
  const any = table.exact.get(staticKey(ANY_METHOD, segs));
  if (any !== undefined && any.pattern.segments.length === segs.length) return [any, NO_PARAMS];
  for (const r of table.ranked) {
    if (r.pattern.method !== method && r.pattern.method !== ANY_METHOD) continue;
    const params = matchSegments(r.pattern, segs);
    if (params !== null) return [r, params];
  }
  return null;
}

const NO_PARAMS: ReadonlyMap<string, string> = new Map();
