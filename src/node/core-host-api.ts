/**
 * The core host's public shapes: what it needs of a transport (the Backchannel, or a test's fake),
 * the clock it runs on, and the handle a hosted core's owner holds.
 */
import type { ProtocolCore } from "../cluster/mod.ts";
import type { List } from "../lang/value.ts";

/** What the host needs of a backchannel; the real Backchannel satisfies it, tests use a fake. */
export interface CoreTransport {
  /** Resolves with the authenticated peer; rejects (a DialError for a handshake refusal) on failure. */
  dial(host: string, port: number): Promise<{ readonly name: string }>;
  /** Queues a message; never blocks. */
  send(peer: string, msg: List): "sent" | "full" | "closed" | "no-peer";
}

/** Clock and timers; real ones by default. */
export interface HostClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: performance.now and setTimeout. */
export const REAL_CLOCK: HostClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A core as its owner sees it once hosted: requests in, events out. */
export interface CoreHandle<R, E> {
  readonly core: ProtocolCore<R, E>;
  /** Feeds the core a local request now. */
  request(request: R): void;
  /** Calls `listener` for every event the core emits from now on; returns the unsubscribe function. */
  subscribe(listener: (event: E) => void): () => void;
}

