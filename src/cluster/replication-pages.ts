/**
 * Catch-up pages: what a peer lacks of this node's log, given the version vector it sent, cut to
 * one message. Origins go in name order, each from the first sequence the peer lacks; an entry
 * brings its certificate (unless sent on this connection already) and its blob (each once per
 * page). A page that stops before everything says `more`, and the peer asks again.
 */
import { BLOBS_PER_MESSAGE_MAX, CERTS_PER_MESSAGE_MAX, ENTRIES_PER_MESSAGE_MAX, PAGE_BYTES_MAX } from "./replication-limits.ts";
import type { ReplicaLog } from "./replica.ts";

/** One page. */
export interface Page {
  readonly entries: { readonly origin: string; readonly seq: number; readonly bytes: Uint8Array; readonly signature: Uint8Array }[];
  readonly certs: Uint8Array[];
  readonly certHashes: string[];
  readonly blobs: { readonly hash: string; readonly bytes: Uint8Array }[];
  readonly more: boolean;
}

/** Builds the page a peer holding `theirs` (origin → highest sequence) lacks, of `only` origins or all. */
export function buildPage(log: ReplicaLog, theirs: ReadonlyMap<string, number>, only: readonly string[] | null, certsSent: ReadonlySet<string>): Page {
  const page: Page = { entries: [], certs: [], certHashes: [], blobs: [], more: false };
  const blobsIn = new Set<string>();
  let bytes = 0;
  const origins = only ?? log.vector().map((v) => v.origin);
  for (const origin of origins) {
    const from = (theirs.get(origin) ?? 0) + 1;
    if (log.high(origin) < from) continue;
    for (const e of log.read(origin, from, ENTRIES_PER_MESSAGE_MAX - page.entries.length)) {
      // Local entries of a node without identity never travel (and nothing after them does).
      if (e.signature === null) break;
      let size = e.bytes.length + e.signature.length + 16;
      const newCert = e.cert !== "" && !certsSent.has(e.cert) && !page.certHashes.includes(e.cert);
      const cert = newCert ? log.cert(e.cert) : null;
      if (cert !== null) size += cert.length;
      const blob = e.blob !== null && !blobsIn.has(e.blob) ? log.blob(e.blob) : null;
      if (blob !== null) size += blob.length + 80;
      const full = page.entries.length >= ENTRIES_PER_MESSAGE_MAX || (cert !== null && page.certs.length >= CERTS_PER_MESSAGE_MAX) || (blob !== null && page.blobs.length >= BLOBS_PER_MESSAGE_MAX);
      if (page.entries.length > 0 && (bytes + size > PAGE_BYTES_MAX || full)) return { ...page, more: true };
      bytes += size;
      if (cert !== null) {
        page.certs.push(cert);
        page.certHashes.push(e.cert);
      }
      if (blob !== null) {
        page.blobs.push({ hash: e.blob!, bytes: blob });
        blobsIn.add(e.blob!);
      }
      page.entries.push({ origin: e.origin, seq: e.seq, bytes: e.bytes, signature: e.signature });
    }
    if (page.entries.length >= ENTRIES_PER_MESSAGE_MAX) return { ...page, more: log.high(origin) > page.entries[page.entries.length - 1]!.seq || origins.indexOf(origin) < origins.length - 1 };
  }
  return page;
}
