/**
 * A sup node: a long-lived runtime whose behaviour is SLP code in its SQLite store. It opens the
 * store, restores its identity and kernel set (both kept in the store, so a restart brings back the
 * same node), seeds the welcome route on first start, serves the admin socket, and runs the HTTP
 * service while the `http` kernel is loaded. Composes store/, http/ and kernel/; nothing imports it
 * but the CLI.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { SupError } from "../errors.ts";
import { log } from "../log.ts";
import { IMPORTS, latin1FromText, parseFile, sweepSymbols, symbolStats, type Host, type ScopeKey } from "../lang/mod.ts";
import { DEFAULT_TENANT, HLC_ZERO, Store } from "../store/mod.ts";
import { handleAdmin } from "./admin-api.ts";
import { AdminServer } from "./admin-server.ts";
import type { AppliedRevocation } from "./cluster-control.ts";
import { checkingHost, type CodeContext } from "./code-ops.ts";
import { runExecProgram } from "./exec-run.ts";
import { NodeClusterService, type ClusterServiceNode } from "./cluster-service.ts";
import { CLUSTER } from "../kernel/mod.ts";
import { can } from "../net/mod.ts";
import type { MemberInfo } from "./member-json.ts";
import { NodeKernels, SETTING_KERNELS } from "./node-kernels.ts";
import { jobPlacement, nodesWithReplication, startReplication, waitReceipts, type MemberReplication } from "./node-replication.ts";
import type { ReceiptReport, WaitFor } from "./receipts.ts";
import type { NodeReplication, WriteResult } from "./replication.ts";
import { JobScheduler } from "./jobs.ts";
import { NodeCluster, type ClusterConfig } from "./node-cluster.ts";
import { NodeHttp } from "./node-http.ts";
import { Runtime } from "./runtime.ts";
import { NodeScopes } from "./scopes.ts";
import { tenantCodeService } from "./tenant-code.ts";
import { tenantKvService } from "./tenant-kv.ts";
import { tenantModules } from "./tenant-modules.ts";

/** How to start a node. */
export interface NodeConfig {
  /** Data directory: the store, the admin socket, node-local kernels. */
  readonly dataDir: string;
  readonly httpHost: string;
  /** 0 picks a free port (tests). */
  readonly httpPort: number;
  /** The kernel set for a first start; later starts use the stored set. */
  readonly kernels?: readonly string[];
  /** Select tenants by host name: `<tenant>.<suffix>` (true: any host with three labels or more). */
  readonly tenantHost?: string | boolean;
  /** Identity, backchannel address and join target (each falls back to the store). */
  readonly cluster?: ClusterConfig;
}

/** The kernel set of a new node when none is given: the web-facing standard kernels. */
export const DEFAULT_KERNELS: readonly string[] = ["http", "json", "io", "kv", "code", "alu", "forge", "random"];

/** Settings keys in the store. */
const SETTING_NODE_ID = "node.id";

/** The welcome route a new node serves: itself code in the store, replaceable like any route. */
export const WELCOME_ROUTE = "GET /";
const WELCOME_SOURCE = `; The welcome page of a new sup node. It is code in the node's store:
; replace it with  sup code put "GET /" my-page.sxs  and the next request runs the new version.
[
  #(load "http")
  (http/text 200 "Welcome to sup.\\nThis page is SLP code stored in this node's database.\\nReplace it: sup code put \\"GET /\\" FILE\\n")
]
`;

/** The node could not start. */
export class NodeStartError extends SupError {
  constructor(message: string) {
    super("node-start", message);
  }
}

/** A running node. */
export class SupNode {
  readonly id: string;
  /** The per-tenant scopes requests and jobs run in. */
  readonly scopes: NodeScopes;
  private readonly http: NodeHttp;
  private admin: AdminServer | null = null;
  /** The background jobs; null until the node has started them. */
  jobs: JobScheduler | null = null;
  /** The node's backchannel and members; null when it runs alone (no identity). */
  cluster: NodeCluster | null = null;
  /** The node's kernel set, changed locally or by kernel entries (node-kernels.ts). */
  readonly kernels: NodeKernels;
  /** How the node's changes are committed and spread (docs/cluster.md); set while starting. */
  replication!: NodeReplication;
  private stopping: Promise<void> | null = null;
  /** What the cluster kernel's service reads of this node (the cluster part, when there is one). */
  private readonly clusterServiceNode: ClusterServiceNode = {
    cluster: () => this.cluster,
    kernels: () => this.kernelSet(),
    run: (tenant, code, budgetMs) => runExecProgram(this.runtime.host, (t) => this.scopes.for(t), tenant, code, budgetMs),
  };

  private constructor(
    readonly config: NodeConfig,
    readonly store: Store,
    readonly runtime: Runtime,
  ) {
    this.id = store.getSetting<string>(SETTING_NODE_ID) ?? "";
    this.scopes = new NodeScopes(
      (tenant) =>
        new Map([
          tenantKvService(store, tenant),
          tenantCodeService(() => this.codeContext(tenant), tenant),
          [IMPORTS as ScopeKey<unknown>, tenantModules(store, tenant)],
          ...(this.cluster === null ? [] : [[CLUSTER as ScopeKey<unknown>, new NodeClusterService(this.clusterServiceNode, tenant)] as const]),
        ]),
    );
    this.http = new NodeHttp(this);
    this.kernels = new NodeKernels(store, runtime, this.http, () => this.replication.origin);
  }

  /** Starts a node: store, kernels, welcome route, admin socket, HTTP, background jobs. */
  static async start(config: NodeConfig): Promise<SupNode> {
    // Owner-only: the directory holds every tenant's code and data and the admin socket.
    const unusable = (why: string) => new NodeStartError(`Cannot start node: cannot use data directory "${config.dataDir}": ${why}`);
    if (existsSync(config.dataDir) && !statSync(config.dataDir).isDirectory()) throw unusable("it is not a directory");
    try {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      accessSync(config.dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (e) {
      throw unusable(e instanceof Error ? e.message : String(e));
    }
    const socketPath = join(config.dataDir, "admin.sock");
    await AdminServer.claim(socketPath);
    const store = Store.open(join(config.dataDir, "sup.db"));
    let node: SupNode | null = null;
    try {
      if (store.getSetting<string>(SETTING_NODE_ID) === undefined) store.putSetting(SETTING_NODE_ID, crypto.randomUUID());
      const stored = store.getSetting<string[]>(SETTING_KERNELS);
      if (stored !== undefined && config.kernels !== undefined && config.kernels.join(",") !== stored.join(",")) {
        log("warn", "kernel set comes from the store; change it with sup kernels load|unload", { stored: stored.join(","), given: config.kernels.join(",") });
      }
      const kernels = stored ?? [...(config.kernels ?? DEFAULT_KERNELS)];
      // Only the node's kernel set is available to its code: a program cannot load anything else.
      const runtime = new Runtime({ workingDir: config.dataDir, autoload: false });
      node = new SupNode(config, store, runtime);
      for (const k of kernels) node.loadKernelNow(k);
      // Stored once every kernel loaded: a mistyped --kernels must not become the set every later start fails on.
      if (stored === undefined) store.putSetting(SETTING_KERNELS, kernels);
      node.seedWelcome();
      node.admin = AdminServer.start(node, socketPath);
      if (kernels.includes("http")) node.http.start();
      const started = node;
      // Scopes are made on a tenant's first request or job, after this synchronous start: they
      // all see the cluster part (and offer the cluster kernel its service) when there is one.
      node.cluster = NodeCluster.start(store, config.cluster ?? {}, {
        httpAddress: () => started.httpAddress(),
        kernels: () => started.kernelSet(),
        inFlight: () => started.http.inFlight(),
        logPosition: () => store.log.size,
        admin: (request, principal) => handleAdmin(started, request, principal),
        run: started.clusterServiceNode.run,
        entries: {
          write: (body, target, author, action) => started.replication.write(body, { author, target, action }),
          wait: (w, timeoutMs) => started.waitReceipts(w, "all", timeoutMs),
          high: (origin) => store.log.high(origin),
        },
      });
      node.replication = startReplication(store, node.id, node.cluster, {
        kernel: (op, name) => started.kernels.applyEntry(op, name),
        revoked: (r) => started.onRevoked(r),
      });
      // A control node that runs cluster code starts its exec worker now, so the first call does not wait for it.
      if (node.cluster !== null && can(node.cluster.identity.cert, "admin") && kernels.includes("cluster")) node.cluster.control.execWorker().warm();
      node.jobs = JobScheduler.startFor(store, runtime.host, node.scopes, (code) => jobPlacement(store, started.replication, started.cluster, started.kernelSet(), code));
      const named = node.cluster === null ? {} : { name: node.cluster.identity.name, cluster: node.cluster.identity.clusterId };
      log("info", "node started", { id: node.id, data: config.dataDir, http: node.httpAddress() ?? "off", kernels: kernels.join(","), ...named });
      return node;
    } catch (e) {
      if (node !== null) await node.stop();
      else store.close();
      throw e instanceof SupError ? e : new NodeStartError(`Cannot start node in "${config.dataDir}": ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private loadKernelNow(name: string): void {
    try {
      this.runtime.loadKernel(name);
    } catch (e) {
      throw new NodeStartError(`Cannot start node: kernel "${name}" of its kernel set does not load: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * The welcome route of a new node: a local version stamped below every real write (HLC zero,
   * origin `seed`), so every node seeds the same one and any write of `GET /` in the cluster wins.
   */
  private seedWelcome(): void {
    if (this.store.listCode().length > 0 || this.store.history(DEFAULT_TENANT, WELCOME_ROUTE).length > 0) return;
    const parsed = parseFile({ path: WELCOME_ROUTE, text: latin1FromText(WELCOME_SOURCE) });
    if (!parsed.ok) throw new Error("the welcome route does not parse");
    this.store.putCode({ name: WELCOME_ROUTE, kind: "route", source: WELCOME_SOURCE, program: parsed.value, author: "sup", origin: "seed", stamp: HLC_ZERO });
  }

  /** Waits for the receipts of a write this node made (node-replication.ts). */
  waitReceipts(w: WriteResult, wait: WaitFor, timeoutMs: number): Promise<ReceiptReport> {
    return waitReceipts(this.replication, this.cluster, w, wait, timeoutMs);
  }

  /** `sup nodes --json`: every member with what this node knows of its replication (node-replication.ts). */
  nodesWithReplication(): (MemberInfo & { readonly replication: MemberReplication })[] {
    return nodesWithReplication(this.replication, this.cluster);
  }

  /** What a tenant's code writes work with. */
  codeContext(tenant: string): CodeContext {
    return { store: this.store, host: this.checkHostFor(tenant), replication: this.replication };
  }

  /** A revocation entry was applied here: the control plane enforces it (alone, there is nothing to enforce). */
  onRevoked(r: AppliedRevocation): void {
    if (this.cluster !== null) this.cluster.control.revoked(r);
    else log("warn", "certificate revoked", { name: r.name, serial: r.serial, by: r.author, reason: r.reason, origin: r.origin });
  }

  /** The host a tenant's code is checked against when written: the node's kernel set, the tenant's modules. */
  checkHostFor(tenant: string): Host {
    return checkingHost(this.runtime.host, () => this.kernelSet(), tenantModules(this.store, tenant));
  }

  /** The kernel names of the node's set, as stored. */
  kernelSet(): string[] {
    return this.kernels.set();
  }

  /** `host:port` the HTTP service listens on, or null when it is off. */
  httpAddress(): string | null {
    return this.http.address();
  }

  /** A summary for `sup status` and /_sup/health. */
  status(): Record<string, unknown> {
    return {
      id: this.id,
      dataDir: this.config.dataDir,
      http: this.httpAddress(),
      kernels: this.runtime.kernels().map((k) => ({ name: k.name, version: k.version, kind: k.kind, state: k.state })),
      code: this.store.listCode().length,
      jobs: this.jobs?.counts() ?? { scheduled: 0, unscheduled: 0 },
      cluster: this.cluster?.status() ?? null,
      replication: { origin: this.replication.origin, ...this.replication.state(), clustered: this.replication.clustered },
      seq: this.store.seq,
      uptimeMs: Math.round(performance.now()),
      memory: this.memory(),
    };
  }

  /** What the node holds in memory: the process's resident and JS heap bytes, and its symbols. */
  memory(): { readonly rssBytes: number; readonly heapBytes: number; readonly symbols: { readonly live: number; readonly ids: number } } {
    const m = process.memoryUsage();
    return { rssBytes: m.rss, heapBytes: m.heapUsed, symbols: symbolStats() };
  }

  /**
   * Collects garbage now, for an operator or a test measuring what the node holds: a full
   * collection, a sweep of the symbol table (which frees the ids of the symbols it collected), and
   * another collection for the entries the sweep dropped. Yields a turn of the event loop first,
   * as a WeakRef keeps its symbol alive until the turn that last read it ends.
   */
  async collectGarbage(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    Bun.gc(true);
    sweepSymbols();
    Bun.gc(true);
  }

  /** Stops serving: cancels jobs, drains HTTP, closes the admin socket, shuts kernels down, closes the store. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.jobs?.stop();
      // Peers hear `leave` before anything else stops, so they mark this node left, not dead.
      await this.cluster?.stop();
      await this.http.stop();
      await this.admin?.stop();
      this.runtime.close();
      this.store.close();
      log("info", "node stopped", { id: this.id });
    })();
    return this.stopping;
  }
}
