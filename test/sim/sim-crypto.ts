/**
 * Stand-in certificates and signatures for simulated replicas: the same checks as the real ones
 * (a certificate must carry the simulated root's mark, an entry the signer's mark over its exact
 * bytes) computed with wyhash instead of ed25519, so a thousand replicas verify each other in
 * microseconds. It proves the protocol, not the cryptography (src/net/keys.test.ts does that).
 * Content hashes are real sha256: the store names sources by them.
 */
import type { CertInfo, EntryCrypto } from "../../src/cluster/mod.ts";
import { decode, encode } from "../../src/lang/codec.ts";
import { bytesFromLatin1, isList, latin1FromBytes, List, Str, sym, T_PAREN, type Value } from "../../src/lang/value.ts";

const CERT_TAG = sym("sim-cert");
const ROOT_SEED = 0x5eed_0001n;

function mark(bytes: Uint8Array, seed: bigint): Uint8Array {
  const out = new Uint8Array(16);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(Bun.hash.wyhash(bytes, seed)));
  dv.setBigUint64(8, BigInt(Bun.hash.wyhash(bytes, seed ^ 0x9e37_79b9n)));
  return out;
}

/** The signing seed of a simulated node (every replica can compute it: this is a simulation). */
function nodeSeed(name: string): bigint {
  return BigInt(Bun.hash.wyhash(name, 7n));
}

export function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** What a simulated certificate says. */
export interface SimCertSpec {
  readonly name: string;
  readonly serial: string;
  readonly can: readonly string[];
  readonly roles?: readonly string[];
  readonly notBefore?: number;
  readonly notAfter?: number;
}

/** The encoding of a simulated certificate, marked by the simulated root (or by `rootSeed` to forge one). */
export function simCertBytes(c: SimCertSpec, rootSeed = ROOT_SEED): Uint8Array {
  const fields: Value[] = [CERT_TAG, new Str(c.name), new Str(c.serial), new List(T_PAREN, c.can.map((x) => new Str(x))), new List(T_PAREN, (c.roles ?? []).map((x) => new Str(x))), c.notBefore ?? 0, c.notAfter ?? 4_000_000_000_000];
  const body = encode(new List(T_PAREN, fields));
  return encode(new List(T_PAREN, [...fields, new Str(latin1FromBytes(mark(body, rootSeed)))]));
}

/** Signs like node `name` would. */
export function simSign(name: string, bytes: Uint8Array): Uint8Array {
  return mark(bytes, nodeSeed(name));
}

/** The EntryCrypto of one simulated node (`self` null: a node without identity). */
export function simCrypto(self: SimCertSpec | null): EntryCrypto {
  const crypto: EntryCrypto = {
    self: null,
    sign: (bytes) => simSign(self!.name, bytes),
    certificate(bytes): CertInfo | string {
      const d = decode(bytes, { knownSymbolsOnly: true });
      if (!d.ok || !isList(d.value) || d.value.items.length !== 8 || d.value.items[0] !== CERT_TAG) return "not a simulated certificate";
      const f = d.value.items;
      const body = encode(new List(T_PAREN, f.slice(0, 7)));
      const sig = f[7] instanceof Str ? bytesFromLatin1(f[7].s) : null;
      if (sig === null || !Buffer.from(sig).equals(Buffer.from(mark(body, ROOT_SEED)))) return "not signed by the simulated root";
      const strs = (v: Value | undefined) => (v !== undefined && isList(v) ? v.items.map((x) => (x instanceof Str ? x.s : "")) : []);
      return {
        hash: sha256(bytes),
        name: (f[1] as Str).s,
        serial: (f[2] as Str).s,
        can: strs(f[3]),
        roles: strs(f[4]),
        labels: [],
        notBefore: f[5] as number,
        notAfter: f[6] as number,
      };
    },
    verify: (cert, bytes, signature) => Buffer.from(signature).equals(Buffer.from(simSign(cert.name, bytes))),
    hash: sha256,
  };
  if (self === null) return crypto;
  const bytes = simCertBytes(self);
  const info = crypto.certificate(bytes);
  if (typeof info === "string") throw new Error(info);
  return { ...crypto, self: { info, bytes } };
}
