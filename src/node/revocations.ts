/**
 * The certificates a node refuses, as the Backchannel's `revoked` hook asks in every handshake and
 * at every recheck. They are change-log replication's revocations table (docs/cluster.md,
 * "Entries"): a `(revoke SERIAL NAME UP-TO REASON)` entry signed by an `admin` identity, stored by
 * every node and applied there, so a restart keeps refusing them and a node that was down when a
 * certificate was revoked refuses it once it has caught up. This is a cache of that table, read at
 * start and again whenever a revocation entry is applied (`refresh`), so a handshake costs a map
 * lookup, not a query. A revocation names the certificate by serial (a node re-issued under the
 * same name with a new certificate is a different certificate).
 */
import type { Store } from "../store/mod.ts";

/** One revoked certificate, as the table holds it. */
export interface Revocation {
  readonly serial: string;
  readonly name: string;
  /** The node whose identity signed the revocation entry. */
  readonly by: string;
  readonly reason: string;
  /** Epoch ms of the entry (its hybrid logical clock's physical part). */
  readonly at: number;
  /** Entries of that certificate up to this sequence stay valid everywhere. */
  readonly upTo: number;
}

/** See the file comment. */
export class Revocations {
  private bySerial = new Map<string, Revocation>();

  constructor(private readonly store: Store) {
    this.refresh();
  }

  /** Reads the table again (after a revocation entry was applied). */
  refresh(): void {
    this.bySerial = new Map(this.store.log.revocations().map((r) => [r.serial, { serial: r.serial, name: r.name, by: r.origin, reason: r.reason, at: r.hlcMs, upTo: r.upTo }]));
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
}
