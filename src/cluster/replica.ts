/**
 * What the replication core needs from its node, as interfaces the driver injects: the durable log
 * (the node's store; an in-memory one in tests) and the signing and verifying of entries and
 * certificates (node:crypto through net/ in a node, a cheap stand-in in the simulator). Also the
 * core's requests and events. Keeping storage and crypto behind these is what lets the simulator
 * run a thousand replicas in one process.
 */
import type { Entry, EntryBody } from "./entry.ts";
import type { Selector, SelectorSubject } from "./selector.ts";

/** A certificate as replication needs it, once its root signature and cluster checked out. */
export interface CertInfo {
  /** sha256 hex of the certificate's encoding (certificate value and root signature). */
  readonly hash: string;
  readonly name: string;
  readonly serial: string;
  readonly roles: readonly string[];
  readonly labels: readonly (readonly [string, string])[];
  /** Permissions: `admin`, `code`. */
  readonly can: readonly string[];
  /** Validity, epoch ms, inclusive. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Signing and verifying, injected. */
export interface EntryCrypto {
  /** This node's certificate (its info and encoding), or null for a node without identity. */
  readonly self: { readonly info: CertInfo; readonly bytes: Uint8Array } | null;
  /** Signs bytes as this node (only called when `self` is set). */
  sign(bytes: Uint8Array): Uint8Array;
  /** Checks a certificate's encoding from a peer: shape, cluster and root signature (not its validity in time). A string says why it is refused. */
  certificate(bytes: Uint8Array): CertInfo | string;
  /** True when `signature` is the certificate holder's over `bytes`. */
  verify(cert: CertInfo, bytes: Uint8Array, signature: Uint8Array): boolean;
  /** sha256 hex. */
  hash(bytes: Uint8Array): string;
}

/** An entry whose signature, certificate and permission checked out (or a local one of this node). */
export interface VerifiedEntry {
  readonly entry: Entry;
  /** Its codec encoding: what the signature covers. */
  readonly bytes: Uint8Array;
  /** Null for a local entry of a node without identity. */
  readonly signature: Uint8Array | null;
  /** sha256 hex of `bytes`. */
  readonly hash: string;
}

/** What applying an entry did on this node. */
export interface ApplyResult {
  /** `applied`, `skipped` (its target is other nodes) or `error: DETAIL`; also what the receipt says. */
  readonly result: string;
  /** Whatever the node wants back from a local write (the version it made, say). */
  readonly detail?: unknown;
}

/** An entry as the log hands it out for sending. */
export interface LoggedEntry {
  readonly origin: string;
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array | null;
  /** Certificate hash ("" for a local entry). */
  readonly cert: string;
  /** The blob it needs (code source), by hash, or null. */
  readonly blob: string | null;
}

/**
 * The durable change log of one node. Every call is synchronous; `apply` returns only after the
 * entry and its effect are durable (committed with synchronous=FULL in a node), and applying an
 * entry the log holds already does nothing. Entries of one origin arrive in sequence order.
 */
export interface ReplicaLog {
  /** Highest sequence of `origin` held (0: none); 1…high are all held. */
  high(origin: string): number;
  /** Every origin and its highest sequence. */
  vector(): readonly { readonly origin: string; readonly high: number }[];
  /** sha256 of the entry held as `origin:seq`, or null. */
  entryHash(origin: string, seq: number): string | null;
  /** Up to `limit` entries of `origin` from `from`, in order. */
  read(origin: string, from: number, limit: number): readonly LoggedEntry[];
  /** A stored certificate's encoding, or null. */
  cert(hash: string): Uint8Array | null;
  /** Keeps a verified certificate. */
  putCert(info: CertInfo, bytes: Uint8Array): void;
  hasBlob(hash: string): boolean;
  blob(hash: string): Uint8Array | null;
  /**
   * Stores and applies an entry: `applies` false when its target does not select this node (stored
   * only). `blob` is the entry's blob when it arrived with it, else null (the log holds it).
   * `durable` false may skip the fsync (group commit): the core calls `sync` before it acks.
   */
  apply(entry: VerifiedEntry, blob: Uint8Array | null, applies: boolean, durable: boolean): ApplyResult;
  /** Makes every entry applied so far durable (one fsync for a batch applied with `durable` false). */
  sync(): void;
  /** A new HLC stamp for a local change at this wall time (above every stamp held or seen). */
  tick(wallMs: number): { readonly ms: number; readonly n: number };
  /** Revoked certificates: serial → highest origin sequence still accepted from it. */
  revocations(): ReadonlyMap<string, number>;
  /** The state hash of the current code (docs/cluster.md). */
  stateHash(): string;
}

/** Requests a node makes of its replication core. */
export type ReplicationRequest =
  /** A change made here: signed, committed, pushed. `blob` is the source of a code put. */
  | { readonly type: "write"; readonly body: EntryBody; readonly target: Selector | null; readonly author: string; readonly blob: Uint8Array | null }
  /** Exchange version vectors with every connected peer now. */
  | { readonly type: "sync" };

/** Why an entry or message from a peer was refused (also the metric label). */
export type RejectReason =
  | "malformed"
  | "unknown-certificate"
  | "bad-certificate"
  | "origin-mismatch"
  | "permission"
  | "certificate-expired"
  | "certificate-not-yet-valid"
  | "revoked"
  | "bad-signature"
  | "conflict"
  | "clock-ahead"
  | "blob-mismatch"
  | "too-many-pending"
  | "rate-limited"
  | "unsigned";

/** What a replication core tells its node. */
export type ReplicationEvent =
  /** A local write was committed (durable); `detail` is the log's answer. */
  | { readonly type: "committed"; readonly entry: Entry; readonly result: string; readonly detail: unknown }
  /** A local write was refused before anything was stored. */
  /** A local write refused: `permission` (this node's identity lacks it) or `invalid` (peers would refuse the entry). */
  | { readonly type: "write-refused"; readonly reason: string; readonly cause: "permission" | "invalid" }
  /** An entry from another origin was stored (and applied, when `result` says so). */
  | { readonly type: "applied"; readonly entry: Entry; readonly from: string; readonly result: string; readonly detail: unknown }
  /** A peer applied one of this node's entries. */
  | { readonly type: "receipt"; readonly peer: string; readonly seq: number; readonly result: string }
  /** Something from a peer was refused. */
  | { readonly type: "rejected"; readonly from: string; readonly reason: RejectReason; readonly detail: string; readonly entry: string | null }
  /** An entry this node held already came again (pushes, relays and catch-up overlap). */
  | { readonly type: "duplicate"; readonly from: string; readonly mode: "push" | "page" };

/** What the core knows of a peer's replication state, for `sup nodes` and metrics. */
export interface PeerReplica {
  readonly name: string;
  readonly connected: boolean;
  /** Entries this node holds that the peer is not known to hold. */
  readonly lagEntries: number;
  /** The peer's state hash and entry count as it last reported them, or null. */
  readonly stateHash: string | null;
  readonly position: number | null;
  /** This node's clock when the peer last reported, or null. */
  readonly heardAt: number | null;
}

/** How a replication core starts. */
export interface ReplicationOptions {
  /** This node's origin name: its certificate name (or node id without identity). */
  readonly name: string;
  /** What targets are matched against: this node's name, roles and labels. */
  readonly subject: SelectorSubject;
  readonly log: ReplicaLog;
  readonly crypto: EntryCrypto;
  /** The node's clock now (its monotonic clock, as in every input). */
  readonly now: number;
  /** Wall time = now + wallOffsetMs: HLC stamps and certificate validity use wall time. */
  readonly wallOffsetMs: number;
  readonly random: { next(): number };
}
