/**
 * The primitives of identities and the handshake. tweetnacl is the reference for every NaCl
 * primitive (ed25519, X25519, secretbox) and makes every long-lived key; node:crypto (BoringSSL in
 * Bun) computes the same functions 15-50x faster and is used on the hot path: signing and
 * verifying in handshakes, ephemeral X25519, HKDF and SHA-256. keys.test.ts proves byte-identical
 * results against tweetnacl over random keys. Nothing here is a hand-written primitive: raw keys
 * are only wrapped in the fixed DER headers (RFC 8410) node:crypto needs to import them.
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, sign, verify, type KeyObject } from "node:crypto";
import nacl from "tweetnacl";

export const PUBLIC_KEY_BYTES = 32;
export const SEED_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const X25519_BYTES = 32;

// RFC 8410 DER prefixes: PKCS#8 private keys and SPKI public keys for Ed25519 (OID 1.3.101.112)
// and X25519 (1.3.101.110), each followed by the 32 raw key bytes.
const ED_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const ED_SPKI = Buffer.from("302a300506032b6570032100", "hex");
const X_SPKI = Buffer.from("302a300506032b656e032100", "hex");

/** An ed25519 private key for node:crypto, from a tweetnacl seed (the first half of its secret key). */
export function signingKey(seed: Uint8Array): KeyObject {
  if (seed.length !== SEED_BYTES) throw new Error(`signingKey: seed must be ${SEED_BYTES} bytes`);
  return createPrivateKey({ key: Buffer.concat([ED_PKCS8, seed]), format: "der", type: "pkcs8" });
}

/** An ed25519 public key for node:crypto, from its 32 raw bytes. */
export function verifyingKey(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new Error(`verifyingKey: key must be ${PUBLIC_KEY_BYTES} bytes`);
  return createPublicKey({ key: Buffer.concat([ED_SPKI, publicKey]), format: "der", type: "spki" });
}

/** Signs with node:crypto: the same 64 bytes as tweetnacl's sign.detached (ed25519 is deterministic). */
export function signFast(key: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, key));
}

/**
 * Verifies with node:crypto. It agrees with tweetnacl on every signature tweetnacl makes; it is
 * stricter on crafted ones (it refuses a non-canonical S), which only refuses more.
 */
export function verifyFast(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  return verify(null, message, key, signature);
}

/** An ephemeral X25519 key pair from node:crypto: the secret stays inside a KeyObject. */
export interface EphemeralKey {
  readonly secret: KeyObject;
  readonly publicKey: Uint8Array;
}

/** Makes a fresh ephemeral X25519 key pair. */
export function ephemeralKey(): EphemeralKey {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const spki = publicKey.export({ format: "der", type: "spki" });
  return { secret: privateKey, publicKey: new Uint8Array(spki.subarray(X_SPKI.length)) };
}

/**
 * The X25519 shared secret with a peer's public key, or null when the peer sent a low-order
 * point (the result would be all zeros and carry no secret; BoringSSL refuses it).
 */
export function sharedSecret(secret: KeyObject, peerPublic: Uint8Array): Uint8Array | null {
  if (peerPublic.length !== X25519_BYTES) return null;
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([X_SPKI, peerPublic]), format: "der", type: "spki" });
    return new Uint8Array(diffieHellman({ privateKey: secret, publicKey }));
  } catch {
    return null;
  }
}

/** Imports a raw X25519 secret (tests: to compare node:crypto with tweetnacl on the same key). */
export function x25519SecretKey(raw: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), raw]), format: "der", type: "pkcs8" });
}

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** HKDF-SHA256 (RFC 5869) from node:crypto. */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string | Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", ikm, salt, info, length));
}

/** Random bytes from the system's CSPRNG (through tweetnacl, which uses crypto.getRandomValues). */
export function randomBytes(n: number): Uint8Array {
  return nacl.randomBytes(n);
}

/** The reference implementations (tweetnacl), for key making, cold paths and agreement tests. */
export const reference = {
  /** A new ed25519 key pair: the 32-byte seed and the public key. */
  signingKeyPair(): { seed: Uint8Array; publicKey: Uint8Array } {
    const kp = nacl.sign.keyPair();
    return { seed: kp.secretKey.slice(0, SEED_BYTES), publicKey: kp.publicKey };
  },
  /** The public key of a seed. */
  publicKeyOf(seed: Uint8Array): Uint8Array {
    return nacl.sign.keyPair.fromSeed(seed).publicKey;
  },
  /** A detached ed25519 signature. */
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
    const kp = nacl.sign.keyPair.fromSeed(seed);
    return nacl.sign.detached(message, kp.secretKey);
  },
  /** Verifies a detached ed25519 signature. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
    return nacl.sign.detached.verify(message, signature, publicKey);
  },
  /** X25519 public key of a raw secret. */
  x25519PublicOf(secret: Uint8Array): Uint8Array {
    return nacl.scalarMult.base(secret);
  },
  /** X25519 shared secret. */
  x25519(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array {
    return nacl.scalarMult(secret, peerPublic);
  },
};
