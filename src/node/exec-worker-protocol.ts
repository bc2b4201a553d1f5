/**
 * What the node's main thread and its exec worker (exec-worker.ts) say to each other. Requests go
 * by postMessage; results come back through one SharedArrayBuffer, because the main thread is
 * blocked in Atomics.wait while it waits for them and runs no event loop that could receive a
 * message. The buffer has one writer (the worker) and one reader (the main thread):
 *
 *   Int32 [0] DONE     the request number whose results the buffer holds (the worker stores it
 *                      last, with Atomics.store, and notifies; the main thread waits on it)
 *   Int32 [1] LENGTH   bytes of the results' JSON text at offset HEADER_BYTES
 *
 * The main thread sends request n only after it has given up on, or read, request n-1, and the
 * worker drops a request as soon as a newer one arrives, so results are never overwritten while
 * they are read; a late result for an older request carries its old number and is not taken.
 */
import type { CommandTarget } from "../cluster/mod.ts";
import type { LogLevel } from "../log.ts";

/** Header bytes before the results text (two Int32 slots, padded). */
export const HEADER_BYTES = 16;
export const DONE_SLOT = 0;
export const LENGTH_SLOT = 1;

/**
 * Largest results text the worker hands back: 64 nodes' values of EXEC_VALUE_BYTES_MAX, as JSON.
 * Results that would not fit have their longest values replaced by an error that says so.
 */
export const RESULTS_BYTES_MAX = 4 * 1024 * 1024;

/** The first message: who the worker dials as, and where results go. */
export interface WorkerInit {
  readonly type: "init";
  readonly identityFile: string;
  readonly sab: SharedArrayBuffer;
  readonly logLevel: LogLevel;
}

/** One exec: the remote targets (never this node), the program (latin1) and the worker's deadline. */
export interface WorkerExec {
  readonly type: "exec";
  readonly seq: number;
  readonly targets: readonly CommandTarget[];
  readonly tenant: string;
  readonly code: string;
  readonly timeoutMs: number;
  /** Serials of revoked certificates: the worker refuses to talk to them. */
  readonly revoked: readonly string[];
}

export type WorkerMessage = WorkerInit | WorkerExec | { readonly type: "stop" };

/** One node's result as the worker writes it (texts as JS text). */
export interface WorkerResult {
  readonly node: string;
  readonly status: "ok" | "error" | "timeout" | "unreachable";
  readonly value?: string;
  readonly error?: string;
  readonly detail?: string;
  readonly ms: number;
}
