/**
 * The Backchannel: a listener and a dialer of authenticated, encrypted connections, keyed by the
 * peer's certificate name. One connection per peer name: a name that connects under another key
 * is refused (name-conflict); when two nodes dial each other at once, both keep the connection
 * dialed by the node whose name sorts first, and a peer that dials again replaces its old
 * connection. Callbacks report authenticated peers, their messages and their loss; `send` queues
 * with backpressure. A connection whose dialer declared itself a *client* in the handshake (an
 * operator's CLI, a node's exec worker) is kept apart: numbered, never keyed by name (so it can
 * neither replace nor conflict with a member's connection, even under the same certificate), and
 * reported through the client callbacks only; without `onClientMessage` clients are refused. Before authentication every connection is bounded in number (total and per
 * source address), in time (handshake deadline) and in bytes (handshake frame size).
 */
import type { Socket, TCPSocketListener } from "bun";
import { SupError } from "../errors.ts";
import { log } from "../log.ts";
import type { List } from "../lang/value.ts";
import type { SignedCertificate } from "./certificate.ts";
import { DEFAULT_REKEY_LIMITS } from "./channel.ts";
import { Connection, type ConnectionHost, type ConnectionLimits, type PeerInfo, type SendResult } from "./connection.ts";
import { HandshakeError } from "./errors.ts";
import type { Established, HandshakeContext } from "./handshake.ts";
import type { CertCheck, NodeIdentity } from "./identity.ts";
import * as L from "./limits.ts";
import { BackchannelMetrics, type CloseCause } from "./metrics.ts";
import { RefusalLog } from "./refusal-log.ts";
import { SUITES, type SuiteName } from "./suite.ts";

/** Every limit a Backchannel enforces (defaults from limits.ts; tests lower some). */
export interface BackchannelLimits extends ConnectionLimits {
  readonly pendingMax: number;
  readonly clientsMax: number;
  readonly pendingPerAddressMax: number;
  readonly skewMs: number;
  readonly certRecheckMs: number;
}

export const DEFAULT_LIMITS: BackchannelLimits = {
  ...DEFAULT_REKEY_LIMITS,
  handshakeMs: L.HANDSHAKE_MS_MAX,
  handshakeFrameBytesMax: L.HANDSHAKE_FRAME_BYTES_MAX,
  frameBytesMax: L.FRAME_BYTES_MAX,
  sendQueueBytesMax: L.SEND_QUEUE_BYTES_MAX,
  sendQueueBytesLow: L.SEND_QUEUE_BYTES_LOW,
  pendingMax: L.PENDING_CONNECTIONS_MAX,
  clientsMax: L.CLIENT_CONNECTIONS_MAX,
  pendingPerAddressMax: L.PENDING_PER_ADDRESS_MAX,
  skewMs: L.CLOCK_SKEW_MS,
  certRecheckMs: L.CERT_RECHECK_MS,
};

/** How long close() lets connections write what they queued (a leave message) before cutting them. */
const CLOSE_FLUSH_MS = 2_000;

/** How to start a Backchannel. */
export interface BackchannelOptions {
  readonly identity: NodeIdentity;
  /** Where to accept connections; omitted: dial only. Port 0 picks a free port. */
  readonly listen?: { readonly host: string; readonly port: number };
  /** Frame cipher suites in order of preference (default: aes256gcm, then secretbox). */
  readonly suites?: readonly SuiteName[];
  readonly limits?: Partial<BackchannelLimits>;
  /** Wall clock for certificate validity (default Date.now). */
  readonly now?: () => number;
  /** Revocation hook, asked in every handshake and at every recheck: a reason to refuse, or null. */
  revoked?(peer: SignedCertificate): string | null;
  /** A peer authenticated (again, after a replaced connection). */
  onPeer?(peer: PeerInfo): void;
  /** A peer's connection ended and no other replaced it. */
  onPeerLost?(peer: PeerInfo, cause: CloseCause, detail: string): void;
  /** A message from a peer: a `(kind version …)` list (anything else arrives wrapped in a list). */
  onMessage?(peer: PeerInfo, msg: List): void;
  /** A client authenticated (only when `onClientMessage` is given: otherwise clients are refused). */
  onClient?(client: ClientInfo): void;
  /** A client's connection ended. */
  onClientLost?(client: ClientInfo, cause: CloseCause, detail: string): void;
  /** A message from a client, as for onMessage. */
  onClientMessage?(client: ClientInfo, msg: List): void;
}

/** A client connection: its number (the key of per-client calls, never reused) and its peer. */
export interface ClientInfo {
  readonly id: number;
  readonly peer: PeerInfo;
}

/** How to dial. */
export interface DialOptions {
  /** Declare this side a client (an operator's tool), not a member; see the file comment. */
  readonly client?: boolean;
}

/** The dial could not connect, or the peer refused or failed the handshake. */
export class DialError extends SupError {
  constructor(
    readonly address: string,
    message: string,
    readonly handshake: HandshakeError | null,
  ) {
    super("dial-failed", message);
  }
}

interface Slot {
  conn: Connection | null;
  readonly dial?: { resolve: (p: PeerInfo) => void; reject: (e: DialError) => void; address: string; client: boolean };
}

/** See the file comment. */
export class Backchannel implements ConnectionHost {
  readonly metrics = new BackchannelMetrics();
  readonly limits: BackchannelLimits;
  private listener: TCPSocketListener<Slot> | null = null;
  private readonly byName = new Map<string, Connection>();
  private readonly clientConns = new Map<number, Connection>();
  private readonly clientIdOf = new WeakMap<Connection, number>();
  private clientIds = 0;
  private readonly all = new Set<Connection>();
  private readonly pendingByIp = new Map<string, number>();
  private pendingIn = 0;
  private readonly slots = new WeakMap<Connection, Slot>();
  private readonly recheckTimer: ReturnType<typeof setInterval>;
  private readonly now: () => number;
  private readonly suites: readonly SuiteName[];
  private readonly refusals = new RefusalLog();
  private closing = false;

  private constructor(private readonly options: BackchannelOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.now = options.now ?? Date.now;
    this.suites = options.suites ?? SUITES;
    this.metrics.gauges = () => ({ pending: [...this.all].filter((c) => c.state === "handshake").length, peers: this.byName.size, clients: this.clientConns.size, queuedBytes: [...this.byName.values(), ...this.clientConns.values()].reduce((n, c) => n + c.queuedBytes, 0) });
    this.recheckTimer = setInterval(() => this.recheck(), this.limits.certRecheckMs);
    this.recheckTimer.unref?.();
  }

  /** Starts a backchannel, listening when `listen` is given; throws SupError when it cannot bind. */
  static start(options: BackchannelOptions): Backchannel {
    const bc = new Backchannel(options);
    if (options.listen !== undefined) {
      try {
        bc.listener = Bun.listen<Slot>({ hostname: options.listen.host, port: options.listen.port, socket: bc.handlers("in") });
      } catch (e) {
        clearInterval(bc.recheckTimer);
        throw new SupError("listen-failed", `Cannot listen for the backchannel on "${options.listen.host}:${options.listen.port}": ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return bc;
  }

  /** The address being listened on, or null. */
  get address(): { host: string; port: number } | null {
    return this.listener === null ? null : { host: this.listener.hostname, port: this.listener.port };
  }

  /** This node's identity. */
  get identity(): NodeIdentity {
    return this.options.identity;
  }

  /** Dials `host:port` and resolves with the peer once the handshake is done. */
  dial(host: string, port: number, options: DialOptions = {}): Promise<PeerInfo> {
    const address = `${host}:${port}`;
    if (this.closing) return Promise.reject(new DialError(address, `Cannot dial "${address}": the backchannel is closed`, null));
    return new Promise((resolve, reject) => {
      const slot: Slot = { conn: null, dial: { resolve, reject, address, client: options.client === true } };
      Bun.connect<Slot>({ hostname: host, port, data: slot, socket: this.handlers("out") }).catch((e: unknown) => {
        reject(new DialError(address, `Cannot connect to "${address}": ${e instanceof Error ? e.message : String(e)}`, null));
      });
    });
  }

  /** Queues a message to a peer: "sent", "full" (wait for drained), "closed", or "no-peer". */
  send(peer: string, msg: List): SendResult | "no-peer" {
    const c = this.byName.get(peer);
    if (c === undefined) return "no-peer";
    const r = c.send(msg);
    if (r === "full") this.metrics.sendQueueFull++;
    return r;
  }

  /** Resolves when the peer's send queue has room again; rejects when it is not connected. */
  drained(peer: string): Promise<void> {
    const c = this.byName.get(peer);
    return c === undefined ? Promise.reject(new Error(`peer "${peer}" is not connected`)) : c.drained();
  }

  /** Queues a message to a client: as `send`, or "no-client" when it is gone. */
  sendClient(id: number, msg: List): SendResult | "no-client" {
    const c = this.clientConns.get(id);
    if (c === undefined) return "no-client";
    const r = c.send(msg);
    if (r === "full") this.metrics.sendQueueFull++;
    return r;
  }

  /** The connected clients. */
  clients(): ClientInfo[] {
    return [...this.clientConns].map(([id, c]) => ({ id, peer: c.peer! }));
  }

  /** Closes a client's connection (after writing what is queued to it). */
  disconnectClient(id: number, cause: CloseCause = "local", detail = "closed by this node"): void {
    this.clientConns.get(id)?.close(cause, detail, true);
  }

  /** The authenticated peers. */
  peers(): PeerInfo[] {
    return [...this.byName.values()].map((c) => c.peer!);
  }

  /** One authenticated peer by name. */
  peer(name: string): PeerInfo | undefined {
    return this.byName.get(name)?.peer ?? undefined;
  }

  /** Completed rekeys on a peer's current connection (tests, diagnostics). */
  rekeysOf(name: string): number {
    return this.byName.get(name)?.rekeys ?? 0;
  }

  /** Closes a peer's connection (after writing what is queued to it). */
  disconnect(name: string, cause: CloseCause = "local", detail = "closed by this node"): void {
    this.byName.get(name)?.close(cause, detail, true);
  }

  /** Closes connections whose certificate has expired or been revoked since they were made. */
  recheck(): void {
    for (const c of [...this.byName.values(), ...this.clientConns.values()]) {
      const sc = c.peer!.signed;
      const check = this.options.identity.checkPeer(sc, this.now(), this.limits.skewMs);
      const revoked = check.ok ? this.options.revoked?.(sc) ?? null : null;
      if (!check.ok || revoked !== null) {
        const detail = check.ok ? `certificate of "${sc.cert.name}" is revoked: ${revoked}` : check.detail;
        log("warn", "backchannel peer dropped", { peer: c.address, name: sc.cert.name, reason: check.ok ? "revoked" : check.reason, detail });
        c.close("cert-recheck", detail, false);
      }
    }
  }

  /** Stops listening and closes every connection, letting each write what it has queued first. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.recheckTimer);
    // Stop accepting only: stop(true) would cut accepted connections before they say goodbye.
    this.listener?.stop(false);
    const open = [...this.all];
    for (const c of open) c.close("local", "this node is stopping", true);
    const flushed = Promise.all(open.map((c) => c.done));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([flushed.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), CLOSE_FLUSH_MS)))]);
    clearTimeout(timer);
    if (late) for (const c of open) if (c.state !== "closed") c.socket.terminate();
    this.listener?.stop(true);
  }

  // --------------------------------------------------------------------------------------------
  // Sockets

  private handlers(direction: "in" | "out"): Bun.SocketHandler<Slot> {
    return {
      binaryType: "uint8array",
      open: (socket) => this.opened(socket, direction),
      data: (socket, chunk) => socket.data?.conn?.onData(chunk),
      drain: (socket) => socket.data?.conn?.onDrain(),
      close: (socket) => this.socketClosed(socket),
      error: (socket) => this.socketClosed(socket),
      connectError: (socket, error) => {
        const d = socket.data?.dial;
        d?.reject(new DialError(d.address, `Cannot connect to "${d.address}": ${error.message}`, null));
      },
    };
  }

  private opened(socket: Socket<Slot>, direction: "in" | "out"): void {
    const address = `${socket.remoteAddress}:${socket.remotePort}`;
    if (direction === "in") {
      if (this.closing) return void socket.terminate();
      const ip = socket.remoteAddress;
      const fromIp = this.pendingByIp.get(ip) ?? 0;
      if (this.pendingIn >= this.limits.pendingMax || fromIp >= this.limits.pendingPerAddressMax) {
        const which = this.pendingIn >= this.limits.pendingMax ? `${this.limits.pendingMax} unauthenticated connections in total` : `${this.limits.pendingPerAddressMax} unauthenticated connections from ${ip}`;
        this.metrics.failed("too-many-pending", false);
        this.refusals.warn("backchannel connection refused", { peer: address, reason: "too-many-pending", detail: `already ${which}` });
        socket.terminate();
        return;
      }
      this.pendingIn++;
      this.pendingByIp.set(ip, fromIp + 1);
      socket.data = { conn: null };
      this.metrics.connectionsOpened.in++;
    } else this.metrics.connectionsOpened.out++;
    socket.setNoDelay(true);
    const slot = socket.data;
    const conn = new Connection(this, socket, direction, address, slot.dial?.client === true);
    conn.countedPending = direction === "in";
    slot.conn = conn;
    this.slots.set(conn, slot);
    this.all.add(conn);
  }

  private socketClosed(socket: Socket<Slot>): void {
    const conn = socket.data?.conn;
    if (conn === null || conn === undefined || conn.state === "closed" && !this.all.has(conn)) return;
    const wasPending = conn.state === "handshake";
    conn.onClose();
    if (wasPending) this.unpend(conn);
    this.all.delete(conn);
    this.slots.get(conn)?.dial?.reject(new DialError(conn.address, `Connection to "${conn.address}" closed before the handshake finished`, null));
  }

  private unpend(conn: Connection): void {
    if (!conn.countedPending) return;
    conn.countedPending = false;
    this.pendingIn--;
    const ip = conn.remoteIp;
    const n = (this.pendingByIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.pendingByIp.delete(ip);
    else this.pendingByIp.set(ip, n);
  }

  // --------------------------------------------------------------------------------------------
  // ConnectionHost

  handshakeContext(client: boolean): HandshakeContext {
    return {
      identity: this.options.identity,
      suites: this.suites,
      now: this.now,
      skewMs: this.limits.skewMs,
      revoked: this.options.revoked === undefined ? undefined : (sc) => this.options.revoked!(sc),
      admit: (sc, peerIsClient) => (client ? { ok: true } : peerIsClient ? this.admitClient() : this.admit(sc)),
      client,
    };
  }

  /** A client is not a member: no name rules apply to it, only room. */
  private admitClient(): CertCheck {
    if (this.options.onClientMessage === undefined) return { ok: false, reason: "no-clients", detail: "this side does not accept clients" };
    if (this.clientConns.size >= this.limits.clientsMax) return { ok: false, reason: "too-many-clients", detail: `already ${this.limits.clientsMax} clients connected` };
    return { ok: true };
  }

  private admit(sc: SignedCertificate): CertCheck {
    const name = sc.cert.name;
    const me = this.options.identity;
    const sameKey = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(b);
    if (name === me.name) {
      return sameKey(sc.cert.publicKey, me.cert.publicKey)
        ? { ok: false, reason: "self", detail: `connected to itself ("${name}")` }
        : { ok: false, reason: "name-conflict", detail: `peer claims this node's own name "${name}" under another key` };
    }
    const current = this.byName.get(name);
    if (current !== undefined && !sameKey(current.peer!.cert.publicKey, sc.cert.publicKey)) {
      return { ok: false, reason: "name-conflict", detail: `name "${name}" is already connected under another key (from ${current.address})` };
    }
    return { ok: true };
  }

  established(conn: Connection, est: Established): boolean {
    this.unpend(conn);
    if (est.peerIsClient) return this.clientEstablished(conn);
    const name = est.peer.cert.name;
    const dial = this.slots.get(conn)?.dial;
    const current = this.byName.get(name);
    if (current !== undefined && current !== conn) {
      // Another connection to the same peer finished meanwhile: both sides keep the same one.
      const keepNew = current.direction === conn.direction || (conn.direction === "out") === this.options.identity.name < name;
      if (!keepNew) {
        dial?.resolve(current.peer!);
        conn.close("replaced", "a simultaneous connection to the same peer is kept instead", true);
        return false;
      }
      this.byName.set(name, conn);
      current.close("replaced", "replaced by a newer connection from the same peer", true);
    } else this.byName.set(name, conn);
    this.metrics.handshakesOk++;
    log("info", "backchannel peer connected", { peer: conn.address, name, direction: conn.direction, suite: est.keys.suite });
    this.callback(() => this.options.onPeer?.(conn.peer!));
    dial?.resolve(conn.peer!);
    return conn.state === "open";
  }

  private clientEstablished(conn: Connection): boolean {
    const id = ++this.clientIds;
    this.clientConns.set(id, conn);
    this.clientIdOf.set(conn, id);
    this.metrics.handshakesOk++;
    log("info", "backchannel client connected", { peer: conn.address, name: conn.peer!.name, id });
    this.callback(() => this.options.onClient?.({ id, peer: conn.peer! }));
    return conn.state === "open";
  }

  failed(conn: Connection, error: HandshakeError): void {
    this.unpend(conn);
    this.metrics.failed(error.reason, error.byPeer);
    if (!(error.reason === "closed" && conn.direction === "in")) {
      this.refusals.warn(error.byPeer ? "backchannel handshake refused by peer" : "backchannel handshake refused", { peer: conn.address, direction: conn.direction, reason: error.reason, detail: error.detail });
    }
    const dial = this.slots.get(conn)?.dial;
    dial?.reject(new DialError(conn.address, `Cannot join "${dial.address}": ${error.message}`, error));
  }

  message(conn: Connection, msg: List): void {
    if (conn.peer!.client) {
      const id = this.clientIdOf.get(conn)!;
      if (this.clientConns.get(id) === conn) this.callback(() => this.options.onClientMessage?.({ id, peer: conn.peer! }, msg));
      return;
    }
    if (this.byName.get(conn.peer!.name) !== conn) return;
    this.callback(() => this.options.onMessage?.(conn.peer!, msg));
  }

  closed(conn: Connection, cause: CloseCause, detail: string): void {
    this.metrics.closedBy(cause);
    const peer = conn.peer!;
    if (peer.client) {
      const id = this.clientIdOf.get(conn)!;
      log(cause === "local" || cause === "peer-closed" ? "info" : "warn", "backchannel client closed", { peer: conn.address, name: peer.name, id, cause, detail });
      if (this.clientConns.get(id) !== conn) return;
      this.clientConns.delete(id);
      this.callback(() => this.options.onClientLost?.({ id, peer }, cause, detail));
      return;
    }
    const current = this.byName.get(peer.name) === conn;
    const quiet = cause === "local" || cause === "replaced" || cause === "peer-closed" || cause === "leave";
    log(quiet ? "info" : "warn", "backchannel connection closed", { peer: conn.address, name: peer.name, cause, detail });
    if (!current) return;
    this.byName.delete(peer.name);
    this.callback(() => this.options.onPeerLost?.(peer, cause, detail));
  }

  moved(direction: "in" | "out", bytes: number, frames: number): void {
    this.metrics.moved(direction, bytes, frames);
  }

  rekeyed(): void {
    this.metrics.rekeys++;
  }

  /** Runs a user callback; a throwing callback is a bug in the caller, logged, never the connection's end. */
  private callback(f: () => void): void {
    try {
      f();
    } catch (e) {
      log("error", "backchannel callback failed", { error: e instanceof Error ? e.stack ?? e.message : String(e) });
    }
  }
}
