/**
 * The encrypted channel of one connection after its handshake (pure: no sockets; the clock is
 * passed in). Frames are sealed with a per-direction counter nonce; the receiver opens each frame
 * with exactly the next counter, so a replayed, dropped, reordered, injected or altered frame
 * fails to authenticate and the connection is closed. A frame's plaintext holds one or more
 * messages (records: u32 length | codec value); the Connection packs and unpacks them.
 *
 * Rekey, inside the channel with fresh ephemeral keys (only the dialing side starts one, so two
 * can never cross): the dialer sends (sup-rekey 1 EPH-D) and keeps sending under its old key;
 * the listener answers (sup-rekey-ack 1 EPH-L) as the last message under its old key and switches
 * its sending key; the dialer, on the ack, switches its receiving key, sends (sup-rekey-done 1)
 * as the last message under its old key and switches its sending key; the listener switches its
 * receiving key on the done. A message that switches the receiving key must end its frame. New keys are HKDF(X25519(EPH-D, EPH-L), salt = the chain secret), so
 * each key depends on every exchange before it (forward secrecy from the ephemeral keys).
 */
import { encode } from "../lang/codec.ts";
import { bytesFromLatin1, latin1FromBytes, List, Str, str, sym, T_PAREN, type Sym, type Value } from "../lang/value.ts";
import { deriveKeys, type SessionKeys } from "./handshake.ts";
import { ephemeralKey, sharedSecret, X25519_BYTES, type EphemeralKey } from "./keys.ts";
import { FRAMES_PER_KEY_MAX, REKEY_AFTER_FRAMES, REKEY_AFTER_MS } from "./limits.ts";
import { AEAD_OVERHEAD, FRAME_HEADER_BYTES, frameCipher, type FrameCipher, type SuiteName } from "./suite.ts";

export const REKEY = sym("sup-rekey");
export const REKEY_ACK = sym("sup-rekey-ack");
export const REKEY_DONE = sym("sup-rekey-done");
const REKEY_INFO = "sup backchannel 1 rekey";

/** The rekey limits of a channel (tests lower them). */
export interface RekeyLimits {
  readonly rekeyAfterFrames: number;
  readonly rekeyAfterMs: number;
  readonly framesPerKeyMax: number;
}

export const DEFAULT_REKEY_LIMITS: RekeyLimits = { rekeyAfterFrames: REKEY_AFTER_FRAMES, rekeyAfterMs: REKEY_AFTER_MS, framesPerKeyMax: FRAMES_PER_KEY_MAX };

/** Opening a frame: its plaintext, or why the connection must close. */
export type OpenResult = { readonly ok: true; readonly plaintext: Uint8Array } | { readonly ok: false; readonly why: string };

/** What a control message asks of the connection (see SecureChannel.control), or a violation. */
export type ControlResult =
  | { readonly ok: true; readonly reply: Uint8Array | null; readonly switchSend: (() => void) | null; readonly switchedReceive: boolean }
  | { readonly ok: false; readonly why: string };

/** True when a message head names a channel control message. */
export function isControl(head: Value | undefined): head is Sym {
  return head === REKEY || head === REKEY_ACK || head === REKEY_DONE;
}

/** One connection's keys, counters and rekey state. */
export class SecureChannel {
  private send: FrameCipher;
  private receive: FrameCipher;
  private sendCounter = 0;
  private receiveCounter = 0;
  private chain: Uint8Array;
  private readonly suite: SuiteName;
  private keyedAtMs: number;
  /** Dialer: the ephemeral key of a rekey in flight. */
  private rekeyEph: EphemeralKey | null = null;
  /** Listener: the receiving cipher to switch to on sup-rekey-done. */
  private nextReceive: FrameCipher | null = null;
  /** Completed rekeys (metrics, tests). */
  rekeys = 0;

  constructor(
    keys: SessionKeys,
    readonly initiator: boolean,
    private readonly limits: RekeyLimits,
    private readonly now: () => number,
  ) {
    this.suite = keys.suite;
    this.send = frameCipher(keys.suite, keys.sendKey);
    this.receive = frameCipher(keys.suite, keys.receiveKey);
    this.chain = keys.chain;
    this.keyedAtMs = now();
  }

  /** Bytes a plaintext of `n` bytes takes on the wire. */
  static frameBytes(n: number): number {
    return FRAME_HEADER_BYTES + n + AEAD_OVERHEAD;
  }

  /** Seals the next frame (header included); the plaintext may come in parts. */
  seal(plaintext: Uint8Array | readonly Uint8Array[]): Uint8Array {
    return this.send.seal(this.sendCounter++, plaintext);
  }

  /** Opens the next frame body; fails on anything but exactly the next frame under the current key. */
  open(body: Uint8Array): OpenResult {
    if (this.receiveCounter >= this.limits.framesPerKeyMax) return { ok: false, why: `peer sent more than ${this.limits.framesPerKeyMax} frames without a rekey` };
    const plaintext = this.receive.open(this.receiveCounter, body);
    if (plaintext === null) return { ok: false, why: `frame ${this.receiveCounter} failed authentication (tampered, replayed, reordered or truncated)` };
    this.receiveCounter++;
    return { ok: true, plaintext };
  }

  /** Dialer: true when the current keys are due for replacement and no rekey is in flight. */
  rekeyDue(): boolean {
    if (!this.initiator || this.rekeyEph !== null) return false;
    return this.sendCounter >= this.limits.rekeyAfterFrames || this.receiveCounter >= this.limits.rekeyAfterFrames || this.now() - this.keyedAtMs >= this.limits.rekeyAfterMs;
  }

  /** Dialer: starts a rekey; returns the sup-rekey message (a codec value) to send. */
  startRekey(): Uint8Array {
    this.rekeyEph = ephemeralKey();
    return encode(new List(T_PAREN, [REKEY, 1, str(latin1FromBytes(this.rekeyEph.publicKey))]));
  }

  /**
   * Handles a decoded control message (its head satisfies isControl). A reply is a codec value to
   * send; `switchSend`, when present, must run once the reply has been sealed (the reply is the
   * last message under the old sending key). `switchedReceive` says the receiving key changed, so
   * the message must have been the last of its frame.
   */
  control(msg: List): ControlResult {
    const [head, version, ephItem] = msg.items;
    if (version !== 1) return { ok: false, why: `unsupported ${(head as Sym).name} version` };
    if (head === REKEY_DONE) {
      if (this.initiator || this.nextReceive === null || msg.items.length !== 2) return { ok: false, why: "unexpected sup-rekey-done" };
      this.receive = this.nextReceive;
      this.nextReceive = null;
      this.receiveCounter = 0;
      this.rekeys++;
      return { ok: true, reply: null, switchSend: null, switchedReceive: true };
    }
    if (!(ephItem instanceof Str) || ephItem.s.length !== X25519_BYTES || msg.items.length !== 3) return { ok: false, why: `malformed ${(head as Sym).name}` };
    const peerEph = bytesFromLatin1(ephItem.s);
    if (head === REKEY) {
      if (this.initiator || this.nextReceive !== null) return { ok: false, why: "unexpected sup-rekey" };
      const mine = ephemeralKey();
      const keys = this.derive(mine, peerEph);
      if (keys === null) return { ok: false, why: "rekey key is a low-order point" };
      this.nextReceive = frameCipher(this.suite, keys.receiveKey);
      const reply = encode(new List(T_PAREN, [REKEY_ACK, 1, str(latin1FromBytes(mine.publicKey))]));
      return { ok: true, reply, switchSend: () => this.switchSend(keys), switchedReceive: false };
    }
    // sup-rekey-ack
    if (!this.initiator || this.rekeyEph === null) return { ok: false, why: "unexpected sup-rekey-ack" };
    const keys = this.derive(this.rekeyEph, peerEph);
    this.rekeyEph = null;
    if (keys === null) return { ok: false, why: "rekey key is a low-order point" };
    this.receive = frameCipher(this.suite, keys.receiveKey);
    this.receiveCounter = 0;
    this.rekeys++;
    const reply = encode(new List(T_PAREN, [REKEY_DONE, 1]));
    return { ok: true, reply, switchSend: () => this.switchSend(keys), switchedReceive: true };
  }

  private derive(mine: EphemeralKey, peerEph: Uint8Array): SessionKeys | null {
    const shared = sharedSecret(mine.secret, peerEph);
    if (shared === null) return null;
    const keys = deriveKeys(shared, this.chain, REKEY_INFO, this.initiator, this.suite);
    shared.fill(0);
    this.chain.fill(0);
    this.chain = keys.chain;
    return keys;
  }

  private switchSend(keys: SessionKeys): void {
    this.send = frameCipher(this.suite, keys.sendKey);
    this.sendCounter = 0;
    this.keyedAtMs = this.now();
  }

  /** Counters of the current keys (tests). */
  get counters(): { send: number; receive: number } {
    return { send: this.sendCounter, receive: this.receiveCounter };
  }
}
