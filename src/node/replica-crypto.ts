/**
 * Signing and verifying change-log entries with the node's identity (net/): node:crypto's ed25519
 * (byte-identical to tweetnacl, net/keys.test.ts). A certificate travels as the codec encoding of
 * `(CERTIFICATE ROOT-SIGNATURE)` and is named by its sha256; it is accepted when it is well formed,
 * of this cluster and signed by its root. Its validity in time is the replication core's to check,
 * against each entry's own HLC (so the answer is the same on every node, whenever it asks).
 */
import { createHash } from "node:crypto";
import type { CertInfo, EntryCrypto } from "../cluster/mod.ts";
import { decode, encode } from "../lang/codec.ts";
import { bytesFromLatin1, isList, latin1FromBytes, List, Str, T_PAREN } from "../lang/value.ts";
import { certFromValue, certValue, verifyBy, type Certificate, type NodeIdentity, type SignedCertificate } from "../net/mod.ts";

/** sha256 hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The encoding a signed certificate travels in with entries. */
export function signedCertBytes(sc: SignedCertificate): Uint8Array {
  return encode(new List(T_PAREN, [certValue(sc.cert), new Str(latin1FromBytes(sc.signature))]));
}

function infoOf(c: Certificate, hash: string): CertInfo {
  return { hash, name: c.name, serial: c.serial, roles: c.roles, labels: c.labels, can: c.can, notBefore: c.notBefore, notAfter: c.notAfter };
}

/** Verifying keys are built once per certificate; a node sees a few dozen certificates at most. */
const KEYS_CACHED_MAX = 4096;

/** The EntryCrypto of a node with an identity. */
export function identityCrypto(identity: NodeIdentity): EntryCrypto {
  const certs = new Map<string, Certificate>();
  const selfBytes = signedCertBytes(identity.signed);
  const selfInfo = infoOf(identity.cert, sha256(selfBytes));
  certs.set(selfInfo.hash, identity.cert);
  return {
    self: { info: selfInfo, bytes: selfBytes },
    sign: (bytes) => identity.sign(bytes),
    certificate(bytes): CertInfo | string {
      const d = decode(bytes, { knownSymbolsOnly: true });
      if (!d.ok || !isList(d.value) || d.value.items.length !== 2 || !(d.value.items[1] instanceof Str)) return "not an encoded (CERTIFICATE SIGNATURE)";
      const cert = certFromValue(d.value.items[0]!);
      if (typeof cert === "string") return `certificate is malformed: ${cert}`;
      const sc: SignedCertificate = { cert, signature: bytesFromLatin1(d.value.items[1].s) };
      // Validity is checked per entry, at its HLC: here only the cluster and the root's signature.
      const check = identity.checkPeer(sc, cert.notBefore);
      if (!check.ok) return check.detail;
      const hash = sha256(bytes);
      if (certs.size >= KEYS_CACHED_MAX) certs.delete(certs.keys().next().value as string);
      certs.set(hash, cert);
      return infoOf(cert, hash);
    },
    verify(info, bytes, signature) {
      const cert = certs.get(info.hash);
      return cert !== undefined && verifyBy(cert, bytes, signature);
    },
    hash: sha256,
  };
}

/** The EntryCrypto of a node without identity: its entries are unsigned and it accepts none from others. */
export const NO_IDENTITY: EntryCrypto = {
  self: null,
  sign: () => {
    throw new Error("a node without identity signs nothing");
  },
  certificate: () => "this node has no identity: it runs alone and takes no entries from others",
  verify: () => false,
  hash: sha256,
};
