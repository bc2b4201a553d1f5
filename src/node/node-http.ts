/**
 * The node's HTTP service: an HttpServer over the node's store and host, started while the `http`
 * kernel is part of the node's set and drained when it leaves (or the node stops).
 */
import { HttpServer } from "../http/mod.ts";
import type { SupNode } from "./node.ts";

/** Starts and stops the HTTP front of one node. */
export class NodeHttp {
  private server: HttpServer | null = null;
  private listening: { hostname: string; port: number } | null = null;
  /** The port picked the first time when the configured one is 0, so a restart of HTTP keeps its address. */
  private boundPort = 0;

  constructor(private readonly node: SupNode) {}

  /** Starts serving on the configured address; a no-op when already serving. */
  start(): void {
    if (this.server !== null) return;
    const { config } = this.node;
    const server = new HttpServer({
      source: this.node.store,
      host: this.node.runtime.host,
      tenants: { byPath: true, byHost: config.tenantHost ?? false },
      scopeFor: (tenant) => this.node.scopes.for(tenant),
      health: () => ({ node: this.node.id }),
      extraMetrics: () => (this.node.cluster?.metricsText() ?? "") + this.node.replication.metricsText(),
    });
    this.listening = server.start({ hostname: config.httpHost, port: config.httpPort || this.boundPort });
    this.boundPort = this.listening.port;
    this.server = server;
  }

  /** Requests being handled now (0 when not serving). */
  inFlight(): number {
    return this.server?.dispatcher.inFlight ?? 0;
  }

  /** `host:port` being served, or null. */
  address(): string | null {
    return this.listening === null ? null : `${this.listening.hostname}:${this.listening.port}`;
  }

  /** Stops accepting and waits for requests in flight; a no-op when not serving. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    this.listening = null;
    await server.stop();
  }
}
