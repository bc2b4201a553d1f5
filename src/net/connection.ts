/**
 * One backchannel socket: its handshake (plain frames, under a deadline), then its encrypted
 * channel, its send queue and its backpressure. The Backchannel owns every Connection and is told
 * what happens through ConnectionHost; a Connection never throws into Bun's socket callbacks.
 *
 * Sending: a message is encoded and sealed at once (so frame counters follow queue order), queued,
 * and written in batches at the end of the current microtask. `socket.write` may take only part of
 * a batch; the rest waits for the socket's `drain`. The queue holds at most sendQueueBytesMax bytes:
 * past it a send is refused and the caller waits for `drained()`.
 */
import type { Socket } from "bun";
import { decode, encodeView } from "../lang/codec.ts";
import { List, T_PAREN, type Value } from "../lang/value.ts";
import type { Certificate, SignedCertificate } from "./certificate.ts";
import { isControl, SecureChannel, type RekeyLimits } from "./channel.ts";
import { HandshakeError } from "./errors.ts";
import { FrameReader, plainFrame } from "./frame-reader.ts";
import { Initiator, refusalBody, Responder, timeoutRefusal, type Established, type HandshakeContext, type HandshakeStep } from "./handshake.ts";
import type { CloseCause } from "./metrics.ts";

/** Frames smaller than this are copied into one write with their neighbours: fewer syscalls. */
const WRITE_BATCH_BYTES = 64 * 1024;

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
}

/** What a Connection tells its Backchannel, and the limits it works within. */
export interface ConnectionHost {
  readonly limits: ConnectionLimits;
  handshakeContext(): HandshakeContext;
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
  private out: Uint8Array[] = [];
  private outBytes = 0;
  private blocked = false;
  private flushScheduled = false;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  /** Resolves when the socket has closed. */
  readonly done: Promise<void>;
  private markDone!: () => void;

  constructor(
    private readonly host: ConnectionHost,
    readonly socket: Socket<unknown>,
    readonly direction: "in" | "out",
    /** `ip:port` of the other end. */
    readonly address: string,
  ) {
    this.done = new Promise((r) => (this.markDone = r));
    this.reader = new FrameReader(host.limits.handshakeFrameBytesMax);
    const cx = host.handshakeContext();
    this.handshake = direction === "out" ? new Initiator(cx) : new Responder(cx);
    this.deadline = setTimeout(() => this.handshakeTimedOut(), host.limits.handshakeMs);
    if (this.handshake instanceof Initiator) this.writePlain([this.handshake.start()]);
  }

  /** The remote IP (for per-address limits). */
  get remoteIp(): string {
    return this.address.slice(0, this.address.lastIndexOf(":"));
  }

  /** Bytes waiting to be written. */
  get queuedBytes(): number {
    return this.outBytes;
  }

  /** Completed rekeys on this connection. */
  get rekeys(): number {
    return this.channel?.rekeys ?? 0;
  }

  /** Encodes, seals and queues a message; see SendResult. */
  send(msg: Value): SendResult {
    if (this.state !== "open") return "closed";
    const channel = this.channel!;
    const plain = encodeView(msg);
    const size = SecureChannel.frameBytes(plain.length);
    if (size - 4 > this.host.limits.frameBytesMax) throw new RangeError(`backchannel message of ${plain.length} bytes is larger than a frame (${this.host.limits.frameBytesMax} bytes)`);
    if (this.outBytes + size > this.host.limits.sendQueueBytesMax) return "full";
    if (channel.rekeyDue()) this.enqueue(channel.startRekey());
    this.enqueue(channel.seal(plain));
    return "sent";
  }

  /** Resolves when the queue is below the low-water mark; rejects when the connection closes. */
  drained(): Promise<void> {
    if (this.state !== "open" && this.state !== "handshake") return Promise.reject(new Error("connection closed"));
    if (this.outBytes <= this.host.limits.sendQueueBytesLow) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
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
    const r = decode(opened.plaintext);
    if (!r.ok) {
      this.close("protocol", `message does not decode: ${r.error.message}`, false);
      return false;
    }
    const msg = r.value;
    if (msg instanceof List && msg.t === T_PAREN && isControl(msg.items[0])) {
      const before = channel.rekeys;
      const c = channel.control(msg);
      if (!c.ok) {
        this.close("protocol", c.why, false);
        return false;
      }
      for (const f of c.frames) this.enqueue(f);
      if (channel.rekeys > before) this.host.rekeyed();
      return true;
    }
    if (!(msg instanceof List) || msg.t !== T_PAREN) {
      // Messages are (kind version …) lists; anything else is passed on as is for the node to log.
      this.host.message(this, new List(T_PAREN, [msg]));
      return this.state === "open";
    }
    this.host.message(this, msg);
    return this.state === "open";
  }

  private handshakeStep(step: HandshakeStep): void {
    if (step.kind === "fail") return this.failHandshake(step);
    this.writePlain(step.send);
    if (step.kind === "continue") return;
    clearTimeout(this.deadline!);
    this.deadline = null;
    const est = step.established;
    this.reader.setMax(this.host.limits.frameBytesMax);
    this.channel = new SecureChannel(est.keys, est.initiator, this.host.limits, () => performance.now());
    this.peer = { name: est.peer.cert.name, cert: est.peer.cert, signed: est.peer, address: this.address, direction: this.direction };
    this.state = "open";
    if (!this.host.established(this, est)) return;
    this.flushSoon();
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
    for (const b of bodies) this.enqueue(plainFrame(b));
    if (bodies.length > 0) this.flush();
  }

  private enqueue(frame: Uint8Array): void {
    this.out.push(frame);
    this.outBytes += frame.length;
    this.host.moved("out", 0, 1);
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.blocked || this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const out = this.out;
    while (out.length > 0 && !this.blocked && this.state !== "closed") {
      let count = 1;
      let batch = out[0]!;
      if (batch.length < WRITE_BATCH_BYTES && out.length > 1) {
        let size = batch.length;
        while (count < out.length && size < WRITE_BATCH_BYTES) size += out[count++]!.length;
        batch = Buffer.concat(out.slice(0, count), size);
      }
      const n = this.socket.write(batch);
      if (n < 0) return;
      this.host.moved("out", n, 0);
      this.outBytes -= n;
      if (n < batch.length) {
        out.splice(0, count, batch.subarray(n));
        this.blocked = true;
      } else out.splice(0, count);
    }
    if (out.length === 0 && this.state === "closing") {
      this.socket.end();
      return;
    }
    if (this.outBytes <= this.host.limits.sendQueueBytesLow && this.waiters.length > 0) {
      for (const w of this.waiters.splice(0)) w.resolve();
    }
  }

  /** Bun's drain callback: the socket takes more bytes. */
  onDrain(): void {
    this.blocked = false;
    this.flush();
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
    if (graceful && this.outBytes > 0) {
      this.state = "closing";
      this.flush();
    } else {
      this.state = "closed";
      if (graceful) this.socket.end();
      else this.socket.terminate();
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
    for (const w of this.waiters.splice(0)) w.reject(new Error("connection closed"));
    this.out = [];
    this.outBytes = 0;
    if (wasOpen) this.host.closed(this, "peer-closed", "the peer closed the connection");
    this.markDone();
  }
}

function malformed(detail: string, reason: "malformed" | "closed" = "malformed"): HandshakeError {
  return new HandshakeError(reason, detail, false);
}
