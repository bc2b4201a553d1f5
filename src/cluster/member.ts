/**
 * Members as the membership core knows them: state, incarnation, metadata (what a member says about
 * itself, changed only with a new incarnation) and stats (its load and log position, refreshed by
 * every message it sends). Also the precedence of claims: which of two statements about a member
 * is newer.
 */
import type { Suspicion } from "./suspicion.ts";

/** A member's state. `left` is a graceful leave (SIGTERM); `dead` a failure the cluster detected. */
export type MemberState = "alive" | "suspect" | "dead" | "left";

/** What a member says about itself; changed only together with a new incarnation. */
export interface MemberMeta {
  /** Its certificate's serial. */
  readonly serial: string;
  readonly roles: readonly string[];
  /** `[key, value]` pairs sorted by key, keys unique. */
  readonly labels: readonly (readonly [string, string])[];
  /** Backchannel address others dial (`host:port`), or "" when it only dials out. */
  readonly backchannel: string;
  /** HTTP address (`host:port`), or "" when it serves none. */
  readonly http: string;
  /** Its kernel set (`name` or `name@version`). */
  readonly kernels: readonly string[];
  /** Its sup version. */
  readonly version: string;
}

/** Load and progress a member reports in every message it sends; `seq` orders its reports. */
export interface MemberStats {
  /** Requests in flight. */
  readonly inflight: number;
  /** Event-loop lag in ms. */
  readonly lagMs: number;
  /** CPU use in permille of one core. */
  readonly cpuPermille: number;
  /** Change-log position (the replication layer's sequence). */
  readonly logPosition: number;
  /** The member's own report counter: a higher one is fresher. */
  readonly seq: number;
}

/** A member as others see it: what `sup nodes` shows. */
export interface MemberView {
  readonly name: string;
  readonly state: MemberState;
  readonly incarnation: number;
  readonly meta: MemberMeta;
  readonly stats: MemberStats;
  /** This node's clock when it last heard from the member directly, or null when it never did. */
  readonly lastHeardMs: number | null;
  /** This node's clock when the member entered its current state here. */
  readonly sinceMs: number;
}

/** Stats of a member that has reported nothing yet. */
export const EMPTY_STATS: MemberStats = { inflight: 0, lagMs: 0, cpuPermille: 0, logPosition: 0, seq: 0 };

/** The core's record of one member (mutable; only the core touches it). */
export class Member {
  suspicion: Suspicion | null = null;
  lastHeardMs: number | null = null;
  /** Position in the core's member list, for O(1) removal. */
  index = -1;
  /** When this node last sent it a sync because it spoke while we thought it dead. */
  lastDeadSyncMs = -Infinity;
  /** When this node last probed it early for a lost connection. */
  lastUrgentMs = -Infinity;
  /** When this node last told it (as a suspect) that it is suspected. */
  lastNoticeMs = -Infinity;

  constructor(
    readonly name: string,
    public incarnation: number,
    public state: MemberState,
    public meta: MemberMeta,
    public metaBytes: number,
    public stats: MemberStats,
    public sinceMs: number,
  ) {}

  /** A snapshot for callers outside the core. */
  view(): MemberView {
    return {
      name: this.name,
      state: this.state,
      incarnation: this.incarnation,
      meta: this.meta,
      stats: this.stats,
      lastHeardMs: this.lastHeardMs,
      sinceMs: this.sinceMs,
    };
  }

  /** True while the member takes part: probed, gossiped to, counted in N. */
  get live(): boolean {
    return this.state === "alive" || this.state === "suspect";
  }
}

/** Severity of a state at one incarnation: a worse state overrides a better one of the same incarnation. */
export const STATE_RANK: Readonly<Record<MemberState, number>> = { alive: 0, suspect: 1, dead: 2, left: 3 };

/** True when (incarnation a, state a) is newer than (b): a higher incarnation, or the same and a worse state. */
export function newerThan(incA: number, stateA: MemberState, incB: number, stateB: MemberState): boolean {
  return incA > incB || (incA === incB && STATE_RANK[stateA] > STATE_RANK[stateB]);
}

/** True when two metadata records say the same. */
export function sameMeta(a: MemberMeta, b: MemberMeta): boolean {
  if (a === b) return true;
  return (
    a.serial === b.serial &&
    a.backchannel === b.backchannel &&
    a.http === b.http &&
    a.version === b.version &&
    sameList(a.roles, b.roles) &&
    sameList(a.kernels, b.kernels) &&
    a.labels.length === b.labels.length &&
    a.labels.every(([k, v], i) => b.labels[i]![0] === k && b.labels[i]![1] === v)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
