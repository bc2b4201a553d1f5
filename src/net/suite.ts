/**
 * Cipher suites of the backchannel's frames, negotiated in the handshake (the offer and the choice
 * are in the signed transcript, so nobody in the middle can downgrade them):
 *
 * - `aes256gcm` (default): AES-256-GCM from node:crypto (BoringSSL, hardware AES): ~2 GB/s at
 *   64 KiB frames, which the throughput target needs. The 4-byte length header is associated data.
 * - `secretbox` (reference): XSalsa20-Poly1305 from tweetnacl, NaCl's own AEAD: ~50-140 MB/s. The
 *   length header is not associated data, but it fixes how many bytes are opened, so a changed
 *   length fails the MAC like any other change.
 *
 * Both take the frame counter as the nonce (big-endian, in the last 8 bytes, zeros before it):
 * each direction has its own key, and a key is replaced (rekey) long before its counter could
 * wrap, so a nonce is never used twice under one key.
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from "node:crypto";
import nacl from "tweetnacl";

export const SUITES = ["aes256gcm", "secretbox"] as const;
export type SuiteName = (typeof SUITES)[number];

/** Bytes an AEAD adds to a frame body (a 16-byte tag in both suites). */
export const AEAD_OVERHEAD = 16;
/** Bytes of the frame length header. */
export const FRAME_HEADER_BYTES = 4;
export const KEY_BYTES = 32;

/** Seals and opens frames under one key, one direction. */
export interface FrameCipher {
  /**
   * Writes header + sealed body for `counter` into a new buffer of FRAME_HEADER_BYTES + plaintext
   * + AEAD_OVERHEAD bytes. The plaintext may come in parts (their concatenation is sealed), so a
   * caller need not copy a large message next to its record header first.
   */
  seal(counter: number, plaintext: Uint8Array | readonly Uint8Array[]): Uint8Array;
  /** Opens a frame body (after its header) sealed at `counter`; null when it does not authenticate. */
  open(counter: number, body: Uint8Array): Uint8Array | null;
}

function header(length: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32BE(length, 0);
  return h;
}

/** Writes the counter into the last 8 bytes of a zeroed nonce. */
function counterNonce(nonce: Uint8Array, counter: number): Uint8Array {
  const view = new DataView(nonce.buffer, nonce.byteOffset, nonce.byteLength);
  view.setUint32(nonce.length - 8, Math.floor(counter / 0x100000000));
  view.setUint32(nonce.length - 4, counter >>> 0);
  return nonce;
}

class AesGcm implements FrameCipher {
  private readonly key: KeyObject;
  private readonly nonce = Buffer.alloc(12);
  constructor(key: Uint8Array) {
    this.key = createSecretKey(key);
  }

  seal(counter: number, plaintext: Uint8Array | readonly Uint8Array[]): Uint8Array {
    const parts = plaintext instanceof Uint8Array ? [plaintext] : plaintext;
    let size = 0;
    for (const p of parts) size += p.length;
    const length = size + AEAD_OVERHEAD;
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
    out.writeUInt32BE(length, 0);
    const c = createCipheriv("aes-256-gcm", this.key, counterNonce(this.nonce, counter));
    c.setAAD(out.subarray(0, FRAME_HEADER_BYTES));
    let at = FRAME_HEADER_BYTES;
    for (const p of parts) {
      const body = c.update(p);
      out.set(body, at);
      at += body.length;
    }
    const tail = c.final();
    if (tail.length > 0) out.set(tail, at);
    out.set(c.getAuthTag(), FRAME_HEADER_BYTES + size);
    return out;
  }

  open(counter: number, body: Uint8Array): Uint8Array | null {
    if (body.length < AEAD_OVERHEAD) return null;
    const split = body.length - AEAD_OVERHEAD;
    const d = createDecipheriv("aes-256-gcm", this.key, counterNonce(this.nonce, counter));
    d.setAAD(header(body.length));
    d.setAuthTag(body.subarray(split));
    const plain = d.update(body.subarray(0, split));
    try {
      const tail = d.final();
      return tail.length === 0 ? plain : Buffer.concat([plain, tail]);
    } catch {
      return null;
    }
  }
}

class SecretBox implements FrameCipher {
  private readonly nonce = new Uint8Array(nacl.secretbox.nonceLength);
  constructor(private readonly key: Uint8Array) {}

  seal(counter: number, plaintext: Uint8Array | readonly Uint8Array[]): Uint8Array {
    const whole = plaintext instanceof Uint8Array ? plaintext : Buffer.concat(plaintext as Uint8Array[]);
    const box = nacl.secretbox(whole, counterNonce(this.nonce, counter), this.key);
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + box.length);
    out.writeUInt32BE(box.length, 0);
    out.set(box, FRAME_HEADER_BYTES);
    return out;
  }

  open(counter: number, body: Uint8Array): Uint8Array | null {
    if (body.length < AEAD_OVERHEAD) return null;
    return nacl.secretbox.open(body, counterNonce(this.nonce, counter), this.key);
  }
}

/** The frame cipher of a suite for one direction's key. */
export function frameCipher(suite: SuiteName, key: Uint8Array): FrameCipher {
  if (key.length !== KEY_BYTES) throw new Error(`frameCipher: key must be ${KEY_BYTES} bytes`);
  return suite === "aes256gcm" ? new AesGcm(key) : new SecretBox(key);
}

/** True when `name` is a suite this code implements. */
export function isSuite(name: string): name is SuiteName {
  return (SUITES as readonly string[]).includes(name);
}
