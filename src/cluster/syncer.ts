/**
 * Full-state sync by digest push-pull: this node sends its own record and a digest of every member
 * it knows (name, incarnation, state: about 20–80 bytes each, in pages over name ranges); the peer
 * answers with full records for what it knows better or this node lacks, and asks for the records
 * it lacks itself. Each page names its range, so the peer needs no session state and pages may be
 * lost independently. Used on join, periodically with a random member (memberlist's push-pull, at
 * a fraction of the bytes), with members this node thinks dead (a healed partition), and with a
 * member that speaks while this node thinks it dead. Answers are rate-limited per peer.
 */
import { List, Str, T_PAREN, type Value } from "../lang/value.ts";
import { syncIntervalMs } from "./config.ts";
import type { CoreContext } from "./context.ts";
import { valueBytes } from "./broadcasts.ts";
import { DIGEST_ENTRIES_MAX, MESSAGE_BYTES_MAX, RECORDS_PER_MESSAGE_MAX, SYNC_PAGES_PER_WINDOW, SYNC_PEERS_TRACKED_MAX, SYNC_WINDOW_MS, WANT_NAMES_MAX } from "./limits.ts";
import { newerThan, type Member } from "./member.ts";
import { digestBytesMax, digestFields, digestValue, recordValue, type DigestEntry, type MemberRecord } from "./messages.ts";

/** A joined node's second sync comes this long after the first: a few gossip epidemics' time. */
const FOLLOW_UP_SYNC_MS = 3000;

/** How long dead members are retried fast after one came back: about a gossip epidemic's time. */
const HURRY_MS = 10_000;

/** Room left in a message for everything but its list of entries or records. */
const MESSAGE_OVERHEAD_BYTES = 1024;

/** Pages this node answered for one peer in the current window. */
interface Served {
  windowStart: number;
  pages: number;
}

/** Runs this node's syncs and answers its peers'. */
export class Syncer {
  private readonly served = new Map<string, Served>();
  private nextSyncAt: number;
  private nextDeadRetryAt: number;
  /** Until then dead members are retried every gossip interval: one came back, others may follow. */
  private hurryUntil = -Infinity;

  constructor(
    private readonly cx: CoreContext,
    now: number,
  ) {
    this.nextSyncAt = now + cx.config.syncIntervalMs * cx.random.next();
    this.nextDeadRetryAt = now + cx.config.deadRetryIntervalMs * cx.random.next();
  }

  /** The earliest moment the syncer needs a tick. */
  nextDeadline(): number {
    return Math.min(this.nextSyncAt, this.nextDeadRetryAt);
  }

  /** Starts the periodic sync and the dead-member retry when they are due. */
  tick(now: number): void {
    const { config, table, random } = this.cx;
    if (now >= this.nextSyncAt) {
      this.nextSyncAt = now + syncIntervalMs(config, table.liveCount) * (0.75 + 0.5 * random.next());
      const [m] = table.pick(1, (x) => x.state === "alive" && this.cx.connected(x.name));
      const peer = m ?? table.pick(1, (x) => x.state === "alive")[0];
      if (peer !== undefined) this.start(peer.name);
    }
    if (now >= this.nextDeadRetryAt) {
      this.nextDeadRetryAt = now + (now < this.hurryUntil ? config.gossipIntervalMs : config.deadRetryIntervalMs);
      // Connected ones too: a sync on reconnection may have been lost, and nothing else would retry it.
      const [m] = table.pick(
        1,
        (x) => x.state === "dead" && now - x.lastDeadSyncMs >= config.deadRetryIntervalMs && (this.cx.connected(x.name) || (x.meta.backchannel !== "" && this.cx.canDial(x.meta.backchannel))),
      );
      if (m !== undefined) {
        // Only a dial when not connected: the sync goes once the connection is up (the core's
        // `connected` handler), so a dead member costs a connection attempt, not a full digest.
        if (this.cx.connected(m.name)) {
          m.lastDeadSyncMs = now;
          this.start(m.name);
        } else this.cx.dial(m.name, m.meta.backchannel);
      }
    }
  }

  /**
   * This node just joined: claims that were spreading while it joined may have passed it by, so
   * it syncs once more, with a random member, after FOLLOW_UP_SYNC_MS.
   */
  followUp(now: number): void {
    this.nextSyncAt = Math.min(this.nextSyncAt, now + FOLLOW_UP_SYNC_MS);
  }

  /**
   * A member thought dead is back: a partition may have healed, so for a while dead members are
   * retried at the gossip rate rather than the dead-retry rate.
   */
  hurry(now: number): void {
    this.hurryUntil = now + HURRY_MS;
    this.nextDeadRetryAt = Math.min(this.nextDeadRetryAt, now + this.cx.config.gossipIntervalMs);
  }

  /** Sends `peer` this node's record and a digest of everything it knows. */
  start(peer: string): void {
    const { table } = this.cx;
    if (!this.cx.send(peer, "sync-update", [new List(T_PAREN, [recordValue(this.record(table.self))])], { gossip: false })) return;
    const pages = paginate(
      table.byNameOrder().map((m) => ({ member: m, value: digestValue(m) })),
      (e) => digestBytesMax(e.member.name),
      DIGEST_ENTRIES_MAX,
    );
    pages.forEach((page, i) => {
      const lo = i === 0 ? null : pages[i - 1]!.at(-1)!.member.name;
      const hi = i === pages.length - 1 ? null : page.at(-1)!.member.name;
      this.cx.send(peer, "sync-digest", digestFields(lo, hi, page.map((e) => e.value)), { gossip: false });
    });
  }

  /** A digest page: answer with what this node knows better, and ask for what the peer knows better. */
  onDigest(from: string, lo: string | null, hi: string | null, entries: readonly DigestEntry[]): void {
    const { table, now } = this.cx;
    if (!this.allow(from, now)) return;
    const theirs = new Map<string, DigestEntry>();
    for (const e of entries) theirs.set(e.name, e);
    const better: Member[] = [];
    for (const m of table.list) {
      if ((lo !== null && m.name <= lo) || (hi !== null && m.name > hi)) continue;
      const t = theirs.get(m.name);
      if (t === undefined || newerThan(m.incarnation, m.state, t.incarnation, t.state)) better.push(m);
    }
    const wants: Value[] = [];
    for (const e of theirs.values()) {
      if (e.name === table.self.name) {
        table.claimAboutSelf(e.state, e.incarnation, null, from);
        continue;
      }
      const ours = table.get(e.name);
      if (ours === undefined || newerThan(e.incarnation, e.state, ours.incarnation, ours.state)) wants.push(new Str(e.name));
    }
    this.sendRecords(from, better);
    if (wants.length > 0) this.cx.send(from, "sync-want", [new List(T_PAREN, wants.slice(0, WANT_NAMES_MAX))], { gossip: false });
  }

  /** Records from a peer. */
  onUpdate(from: string, records: readonly MemberRecord[]): void {
    for (const r of records) this.cx.table.applyRecord(r, from, this.cx.now);
  }

  /** A peer asks for the records of `names`. */
  onWant(from: string, names: readonly string[]): void {
    const { table, now } = this.cx;
    if (!this.allow(from, now)) return;
    const found: Member[] = [];
    for (const n of names) {
      const m = table.get(n);
      if (m !== undefined) found.push(m);
    }
    this.sendRecords(from, found);
  }

  /** A member's full record. */
  record(m: Member): MemberRecord {
    return { name: m.name, incarnation: m.incarnation, state: m.state, meta: m.meta, stats: m.stats };
  }

  private sendRecords(to: string, members: readonly Member[]): void {
    if (members.length === 0) return;
    const values = members.map((m) => recordValue(this.record(m)));
    for (const page of paginate(values, valueBytes, RECORDS_PER_MESSAGE_MAX)) {
      this.cx.send(to, "sync-update", [new List(T_PAREN, page)], { gossip: false });
    }
  }

  /** Counts one answered page against `peer`'s window; false when it is over the limit. */
  private allow(peer: string, now: number): boolean {
    let s = this.served.get(peer);
    if (s === undefined || now - s.windowStart >= SYNC_WINDOW_MS) {
      if (s === undefined && this.served.size >= SYNC_PEERS_TRACKED_MAX) {
        for (const [k, v] of this.served) if (now - v.windowStart >= SYNC_WINDOW_MS) this.served.delete(k);
        if (this.served.size >= SYNC_PEERS_TRACKED_MAX) return false;
      }
      s = { windowStart: now, pages: 0 };
      this.served.set(peer, s);
    }
    if (s.pages >= SYNC_PAGES_PER_WINDOW) {
      if (s.pages++ === SYNC_PAGES_PER_WINDOW) this.cx.emit({ type: "rejected", peer, reason: `sync pages over ${SYNC_PAGES_PER_WINDOW} per ${SYNC_WINDOW_MS} ms: ignoring more` });
      return false;
    }
    s.pages++;
    return true;
  }
}

/** Splits items into pages of at most `maxItems` that each fit a message. */
function paginate<T>(items: readonly T[], bytesOf: (item: T) => number, maxItems: number): T[][] {
  const pages: T[][] = [];
  let page: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (page.length > 0 && (page.length >= maxItems || bytes + size > MESSAGE_BYTES_MAX - MESSAGE_OVERHEAD_BYTES)) {
      pages.push(page);
      page = [];
      bytes = 0;
    }
    page.push(item);
    bytes += size;
  }
  if (page.length > 0 || pages.length === 0) pages.push(page);
  return pages;
}
