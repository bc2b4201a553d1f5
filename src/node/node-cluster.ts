/**
 * A node's place in a cluster: it loads the node identity, runs the Backchannel, hosts the protocol
 * cores on a CoreHost (core-host.ts) wired to it, and runs membership (members.ts) with this node's
 * metadata. The join target, the peers it learned and its last incarnation are kept in the store,
 * so a restart with no flags rejoins. Stopping leaves gracefully: peers mark this node `left`.
 *
 * Later cluster features host their own cores: `cluster.host.add(core)`; membership changes reach
 * them through `cluster.subscribe(listener)` (docs/cluster.md, "Membership on a node"). The control
 * plane (exec, control tasks, revocations, clients) is `cluster.control` (cluster-control.ts).
 *
 * Store settings: `cluster.identity` (absolute path of the identity file), `cluster.id`,
 * `cluster.listen` and `cluster.advertise` (`host:port`), `cluster.join` (`host:port`), and
 * membership's `cluster.peers` and `cluster.incarnation`.
 */
import { resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { MembershipOptionsError, type MemberMeta, type MemberView, type MembershipEvent } from "../cluster/mod.ts";
import { SupError } from "../errors.ts";
import { Sym } from "../lang/value.ts";
import { log } from "../log.ts";
import { Backchannel, loadIdentityFile, NodeIdentity, validityAt } from "../net/mod.ts";
import type { Store } from "../store/mod.ts";
import { defaultAdvertisedHost, isAddress, isUnspecifiedHost, joinAddress, splitAddress } from "./address.ts";
import { ClusterControl, coreTransport, type ControlNode } from "./cluster-control.ts";
import { CoreHost } from "./core-host.ts";
import type { MemberInfo } from "./member-json.ts";
import { NodeMembership } from "./members.ts";
import { Revocations } from "./revocations.ts";

/** The backchannel port when --listen is not given. */
export const DEFAULT_BACKCHANNEL_PORT = 7000;

const SETTING_IDENTITY = "cluster.identity";
const SETTING_CLUSTER_ID = "cluster.id";
const SETTING_LISTEN = "cluster.listen";
const SETTING_ADVERTISE = "cluster.advertise";
const SETTING_JOIN = "cluster.join";

/** The cluster part of a node's configuration (flags; the store fills in what is not given). */
export interface ClusterConfig {
  /** Identity file; when absent the stored one is used, and without either the node runs alone. */
  readonly identityFile?: string;
  /** `host:port` to listen on (default: stored, else 0.0.0.0:7000). */
  readonly listen?: string;
  /** `host:port` peers should dial (default: stored, else the listen address, its host made concrete). */
  readonly advertise?: string;
  /** `host:port` of any member to join through (kept in the store). */
  readonly join?: string;
}

/** What membership reads from the node. */
export interface MembershipNode {
  /** `host:port` the HTTP service listens on, or null when it is off. */
  httpAddress(): string | null;
  /** The node's kernel set. */
  kernels(): readonly string[];
  /** Requests in flight in the HTTP layer. */
  inFlight(): number;
  /** The change-log position (the store's sequence). */
  logPosition(): number;
}

/** What the cluster reads from its node, control plane included. */
export type ClusterNode = MembershipNode & ControlNode;

/** The cluster could not start; its message names the file or setting. */
export class ClusterStartError extends SupError {
  constructor(message: string) {
    super("cluster-start", message);
  }
}

/** What `sup status` shows about the cluster. */
export interface ClusterStatus {
  readonly name: string;
  readonly clusterId: string;
  readonly identityFile: string;
  readonly listen: string | null;
  readonly advertise: string;
  readonly join: string | null;
  readonly peers: number;
  readonly incarnation: number;
  /** Members by state, this node included. */
  readonly members: Readonly<Record<string, number>>;
}

/** See the file comment. */
export class NodeCluster {
  readonly host: CoreHost;
  readonly membership: NodeMembership;
  /** The control plane: exec, control tasks, revocations, clients (cluster-control.ts). */
  readonly control: ClusterControl;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly identity: NodeIdentity,
    readonly identityFile: string,
    private readonly store: Store,
    readonly backchannel: Backchannel,
    readonly advertise: string,
    node: ClusterNode,
    join: string | null,
    readonly revocations: Revocations,
  ) {
    // Membership dials its stored peers while it is built, before the control plane exists.
    const control = () => this.control as ClusterControl | undefined;
    this.host = new CoreHost(coreTransport(backchannel, (address) => control()?.revokedAt(address) ?? null, (detail) => control()?.refusedAsRevoked(detail)));
    const cert = identity.cert;
    const meta = (): MemberMeta => ({
      serial: cert.serial,
      roles: [...cert.roles],
      labels: cert.labels.map(([k, v]) => [k, v] as const),
      backchannel: advertise,
      http: advertisedHttp(node.httpAddress(), advertise),
      kernels: [...node.kernels()],
      version: pkg.version,
    });
    this.membership = new NodeMembership(this.host, store, { meta, inFlight: () => node.inFlight(), logPosition: () => node.logPosition() }, identity.name, join);
    // A connection to a member declared dead is suspect itself (a partition leaves TCP connections
    // open but silent, and their retransmission back-off grows to minutes): close it, so talking to
    // that member again takes a fresh dial, which works as soon as the network does.
    this.membership.subscribe((e) => {
      if (e.type === "member" && e.state === "dead" && backchannel.peer(e.name) !== undefined) backchannel.disconnect(e.name, "local", "member declared dead");
    });
    this.control = new ClusterControl({ identity, identityFile, backchannel, host: this.host, revocations, nodes: () => this.nodes() }, node);
  }

  /**
   * Starts the cluster part of a node, or returns null when the node has no identity (given or
   * stored). Throws SupError (IdentityFileError, listen-failed, membership-options) or ClusterStartError.
   */
  static start(store: Store, config: ClusterConfig, node: ClusterNode): NodeCluster | null {
    const stored = store.getSetting<string>(SETTING_IDENTITY);
    const file = config.identityFile !== undefined ? resolve(config.identityFile) : stored;
    if (file === undefined) {
      if (config.join !== undefined || config.listen !== undefined || config.advertise !== undefined) {
        throw new ClusterStartError(`Cannot ${config.join !== undefined ? "join a cluster" : "listen for the backchannel"} without an identity: give --identity FILE (made with sup identity issue)`);
      }
      return null;
    }
    const identity = new NodeIdentity(loadIdentityFile(file));
    const validity = validityAt(identity.cert, Date.now(), 0);
    if (validity !== "valid") {
      // Peers will refuse it (and say so); the node still serves alone, so this is a warning.
      const when = validity === "expired" ? `expired at ${new Date(identity.cert.notAfter).toISOString()}` : `is valid only from ${new Date(identity.cert.notBefore).toISOString()}`;
      log("warn", "node certificate is not valid now", { identity: file, detail: `certificate of "${identity.name}" ${when}` });
    }
    const storedCluster = store.getSetting<string>(SETTING_CLUSTER_ID);
    if (storedCluster !== undefined && storedCluster !== identity.clusterId) {
      throw new ClusterStartError(`Cannot start node with identity "${file}": it belongs to cluster ${identity.clusterId}, but this data directory's node is in cluster ${storedCluster}: use another --data directory`);
    }
    const listen = config.listen ?? store.getSetting<string>(SETTING_LISTEN) ?? `0.0.0.0:${DEFAULT_BACKCHANNEL_PORT}`;
    if (!isAddress(listen) && !/:0$/.test(listen)) throw new ClusterStartError(`Invalid backchannel address "${listen}": expected HOST:PORT`);
    const advertised = config.advertise ?? store.getSetting<string>(SETTING_ADVERTISE);
    if (advertised !== undefined && (!isAddress(advertised) || isUnspecifiedHost(splitAddress(advertised).host))) {
      throw new ClusterStartError(`Invalid --advertise address "${advertised}": expected the HOST:PORT peers can dial, e.g. 203.0.113.7:7000`);
    }
    const join = config.join ?? store.getSetting<string>(SETTING_JOIN);
    if (join !== undefined && !isAddress(join)) throw new ClusterStartError(`Invalid --join address "${join}": expected HOST:PORT, e.g. root.example.com:7000`);
    const { host, port } = splitAddress(listen);
    let cluster: NodeCluster | null = null;
    let unroutedLogSecond = 0;
    const revocations = new Revocations(store);
    const bc = Backchannel.start({
      identity,
      listen: { host, port },
      revoked: (sc) => revocations.reason(sc.cert.serial),
      onPeer: (p) => cluster?.host.peerUp(p.name, p.direction),
      onPeerLost: (p, cause) => cluster?.host.peerLost(p.name, cause === "local"),
      onMessage: (p, m) => {
        if (cluster === null || cluster.host.message(p.name, m)) return;
        // Counted always (sup_core_unrouted_messages_total); logged once a second at most, since a peer decides how many.
        const second = Math.floor(Date.now() / 1000);
        if (second === unroutedLogSecond) return;
        unroutedLogSecond = second;
        const head = m.items[0];
        log("warn", "backchannel message of unknown kind ignored", { peer: p.name, kind: head instanceof Sym ? head.name : "?" });
      },
      onClient: (c) => cluster?.control.clients.up(c),
      onClientLost: (c) => cluster?.control.clients.lost(c),
      onClientMessage: (c, m) => cluster?.control.clients.message(c, m),
    });
    const bound = bc.address!;
    const advertise = advertised ?? joinAddress(isUnspecifiedHost(bound.host) ? defaultAdvertisedHost() : bound.host, bound.port);
    try {
      cluster = new NodeCluster(identity, file, store, bc, advertise, node, join ?? null, revocations);
    } catch (e) {
      void bc.close();
      // The certificate allows more than member metadata carries (e.g. 32 roles against 16).
      if (e instanceof MembershipOptionsError) throw new ClusterStartError(`Cannot start node with identity "${file}": ${e.message.replace(/^Cannot start membership: /, "its member metadata is too large: ")}`);
      throw e;
    }
    const own = revocations.reason(identity.cert.serial);
    if (own !== null) cluster.control.logRevokedSelf(own);
    // Only a node that started is remembered, so a typo in a flag leaves the store as it was.
    store.putSetting(SETTING_IDENTITY, file);
    store.putSetting(SETTING_CLUSTER_ID, identity.clusterId);
    if (config.listen !== undefined) store.putSetting(SETTING_LISTEN, config.listen);
    if (config.advertise !== undefined) store.putSetting(SETTING_ADVERTISE, config.advertise);
    if (config.join !== undefined) store.putSetting(SETTING_JOIN, config.join);
    log("info", "backchannel listening", { name: identity.name, cluster: identity.clusterId, address: cluster.listenAddress(), advertise, join: join ?? "", incarnation: cluster.membership.core.self.incarnation });
    return cluster;
  }

  /** `host:port` the backchannel listens on. */
  listenAddress(): string | null {
    const a = this.backchannel.address;
    return a === null ? null : joinAddress(a.host, a.port);
  }

  /** What `sup status` shows. */
  status(): ClusterStatus {
    const members: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of this.membership.core.members()) members[m.state]!++;
    return {
      name: this.identity.name,
      clusterId: this.identity.clusterId,
      identityFile: this.identityFile,
      listen: this.listenAddress(),
      advertise: this.advertise,
      join: this.store.getSetting<string>(SETTING_JOIN) ?? null,
      peers: this.backchannel.peers().length,
      incarnation: this.membership.core.self.incarnation,
      members,
    };
  }

  /** Every member this node knows, itself included, sorted by name (`sup nodes --json`). */
  nodes(): MemberInfo[] {
    return this.membership.nodes();
  }

  /** Every member as the membership core holds it, sorted by name. */
  members(): MemberView[] {
    return this.membership.members();
  }

  /** Calls `listener` with every membership event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: MembershipEvent) => void): () => void {
    return this.membership.subscribe(listener);
  }

  /** The Prometheus text of the backchannel, the core host and membership. */
  metricsText(): string {
    return this.backchannel.metrics.render() + this.host.metrics.render() + this.membership.metricsText();
  }

  /**
   * Leaves the cluster and closes the backchannel: peers mark this node `left` at once. Bounded:
   * about LEAVE_FLUSH_MS for messages held for pending dials, then the backchannel's close flush.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.membership.leave(this.host);
      this.host.stop();
      this.control.stop();
      await this.backchannel.close();
    })();
    return this.stopping;
  }
}

/** The HTTP address peers should use: an unspecified host becomes the advertised backchannel host. */
function advertisedHttp(http: string | null, advertise: string): string {
  if (http === null) return "";
  const { host, port } = splitAddress(http);
  return isUnspecifiedHost(host) ? joinAddress(splitAddress(advertise).host, port) : http;
}

