/**
 * The protocol-core contract every cluster protocol follows (membership now; change-log replication
 * and commands later): a deterministic state machine fed one input at a time, answering with the
 * effects its driver must carry out. A core owns its state and changes it only inside `step`; it
 * never opens a socket, reads a clock, sets a real timer or draws from Math.random: time arrives in
 * every input (`now`, milliseconds on the node's monotonic clock) and randomness from the seeded
 * `Random` its driver handed it. So the same inputs in the same order give the same effects, which
 * is what lets test/sim run a thousand of them in virtual time and replay any run from its seed.
 */
import { isList, Sym, type Value } from "../lang/value.ts";

/** A peer is named by the name in its certificate; the backchannel authenticated it. */
export type PeerName = string;

/** A source of uniform numbers in [0, 1); the driver seeds it (see prng.ts). */
export interface Random {
  next(): number;
}

/**
 * What a driver feeds a core. `now` is the node's own monotonic clock in milliseconds: cores only
 * ever compare it with earlier readings of the same clock, never with another node's.
 * - `tick`: a timer the core asked for came due (or any time: an early or late tick is harmless).
 * - `message`: a decoded message on this core's channel from an authenticated peer.
 * - `connected`: a backchannel connection to `peer` is up; `dialed` is the address the core asked
 *   to connect to when this is the answer to its `connect` effect, else null (an inbound one).
 * - `disconnected`: the connection is gone; `local` when this node closed it on purpose (an idle
 *   connection, shutting down), which says nothing about the peer's health.
 * - `connect-failed`: a `connect` effect failed (refused, timed out, handshake refused).
 * - `request`: something the node itself asks of the core (join, leave, new metadata…).
 */
export type CoreInput<R> =
  | { readonly type: "tick"; readonly now: number }
  | { readonly type: "message"; readonly now: number; readonly from: PeerName; readonly message: Value }
  | { readonly type: "connected"; readonly now: number; readonly peer: PeerName; readonly dialed: string | null }
  | { readonly type: "disconnected"; readonly now: number; readonly peer: PeerName; readonly local: boolean }
  | { readonly type: "connect-failed"; readonly now: number; readonly address: string; readonly reason: string }
  | { readonly type: "request"; readonly now: number; readonly request: R };

/**
 * What a core asks of its driver, in order.
 * - `send`: deliver `message` (an SLP value; the driver codec-encodes it) to `peer`, best effort: a
 *   core never assumes delivery. If the peer is not connected but a `connect` for it is pending,
 *   the driver holds the message until the connection is up (bounded) and drops it if the dial fails.
 * - `connect`: dial `address`; `peer` is the name expected there (null for a seed known only by
 *   address). The answer is a `connected` or `connect-failed` input.
 * - `timer`: tick this core at `at` (its own clock) at the latest; replaces any earlier timer.
 * - `emit`: an event for the node (logged, counted, given to subscribers), typed per core.
 */
export type CoreEffect<E> =
  | { readonly type: "send"; readonly to: PeerName; readonly message: Value }
  | { readonly type: "connect"; readonly address: string; readonly peer: PeerName | null }
  | { readonly type: "timer"; readonly at: number }
  | { readonly type: "emit"; readonly event: E };

/** A protocol core: R is its request type, E its event type. */
export interface ProtocolCore<R, E> {
  /** The symbol that heads every message of this core: `(channel version kind …)`; drivers route by it. */
  readonly channel: Sym;
  /** Applies one input and returns the effects to carry out, in order. Never throws on peer input. */
  step(input: CoreInput<R>): CoreEffect<E>[];
}

/** The channel symbol heading a message, or null when it is not a core message at all. */
export function messageChannel(message: Value): Sym | null {
  if (!isList(message) || message.items.length === 0) return null;
  const head = message.items[0]!;
  return head instanceof Sym ? head : null;
}
