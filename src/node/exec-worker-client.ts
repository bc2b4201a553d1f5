/**
 * The main thread's end of the exec worker (exec-worker.ts, exec-worker-protocol.ts): starts it on
 * first use (or ahead, `warm`), posts a request, and later blocks in Atomics.wait until the worker
 * publishes that request's results or the caller's deadline passes. A worker that failed is
 * started again on the next request; until then every wait simply times out.
 */
import { log, logEnabled, type LogLevel } from "../log.ts";
import type { CommandTarget } from "../cluster/mod.ts";
import { BUILD_INFO } from "../kernel/embedded.ts";
import { DONE_SLOT, HEADER_BYTES, LENGTH_SLOT, RESULTS_BYTES_MAX, type WorkerExec, type WorkerInit, type WorkerResult } from "./exec-worker-protocol.ts";

/**
 * Where the worker's module is: beside this file from source; in a compiled binary, the entry point
 * the build added for it, named by its path under the entry points' common folder (src/).
 */
function workerUrl(): string {
  return BUILD_INFO !== null ? "./node/exec-worker.ts" : new URL("./exec-worker.ts", import.meta.url).href;
}

/** The level this thread logs at, for the worker to log at too. */
function logLevel(): LogLevel {
  return (["debug", "info", "warn", "error"] as const).find((l) => logEnabled(l)) ?? "error";
}

/** See the file comment. */
export class ExecWorker {
  private worker: Worker | null = null;
  private sab: SharedArrayBuffer | null = null;
  private header: Int32Array | null = null;
  private seq = 0;

  constructor(private readonly identityFile: string) {}

  /** Starts the worker now, so the first exec does not pay for its start. */
  warm(): void {
    if (this.worker !== null) return;
    this.sab ??= new SharedArrayBuffer(HEADER_BYTES + RESULTS_BYTES_MAX);
    this.header ??= new Int32Array(this.sab, 0, 2);
    const w = new Worker(workerUrl());
    w.addEventListener("error", (e) => {
      log("error", "exec worker failed; it is started again on the next exec", { error: e.message });
      if (this.worker === w) this.worker = null;
      w.terminate();
    });
    // The worker must not keep a stopping node alive.
    w.unref();
    const init: WorkerInit = { type: "init", identityFile: this.identityFile, sab: this.sab, logLevel: logLevel() };
    w.postMessage(init);
    this.worker = w;
  }

  /** Sends one exec to the worker; its number, for `collect`. */
  post(targets: readonly CommandTarget[], tenant: string, code: string, timeoutMs: number, revoked: readonly string[]): number {
    this.warm();
    const seq = ++this.seq;
    const m: WorkerExec = { type: "exec", seq, targets, tenant, code, timeoutMs, revoked };
    this.worker!.postMessage(m);
    return seq;
  }

  /**
   * Blocks this thread until the worker has published request `seq`'s results, or until `until`
   * (performance.now() time) at the latest: the results, or null when they did not come in time.
   */
  collect(seq: number, until: number): WorkerResult[] | null {
    const h = this.header!;
    for (;;) {
      const done = Atomics.load(h, DONE_SLOT);
      if (done === seq) break;
      const left = until - performance.now();
      if (left <= 0) return null;
      Atomics.wait(h, DONE_SLOT, done, left);
    }
    const length = Atomics.load(h, LENGTH_SLOT);
    // Copied out first: TextDecoder does not read shared memory.
    const text = new TextDecoder().decode(new Uint8Array(this.sab!, HEADER_BYTES, length).slice());
    return JSON.parse(text) as WorkerResult[];
  }

  /** Stops the worker (its connections close with it). */
  stop(): void {
    this.worker?.postMessage({ type: "stop" });
    this.worker?.terminate();
    this.worker = null;
  }
}
