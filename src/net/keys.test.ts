import { describe, expect, test } from "bun:test";
import { createCipheriv, createDecipheriv } from "node:crypto";
import nacl from "tweetnacl";
import { Rng } from "../../test/support/rng.ts";
import { ephemeralKey, hkdf, reference, sharedSecret, signFast, signingKey, verifyFast, verifyingKey, x25519SecretKey } from "./keys.ts";
import { AEAD_OVERHEAD, frameCipher } from "./suite.ts";

const SEED = 0x5e7c0de;
const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function bytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

describe("node:crypto agrees with tweetnacl", () => {
  test(`ed25519: 64 random keys and messages sign to identical bytes and cross-verify (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    for (let i = 0; i < 64; i++) {
      const seed = bytes(rng, 32);
      const msg = bytes(rng, rng.int(300));
      const pub = reference.publicKeyOf(seed);
      const fast = signFast(signingKey(seed), msg);
      const ref = reference.sign(seed, msg);
      expect(toHex(fast)).toBe(toHex(ref));
      expect(verifyFast(verifyingKey(pub), msg, ref)).toBe(true);
      expect(reference.verify(pub, msg, fast)).toBe(true);
    }
  }, 60_000);

  test(`ed25519: both refuse the same altered signatures and messages (seed ${SEED})`, () => {
    const rng = new Rng(SEED + 1);
    for (let i = 0; i < 48; i++) {
      const seed = bytes(rng, 32);
      const msg = bytes(rng, 1 + rng.int(100));
      const pub = reference.publicKeyOf(seed);
      const sig = reference.sign(seed, msg);
      const badSig = sig.slice();
      badSig[rng.int(64)]! ^= 1 << rng.int(8);
      const badMsg = msg.slice();
      badMsg[rng.int(msg.length)]! ^= 1 << rng.int(8);
      const key = verifyingKey(pub);
      expect([verifyFast(key, msg, badSig), reference.verify(pub, msg, badSig)]).toEqual([false, false]);
      expect([verifyFast(key, badMsg, sig), reference.verify(pub, badMsg, sig)]).toEqual([false, false]);
    }
  }, 60_000);

  test("ed25519: RFC 8032 test 1 on both", () => {
    const seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    const pub = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const sig = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    expect(toHex(reference.publicKeyOf(seed))).toBe(pub);
    expect(toHex(reference.sign(seed, new Uint8Array(0)))).toBe(sig);
    expect(toHex(signFast(signingKey(seed), new Uint8Array(0)))).toBe(sig);
  });

  test(`X25519: 100 random key pairs give identical shared secrets (seed ${SEED})`, () => {
    const rng = new Rng(SEED + 2);
    for (let i = 0; i < 100; i++) {
      const a = bytes(rng, 32);
      const b = bytes(rng, 32);
      const bPub = reference.x25519PublicOf(b);
      const fast = sharedSecret(x25519SecretKey(a), bPub);
      expect(fast).not.toBeNull();
      expect(toHex(fast!)).toBe(toHex(reference.x25519(a, bPub)));
      expect(toHex(fast!)).toBe(toHex(reference.x25519(b, reference.x25519PublicOf(a))));
    }
  }, 60_000);

  test("X25519: an ephemeral key's public half is tweetnacl's, and both sides agree", () => {
    const mine = ephemeralKey();
    const peer = nacl.box.keyPair();
    expect(toHex(sharedSecret(mine.secret, peer.publicKey)!)).toBe(toHex(reference.x25519(peer.secretKey, mine.publicKey)));
  });

  test("X25519: RFC 7748 section 6.1 on both", () => {
    const a = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const bPub = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
    expect(toHex(reference.x25519PublicOf(a))).toBe("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    expect(toHex(reference.x25519(a, hex(bPub)))).toBe(shared);
    expect(toHex(sharedSecret(x25519SecretKey(a), hex(bPub))!)).toBe(shared);
  });

  test("X25519: a low-order point (all zeros) is refused instead of giving an all-zero secret", () => {
    expect(sharedSecret(ephemeralKey().secret, new Uint8Array(32))).toBeNull();
    expect(sharedSecret(ephemeralKey().secret, new Uint8Array(31))).toBeNull();
  });
});

describe("known-answer vectors", () => {
  test("HKDF-SHA256: RFC 5869 test case 1", () => {
    const okm = hkdf(hex("0b".repeat(22)), hex("000102030405060708090a0b0c"), hex("f0f1f2f3f4f5f6f7f8f9"), 42);
    expect(toHex(okm)).toBe("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  });

  test("AES-256-GCM: the GCM specification's test cases 14 and 16", () => {
    const z = createCipheriv("aes-256-gcm", new Uint8Array(32), new Uint8Array(12));
    expect(toHex(Buffer.concat([z.update(new Uint8Array(16)), z.final()]))).toBe("cea7403d4d606b6e074ec5d3baf39d18");
    expect(toHex(z.getAuthTag())).toBe("d0d1c8a799996bf0265b98b5d48ab919");
    const key = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    const iv = hex("cafebabefacedbaddecaf888");
    const aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    const pt = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    const ct = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662";
    const tag = "76fc6ece0f4e1768cddf8853bb2d551b";
    const c = createCipheriv("aes-256-gcm", key, iv);
    c.setAAD(aad);
    expect(toHex(Buffer.concat([c.update(pt), c.final()]))).toBe(ct);
    expect(toHex(c.getAuthTag())).toBe(tag);
    const d = createDecipheriv("aes-256-gcm", key, iv);
    d.setAAD(aad);
    d.setAuthTag(hex(tag));
    expect(toHex(Buffer.concat([d.update(hex(ct)), d.final()]))).toBe(toHex(pt));
  });

  test("the secretbox suite is tweetnacl's secretbox with the counter nonce", () => {
    const key = hex("11".repeat(32));
    const msg = Buffer.from("sup frame");
    const frame = frameCipher("secretbox", key).seal(5, msg);
    const nonce = new Uint8Array(24);
    nonce[23] = 5;
    expect(toHex(frame.subarray(4))).toBe(toHex(nacl.secretbox(msg, nonce, key)));
    expect(frame.length).toBe(4 + msg.length + AEAD_OVERHEAD);
  });

  test("the aes256gcm suite is AES-256-GCM with the counter nonce and the length header as associated data", () => {
    const key = hex("22".repeat(32));
    const msg = Buffer.from("sup frame");
    const frame = frameCipher("aes256gcm", key).seal(0x1_0000_0002, msg);
    const iv = hex("000000000000000100000002");
    const c = createCipheriv("aes-256-gcm", key, iv);
    c.setAAD(frame.subarray(0, 4));
    const expected = Buffer.concat([c.update(msg), c.final(), c.getAuthTag()]);
    expect(toHex(frame.subarray(4))).toBe(toHex(expected));
  });
});
