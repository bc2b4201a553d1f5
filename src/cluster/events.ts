/**
 * What the membership core tells its node: state changes (logged, counted in metrics, given to SLP
 * subscribers), and the diagnostics a node logs (refused input, stalls, refutations).
 */
import type { MemberMeta, MemberState, MemberStats } from "./member.ts";
import type { MemberRecord } from "./messages.ts";

/** An event of the membership core. */
export type MembershipEvent =
  /** A member entered `state` (`previous` null: first heard of). */
  | { readonly type: "member"; readonly name: string; readonly previous: MemberState | null; readonly state: MemberState; readonly incarnation: number }
  /** A member announced new metadata without changing state. */
  | { readonly type: "updated"; readonly name: string; readonly incarnation: number }
  /** A dead or left member was forgotten (retention over, or room needed for a new one). */
  | { readonly type: "removed"; readonly name: string }
  /** Someone claimed this node `claim`; it answered with a higher incarnation. */
  | { readonly type: "refuted"; readonly claim: MemberState; readonly incarnation: number }
  /** This node's join was answered: it has the cluster's member list from `peer`. */
  | { readonly type: "joined"; readonly peer: string }
  /** This node was stalled for `lagMs` (its timers ran late); the lost time did not count against peers. */
  | { readonly type: "stalled"; readonly lagMs: number }
  /** Input was refused: a malformed or over-limit message, a full member table, a bad local request. */
  | { readonly type: "rejected"; readonly peer: string; readonly reason: string };

/** What a local request can ask of the membership core. */
export type MembershipRequest =
  /** Join the cluster through any of these backchannel addresses (kept and retried while alone). */
  | { readonly type: "join"; readonly addresses: readonly string[] }
  /** Leave gracefully: every member marks this node `left`. The core is inert afterwards. */
  | { readonly type: "leave" }
  /** New metadata for this node (announced with a new incarnation). */
  | { readonly type: "update-meta"; readonly meta: MemberMeta }
  /** New load and log position (carried in every message this node sends). */
  | { readonly type: "update-stats"; readonly stats: Omit<MemberStats, "seq"> }
  /**
   * Members remembered from an earlier run (the node's store) or handed over by a bootstrapper:
   * unknown ones are added as recorded, without gossip; probes and sync then confirm or correct them.
   */
  | { readonly type: "restore"; readonly records: readonly MemberRecord[] };
