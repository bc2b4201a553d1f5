/**
 * The certificates a node refuses: kept in its store (setting `cluster.revoked`), so a restart
 * keeps refusing them, and asked by the Backchannel's `revoked` hook in every handshake and at
 * every recheck. A revocation names the certificate by serial (a node re-issued under the same
 * name with a new certificate is a different certificate), with the name, who revoked it, when
 * and why, for logs and `sup nodes revoke`'s answers.
 */
import type { Store } from "../store/mod.ts";

/** One revoked certificate. */
export interface Revocation {
  readonly serial: string;
  readonly name: string;
  /** The identity (or `admin` for the socket's owner) that revoked it. */
  readonly by: string;
  readonly reason: string;
  /** Epoch ms. */
  readonly at: number;
}

const SETTING_REVOKED = "cluster.revoked";

/**
 * Revocations a node keeps. Certificates are issued per node and replaced rarely; 4,096 is the
 * member table's size and leaves room for years of replaced nodes, while bounding what a store
 * setting (and each worker request, which carries the serials) holds.
 */
export const REVOCATIONS_MAX = 4096;

/** See the file comment. */
export class Revocations {
  private readonly bySerial = new Map<string, Revocation>();

  constructor(private readonly store: Store) {
    for (const r of store.getSetting<Revocation[]>(SETTING_REVOKED) ?? []) this.bySerial.set(r.serial, r);
  }

  /** Why this serial is refused, or null. */
  reason(serial: string): string | null {
    const r = this.bySerial.get(serial);
    return r === undefined ? null : `revoked by ${r.by} at ${new Date(r.at).toISOString()}${r.reason === "" ? "" : `: ${r.reason}`}`;
  }

  /** The revoked serials. */
  serials(): string[] {
    return [...this.bySerial.keys()];
  }

  /** Every revocation, oldest first. */
  list(): Revocation[] {
    return [...this.bySerial.values()].sort((a, b) => a.at - b.at);
  }

  /** Records a revocation (durably); false when that serial was revoked already. Throws a RangeError past REVOCATIONS_MAX. */
  add(r: Revocation): boolean {
    if (this.bySerial.has(r.serial)) return false;
    if (this.bySerial.size >= REVOCATIONS_MAX) throw new RangeError(`Cannot revoke "${r.name}": this node already holds ${REVOCATIONS_MAX} revocations`);
    this.bySerial.set(r.serial, r);
    this.store.putSetting(SETTING_REVOKED, this.list());
    return true;
  }
}
