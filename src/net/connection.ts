/**
 * One backchannel socket: its handshake (plain frames, under a deadline), then its encrypted
 * channel. The Backchannel owns every Connection and is told what happens through ConnectionHost;
 * a Connection never throws into Bun's socket callbacks. Sending, batching and backpressure are
 * the SendQueue's (send-queue.ts); a frame's plaintext holds one or more records
 * (u32 length | codec value), unpacked here in order.
 */
import type { Socket } from "bun";
import { decode, encodeView } from "../lang/codec.ts";
import { List, T_PAREN, type Value } from "../lang/value.ts";
import type { Certificate, SignedCertificate } from "./certificate.ts";
import { isControl, SecureChannel, type RekeyLimits } from "./channel.ts";
import { AEAD_OVERHEAD } from "./suite.ts";
import { RECORD_HEADER_BYTES, SendQueue } from "./send-queue.ts";
import { HandshakeError } from "./errors.ts";
import { FrameReader, plainFrame } from "./frame-reader.ts";
import { Initiator, refusalBody, Responder, timeoutRefusal, type Established, type HandshakeContext, type HandshakeStep } from "./handshake.ts";
import type { CloseCause } from "./metrics.ts";

/** An authenticated peer as the Backchannel shows it. */
export interface PeerInfo {
  /** The name in its certificate: the key of every per-peer call. */
  readonly name: string;
  readonly cert: Certificate;
  readonly signed: SignedCertificate;
  /** The TCP address of this connection's other end (`ip:port`). */
  readonly address: string;
  /** "out" when this node dialed. */
  readonly direction: "in" | "out";
  /**
   * True when the other end declared itself a client in the handshake (an operator's CLI, a
   * node's exec worker): it is not a member, and the Backchannel keeps it apart from members.
   */
  readonly client: boolean;
}

/** What a Connection tells its Backchannel, and the limits it works within. */
export interface ConnectionHost {
  readonly limits: ConnectionLimits;
  /** The context of one handshake; `client`: this side dials as a client. */
  handshakeContext(client: boolean): HandshakeContext;
  /** The handshake finished; returns false when the connection must not be used (it is closed). */
  established(conn: Connection, est: Established): boolean;
  failed(conn: Connection, error: HandshakeError): void;
  message(conn: Connection, msg: List): void;
  closed(conn: Connection, cause: CloseCause, detail: string): void;
  moved(direction: "in" | "out", bytes: number, frames: number): void;
  rekeyed(): void;
}

/** The per-connection limits (see limits.ts). */
export interface ConnectionLimits extends RekeyLimits {
  readonly handshakeMs: number;
  readonly handshakeFrameBytesMax: number;
  readonly frameBytesMax: number;
  readonly sendQueueBytesMax: number;
  readonly sendQueueBytesLow: number;
}

/** What a send did: queued, refused for a full queue (wait for drained), or the connection is gone. */
export type SendResult = "sent" | "full" | "closed";

/** One socket; see the file comment. */
export class Connection {
  state: "handshake" | "open" | "closing" | "closed" = "handshake";
  peer: PeerInfo | null = null;
  /** Set by the Backchannel while this connection counts against its pending limits. */
  countedPending = false;
  private handshake: Initiator | Responder;
  private channel: SecureChannel | null = null;
  private readonly reader: FrameReader;
  private deadline: ReturnType<typeof setTimeout> | null;
  private readonly queue: SendQueue;
  /** Resolves when the socket has closed. */
  readonly done: Promise<void>;
  private markDone!: () => void;

  constructor(
    private readonly host: ConnectionHost,
    readonly socket: Socket<unknown>,
    readonly direction: "in" | "out",
    /** `ip:port` of the other end. */
    readonly address: string,
    /** Outbound only: this side dials as a client (declared in the handshake). */
    readonly asClient = false,
  ) {
    this.done = new Promise((r) => (this.markDone = r));
    this.queue = new SendQueue(socket, host.limits.sendQueueBytesLow, (bytes, frames) => host.moved("out", bytes, frames));
    this.reader = new FrameReader(host.limits.handshakeFrameBytesMax);
    const cx = host.handshakeContext(asClient);
    this.handshake = direction === "out" ? new Initiator(cx) : new Responder(cx);
    this.deadline = setTimeout(() => this.handshakeTimedOut(), host.limits.handshakeMs);
    if (this.handshake instanceof Initiator) this.writePlain([this.handshake.start()]);
  }

  /** The remote IP (for per-address limits). */
  get remoteIp(): string {
    return this.address.slice(0, this.address.lastIndexOf(":"));
  }

  /** Bytes waiting: messages not sealed yet (4 + encoded length each) and frames not written yet. */
  get queuedBytes(): number {
    return this.queue.queuedBytes;
  }

  /** Completed rekeys on this connection. */
  get rekeys(): number {
    return this.channel?.rekeys ?? 0;
  }

  /** Encodes and queues a message; it is sealed (with others queued meanwhile) at the flush. */
  send(msg: Value): SendResult {
    if (this.state !== "open") return "closed";
    const plain = encodeView(msg);
    const size = RECORD_HEADER_BYTES + plain.length;
    if (size + AEAD_OVERHEAD > this.host.limits.frameBytesMax) throw new RangeError(`backchannel message of ${plain.length} bytes is larger than a frame (${this.host.limits.frameBytesMax} bytes)`);
    if (this.queue.queuedBytes + size > this.host.limits.sendQueueBytesMax) return "full";
    this.queue.push(plain);
    return "sent";
  }

  /** Resolves when the queue is below the low-water mark; rejects when the connection closes. */
  drained(): Promise<void> {
    if (this.state !== "open" && this.state !== "handshake") return Promise.reject(new Error("connection closed"));
    return this.queue.drained();
  }

  /** Bun's data callback. */
  onData(chunk: Uint8Array): void {
    if (this.state === "closed") return;
    this.host.moved("in", chunk.length, 0);
    const r = this.reader.push(chunk, (body) => this.frame(body));
    // The frame callbacks may have closed the connection meanwhile.
    const state = this.state as Connection["state"];
    if (r.ok || state === "closed") return;
    if (state === "handshake") {
      const error = malformed(`handshake frame of ${r.length} bytes is larger than the ${this.host.limits.handshakeFrameBytesMax} allowed`);
      this.failHandshake({ kind: "fail", send: [refusalBody(error.reason, error.detail)], error });
    } else this.close("oversized", `frame of ${r.length} bytes is larger than the ${this.host.limits.frameBytesMax} allowed`, false);
  }

  private frame(body: Uint8Array): boolean {
    this.host.moved("in", 0, 1);
    if (this.state === "handshake") {
      this.handshakeStep(this.handshake.receive(body));
      return this.state === "handshake" || this.state === "open";
    }
    if (this.state !== "open") return false;
    const channel = this.channel!;
    const opened = channel.open(body);
    if (!opened.ok) {
      this.close("frame-rejected", opened.why, false);
      return false;
    }
    const plain = opened.plaintext;
    const view = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
    for (let at = 0; at < plain.length; ) {
      const len = at + RECORD_HEADER_BYTES <= plain.length ? view.getUint32(at) : -1;
      if (len < 0 || at + RECORD_HEADER_BYTES + len > plain.length) {
        this.close("protocol", "frame holds a truncated message", false);
        return false;
      }
      const start = at + RECORD_HEADER_BYTES;
      at = start + len;
      const r = decode(plain.subarray(start, at));
      if (!r.ok) {
        this.close("protocol", `message does not decode: ${r.error.message}`, false);
        return false;
      }
      const msg = r.value;
      if (msg instanceof List && msg.t === T_PAREN && isControl(msg.items[0])) {
        const c = channel.control(msg);
        if (!c.ok || (c.switchedReceive && at !== plain.length)) {
          this.close("protocol", c.ok ? `${(msg.items[0] as { name: string }).name} is not the last message of its frame` : c.why, false);
          return false;
        }
        if (c.switchedReceive) this.host.rekeyed();
        if (c.reply !== null) {
          // The reply is the last message under the old sending key: seal it with what is waiting.
          this.queue.push(c.reply);
          this.queue.sealNow(false);
          c.switchSend?.();
        }
        continue;
      }
      // Messages are (kind version …) lists; anything else is passed on wrapped for the node to log.
      this.host.message(this, msg instanceof List && msg.t === T_PAREN ? msg : new List(T_PAREN, [msg]));
      if (this.state !== "open") return false;
    }
    return true;
  }

  private handshakeStep(step: HandshakeStep): void {
    if (step.kind === "fail") return this.failHandshake(step);
    this.writePlain(step.send);
    if (step.kind === "continue") return;
    clearTimeout(this.deadline!);
    this.deadline = null;
    const est = step.established;
    this.reader.setMax(this.host.limits.frameBytesMax);
    const channel = new SecureChannel(est.keys, est.initiator, this.host.limits, () => performance.now());
    this.channel = channel;
    this.queue.sealer = {
      seal: (plain) => channel.seal(plain),
      rekeyMessage: () => (channel.rekeyDue() ? channel.startRekey() : null),
      plaintextMax: this.host.limits.frameBytesMax - AEAD_OVERHEAD,
    };
    this.peer = { name: est.peer.cert.name, cert: est.peer.cert, signed: est.peer, address: this.address, direction: this.direction, client: est.peerIsClient };
    this.state = "open";
    if (!this.host.established(this, est)) return;
    this.queue.flushSoon();
  }

  private failHandshake(step: Extract<HandshakeStep, { kind: "fail" }>): void {
    this.writePlain(step.send);
    this.host.failed(this, step.error);
    this.close("protocol", step.error.message, true);
  }

  private handshakeTimedOut(): void {
    this.deadline = null;
    if (this.state !== "handshake") return;
    const error = timeoutRefusal(this.host.limits.handshakeMs);
    this.failHandshake({ kind: "fail", send: [refusalBody(error.reason, error.detail)], error });
  }

  /** Handshake frames are written at once: nothing else is queued yet. */
  private writePlain(bodies: Uint8Array[]): void {
    for (const b of bodies) this.queue.pushFrame(plainFrame(b));
  }

  /** Bun's drain callback: the socket takes more bytes. */
  onDrain(): void {
    this.queue.onDrain();
  }

  /**
   * Closes the connection. `graceful`: writes what is queued first (refusals, a leave message);
   * otherwise the socket is cut at once (a peer that broke the protocol gets nothing more).
   */
  close(cause: CloseCause, detail: string, graceful: boolean): void {
    if (this.state === "closed" || this.state === "closing") return;
    const wasOpen = this.state === "open";
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
    if (graceful) this.state = this.queue.endAfterFlush() ? "closing" : "closed";
    else {
      this.state = "closed";
      this.socket.terminate();
    }
    if (wasOpen) this.host.closed(this, cause, detail);
  }

  /** Bun's close callback: the socket is gone. */
  onClose(): void {
    const wasOpen = this.state === "open";
    if (this.state === "handshake") this.host.failed(this, malformed("connection closed during the handshake", "closed"));
    this.state = "closed";
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
    this.queue.onClose();
    if (wasOpen) this.host.closed(this, "peer-closed", "the peer closed the connection");
    this.markDone();
  }
}

function malformed(detail: string, reason: "malformed" | "closed" = "malformed"): HandshakeError {
  return new HandshakeError(reason, detail, false);
}
