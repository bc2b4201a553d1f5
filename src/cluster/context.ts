/**
 * What the membership core's parts (prober, syncer) share: the table, the configuration, the seeded
 * random source, this node's health score, and the way out (sending, emitting). Internal to the
 * cluster folder.
 */
import type { List, Value } from "../lang/value.ts";
import type { MembershipConfig } from "./config.ts";
import type { Random } from "./core.ts";
import type { MembershipEvent } from "./events.ts";
import type { MemberTable } from "./member-table.ts";
import type { MessageBody } from "./messages.ts";

/** Options of one send. */
export interface SendOptions {
  /** Piggyback queued gossip (default true; sync messages are big already and carry none). */
  readonly gossip?: boolean;
  /** Claims to carry first, outside the queue's retransmit accounting. */
  readonly extra?: readonly List[];
}

/** The shared state and outlets of one membership core. */
export interface CoreContext {
  readonly config: MembershipConfig;
  readonly random: Random;
  readonly table: MemberTable;
  readonly health: Health;
  /** The time of the input being handled. */
  readonly now: number;
  /**
   * Sends a message of `kind` with body `fields` to `to`, dialing it first if needed; false (and
   * nothing sent) when `to` cannot be reached now (no address, or its dials are backing off).
   */
  send(to: string, kind: MessageBody["kind"], fields: readonly Value[], options?: SendOptions): boolean;
  /** True when `to` is connected. */
  connected(to: string): boolean;
  /** Dials `peer` at `address` unless connected, dialing, or backing off. */
  dial(peer: string, address: string): void;
  /** True when a dial of `address` would start now. */
  canDial(address: string): boolean;
  emit(event: MembershipEvent): void;
}

/**
 * Lifeguard's local health multiplier: evidence that this node itself is slow (missed nacks,
 * refuting suspicions of itself, stalls) raises it, successful probes lower it, and this node's
 * probe timeouts and interval scale by (score + 1), so a struggling node accuses others slowly.
 */
export class Health {
  score = 0;
  constructor(private readonly max: number) {}

  /** Something suggests this node is the slow one. */
  worse(): void {
    this.score = Math.min(this.max, this.score + 1);
  }

  /** A probe went well. */
  better(): void {
    this.score = Math.max(0, this.score - 1);
  }

  /** The factor timeouts are multiplied by. */
  get scale(): number {
    return this.score + 1;
  }
}
