/**
 * The checks an entry from a peer must pass before it is applied, as one pure function: the
 * signature over the bytes as received (so any change to an entry fails it), the signer being its
 * origin, the permission its kind needs, the certificate's validity at the entry's own HLC (the
 * same answer on every node, whenever the entry arrives), revocation, and an HLC not far ahead of
 * this node's clock. The certificate's root signature was checked when it was received.
 */
import { entryId, permissionFor, type Entry } from "./entry.ts";
import { CERT_SKEW_MS, HLC_AHEAD_MS_MAX } from "./replication-limits.ts";
import type { CertInfo, EntryCrypto, RejectReason } from "./replica.ts";

/** Null when the entry may be applied, else why not. */
export function entryProblem(
  e: Entry,
  bytes: Uint8Array,
  signature: Uint8Array,
  cert: CertInfo,
  crypto: EntryCrypto,
  revoked: ReadonlyMap<string, number>,
  wallMs: number,
): [RejectReason, string] | null {
  const id = entryId(e.origin, e.seq);
  if (!crypto.verify(cert, bytes, signature)) return ["bad-signature", `entry ${id} does not verify against the certificate of "${cert.name}"`];
  if (cert.name !== e.origin) return ["origin-mismatch", `entry ${id} is signed by "${cert.name}", not by its origin`];
  const need = permissionFor(e.body.kind);
  if (!cert.can.includes(need)) return ["permission", `entry ${id} (${e.body.kind}) needs the "${need}" permission, which the certificate of "${cert.name}" does not grant`];
  if (e.hlc.ms < cert.notBefore - CERT_SKEW_MS) return ["certificate-not-yet-valid", `entry ${id} is stamped before its certificate's validity`];
  if (e.hlc.ms > cert.notAfter + CERT_SKEW_MS) return ["certificate-expired", `entry ${id} is stamped after its certificate expired`];
  const upTo = revoked.get(cert.serial);
  if (upTo !== undefined && e.seq > upTo) return ["revoked", `entry ${id} is signed by revoked certificate ${cert.serial} (its entries up to ${upTo} are kept)`];
  if (e.hlc.ms > wallMs + HLC_AHEAD_MS_MAX) return ["clock-ahead", `entry ${id} is stamped ${Math.round((e.hlc.ms - wallMs) / 1000)} s ahead of this node's clock`];
  return null;
}
