/**
 * A node's membership: the MembershipCore (src/cluster) hosted on the node's CoreHost, told this
 * node's metadata and kept fresh with its load, its events logged and counted (membership-log.ts)
 * and handed to subscribers, and what a restart needs kept in the store: the peers it learned
 * (`cluster.peers`, [{name, address}]) and the last incarnation it used (`cluster.incarnation`).
 * A restart joins through the stored peers (and the stored --join target) at incarnation + 1.
 */
import { MembershipCore, Prng, SEEDS_MAX, shuffle, type MemberMeta, type MemberView, type MembershipEvent, type MembershipRequest } from "../cluster/mod.ts";
import type { CoreHandle, CoreHost } from "./core-host.ts";
import { LoadSampler } from "./load-sampler.ts";
import { memberInfo, type MemberInfo } from "./member-json.ts";
import { MembershipLog } from "./membership-log.ts";

/** How often this node's load and metadata are refreshed: stats ride on every message it sends. */
export const STATS_INTERVAL_MS = 1_000;

/** Member changes are written to the store at most this often (a join of many is one write). */
export const PEERS_SAVE_DELAY_MS = 1_000;

/** Peers kept in the store: far more than the SEEDS_MAX a restart dials, so some are alive. */
export const STORED_PEERS_MAX = 64;

/** How long a leaving node waits for its last messages to reach peers it was still dialing. */
export const LEAVE_FLUSH_MS = 1_000;

const SETTING_PEERS = "cluster.peers";
const SETTING_INCARNATION = "cluster.incarnation";

/** The settings part of the store. */
export interface SettingsStore {
  getSetting<T>(key: string): T | undefined;
  putSetting(key: string, value: unknown): void;
}

/** What membership reads from its node. */
export interface NodeFacts {
  /** Metadata now (certificate fields, addresses peers should use, kernel set, version). */
  meta(): MemberMeta;
  /** Requests in flight in the HTTP layer. */
  inFlight(): number;
  /** The change-log position (the store's sequence). */
  logPosition(): number;
}

/** A peer as the store keeps it. */
export interface StoredPeer {
  readonly name: string;
  readonly address: string;
}

/** See the file comment. */
export class NodeMembership {
  readonly core: MembershipCore;
  readonly handle: CoreHandle<MembershipRequest, MembershipEvent>;
  private readonly log: MembershipLog;
  private readonly sampler = new LoadSampler().start();
  private readonly refresher: ReturnType<typeof setInterval>;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private savedIncarnation: number;
  private savedPeersText = "";
  private savedPeers = 0;
  private meta: MemberMeta;
  private stopped = false;

  private readonly clock: () => number;

  constructor(
    host: CoreHost,
    private readonly store: SettingsStore,
    private readonly facts: NodeFacts,
    name: string,
    join: string | null,
  ) {
    this.clock = () => host.now();
    const stored = store.getSetting<number>(SETTING_INCARNATION);
    const incarnation = typeof stored === "number" && Number.isSafeInteger(stored) && stored >= 0 ? stored + 1 : 0;
    this.meta = facts.meta();
    this.core = new MembershipCore({ name, meta: this.meta, incarnation, now: host.now(), random: new Prng(crypto.getRandomValues(new Uint32Array(1))[0]!) });
    this.savedIncarnation = incarnation;
    const peers = storedPeers(store);
    this.savedPeersText = JSON.stringify(peers);
    this.savedPeers = peers.length;
    store.putSetting(SETTING_INCARNATION, incarnation);
    this.log = new MembershipLog(
      () => this.core.members(),
      () => this.core.self,
      () => this.core.healthScore,
    );
    this.handle = host.add(this.core);
    this.handle.subscribe((e) => this.observe(e));
    this.refresh();
    const seeds = joinSeeds(join, storedPeers(store), name, this.meta.backchannel);
    if (seeds.length > 0) this.handle.request({ type: "join", addresses: seeds });
    this.refresher = setInterval(() => this.refresh(), STATS_INTERVAL_MS);
    this.refresher.unref?.();
  }

  /** Every member this node knows, itself included, sorted by name. */
  members(): MemberView[] {
    return this.core.members().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** `sup nodes --json`. */
  nodes(): MemberInfo[] {
    const mono = this.clock();
    const wall = Date.now();
    const self = this.core.self.name;
    return this.members().map((m) => memberInfo(m, self, mono, wall));
  }

  /** Calls `listener` with every membership event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: MembershipEvent) => void): () => void {
    return this.handle.subscribe(listener);
  }

  /** The membership metrics in the Prometheus text format. */
  metricsText(): string {
    return this.log.render();
  }

  /**
   * Leaves gracefully: the core marks this node `left` under a new incarnation (kept in the store)
   * and sends the claim to its peers; resolves once the host holds no message for a pending dial,
   * or after LEAVE_FLUSH_MS. The backchannel's close then writes what is queued.
   */
  async leave(host: CoreHost): Promise<void> {
    this.stopTimers();
    this.handle.request({ type: "leave" });
    this.saveIncarnation();
    this.savePeers();
    await host.settle(LEAVE_FLUSH_MS);
  }

  /** Stops the timers (the host stops feeding the core). */
  stopTimers(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.refresher);
    if (this.saveTimer !== null) clearTimeout(this.saveTimer);
    this.sampler.stop();
  }

  private observe(e: MembershipEvent): void {
    this.log.observe(e);
    this.saveIncarnation();
    if (e.type !== "member" && e.type !== "updated" && e.type !== "removed" && e.type !== "joined") return;
    // Until the store holds enough peers for a restart to rejoin, every new one is kept at once: a
    // node killed a moment after joining must still find its way back without its --join target.
    if (this.savedPeers < SEEDS_MAX && (e.type === "joined" || (e.type === "member" && e.previous === null))) return this.savePeers();
    if (this.saveTimer === null && !this.stopped) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = null;
        this.savePeers();
      }, PEERS_SAVE_DELAY_MS);
    }
  }

  /** New load for the core, and new metadata when something changed (a kernel loaded, HTTP started). */
  private refresh(): void {
    const load = this.sampler.take();
    this.handle.request({ type: "update-stats", stats: { inflight: this.facts.inFlight(), lagMs: load.lagMs, cpuPermille: Math.min(load.cpuPermille, 1_000_000), logPosition: this.facts.logPosition() } });
    const meta = this.facts.meta();
    // Both are built by facts.meta() field by field in one order, so their JSON compares them.
    if (JSON.stringify(meta) !== JSON.stringify(this.meta)) {
      this.meta = meta;
      this.handle.request({ type: "update-meta", meta });
    }
  }

  private saveIncarnation(): void {
    const inc = this.core.self.incarnation;
    if (inc === this.savedIncarnation) return;
    this.savedIncarnation = inc;
    this.store.putSetting(SETTING_INCARNATION, inc);
  }

  private savePeers(): void {
    const rank = { alive: 0, suspect: 0, dead: 1, left: 2 } as const;
    const peers: StoredPeer[] = this.core
      .members()
      .filter((m) => m.name !== this.core.self.name && m.meta.backchannel !== "")
      .sort((a, b) => rank[a.state] - rank[b.state] || (a.name < b.name ? -1 : 1))
      .slice(0, STORED_PEERS_MAX)
      .map((m) => ({ name: m.name, address: m.meta.backchannel }));
    const text = JSON.stringify(peers);
    if (text === this.savedPeersText) return;
    this.store.putSetting(SETTING_PEERS, peers);
    this.savedPeersText = text;
    this.savedPeers = peers.length;
  }
}

/** The peers kept in the store (entries of the wrong shape are skipped). */
export function storedPeers(store: SettingsStore): StoredPeer[] {
  const raw = store.getSetting<unknown>(SETTING_PEERS);
  if (!Array.isArray(raw)) return [];
  return raw.filter((p): p is StoredPeer => typeof p === "object" && p !== null && typeof p.name === "string" && typeof p.address === "string");
}

/**
 * The addresses to join through: the --join target first, then stored peers in random order (so
 * restarting nodes do not all pile onto the same few), without this node, at most SEEDS_MAX.
 */
export function joinSeeds(join: string | null, peers: readonly StoredPeer[], self: string, selfAddress: string): string[] {
  const others = peers.filter((p) => p.name !== self && p.address !== selfAddress).map((p) => p.address);
  const seeds = new Set<string>(join !== null && join !== selfAddress ? [join] : []);
  for (const a of shuffle([...others], new Prng(crypto.getRandomValues(new Uint32Array(1))[0]!))) seeds.add(a);
  return [...seeds].slice(0, SEEDS_MAX);
}
