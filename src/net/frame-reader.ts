/**
 * Splits a TCP byte stream into frames: `u32 big-endian length | body`. The largest body accepted
 * is set per phase (small during the handshake, FRAME_BYTES_MAX after), and a larger length is
 * refused as soon as its header arrives, before any of its body is buffered. At most one frame's
 * bytes are ever held, so a connection's receive memory is bounded by the current maximum.
 */
import { FRAME_HEADER_BYTES } from "./suite.ts";

/** Largest frame buffer kept for reuse between frames (see FrameReader.spare). */
const REUSED_BUFFER_BYTES_MAX = 128 * 1024;

/** What push reports: every frame was handed over, or the stream is broken. */
export type PushResult = { ok: true } | { ok: false; error: "oversized"; length: number };

/** Reassembles frames from chunks; see the file comment. */
export class FrameReader {
  /** Bytes of the frame being assembled (its header first), or null between frames. */
  private partial: Uint8Array | null = null;
  /**
   * A buffer kept between frames for the next one that arrives in pieces (most large frames
   * do): fresh 64 KiB buffers cost page faults on every frame. Only buffers up to
   * REUSED_BUFFER_BYTES_MAX are kept, so an idle connection holds at most that much.
   */
  private spare: Uint8Array | null = null;
  private filled = 0;
  /** Body length of the frame being assembled, or -1 while its header is incomplete. */
  private bodyLength = -1;

  constructor(private max: number) {}

  /** Changes the largest body accepted from the next header on. */
  setMax(max: number): void {
    this.max = max;
  }

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.partial === null ? 0 : this.filled;
  }

  /**
   * Feeds a chunk; calls `onFrame` with each complete body (a view valid during the call) until it
   * returns false (the connection is closing). Refuses a length over the maximum.
   */
  push(chunk: Uint8Array, onFrame: (body: Uint8Array) => boolean): PushResult {
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      if (this.partial !== null) {
        // Finish the header, then the body, of the frame already started.
        if (this.bodyLength < 0) {
          const take = Math.min(FRAME_HEADER_BYTES - this.filled, n - at);
          this.partial.set(chunk.subarray(at, at + take), this.filled);
          this.filled += take;
          at += take;
          if (this.filled < FRAME_HEADER_BYTES) return { ok: true };
          const length = new DataView(this.partial.buffer, this.partial.byteOffset, FRAME_HEADER_BYTES).getUint32(0);
          if (length > this.max) return this.oversized(length);
          this.bodyLength = length;
          const whole = this.buffer(FRAME_HEADER_BYTES + length);
          whole.set(this.partial.subarray(0, FRAME_HEADER_BYTES));
          this.partial = whole;
        }
        const want = FRAME_HEADER_BYTES + this.bodyLength;
        const take = Math.min(want - this.filled, n - at);
        this.partial.set(chunk.subarray(at, at + take), this.filled);
        this.filled += take;
        at += take;
        if (this.filled < want) return { ok: true };
        const body = this.partial.subarray(FRAME_HEADER_BYTES, want);
        const done = this.partial;
        this.partial = null;
        this.bodyLength = -1;
        this.filled = 0;
        const goOn = onFrame(body);
        // The body was only lent for the call: its buffer can take the next frame.
        if (done.length <= REUSED_BUFFER_BYTES_MAX && done.length > (this.spare?.length ?? 0)) this.spare = done;
        if (!goOn) return { ok: true };
        continue;
      }
      // Between frames: take whole frames straight from the chunk without copying.
      if (n - at < FRAME_HEADER_BYTES) {
        this.partial = new Uint8Array(FRAME_HEADER_BYTES);
        this.partial.set(chunk.subarray(at));
        this.filled = n - at;
        return { ok: true };
      }
      const length = ((chunk[at]! << 24) | (chunk[at + 1]! << 16) | (chunk[at + 2]! << 8) | chunk[at + 3]!) >>> 0;
      if (length > this.max) return this.oversized(length);
      if (n - at - FRAME_HEADER_BYTES >= length) {
        const body = chunk.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
        at += FRAME_HEADER_BYTES + length;
        if (!onFrame(body)) return { ok: true };
        continue;
      }
      this.partial = this.buffer(FRAME_HEADER_BYTES + length);
      this.partial.set(chunk.subarray(at));
      this.filled = n - at;
      this.bodyLength = length;
      return { ok: true };
    }
    return { ok: true };
  }

  /** A buffer of at least `n` bytes: the spare one when it is big enough, else a new one. */
  private buffer(n: number): Uint8Array {
    const spare = this.spare;
    if (spare !== null && spare.length >= n) {
      this.spare = null;
      return spare;
    }
    // A plain Uint8Array view (not a Buffer), so a consumer's slice() copies as it expects.
    const b = Buffer.allocUnsafe(n);
    return new Uint8Array(b.buffer, b.byteOffset, n);
  }

  private oversized(length: number): PushResult {
    this.partial = null;
    return { ok: false, error: "oversized", length };
  }
}

/** A frame with a plain body: header and body in one buffer (handshake messages, the raw benchmark). */
export function plainFrame(body: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}
