/**
 * The send side of one connection: messages waiting to be sealed (records: u32 length | codec
 * bytes), frames waiting to be written, and backpressure. At the end of the microtask in which
 * messages were queued, the waiting records are sealed together into frames (one AEAD call for many
 * small messages) and frames are written in batches. `socket.write` may take only part of a batch;
 * the rest waits for the socket's `drain`. `queuedBytes` (records plus unwritten frames) is what
 * the send queue limit counts.
 */
import type { Socket } from "bun";

/** Frames smaller than this are copied into one write with their neighbours: fewer syscalls. */
const WRITE_BATCH_BYTES = 64 * 1024;
/**
 * Messages queued together are sealed into one frame up to this size: one AEAD call for many
 * small messages (as TLS packs writes into records), while a frame stays small enough to be
 * opened without a long stall.
 */
const RECORDS_PER_FRAME_BYTES = 64 * 1024;
/** Each message in a frame's plaintext is `u32 length | codec bytes`. */
export const RECORD_HEADER_BYTES = 4;

/** A record: `u32 length | bytes`. */
export function recordOf(plain: Uint8Array): Uint8Array {
  const rec = Buffer.allocUnsafe(RECORD_HEADER_BYTES + plain.length);
  rec.writeUInt32BE(plain.length, 0);
  rec.set(plain, RECORD_HEADER_BYTES);
  return rec;
}

/** What seals records into frames: the connection's channel once the handshake is done. */
export interface Sealer {
  /** Seals one frame's plaintext, which may come in parts (header included in the result). */
  seal(plaintext: Uint8Array | readonly Uint8Array[]): Uint8Array;
  /** A message to send before anything else when a rekey is due, else null. */
  rekeyMessage(): Uint8Array | null;
  /** Largest plaintext of one frame. */
  readonly plaintextMax: number;
}

/** See the file comment. */
export class SendQueue {
  private records: Uint8Array[] = [];
  private recordBytes = 0;
  private out: Uint8Array[] = [];
  private outBytes = 0;
  private blocked = false;
  private scheduled = false;
  private ending = false;
  private waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  sealer: Sealer | null = null;

  constructor(
    private readonly socket: Socket<unknown>,
    private readonly lowBytes: number,
    /** Called with bytes written and frames queued, for metrics. */
    private readonly moved: (bytes: number, frames: number) => void,
  ) {}

  /** Records and frames waiting, in bytes. */
  get queuedBytes(): number {
    return this.outBytes + this.recordBytes;
  }

  /**
   * Queues a message (codec bytes, consumed now: the caller may reuse them). Small ones are copied
   * into records sealed at the end of this microtask; one that fills a frame by itself, with
   * nothing waiting before it, is sealed at once from the caller's bytes, saving a large copy.
   */
  push(plain: Uint8Array): void {
    const sealer = this.sealer;
    if (sealer !== null && this.records.length === 0 && RECORD_HEADER_BYTES + plain.length >= RECORDS_PER_FRAME_BYTES) {
      const rekey = sealer.rekeyMessage();
      if (rekey !== null) this.enqueue(sealer.seal(recordOf(rekey)));
      const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
      header.writeUInt32BE(plain.length, 0);
      this.enqueue(sealer.seal([header, plain]));
      this.flushSoon();
      return;
    }
    const rec = recordOf(plain);
    this.records.push(rec);
    this.recordBytes += rec.length;
    this.flushSoon();
  }

  /** Queues a finished frame (a handshake message) behind what is queued, and writes at once. */
  pushFrame(frame: Uint8Array): void {
    this.enqueue(frame);
    this.flush();
  }

  /**
   * Seals every waiting record into frames of up to RECORDS_PER_FRAME_BYTES (a larger record is a
   * frame of its own), starting with a rekey message when one is due, unless `mayRekey` is false
   * (while a rekey reply is sealed, the old key's counters are still high until the switch).
   */
  sealNow(mayRekey = true): void {
    const sealer = this.sealer;
    if (sealer === null || this.records.length === 0) return;
    const rekey = mayRekey ? sealer.rekeyMessage() : null;
    if (rekey !== null) this.records.unshift(recordOf(rekey));
    const recs = this.records;
    const limit = Math.min(RECORDS_PER_FRAME_BYTES, sealer.plaintextMax);
    for (let i = 0; i < recs.length; ) {
      let size = recs[i]!.length;
      let j = i + 1;
      while (j < recs.length && size + recs[j]!.length <= limit) size += recs[j++]!.length;
      this.enqueue(sealer.seal(j === i + 1 ? recs[i]! : Buffer.concat(recs.slice(i, j), size)));
      i = j;
    }
    this.records = [];
    this.recordBytes = 0;
  }

  /** Resolves once queuedBytes is at most the low-water mark; rejects when the socket closes. */
  drained(): Promise<void> {
    if (this.queuedBytes <= this.lowBytes) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Writes what is queued, then ends the socket; returns false when nothing was queued (ended now). */
  endAfterFlush(): boolean {
    this.ending = true;
    if (this.queuedBytes === 0) {
      this.socket.end();
      return false;
    }
    this.flush();
    return true;
  }

  /** The socket can take more bytes. */
  onDrain(): void {
    this.blocked = false;
    this.flush();
  }

  /** The socket is gone: drop everything and fail the waiters. */
  onClose(): void {
    for (const w of this.waiters.splice(0)) w.reject(new Error("connection closed"));
    this.records = [];
    this.recordBytes = 0;
    this.out = [];
    this.outBytes = 0;
  }

  private enqueue(frame: Uint8Array): void {
    this.out.push(frame);
    this.outBytes += frame.length;
    this.moved(0, 1);
  }

  /** Schedules a flush at the end of this microtask, so messages queued together share frames. */
  flushSoon(): void {
    if (this.blocked || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    this.sealNow();
    const out = this.out;
    while (out.length > 0 && !this.blocked) {
      let count = 1;
      let batch = out[0]!;
      if (batch.length < WRITE_BATCH_BYTES && out.length > 1) {
        let size = batch.length;
        while (count < out.length && size < WRITE_BATCH_BYTES) size += out[count++]!.length;
        batch = Buffer.concat(out.slice(0, count), size);
      }
      const n = this.socket.write(batch);
      if (n < 0) return;
      this.moved(n, 0);
      this.outBytes -= n;
      if (n < batch.length) {
        out.splice(0, count, batch.subarray(n));
        this.blocked = true;
      } else out.splice(0, count);
    }
    if (out.length === 0 && this.ending) {
      this.socket.end();
      return;
    }
    if (this.queuedBytes <= this.lowBytes && this.waiters.length > 0) for (const w of this.waiters.splice(0)) w.resolve();
  }
}
