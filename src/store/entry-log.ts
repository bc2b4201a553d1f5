/**
 * The change log as replication sees it (docs/cluster.md, "Change-log replication"): every entry of
 * every origin, each committed in one transaction with what it applies (a code version or removal,
 * a kernel load or unload, a tenant setting, a revocation), so an entry is stored and applied or
 * neither, and a second commit of the same entry changes nothing. Entries of one origin are kept
 * contiguous (1, 2, 3…), which makes (origin → highest sequence) a complete description of what
 * this store holds. The store does not read entries: callers (node/) decode and verify them and
 * hand over their record plus the effect to apply.
 */
import type { Database } from "bun:sqlite";
import { StoreInputError } from "./errors.ts";
import type { EntryRow, EntryStatements, RevocationRow } from "./entry-statements.ts";
import { compareStamps, HybridClock, type Hlc } from "./hlc.ts";
import type { Statements } from "./statements.ts";
import type { Change, CodeVersion, VersionOp } from "./types.ts";
import { appendVersion, nextNumberIn, removeIn, type VersionContent, type WriteStamp } from "./writes.ts";

/** An entry as the store keeps it. */
export interface EntryRecord {
  readonly origin: string;
  readonly seq: number;
  readonly hlc: Hlc;
  readonly kind: string;
  /** Selector text; null: every node. */
  readonly target: string | null;
  /** sha256 hex of `encoded`. */
  readonly hash: string;
  /** The entry's codec encoding: the bytes its signature covers. */
  readonly encoded: Uint8Array;
  /** Null for a local entry of a node without identity (never sent to anyone). */
  readonly signature: Uint8Array | null;
  /** Hash of the certificate that signed it (stored with putCert first). */
  readonly cert: string | null;
  /** The source text it needs (a code put), by hash, or null. */
  readonly blob: string | null;
}

/** A stored entry with what applying it did here. */
export interface StoredEntry extends EntryRecord {
  readonly receivedAt: number;
  /** `applied`, `skipped` (its target is other nodes) or `error: DETAIL`. */
  readonly result: string;
}

/** What committing an entry applies to this store. */
export type EntryEffect =
  | { readonly type: "code-put"; readonly tenant: string; readonly name: string; readonly number: number; readonly op: VersionOp; readonly content: VersionContent; readonly encoded: Uint8Array; readonly author: string }
  | { readonly type: "code-rm"; readonly tenant: string; readonly name: string; readonly author: string }
  /** A code put aimed at other nodes: only its version number counts here. */
  | { readonly type: "code-number"; readonly tenant: string; readonly name: string; readonly number: number }
  /** A kernel load or unload for this node; `settings` are written in the same transaction. */
  | { readonly type: "kernel"; readonly kernel: string; readonly loaded: boolean; readonly settings: readonly (readonly [string, string])[] }
  | { readonly type: "setting"; readonly tenant: string; readonly key: string; readonly value: string }
  | { readonly type: "revoke"; readonly serial: string; readonly name: string; readonly upTo: number; readonly reason: string }
  /** Stored only: the entry is for other nodes, or applying it failed (the result says why). */
  | { readonly type: "none"; readonly result: string };

/** What a commit did. */
export interface Committed {
  readonly result: string;
  /** The version a code put made. */
  readonly version?: CodeVersion;
  /** The local change-log row of a code put or removal (what onChange listeners get). */
  readonly change?: Change;
  /** True when the change took effect now: a newer stamp than what this store held. */
  readonly current: boolean;
  /** True when the store already held this very entry (nothing was written). */
  readonly duplicate?: boolean;
}

/** A revoked certificate. */
export type Revocation = RevocationRow;

/** A kernel's last load or unload aimed at this node. */
export interface KernelStamp {
  readonly loaded: boolean;
  readonly hlc: Hlc;
  readonly origin: string;
}

/** The setting a group-commit sync writes (its value counts syncs since the store opened). */
const SYNC_KEY = "replication.sync";

/** What the store gives the entry log: its connection, statements, clock and change listeners. */
export interface EntryLogContext {
  /** Runs a write with synchronous=NORMAL (no fsync). */
  relaxed<T>(write: () => T): T;
  readonly db: Database;
  readonly st: Statements;
  readonly est: EntryStatements;
  readonly clock: HybridClock;
  readonly now: () => number;
  guard<T>(action: string, fn: () => T): T;
  publish(change: Change): void;
}

/** The entry side of a Store (`store.log`). */
export class EntryLog {
  private readonly highs = new Map<string, number>();
  private sortedVector: { origin: string; high: number }[] | null = null;
  private hashCache: { hash: string; names: number } | null = null;
  private unsynced = false;
  private syncs = 0;
  private readonly txCommit: (rec: EntryRecord, effect: EntryEffect) => Committed;

  constructor(private readonly cx: EntryLogContext) {
    for (const r of cx.est.vector.all()) this.highs.set(r.origin, r.high);
    this.txCommit = cx.db.transaction((rec: EntryRecord, effect: EntryEffect) => this.commitIn(rec, effect)).immediate;
  }

  /** The highest sequence of `origin` this store holds (0: none); entries 1…high are all here. */
  high(origin: string): number {
    return this.highs.get(origin) ?? 0;
  }

  /** Every origin with its highest sequence, by origin (a shared array: do not modify it). */
  vector(): readonly { readonly origin: string; readonly high: number }[] {
    this.sortedVector ??= [...this.highs].map(([origin, high]) => ({ origin, high })).sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
    return this.sortedVector;
  }

  /** Entries held, in all. */
  get size(): number {
    let n = 0;
    for (const h of this.highs.values()) n += h;
    return n;
  }

  /** A new HLC stamp for a change made here now (`wallMs`: this node's wall clock). */
  tick(wallMs: number): Hlc {
    return this.cx.clock.tick(wallMs);
  }

  /** The newest stamp issued or seen. */
  get clock(): Hlc {
    return this.cx.clock.current;
  }

  /** The next version number of a name on this store. */
  nextNumber(tenant: string, name: string): number {
    return this.cx.guard(`Cannot number a version of "${name}"`, () => nextNumberIn(this.cx.st, tenant, name));
  }

  /**
   * Stores an entry and applies its effect in one transaction (synchronous=FULL: durable when this
   * returns). The entry must be the next of its origin. An effect the store refuses (a version
   * number its origin already used) is stored as `error: …` with nothing applied, the same way on
   * every node. Committing an entry the store holds already changes nothing (`duplicate`); one
   * that differs from the held entry of the same origin and sequence is refused.
   *
   * `durable` false commits without the fsync (synchronous=NORMAL: it survives the process dying,
   * not yet a power loss) for group commit: the caller calls `sync()` before it tells anyone the
   * entry is stored, so many entries received at once cost one fsync.
   */
  commit(rec: EntryRecord, effect: EntryEffect, durable = true): Committed {
    const next = this.high(rec.origin) + 1;
    if (rec.seq < next && rec.seq >= 1) {
      const held = this.entry(rec.origin, rec.seq);
      if (held !== null && held.hash === rec.hash) return { result: held.result, current: false, duplicate: true };
      throw new StoreInputError("store-bad-argument", `Cannot store entry ${rec.origin}:${rec.seq}: this store holds another entry ${rec.origin}:${rec.seq} (hash ${held?.hash.slice(0, 12)}, not ${rec.hash.slice(0, 12)})`);
    }
    if (rec.seq !== next) throw new StoreInputError("store-bad-argument", `Cannot store entry ${rec.origin}:${rec.seq}: the next entry of "${rec.origin}" is ${next}`);
    const c = this.cx.guard(`Cannot store entry ${rec.origin}:${rec.seq}`, () => (durable ? this.txCommit(rec, effect) : this.cx.relaxed(() => this.txCommit(rec, effect))));
    if (!durable) this.unsynced = true;
    this.highs.set(rec.origin, rec.seq);
    this.sortedVector = null;
    this.cx.clock.observe(rec.hlc);
    if (c.change !== undefined) this.cx.publish(c.change);
    return c;
  }

  private commitIn(rec: EntryRecord, effect: EntryEffect): Committed {
    let c: Committed;
    try {
      c = this.applyIn(rec, effect);
    } catch (e) {
      if (!(e instanceof StoreInputError)) throw e;
      // Nothing of the effect was written (the version check comes first); the entry is kept.
      c = { result: `error: ${e.message}`, current: false };
    }
    this.cx.est.insertEntry.run(rec.origin, rec.seq, rec.hlc.ms, rec.hlc.n, rec.kind, rec.target, rec.hash, rec.encoded, rec.signature, rec.cert, rec.blob, this.cx.now(), c.result);
    return c;
  }

  private applyIn(rec: EntryRecord, e: EntryEffect): Committed {
    const { st, est } = this.cx;
    const by: WriteStamp = { author: "author" in e ? e.author : "", origin: rec.origin, hlc: rec.hlc, entrySeq: rec.seq };
    switch (e.type) {
      case "code-put": {
        const a = appendVersion(st, e.tenant, e.name, { number: e.number, op: e.op, content: e.content, encoded: e.encoded }, by);
        return { result: "applied", version: a.version, change: a.change, current: a.current };
      }
      case "code-rm": {
        const r = removeIn(st, e.tenant, e.name, by, false);
        return { result: "applied", change: r.change, current: r.current };
      }
      case "code-number":
        st.bumpNumber.run(e.tenant, e.name, e.number);
        return { result: "skipped", current: false };
      case "kernel": {
        const old = est.kernelStamp.get(e.kernel);
        if (old !== null && compareStamps({ ms: old.hlcMs, n: old.hlcN }, old.origin, rec.hlc, rec.origin) >= 0) return { result: "applied", current: false };
        est.setKernelStamp.run(e.kernel, e.loaded ? 1 : 0, rec.hlc.ms, rec.hlc.n, rec.origin);
        for (const [key, value] of e.settings) st.putSetting.run(key, value);
        return { result: "applied", current: true };
      }
      case "setting": {
        const old = est.tenantSetting.get(e.tenant, e.key);
        if (old !== null && compareStamps({ ms: old.hlcMs, n: old.hlcN }, old.origin, rec.hlc, rec.origin) >= 0) return { result: "applied", current: false };
        est.setTenantSetting.run(e.tenant, e.key, e.value, rec.hlc.ms, rec.hlc.n, rec.origin);
        return { result: "applied", current: true };
      }
      case "revoke":
        est.insertRevocation.run(e.serial, e.name, e.upTo, e.reason, rec.hlc.ms, rec.hlc.n, rec.origin);
        return { result: "applied", current: true };
      case "none":
        return { result: e.result, current: false };
    }
  }

  /**
   * Makes every earlier commit durable: one small write committed with synchronous=FULL, whose WAL
   * sync covers the frames of the commits made without one. A no-op when there are none.
   */
  sync(): void {
    if (!this.unsynced) return;
    this.cx.guard("Cannot sync the change log", () => this.cx.st.putSetting.run(SYNC_KEY, String(++this.syncs)));
    this.unsynced = false;
  }

  /** Forgets the cached state hash: the store's code changed. */
  codeChanged(): void {
    this.hashCache = null;
  }

  /** One stored entry, or null. */
  entry(origin: string, seq: number): StoredEntry | null {
    const r = this.cx.guard("Cannot read the change log", () => this.cx.est.entry.get(origin, seq));
    return r === null ? null : toStored(r);
  }

  /** Up to `limit` entries of `origin` from sequence `from`, in order. */
  read(origin: string, from: number, limit: number): StoredEntry[] {
    return this.cx.guard("Cannot read the change log", () => this.cx.est.entriesFrom.all(origin, from, limit)).map(toStored);
  }

  /** How many entries were applied, skipped or failed (for metrics). */
  resultCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.cx.guard("Cannot read the change log", () => this.cx.est.results.all())) out[r.result] = r.n;
    return out;
  }

  /** Stores a certificate (codec bytes of the certificate and its root signature) under its hash. */
  putCert(hash: string, name: string, serial: string, encoded: Uint8Array): void {
    this.cx.guard("Cannot store a certificate", () => this.cx.est.insertCert.run(hash, name, serial, encoded));
  }

  /** A stored certificate's bytes, or null. */
  cert(hash: string): Uint8Array | null {
    return this.cx.guard("Cannot read a certificate", () => this.cx.est.cert.get(hash))?.encoded ?? null;
  }

  /** A source text by the sha256 of its UTF-8 bytes, or null. */
  source(hash: string): string | null {
    return this.cx.guard("Cannot read a source", () => this.cx.st.sourceText.get(hash))?.text ?? null;
  }

  /** True when a source text with this hash is stored. */
  hasSource(hash: string): boolean {
    return this.cx.guard("Cannot read a source", () => this.cx.est.hasSource.get(hash)) !== null;
  }

  /** The selector text of the entry that made version (number, origin) of a name, or null when it was for every node. */
  targetOf(tenant: string, name: string, number: number, origin: string): string | null {
    return this.cx.guard("Cannot read an entry's target", () => this.cx.est.versionTarget.get(tenant, name, number, origin))?.target ?? null;
  }

  /** Every revoked certificate. */
  revocations(): Revocation[] {
    return this.cx.guard("Cannot read revocations", () => this.cx.est.revocations.all());
  }

  /** The last load or unload of a kernel aimed at this node, or null. */
  kernelStamp(kernel: string): KernelStamp | null {
    const r = this.cx.guard("Cannot read kernel stamps", () => this.cx.est.kernelStamp.get(kernel));
    return r === null ? null : { loaded: r.loaded === 1, hlc: { ms: r.hlcMs, n: r.hlcN }, origin: r.origin };
  }

  /** Records a local load or unload (made through this node's own admin socket, not an entry). */
  stampKernel(kernel: string, loaded: boolean, hlc: Hlc, origin: string): void {
    this.cx.guard("Cannot store a kernel stamp", () => this.cx.est.setKernelStamp.run(kernel, loaded ? 1 : 0, hlc.ms, hlc.n, origin));
  }

  /** A tenant setting's JSON text, or null. */
  tenantSetting(tenant: string, key: string): string | null {
    return this.cx.guard("Cannot read a tenant setting", () => this.cx.est.tenantSetting.get(tenant, key))?.value ?? null;
  }

  /**
   * The state hash: sha256 over the current version of every name (tenant, name, kind, source hash,
   * meta) in (tenant, name) order. Version numbers and origins are left out, so two nodes serving
   * the same code have the same hash even when their histories differ (each seeded its own welcome
   * route, say); any difference in what they serve changes it.
   */
  stateHash(): { hash: string; names: number } {
    if (this.hashCache !== null) return this.hashCache;
    const rows = this.cx.guard("Cannot read the current code", () => this.cx.est.currentCode.all());
    const h = new Bun.CryptoHasher("sha256");
    for (const r of rows) h.update(`${r.tenant}\0${r.name}\0${r.kind}\0${r.sourceHash}\0${r.meta}\n`);
    this.hashCache = { hash: h.digest("hex"), names: rows.length };
    return this.hashCache;
  }
}

function toStored(r: EntryRow): StoredEntry {
  return {
    origin: r.origin,
    seq: r.seq,
    hlc: { ms: r.hlcMs, n: r.hlcN },
    kind: r.kind,
    target: r.target,
    hash: r.hash,
    encoded: r.encoded,
    signature: r.signature,
    cert: r.cert,
    blob: r.blob,
    receivedAt: r.receivedAt,
    result: r.result,
  };
}

/** The newest stamp a store holds (names and entries), where its clock starts. */
export function newestStamp(st: Statements, est: EntryStatements): Hlc {
  const a = st.maxStamp.get() ?? { ms: 0, n: 0 };
  const b = est.maxEntryHlc.get() ?? { ms: 0, n: 0 };
  return compareStamps(a, "", b, "") >= 0 ? a : b;
}
