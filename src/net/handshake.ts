/**
 * The backchannel handshake as a pure state machine (no sockets, no clock of its own): signed
 * Diffie-Hellman in the SIGMA family, four plain frames, every one a codec value:
 *
 *   M1 initiator → responder  (sup-hello 1 CLUSTER [SUITES] EPH-I CERT-I CERT-SIG-I [client])
 *   M2 responder → initiator  (sup-hello-ack 1 SUITE EPH-R CERT-R CERT-SIG-R SIG-R)
 *   M3 initiator → responder  (sup-hello-done 1 SIG-I)
 *   M4 responder → initiator  (sup-welcome 1)
 *   either side, at any step  (sup-refused 1 REASON DETAIL), then it closes
 *
 * SIG-R signs H(M1 ‖ M2 without SIG-R) and SIG-I signs H(M1 ‖ M2), each behind its own label, so
 * each side's signature covers both ephemeral keys, both certificates, the cluster id, the suites
 * offered and chosen, and the protocol version. Session keys are HKDF-SHA256 over the X25519
 * shared secret with salt H(M1 ‖ M2 ‖ M3): one key per direction and a chain secret for rekeys.
 * The ephemeral secrets live only in the handshake object and are dropped when it ends.
 * An initiator that is an operator's client (the remote CLI, a node's exec worker), not a member,
 * ends M1 with the symbol `client`; M1 is in both signed transcripts, so nobody in between can add
 * or strip that declaration.
 * Untrusted bytes are decoded with knownSymbolsOnly, so they cannot grow the symbol table.
 */
import { decode, encode } from "../lang/codec.ts";
import { bytesFromLatin1, latin1FromBytes, List, Str, str, sym, T_BRACKET, T_PAREN, type Value } from "../lang/value.ts";
import { certFromValue, certValue, type SignedCertificate } from "./certificate.ts";
import { HandshakeError, refusalReasonOf, type RefusalReason } from "./errors.ts";
import type { CertCheck, NodeIdentity } from "./identity.ts";
import { ephemeralKey, hkdf, sha256, sharedSecret, SIGNATURE_BYTES, verifyFast, verifyingKey, X25519_BYTES, type EphemeralKey } from "./keys.ts";
import { isSuite, KEY_BYTES, type SuiteName } from "./suite.ts";

/** The handshake protocol version this code speaks. */
export const HANDSHAKE_VERSION = 1;

const HELLO = sym("sup-hello");
const HELLO_ACK = sym("sup-hello-ack");
const HELLO_DONE = sym("sup-hello-done");
const WELCOME = sym("sup-welcome");
const REFUSED = sym("sup-refused");
/** Ends M1 when the initiator is a client (interned here, so a decode with knownSymbolsOnly knows it). */
const CLIENT = sym("client");

const RESPONDER_LABEL = Buffer.from("sup backchannel 1 responder\0");
const INITIATOR_LABEL = Buffer.from("sup backchannel 1 initiator\0");
const KEYS_INFO = "sup backchannel 1 keys";
/** Longest refusal detail sent or logged: a sentence, not a payload. */
const REFUSAL_DETAIL_CHARS_MAX = 200;

/** What a handshake needs from its node. */
export interface HandshakeContext {
  readonly identity: NodeIdentity;
  /** Suites in order of preference (the initiator's order decides). */
  readonly suites: readonly SuiteName[];
  /** Wall-clock now, epoch ms (certificate validity). */
  now(): number;
  readonly skewMs?: number;
  /** Revocation hook: a reason when this certificate must be refused, else null. */
  revoked?(peer: SignedCertificate): string | null;
  /** Called once the peer is authenticated: a refusal (name conflict, self, no room) or ok. `client`: it declared itself a client. */
  admit(peer: SignedCertificate, client: boolean): CertCheck;
  /** Initiator only: declare this side a client (an operator's tool), not a member. */
  readonly client?: boolean;
}

/** Keys of an established session, from this side's point of view. */
export interface SessionKeys {
  readonly suite: SuiteName;
  readonly sendKey: Uint8Array;
  readonly receiveKey: Uint8Array;
  /** Input to the next rekey's HKDF, so later keys depend on every earlier exchange. */
  readonly chain: Uint8Array;
}

/** A finished handshake. */
export interface Established {
  readonly peer: SignedCertificate;
  readonly keys: SessionKeys;
  readonly initiator: boolean;
  /** The peer declared itself a client in M1 (always false on the initiator's side). */
  readonly peerIsClient: boolean;
}

/** One step: frame bodies to send, and whether the handshake goes on, is done, or failed. */
export type HandshakeStep =
  | { readonly kind: "continue"; readonly send: Uint8Array[] }
  | { readonly kind: "done"; readonly send: Uint8Array[]; readonly established: Established }
  | { readonly kind: "fail"; readonly send: Uint8Array[]; readonly error: HandshakeError };

/** Both directions' keys and the chain from a shared secret and a salt (handshake or rekey). */
export function deriveKeys(shared: Uint8Array, salt: Uint8Array, info: string, initiator: boolean, suite: SuiteName): SessionKeys {
  const okm = hkdf(shared, salt, info, 3 * KEY_BYTES);
  const i2r = okm.slice(0, KEY_BYTES);
  const r2i = okm.slice(KEY_BYTES, 2 * KEY_BYTES);
  return { suite, sendKey: initiator ? i2r : r2i, receiveKey: initiator ? r2i : i2r, chain: okm.slice(2 * KEY_BYTES) };
}

function lengthPrefixed(...parts: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    const n = Buffer.allocUnsafe(4);
    n.writeUInt32BE(p.length, 0);
    out.push(n, p);
  }
  return out;
}

function bytes(s: Str): Uint8Array {
  return bytesFromLatin1(s.s);
}

function clip(s: string): string {
  const printable = s.replace(/[^\x20-\x7e]/g, "?");
  return printable.length > REFUSAL_DETAIL_CHARS_MAX ? printable.slice(0, REFUSAL_DETAIL_CHARS_MAX) + "…" : printable;
}

/** The body of a refusal message. */
export function refusalBody(reason: RefusalReason, detail: string): Uint8Array {
  return encode(new List(T_PAREN, [REFUSED, HANDSHAKE_VERSION, str(reason), str(clip(detail))]));
}

/** Decodes a handshake body: a paren list whose head is `kind` and version this one; else a failure. */
function expect(body: Uint8Array, kind: typeof HELLO, arity: number, arityMax = arity): readonly Value[] | HandshakeError {
  const r = decode(body, { knownSymbolsOnly: true });
  if (!r.ok) return new HandshakeError("malformed", `handshake message does not decode: ${r.error.message}`, false);
  const v = r.value;
  if (!(v instanceof List) || v.t !== T_PAREN || v.items.length < 2) return new HandshakeError("malformed", "handshake message is not a (kind version …) list", false);
  const [head, version] = v.items;
  if (head === REFUSED && v.items.length === 4 && v.items[2] instanceof Str && v.items[3] instanceof Str) {
    return new HandshakeError(refusalReasonOf(v.items[2].s), clip(v.items[3].s), true);
  }
  if (head !== kind) return new HandshakeError("malformed", `expected a ${kind.name} message`, false);
  if (version !== HANDSHAKE_VERSION) return new HandshakeError("protocol-version", `peer speaks handshake version ${typeof version === "number" ? version : "?"}, this node ${HANDSHAKE_VERSION}`, false);
  if (v.items.length < arity || v.items.length > arityMax) return new HandshakeError("malformed", `${kind.name} has ${v.items.length} items, expected ${arity === arityMax ? arity : `${arity} or ${arityMax}`}`, false);
  return v.items;
}

/** Reads a signed certificate from two message items. */
function signedCert(certItem: Value | undefined, sigItem: Value | undefined): SignedCertificate | HandshakeError {
  const cert = certItem === undefined ? "missing" : certFromValue(certItem);
  if (typeof cert === "string") return new HandshakeError("malformed", `peer certificate: ${cert}`, false);
  if (!(sigItem instanceof Str) || sigItem.s.length !== SIGNATURE_BYTES) return new HandshakeError("malformed", "peer certificate signature is not 64 bytes", false);
  return { cert, signature: bytes(sigItem) };
}

function ephemeral(item: Value | undefined): Uint8Array | HandshakeError {
  if (!(item instanceof Str) || item.s.length !== X25519_BYTES) return new HandshakeError("malformed", "ephemeral key is not 32 bytes", false);
  return bytes(item);
}

/** Shared by both roles: failing (with a refusal sent unless the peer refused first). */
abstract class HandshakeBase {
  /** Made when this side first speaks, so a connection that never sends a valid M1 costs no key. */
  protected eph: EphemeralKey | null = null;
  protected m1: Uint8Array | null = null;
  protected finished = false;

  constructor(protected readonly cx: HandshakeContext) {}

  protected fail(error: HandshakeError): HandshakeStep {
    this.finished = true;
    this.eph = null;
    return { kind: "fail", send: error.byPeer ? [] : [refusalBody(error.reason, error.detail)], error };
  }

  /** Checks a peer certificate: cluster, root signature, validity, revocation. */
  protected checkCert(sc: SignedCertificate): HandshakeError | null {
    const check = this.cx.identity.checkPeer(sc, this.cx.now(), this.cx.skewMs);
    if (!check.ok) return new HandshakeError(check.reason, check.detail, false);
    const revoked = this.cx.revoked?.(sc) ?? null;
    if (revoked !== null) return new HandshakeError("revoked", `certificate of "${sc.cert.name}" (serial ${sc.cert.serial}) is revoked: ${revoked}`, false);
    return null;
  }

  protected admit(sc: SignedCertificate, client: boolean): HandshakeError | null {
    const a = this.cx.admit(sc, client);
    return a.ok ? null : new HandshakeError(a.reason, a.detail, false);
  }

  protected sessionKeys(peerEph: Uint8Array, transcript: Uint8Array[], initiator: boolean, suite: SuiteName): SessionKeys | HandshakeError {
    const shared = sharedSecret(this.eph!.secret, peerEph);
    this.eph = null;
    if (shared === null) return new HandshakeError("malformed", "peer ephemeral key is a low-order point", false);
    const keys = deriveKeys(shared, sha256(...transcript), KEYS_INFO, initiator, suite);
    shared.fill(0);
    return keys;
  }

  /** Processes one received frame body. */
  abstract receive(body: Uint8Array): HandshakeStep;
}

/** The dialing side. */
export class Initiator extends HandshakeBase {
  private state: "ack" | "welcome" = "ack";
  private pending: Established | null = null;

  /** The first message (M1). */
  start(): Uint8Array {
    const id = this.cx.identity;
    this.eph = ephemeralKey();
    const fields: Value[] = [HELLO, HANDSHAKE_VERSION, str(id.clusterId), new List(T_BRACKET, this.cx.suites.map(str)), str(latin1FromBytes(this.eph!.publicKey)), certValue(id.cert), str(latin1FromBytes(id.signed.signature))];
    if (this.cx.client === true) fields.push(CLIENT);
    this.m1 = encode(new List(T_PAREN, fields));
    return this.m1;
  }

  receive(body: Uint8Array): HandshakeStep {
    if (this.finished) return this.fail(new HandshakeError("malformed", "frame after the handshake ended", false));
    if (this.state === "welcome") {
      const items = expect(body, WELCOME, 2);
      if (items instanceof HandshakeError) return this.fail(items);
      this.finished = true;
      return { kind: "done", send: [], established: this.pending! };
    }
    const items = expect(body, HELLO_ACK, 7);
    if (items instanceof HandshakeError) return this.fail(items);
    const [, , suiteItem, ephItem, certItem, certSigItem, sigItem] = items;
    if (!(suiteItem instanceof Str) || !isSuite(suiteItem.s) || !this.cx.suites.includes(suiteItem.s)) return this.fail(new HandshakeError("no-common-suite", "peer chose a suite this node did not offer", false));
    const peerEph = ephemeral(ephItem);
    if (peerEph instanceof HandshakeError) return this.fail(peerEph);
    const sc = signedCert(certItem, certSigItem);
    if (sc instanceof HandshakeError) return this.fail(sc);
    const bad = this.checkCert(sc);
    if (bad !== null) return this.fail(bad);
    if (!(sigItem instanceof Str) || sigItem.s.length !== SIGNATURE_BYTES) return this.fail(new HandshakeError("malformed", "transcript signature is not 64 bytes", false));
    const unsigned = encode(new List(T_PAREN, items.slice(0, 6)));
    const signedHash = sha256(...lengthPrefixed(this.m1!, unsigned));
    if (!verifyFast(verifyingKey(sc.cert.publicKey), Buffer.concat([RESPONDER_LABEL, signedHash]), bytes(sigItem))) {
      return this.fail(new HandshakeError("bad-signature", `transcript signature of "${sc.cert.name}" does not verify`, false));
    }
    const refused = this.admit(sc, false);
    if (refused !== null) return this.fail(refused);
    const sig = this.cx.identity.sign(Buffer.concat([INITIATOR_LABEL, sha256(...lengthPrefixed(this.m1!, body))]));
    const m3 = encode(new List(T_PAREN, [HELLO_DONE, HANDSHAKE_VERSION, str(latin1FromBytes(sig))]));
    const keys = this.sessionKeys(peerEph, lengthPrefixed(this.m1!, body, m3), true, suiteItem.s);
    if (keys instanceof HandshakeError) return this.fail(keys);
    this.pending = { peer: sc, keys, initiator: true, peerIsClient: false };
    this.state = "welcome";
    return { kind: "continue", send: [m3] };
  }
}

/** The accepting side. */
export class Responder extends HandshakeBase {
  private state: "hello" | "done" = "hello";
  private m2: Uint8Array | null = null;
  private peer: SignedCertificate | null = null;
  private peerEph: Uint8Array | null = null;
  private suite: SuiteName | null = null;
  private peerIsClient = false;

  receive(body: Uint8Array): HandshakeStep {
    if (this.finished) return this.fail(new HandshakeError("malformed", "frame after the handshake ended", false));
    return this.state === "hello" ? this.hello(body) : this.done(body);
  }

  private hello(body: Uint8Array): HandshakeStep {
    const items = expect(body, HELLO, 7, 8);
    if (items instanceof HandshakeError) return this.fail(items);
    const [, , clusterItem, suitesItem, ephItem, certItem, certSigItem, clientItem] = items;
    if (clientItem !== undefined && clientItem !== CLIENT) return this.fail(new HandshakeError("malformed", "the last item of a client's sup-hello must be the symbol client", false));
    this.peerIsClient = clientItem === CLIENT;
    const id = this.cx.identity;
    if (!(clusterItem instanceof Str)) return this.fail(new HandshakeError("malformed", "cluster id is not a string", false));
    if (clusterItem.s !== id.clusterId) return this.fail(new HandshakeError("wrong-cluster", `peer is in cluster ${clip(clusterItem.s)}, this is ${id.clusterId}`, false));
    if (!(suitesItem instanceof List) || suitesItem.t !== T_BRACKET) return this.fail(new HandshakeError("malformed", "suites are not a list", false));
    const offered = suitesItem.items.map((s) => (s instanceof Str ? s.s : ""));
    const suite = offered.find((s): s is SuiteName => isSuite(s) && this.cx.suites.includes(s));
    if (suite === undefined) return this.fail(new HandshakeError("no-common-suite", `peer offers ${clip(offered.join(","))}, this node accepts ${this.cx.suites.join(",")}`, false));
    const peerEph = ephemeral(ephItem);
    if (peerEph instanceof HandshakeError) return this.fail(peerEph);
    const sc = signedCert(certItem, certSigItem);
    if (sc instanceof HandshakeError) return this.fail(sc);
    const bad = this.checkCert(sc);
    if (bad !== null) return this.fail(bad);
    this.m1 = new Uint8Array(body);
    this.peer = sc;
    this.peerEph = peerEph;
    this.suite = suite;
    this.eph = ephemeralKey();
    const fields: Value[] = [HELLO_ACK, HANDSHAKE_VERSION, str(suite), str(latin1FromBytes(this.eph!.publicKey)), certValue(id.cert), str(latin1FromBytes(id.signed.signature))];
    const unsigned = encode(new List(T_PAREN, fields));
    const sig = id.sign(Buffer.concat([RESPONDER_LABEL, sha256(...lengthPrefixed(this.m1, unsigned))]));
    this.m2 = encode(new List(T_PAREN, [...fields, str(latin1FromBytes(sig))]));
    this.state = "done";
    return { kind: "continue", send: [this.m2] };
  }

  private done(body: Uint8Array): HandshakeStep {
    const items = expect(body, HELLO_DONE, 3);
    if (items instanceof HandshakeError) return this.fail(items);
    const sigItem = items[2];
    if (!(sigItem instanceof Str) || sigItem.s.length !== SIGNATURE_BYTES) return this.fail(new HandshakeError("malformed", "transcript signature is not 64 bytes", false));
    const peer = this.peer!;
    const hash = sha256(...lengthPrefixed(this.m1!, this.m2!));
    if (!verifyFast(verifyingKey(peer.cert.publicKey), Buffer.concat([INITIATOR_LABEL, hash]), bytes(sigItem))) {
      return this.fail(new HandshakeError("bad-signature", `transcript signature of "${peer.cert.name}" does not verify`, false));
    }
    const refused = this.admit(peer, this.peerIsClient);
    if (refused !== null) return this.fail(refused);
    const keys = this.sessionKeys(this.peerEph!, lengthPrefixed(this.m1!, this.m2!, body), false, this.suite!);
    if (keys instanceof HandshakeError) return this.fail(keys);
    this.finished = true;
    return { kind: "done", send: [encode(new List(T_PAREN, [WELCOME, HANDSHAKE_VERSION]))], established: { peer, keys, initiator: false, peerIsClient: this.peerIsClient } };
  }
}

/** The refusal a stalled handshake ends with (the deadline is kept by the connection). */
export function timeoutRefusal(ms: number): HandshakeError {
  return new HandshakeError("handshake-timeout", `handshake not finished within ${ms} ms`, false);
}
