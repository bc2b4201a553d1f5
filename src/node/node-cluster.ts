/**
 * A node's place in a cluster (issue 12's first join; membership proper is issue 13): it loads the
 * node identity, runs the Backchannel, dials its join target and the peers it learned (kept in the
 * store, so a restart with no flags reconnects), exchanges node-info and members messages, keeps
 * the member table from connection events, and says `leave` to every peer when it stops.
 *
 * Store settings: `cluster.identity` (absolute path of the identity file), `cluster.id`,
 * `cluster.listen` (`host:port`), `cluster.join` (`host:port`), `cluster.peers` ([{name, address}]).
 */
import { resolve } from "node:path";
import { SupError } from "../errors.ts";
import { log } from "../log.ts";
import type { List } from "../lang/value.ts";
import { Backchannel, loadIdentityFile, NodeIdentity, validityAt, type CloseCause, type PeerInfo } from "../net/mod.ts";
import type { Store } from "../store/mod.ts";
import { MemberTable, type Member } from "./members.ts";
import { PeerDialer } from "./peer-dialer.ts";
import { isAddress, leaveMessage, membersMessage, nodeInfoMessage, readPeerMessage, splitAddress } from "./peer-messages.ts";

/** The backchannel port when --listen is not given. */
export const DEFAULT_BACKCHANNEL_PORT = 7000;

const SETTING_IDENTITY = "cluster.identity";
const SETTING_CLUSTER_ID = "cluster.id";
const SETTING_LISTEN = "cluster.listen";
const SETTING_JOIN = "cluster.join";
const SETTING_PEERS = "cluster.peers";

/** The cluster part of a node's configuration (flags; the store fills in what is not given). */
export interface ClusterConfig {
  /** Identity file; when absent the stored one is used, and without either the node runs alone. */
  readonly identityFile?: string;
  /** `host:port` to listen on (default: stored, else 0.0.0.0:7000). */
  readonly listen?: string;
  /** `host:port` of a node to join (kept in the store). */
  readonly join?: string;
}

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
  readonly join: string | null;
  readonly peers: number;
}

/** See the file comment. */
export class NodeCluster {
  readonly members: MemberTable;
  private readonly dialer: PeerDialer;
  private readonly leaving = new Set<string>();
  private stopping = false;

  private constructor(
    readonly identity: NodeIdentity,
    readonly identityFile: string,
    private readonly store: Store,
    readonly backchannel: Backchannel,
    private readonly httpAddress: () => string | null,
  ) {
    this.members = new MemberTable(identity.cert);
    this.dialer = new PeerDialer(backchannel);
  }

  /**
   * Starts the cluster part of a node, or returns null when the node has no identity (given or
   * stored). Throws SupError (IdentityFileError, listen-failed) or ClusterStartError.
   */
  static start(store: Store, config: ClusterConfig, httpAddress: () => string | null): NodeCluster | null {
    const stored = store.getSetting<string>(SETTING_IDENTITY);
    const file = config.identityFile !== undefined ? resolve(config.identityFile) : stored;
    if (file === undefined) {
      if (config.join !== undefined || config.listen !== undefined) {
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
    const join = config.join ?? store.getSetting<string>(SETTING_JOIN);
    if (join !== undefined && !isAddress(join)) throw new ClusterStartError(`Invalid --join address "${join}": expected HOST:PORT, e.g. root.example.com:7000`);
    const { host, port } = splitAddress(listen);
    let cluster: NodeCluster | null = null;
    const bc = Backchannel.start({
      identity,
      listen: { host, port },
      onPeer: (p) => cluster?.peerUp(p),
      onPeerLost: (p, cause, detail) => cluster?.peerDown(p, cause, detail),
      onMessage: (p, m) => cluster?.message(p, m),
    });
    cluster = new NodeCluster(identity, file, store, bc, httpAddress);
    // Only a node that started is remembered, so a typo in a flag leaves the store as it was.
    store.putSetting(SETTING_IDENTITY, file);
    store.putSetting(SETTING_CLUSTER_ID, identity.clusterId);
    if (config.listen !== undefined) store.putSetting(SETTING_LISTEN, config.listen);
    if (config.join !== undefined) store.putSetting(SETTING_JOIN, config.join);
    cluster.members.setSelf(identity.name, cluster.listenAddress(), httpAddress());
    for (const p of store.getSetting<{ name: string; address: string }[]>(SETTING_PEERS) ?? []) {
      if (p.name === identity.name || !isAddress(p.address)) continue;
      cluster.members.known(p.name, p.address);
      cluster.dialer.add(p.address, p.name);
    }
    if (join !== undefined) cluster.dialer.add(join);
    log("info", "backchannel listening", { name: identity.name, cluster: identity.clusterId, address: cluster.listenAddress(), join: join ?? "" });
    return cluster;
  }

  /** `host:port` the backchannel listens on. */
  listenAddress(): string | null {
    const a = this.backchannel.address;
    return a === null ? null : `${a.host}:${a.port}`;
  }

  /** What `sup status` shows. */
  status(): ClusterStatus {
    return {
      name: this.identity.name,
      clusterId: this.identity.clusterId,
      identityFile: this.identityFile,
      listen: this.listenAddress(),
      join: this.store.getSetting<string>(SETTING_JOIN) ?? null,
      peers: this.backchannel.peers().length,
    };
  }

  /** Every member this node knows (itself first). */
  nodes(): Member[] {
    this.members.setSelf(this.identity.name, this.listenAddress(), this.httpAddress());
    return this.members.list().map((m) => ({ name: m.name, state: m.state, roles: m.roles, labels: m.labels, backchannel: m.backchannel, http: m.http, self: m.self, since: m.since }));
  }

  /** The backchannel's Prometheus text. */
  metricsText(): string {
    return this.backchannel.metrics.render();
  }

  /** Says `leave` to every peer, then closes the backchannel (queued messages are written first). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.dialer.stop();
    for (const p of this.backchannel.peers()) this.backchannel.send(p.name, leaveMessage());
    await this.backchannel.close();
  }

  private peerUp(p: PeerInfo): void {
    this.leaving.delete(p.name);
    this.members.up(p.cert);
    this.dialer.connected(p.name);
    const http = this.httpAddress() ?? "";
    this.backchannel.send(p.name, nodeInfoMessage(this.listenAddress() ?? "", http));
    this.backchannel.send(p.name, membersMessage(this.members.addressed().filter((m) => m.name !== p.name)));
  }

  private peerDown(p: PeerInfo, cause: CloseCause, detail: string): void {
    if (this.stopping) return;
    if (this.leaving.has(p.name)) {
      this.members.left(p.name);
      this.dialer.left(p.name);
      log("info", "peer left", { name: p.name });
    } else {
      this.members.down(p.name);
      this.dialer.lost(p.name);
      log("warn", "peer lost", { name: p.name, cause, detail });
    }
  }

  private message(p: PeerInfo, msg: List): void {
    const m = readPeerMessage(msg);
    switch (m.kind) {
      case "node-info": {
        const bc = this.seenAt(p, m.backchannel);
        this.members.addresses(p.name, bc, m.http === "" ? null : this.seenAt(p, m.http));
        this.dialer.add(bc, p.name);
        this.savePeers();
        return;
      }
      case "members":
        for (const other of m.members) {
          if (other.name === this.identity.name) continue;
          this.members.known(other.name, other.address);
          if (this.backchannel.peer(other.name) === undefined) this.dialer.add(other.address, other.name);
        }
        this.savePeers();
        return;
      case "leave":
        this.leaving.add(p.name);
        this.members.left(p.name);
        this.dialer.left(p.name);
        return;
      case "unknown":
        log("warn", "backchannel message of unknown kind ignored", { peer: p.name, kind: m.name });
        return;
      case "malformed":
        log("warn", "malformed backchannel message ignored", { peer: p.name, detail: m.why });
        return;
    }
  }

  /** An advertised address with an unspecified host (0.0.0.0, ::) becomes the host the peer is seen at. */
  private seenAt(p: PeerInfo, advertised: string): string {
    const { host, port } = splitAddress(advertised);
    if (host !== "0.0.0.0" && host !== "::" && host !== "") return advertised;
    const ip = p.address.slice(0, p.address.lastIndexOf(":"));
    return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
  }

  private savePeers(): void {
    const peers = this.members.addressed();
    const before = JSON.stringify(this.store.getSetting(SETTING_PEERS) ?? []);
    if (JSON.stringify(peers) !== before) this.store.putSetting(SETTING_PEERS, peers);
  }
}
