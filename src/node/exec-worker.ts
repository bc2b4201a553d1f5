/**
 * The exec worker: a Worker thread of a node that carries `(cluster/exec …)` to other nodes while
 * the node's main thread waits, blocked, for the answers (exec-worker-protocol.ts). It holds its own
 * Backchannel, dial-only, under the node's identity, and dials every target as a *client* (so the
 * targets serve it apart from their member connection to this node), and runs the very commands
 * core the node runs, hosted by a core host of its own: one run message per target, all at once,
 * answers gathered by the deadline, unreachable members reported at once. Connections are kept for
 * the next call and closed after IDLE_CONNECTION_MS without use.
 */
import { CommandsCore, Prng, type CommandResult, type CommandsEvent, type CommandsRequest } from "../cluster/mod.ts";
import { textFromLatin1 } from "../lang/value.ts";
import { log, setLogLevel, type LogLevel } from "../log.ts";
import { Backchannel, loadIdentityFile, NodeIdentity } from "../net/mod.ts";
import { CoreHost, type CoreHandle } from "./core-host.ts";
import { DONE_SLOT, HEADER_BYTES, LENGTH_SLOT, RESULTS_BYTES_MAX, type WorkerExec, type WorkerMessage, type WorkerResult } from "./exec-worker-protocol.ts";

/** A client connection unused this long is closed: a node that calls exec once an hour holds nothing. */
const IDLE_CONNECTION_MS = 60_000;

interface Running {
  readonly bc: Backchannel;
  readonly host: CoreHost;
  readonly commands: CoreHandle<CommandsRequest, CommandsEvent>;
  readonly header: Int32Array;
  readonly bytes: Uint8Array;
  readonly lastUsed: Map<string, number>;
  readonly setRevoked: (serials: ReadonlySet<string>) => void;
  /** The newest request: results of any other are dropped. */
  current: number;
}

let running: Running | null = null;
const port = globalThis as unknown as { onmessage: ((e: MessageEvent<WorkerMessage>) => void) | null };

port.onmessage = (e) => {
  const m = e.data;
  if (m.type === "init") return init(m.identityFile, m.sab, m.logLevel);
  if (m.type === "exec") return exec(m);
  void running?.bc.close();
  running?.host.stop();
  running = null;
};

function init(identityFile: string, sab: SharedArrayBuffer, level: LogLevel): void {
  setLogLevel(level);
  const identity = new NodeIdentity(loadIdentityFile(identityFile));
  let revoked: ReadonlySet<string> = new Set();
  let host: CoreHost | null = null;
  const bc = Backchannel.start({
    identity,
    revoked: (sc) => (revoked.has(sc.cert.serial) ? "revoked by an entry this node holds" : null),
    onMessage: (p, msg) => void host?.message(p.name, msg),
    onPeerLost: (p, cause) => host?.peerLost(p.name, cause === "local"),
  });
  host = new CoreHost({ dial: (h, p) => bc.dial(h, p, { client: true }), send: (peer, msg) => bc.send(peer, msg) });
  const core = new CommandsCore({ name: identity.name, now: performance.now(), random: new Prng(crypto.getRandomValues(new Uint32Array(1))[0]!) });
  const r: Running = {
    bc,
    host,
    commands: host.add(core),
    header: new Int32Array(sab, 0, 2),
    bytes: new Uint8Array(sab, HEADER_BYTES),
    lastUsed: new Map(),
    setRevoked: (serials) => (revoked = serials),
    current: 0,
  };
  r.commands.subscribe((ev) => {
    if (ev.type === "done" && ev.id === r.current) publish(r, ev.id, ev.results);
    else if (ev.type === "rejected") log("warn", "exec worker: commands message refused", { peer: ev.peer, reason: ev.reason });
  });
  setInterval(() => sweep(r), IDLE_CONNECTION_MS / 4).unref?.();
  running = r;
}

function exec(m: WorkerExec): void {
  const r = running;
  if (r === null) return;
  r.current = m.seq;
  r.setRevoked(new Set(m.revoked));
  const now = performance.now();
  for (const t of m.targets) r.lastUsed.set(t.name, now);
  r.commands.request({ type: "exec", id: m.seq, targets: m.targets, tenant: m.tenant, code: m.code, timeoutMs: m.timeoutMs });
}

/** Writes the results and wakes the main thread. */
function publish(r: Running, seq: number, results: readonly CommandResult[]): void {
  const out: WorkerResult[] = results.map((x) => {
    const o = x.outcome;
    const ms = Math.round(x.ms * 10) / 10;
    if (o.status === "ok") return { node: x.node, status: "ok", value: textFromLatin1(o.value), ms };
    if (o.status === "error") return { node: x.node, status: "error", error: textFromLatin1(o.error), ms };
    if (o.status === "unreachable") return { node: x.node, status: "unreachable", detail: o.detail, ms };
    return { node: x.node, status: "timeout", ms };
  });
  let encoded = new TextEncoder().encode(JSON.stringify(out));
  // Too big for the buffer: the longest values give way to an error saying so, until it fits.
  while (encoded.length > RESULTS_BYTES_MAX) {
    const i = out.reduce((best, x, j) => ((x.value?.length ?? 0) > (out[best]!.value?.length ?? 0) ? j : best), 0);
    const big = out[i]!;
    out[i] = { node: big.node, status: "error", error: `value of ${big.value?.length ?? 0} characters does not fit the exec results (${RESULTS_BYTES_MAX} bytes for all nodes)`, ms: big.ms };
    encoded = new TextEncoder().encode(JSON.stringify(out));
  }
  r.bytes.set(encoded);
  Atomics.store(r.header, LENGTH_SLOT, encoded.length);
  Atomics.store(r.header, DONE_SLOT, seq);
  Atomics.notify(r.header, DONE_SLOT);
}

function sweep(r: Running): void {
  const now = performance.now();
  for (const p of r.bc.peers()) {
    if (now - (r.lastUsed.get(p.name) ?? 0) > IDLE_CONNECTION_MS) {
      r.lastUsed.delete(p.name);
      r.bc.disconnect(p.name, "local", "idle exec connection");
    }
  }
}
