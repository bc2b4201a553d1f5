/**
 * Choosing a request's tenant. Two ways, each optional: by host name — `<tenant>.<suffix>`, where the
 * suffix is configured (or any host with at least three labels when no suffix is set, so
 * `acme.example.com` is tenant `acme` but `localhost` and IP addresses are not) — and by a path
 * prefix `/t/<tenant>/…`, which is removed from the path the route sees. The path prefix wins when
 * both apply. Anything else, and any name that is not a valid tenant name, is the default tenant.
 */
import { TENANT_NAME_BYTES_MAX } from "./limits.ts";

/** The tenant every request belongs to unless selected otherwise (docs/node.md). */
export const DEFAULT_TENANT = "default";
/** Lower-case letters, digits and inner hyphens: a DNS label, so any tenant can be a host name. */
const TENANT_NAME = new RegExp(`^(?=.{1,${TENANT_NAME_BYTES_MAX}}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`);
const PATH_PREFIX = "/t/";
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/** How a node selects tenants. */
export interface TenantSelectorOptions {
  /** Select by host name; `true` for any `<tenant>.<domain>.<tld>`, or the suffix, e.g. `"sup.example.com"`. */
  readonly byHost?: boolean | string;
  /** Select by the `/t/<tenant>/` path prefix. */
  readonly byPath?: boolean;
  /** Tenant of requests nothing selects (default `"default"`). */
  readonly defaultTenant?: string;
}

/** A request's tenant and the path its routes are matched against. */
export interface TenantChoice {
  readonly tenant: string;
  readonly path: string;
}

/** True when a string is a valid tenant name. */
export function isTenantName(name: string): boolean {
  return TENANT_NAME.test(name);
}

/** Selects a tenant from a request's Host header and path. */
export class TenantSelector {
  private readonly hostSuffix: string | null;
  /** Whether select reads the Host header (callers skip reading it otherwise). */
  readonly byHost: boolean;
  private readonly byPath: boolean;
  readonly defaultTenant: string;

  constructor(options: TenantSelectorOptions = {}) {
    this.byHost = options.byHost !== undefined && options.byHost !== false;
    this.hostSuffix = typeof options.byHost === "string" ? "." + options.byHost.toLowerCase().replace(/^\.+/, "") : null;
    this.byPath = options.byPath ?? false;
    this.defaultTenant = options.defaultTenant ?? DEFAULT_TENANT;
  }

  /** The tenant for a request (Host header value or null, URL path). */
  select(host: string | null, path: string): TenantChoice {
    if (this.byPath && path.startsWith(PATH_PREFIX)) {
      const end = path.indexOf("/", PATH_PREFIX.length);
      const name = path.slice(PATH_PREFIX.length, end === -1 ? undefined : end);
      if (isTenantName(name)) return { tenant: name, path: end === -1 ? "/" : path.slice(end) };
    }
    if (this.byHost && host !== null) {
      const name = this.fromHost(host);
      if (name !== null) return { tenant: name, path };
    }
    return { tenant: this.defaultTenant, path };
  }

  private fromHost(hostHeader: string): string | null {
    // Drop the port (not for a bracketed IPv6 literal, which is never a tenant anyway).
    if (hostHeader.startsWith("[")) return null;
    const host = hostHeader.replace(/:\d*$/, "").replace(/\.$/, "").toLowerCase();
    if (IPV4.test(host)) return null;
    const dot = host.indexOf(".");
    if (dot <= 0) return null;
    const label = host.slice(0, dot);
    if (this.hostSuffix !== null) {
      if (host.length !== label.length + this.hostSuffix.length || !host.endsWith(this.hostSuffix)) return null;
    } else if (host.split(".").length < 3) return null;
    return isTenantName(label) ? label : null;
  }
}
