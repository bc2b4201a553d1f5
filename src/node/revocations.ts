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
 * Revocations a node keeps. Until change-log replication's own table holds them (issue 14), the
 * list is one store setting, and a setting is at most 64 KiB: 128 revocations of the longest
 * (a 63-character name and revoker, a reason of REVOCATION_REASON_CHARS_MAX) fit with room to
 * spare. Certificates are replaced rarely; a cluster that revokes more re-issues its root.
 */
export const REVOCATIONS_MAX = 128;

/** Longest reason kept with a revocation: a sentence for the logs, not a report. */
export const REVOCATION_REASON_CHARS_MAX = 200;

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
    this.bySerial.set(r.serial, { ...r, reason: r.reason.slice(0, REVOCATION_REASON_CHARS_MAX) });
    this.store.putSetting(SETTING_REVOKED, this.list());
    return true;
  }
}
