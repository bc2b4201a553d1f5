/**
 * The member table and SWIM's rules for merging claims into it. A claim about a member is accepted
 * only when it is newer (member.ts: a higher incarnation, or the same one and a worse state), and
 * only the member itself raises its incarnation, so a live member always wins in the end by
 * refuting; a claim about this node that is not exactly its current self is refuted at once.
 */
import { encodeView } from "../lang/codec.ts";
import type { Random } from "./core.ts";
import { suspicionTimeouts, type MembershipConfig } from "./config.ts";
import type { MembershipEvent } from "./events.ts";
import { MEMBERS_MAX, META_BYTES_MAX } from "./limits.ts";
import { EMPTY_STATS, Member, sameMeta, type MemberMeta, type MemberState } from "./member.ts";
import { metaValue, type Claim, type MemberRecord } from "./messages.ts";
import { randomInt } from "./prng.ts";
import { Suspicion } from "./suspicion.ts";

/** What the table needs from its core. */
export interface TableHooks {
  readonly config: MembershipConfig;
  readonly random: Random;
  emit(event: MembershipEvent): void;
  /** Queues a claim for gossip. */
  gossip(claim: Claim): void;
  /** A member became suspect (on `claim.from`'s word): it should hear of it, so it can refute at once. */
  suspected(member: Member, claim: Claim): void;
  /** This node refuted a claim about itself (Lifeguard counts it against local health). */
  refuted(): void;
  /** `peer` relayed an outdated suspicion of this node: tell it the current incarnation. */
  outdated(peer: string): void;
  /** A member joined the table (the prober gives it a place in its round). */
  added(member: Member): void;
  /** A dead or left member is back (a restart, or a healed partition). */
  revived(member: Member): void;
}

/** The encoded size of metadata (without the codec envelope). */
export function metaBytes(meta: MemberMeta): number {
  return encodeView(metaValue(meta)).length - 2;
}

/** Every member this node knows, itself included. */
export class MemberTable {
  private readonly byName = new Map<string, Member>();
  /** The same members in an array, for uniform random picks. */
  readonly list: Member[] = [];
  readonly self: Member;
  /** Alive and suspect members, self included: the N of every size-scaled parameter. */
  liveCount = 0;
  /** Set by a graceful leave: claims about this node are no longer refuted. */
  leaving = false;
  /** Members in state suspect (their timers are checked on every step). */
  private readonly suspectSet = new Set<Member>();
  /** The members sorted by name (sync digests page through it), rebuilt after a member comes or goes. */
  private sorted: Member[] | null = null;

  constructor(
    selfName: string,
    meta: MemberMeta,
    incarnation: number,
    now: number,
    private readonly hooks: TableHooks,
  ) {
    this.self = new Member(selfName, incarnation, "alive", meta, metaBytes(meta), EMPTY_STATS, now);
    this.insert(this.self);
  }

  get(name: string): Member | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }

  /** The current claim this node makes about itself. */
  selfClaim(): Claim {
    const s = this.self;
    return s.state === "left" ? { kind: "left", name: s.name, incarnation: s.incarnation } : { kind: "alive", name: s.name, incarnation: s.incarnation, meta: s.meta };
  }

  /** Up to `k` distinct random members other than self that pass `ok`. */
  pick(k: number, ok: (m: Member) => boolean): Member[] {
    const out: Member[] = [];
    const n = this.list.length;
    if (k <= 0 || n <= 1) return out;
    // Random probes first (cheap in big tables), then a scan from a random start for what is left.
    for (let tries = 0; tries < k * 4 && out.length < k; tries++) {
      const m = this.list[randomInt(this.hooks.random, n)]!;
      if (m !== this.self && ok(m) && !out.includes(m)) out.push(m);
    }
    if (out.length < k) {
      const start = randomInt(this.hooks.random, n);
      for (let i = 0; i < n && out.length < k; i++) {
        const m = this.list[(start + i) % n]!;
        if (m !== this.self && ok(m) && !out.includes(m)) out.push(m);
      }
    }
    return out;
  }

  /** Applies a gossiped claim; `peer` is who relayed it. */
  apply(claim: Claim, peer: string, now: number): void {
    if (claim.name === this.self.name) return this.claimAboutSelf(claim.kind, claim.incarnation, claim.kind === "alive" ? claim.meta : null, peer);
    switch (claim.kind) {
      case "alive":
        return this.alive(claim.name, claim.incarnation, claim.meta, peer, now);
      case "suspect":
        return this.suspect(claim.name, claim.incarnation, claim.from, now);
      case "dead":
        return this.dead(claim.name, claim.incarnation, claim.from, now);
      case "left":
        return this.left(claim.name, claim.incarnation, now);
    }
  }

  /**
   * Applies a record from a sync. A member the peer holds dead but this node holds live is only
   * suspected (memberlist's caution: the peer may be on the other side of a partition); one this
   * node does not know is added in the peer's state, so every member ends with the same list.
   */
  applyRecord(r: MemberRecord, peer: string, now: number): void {
    if (r.name === this.self.name) return this.claimAboutSelf(r.state, r.incarnation, r.meta, peer);
    const m = this.byName.get(r.name);
    if (m === undefined) {
      if (r.state === "alive" || r.state === "suspect") {
        this.alive(r.name, r.incarnation, r.meta, peer, now);
        if (r.state === "suspect") this.suspect(r.name, r.incarnation, peer, now);
      } else {
        const added = this.add(r.name, r.incarnation, r.state, r.meta, peer, now);
        if (added !== null) this.hooks.emit({ type: "member", name: r.name, previous: null, state: r.state, incarnation: r.incarnation });
      }
    } else if (r.state === "alive") this.alive(r.name, r.incarnation, r.meta, peer, now);
    else if (r.state === "suspect") {
      this.alive(r.name, r.incarnation, r.meta, peer, now);
      this.suspect(r.name, r.incarnation, peer, now);
    } else if (r.state === "left") this.left(r.name, r.incarnation, now);
    else if (m.live) this.suspect(r.name, r.incarnation, peer, now);
    else this.dead(r.name, r.incarnation, peer, now);
    const after = this.byName.get(r.name);
    if (after !== undefined && after.incarnation === r.incarnation && r.stats.seq > after.stats.seq) after.stats = r.stats;
  }

  /** Adds members remembered from an earlier run; known ones are left as they are. */
  restore(records: readonly MemberRecord[], now: number): void {
    for (const r of records) {
      if (r.name === this.self.name || this.byName.has(r.name)) continue;
      const m = this.add(r.name, r.incarnation, r.state === "suspect" ? "alive" : r.state, r.meta, this.self.name, now);
      if (m === null) break;
      m.stats = r.stats;
      this.hooks.emit({ type: "member", name: m.name, previous: null, state: m.state, incarnation: m.incarnation });
    }
  }

  /** This node announces itself under a new incarnation (new metadata, or a refutation). */
  bump(toAtLeast: number, meta: MemberMeta = this.self.meta): void {
    const s = this.self;
    s.incarnation = Math.max(s.incarnation, toAtLeast) + 1;
    s.meta = meta;
    s.metaBytes = metaBytes(meta);
    this.hooks.gossip(this.selfClaim());
  }

  /** Marks this node left under a new incarnation and returns the claim that says so. */
  leave(now: number): Claim {
    this.leaving = true;
    this.self.incarnation++;
    this.setState(this.self, "left", now);
    const claim = this.selfClaim();
    this.hooks.gossip(claim);
    return claim;
  }

  /** Every member, sorted by name. */
  byNameOrder(): readonly Member[] {
    this.sorted ??= [...this.list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return this.sorted;
  }

  /** Members currently suspect. */
  suspects(): Iterable<Member> {
    return this.suspectSet;
  }

  /** A suspicion ran out: `m` is dead on this node's authority. */
  declareDead(m: Member, now: number): void {
    this.dead(m.name, m.incarnation, this.self.name, now);
  }

  /** Declares `m` suspect on this node's own evidence (a failed probe), or confirms its suspicion. */
  accuse(m: Member, now: number): void {
    this.suspect(m.name, m.incarnation, this.self.name, now);
  }

  /** Forgets dead and left members older than the retention (and emits `removed`). */
  reap(now: number): void {
    const cutoff = now - this.hooks.config.deadRetentionMs;
    for (let i = this.list.length - 1; i >= 0; i--) {
      const m = this.list[i]!;
      if (!m.live && m.sinceMs < cutoff && m !== this.self) this.remove(m);
    }
  }

  /** Moves every suspicion deadline later by `ms` (time lost to a stall of this node). */
  postponeSuspicions(ms: number): void {
    for (const m of this.list) m.suspicion?.postpone(ms);
  }

  /** Handles a claim about this node: refutes it unless it says exactly what this node says. */
  claimAboutSelf(kind: MemberState, incarnation: number, meta: MemberMeta | null, peer: string): void {
    const s = this.self;
    if (this.leaving) return;
    if (kind === "alive") {
      // A stale or foreign picture of this node (an earlier run's metadata): announce the real one.
      if (incarnation > s.incarnation || (incarnation === s.incarnation && meta !== null && !sameMeta(meta, s.meta))) this.bump(incarnation);
      return;
    }
    if (incarnation < s.incarnation) {
      // Already refuted, but this peer missed it (the refutation's gossip ran out before reaching
      // it): without a word it would declare this node dead when its suspicion expires.
      return this.hooks.outdated(peer);
    }
    this.bump(incarnation);
    this.hooks.refuted();
    this.hooks.emit({ type: "refuted", claim: kind, incarnation: s.incarnation });
  }

  private alive(name: string, incarnation: number, meta: MemberMeta, peer: string, now: number): void {
    const m = this.byName.get(name);
    if (m === undefined) {
      const added = this.add(name, incarnation, "alive", meta, peer, now);
      if (added === null) return;
      this.hooks.emit({ type: "member", name, previous: null, state: "alive", incarnation });
      this.hooks.gossip({ kind: "alive", name, incarnation, meta });
      return;
    }
    if (incarnation <= m.incarnation) return;
    const bytes = sameMeta(meta, m.meta) ? m.metaBytes : metaBytes(meta);
    if (bytes > META_BYTES_MAX) return this.hooks.emit({ type: "rejected", peer, reason: `metadata of "${name}" is ${bytes} bytes, more than ${META_BYTES_MAX}` });
    const changed = bytes !== m.metaBytes || !sameMeta(meta, m.meta);
    m.incarnation = incarnation;
    m.meta = meta;
    m.metaBytes = bytes;
    m.suspicion = null;
    if (m.state !== "alive") this.setState(m, "alive", now);
    else if (changed) this.hooks.emit({ type: "updated", name, incarnation });
    this.hooks.gossip({ kind: "alive", name, incarnation, meta });
  }

  private suspect(name: string, incarnation: number, from: string, now: number): void {
    const m = this.byName.get(name);
    if (m === undefined || incarnation < m.incarnation) return;
    const claim: Claim = { kind: "suspect", name, incarnation, from };
    if (m.state === "suspect" && incarnation === m.incarnation) {
      // Another member's independent suspicion: a confirmation, worth passing on once.
      if (m.suspicion!.confirm(from)) this.hooks.gossip(claim);
      return;
    }
    // Suspicion of a dead or left member at its incarnation says nothing new; a higher one means it came back.
    if ((m.state === "dead" || m.state === "left") && incarnation === m.incarnation) return;
    const { minMs, maxMs } = suspicionTimeouts(this.hooks.config, this.liveCount);
    const expected = Math.min(this.hooks.config.suspicionConfirmations, this.liveCount - 2);
    m.incarnation = incarnation;
    m.suspicion = new Suspicion(from, now, minMs, maxMs, expected);
    this.setState(m, "suspect", now);
    this.hooks.gossip(claim);
    this.hooks.suspected(m, claim);
  }

  private dead(name: string, incarnation: number, from: string, now: number): void {
    const m = this.byName.get(name);
    if (m === undefined || incarnation < m.incarnation) return;
    if (!m.live && incarnation === m.incarnation) return;
    // A correct verdict comes at least the minimum suspicion after the member's last word (its
    // accuser suspected it that long). One about a member this node heard from directly since then
    // is wrong for this side of the network (a partition that just healed, a path only the accuser
    // lost): it is taken as a suspicion, which the member hears of and refutes.
    if (from !== this.self.name && m.live && m.lastHeardMs !== null && now - m.lastHeardMs < suspicionTimeouts(this.hooks.config, this.liveCount).minMs) {
      return this.suspect(name, incarnation, from, now);
    }
    m.incarnation = incarnation;
    m.suspicion = null;
    this.setState(m, "dead", now);
    this.hooks.gossip({ kind: "dead", name, incarnation, from });
  }

  private left(name: string, incarnation: number, now: number): void {
    const m = this.byName.get(name);
    if (m === undefined || incarnation < m.incarnation || (m.state === "left" && incarnation === m.incarnation)) return;
    m.incarnation = incarnation;
    m.suspicion = null;
    this.setState(m, "left", now);
    this.hooks.gossip({ kind: "left", name, incarnation });
  }

  private setState(m: Member, state: MemberState, now: number): void {
    const previous = m.state;
    if (previous === state) return;
    const wasLive = m.live;
    m.state = state;
    m.sinceMs = now;
    if (state === "suspect") this.suspectSet.add(m);
    else this.suspectSet.delete(m);
    this.liveCount += (m.live ? 1 : 0) - (wasLive ? 1 : 0);
    this.hooks.emit({ type: "member", name: m.name, previous, state, incarnation: m.incarnation });
    if (!wasLive && m.live && m !== this.self) this.hooks.revived(m);
  }

  /** Adds a member, evicting the longest-gone dead or left one when the table is full; null if it cannot. */
  private add(name: string, incarnation: number, state: MemberState, meta: MemberMeta, peer: string, now: number): Member | null {
    const bytes = metaBytes(meta);
    if (bytes > META_BYTES_MAX) {
      this.hooks.emit({ type: "rejected", peer, reason: `metadata of "${name}" is ${bytes} bytes, more than ${META_BYTES_MAX}` });
      return null;
    }
    if (this.byName.size >= MEMBERS_MAX) {
      let oldest: Member | null = null;
      for (const m of this.list) if (!m.live && m !== this.self && (oldest === null || m.sinceMs < oldest.sinceMs)) oldest = m;
      if (oldest === null) {
        this.hooks.emit({ type: "rejected", peer, reason: `member table is full (${MEMBERS_MAX} members): cannot add "${name}"` });
        return null;
      }
      this.remove(oldest);
    }
    const m = new Member(name, incarnation, state, meta, bytes, EMPTY_STATS, now);
    this.insert(m);
    this.hooks.added(m);
    return m;
  }

  private insert(m: Member): void {
    this.sorted = null;
    m.index = this.list.length;
    this.list.push(m);
    this.byName.set(m.name, m);
    if (m.live) this.liveCount++;
  }

  private remove(m: Member): void {
    this.sorted = null;
    const last = this.list.pop()!;
    if (last !== m) {
      this.list[m.index] = last;
      last.index = m.index;
    }
    this.byName.delete(m.name);
    this.suspectSet.delete(m);
    if (m.live) this.liveCount--;
    this.hooks.emit({ type: "removed", name: m.name });
  }
}
