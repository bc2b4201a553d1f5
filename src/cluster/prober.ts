/**
 * SWIM failure detection with Lifeguard's refinements. Each probe interval this node pings the next
 * member of a shuffled round (every member is probed once per round, so no member goes unprobed
 * long); no ack within the probe timeout, and `indirectChecks` helpers ping it on this node's
 * behalf; no ack through any of them by the end of the interval, and the member is suspect. Helpers
 * answer with a nack when their own ping went unanswered: a probe that fails with nacks missing
 * says more about this node's network than about the member, so it raises the health score. A lost
 * connection (the backchannel's hint) or another member's suspicion gets the member probed at once
 * instead of at its turn.
 */
import { Str } from "../lang/value.ts";
import type { CoreContext } from "./context.ts";
import { RELAYS_MAX, URGENT_PROBES_MAX } from "./limits.ts";
import type { Member } from "./member.ts";
import { claimValue } from "./messages.ts";
import { randomInt, shuffle } from "./prng.ts";

interface Probe {
  readonly target: string;
  readonly incarnation: number;
  /** When the direct ping counts as unanswered and helpers are asked. */
  directDeadline: number;
  /** When the probe fails. */
  end: number;
  helpers: string[] | null;
  nacks: number;
}

/** A ping this node sends for another member's indirect probe. */
interface Relay {
  readonly requester: string;
  readonly requesterSeq: number;
  nackAt: number;
}

/** Runs this node's probes and the indirect probes it does for others. */
export class Prober {
  private readonly probes = new Map<number, Probe>();
  private readonly relays = new Map<number, Relay>();
  private ring: string[] = [];
  private ringPos = 0;
  private readonly urgent: string[] = [];
  private nextProbeAt: number;
  private seq = 0;

  constructor(
    private readonly cx: CoreContext,
    now: number,
  ) {
    // Nodes started together should not probe in lockstep.
    this.nextProbeAt = now + cx.config.probeIntervalMs * cx.random.next();
  }

  /** A new member: it gets a random place in the rest of this round. */
  added(m: Member): void {
    // Names of members removed since stay in the round until it ends; a table that churns (or a
    // hostile member's inventions) must not grow the round without bound, so start a new one.
    if (this.ring.length > 2 * this.cx.table.size + 16) return this.newRound();
    const at = this.ringPos + randomInt(this.cx.random, this.ring.length - this.ringPos + 1);
    this.ring.splice(at, 0, m.name);
  }

  /**
   * Probes `m` soon, at most once per probe interval: its connection was lost, or another member
   * suspects it. Either way this node's own evidence helps: a failed probe confirms the suspicion
   * (so a real death is declared sooner), and the ping tells a live suspect it is suspected (so it
   * refutes, or tells this node of the refutation it missed).
   */
  probeSoon(m: Member, now: number): void {
    if (!m.live || now - m.lastUrgentMs < this.cx.config.probeIntervalMs) return;
    if (this.urgent.length >= URGENT_PROBES_MAX || this.urgent.includes(m.name)) return;
    m.lastUrgentMs = now;
    this.urgent.push(m.name);
  }

  /** Time this node lost to a stall does not count against the members it was probing. */
  postpone(ms: number): void {
    for (const p of this.probes.values()) {
      p.directDeadline += ms;
      p.end += ms;
    }
    for (const r of this.relays.values()) r.nackAt += ms;
  }

  /** The earliest moment the prober needs a tick. */
  nextDeadline(): number {
    let at = this.urgent.length > 0 ? this.cx.now : this.nextProbeAt;
    for (const p of this.probes.values()) at = Math.min(at, p.helpers === null ? p.directDeadline : p.end);
    for (const r of this.relays.values()) at = Math.min(at, r.nackAt);
    return at;
  }

  /** Advances probes and relays to `now`, and starts the probes that are due. */
  tick(now: number): void {
    const cx = this.cx;
    if (this.relays.size > 0) this.tickRelays(now);
    if (this.probes.size > 0) {
      for (const [seq, p] of this.probes) {
        if (p.helpers === null && now >= p.directDeadline) this.askHelpers(seq, p);
        if (now >= p.end) this.fail(seq, p, now);
      }
    }
    while (this.urgent.length > 0) {
      const m = cx.table.get(this.urgent.shift()!);
      if (m !== undefined && m.live) this.start(m, now);
    }
    if (now >= this.nextProbeAt) {
      const interval = cx.config.probeIntervalMs * cx.health.scale;
      this.nextProbeAt = now + interval;
      const m = this.nextTarget();
      if (m !== null) this.start(m, now);
    }
  }

  private tickRelays(now: number): void {
    for (const [seq, r] of this.relays) {
      if (now < r.nackAt) continue;
      this.relays.delete(seq);
      this.cx.send(r.requester, "nack", [r.requesterSeq]);
    }
  }

  /** A ping: answer at once. */
  onPing(from: string, seq: number): void {
    this.cx.send(from, "ack", [seq]);
  }

  /** An ack for one of this node's pings: a probe succeeded, or a relay can report success. */
  onAck(from: string, seq: number): void {
    const p = this.probes.get(seq);
    if (p !== undefined) {
      this.probes.delete(seq);
      this.cx.health.better();
      return;
    }
    const r = this.relays.get(seq);
    if (r !== undefined) {
      this.relays.delete(seq);
      this.cx.send(r.requester, "ack", [r.requesterSeq]);
    }
  }

  /** A helper could not reach the target either: evidence that this node's own network is fine. */
  onNack(from: string, seq: number): void {
    const p = this.probes.get(seq);
    if (p !== undefined && p.helpers !== null && p.helpers.includes(from)) p.nacks++;
  }

  /** Another member asks this node to ping `target` for it. */
  onPingReq(from: string, seq: number, target: string): void {
    const cx = this.cx;
    if (target === cx.table.self.name) {
      cx.send(from, "ack", [seq]);
      return;
    }
    const m = cx.table.get(target);
    const mySeq = ++this.seq;
    // A full relay table or an unreachable target: say so at once rather than stay silent.
    if (m === undefined || this.relays.size >= RELAYS_MAX || !cx.send(target, "ping", [mySeq])) {
      cx.send(from, "nack", [seq]);
      return;
    }
    this.relays.set(mySeq, { requester: from, requesterSeq: seq, nackAt: cx.now + cx.config.probeTimeoutMs });
  }

  private start(m: Member, now: number): void {
    const cx = this.cx;
    for (const p of this.probes.values()) if (p.target === m.name) return;
    const seq = ++this.seq;
    // Lifeguard's buddy system: a suspect member hears of its suspicion in the probe itself.
    const extra = m.state === "suspect" ? [claimValue({ kind: "suspect", name: m.name, incarnation: m.incarnation, from: m.suspicion?.from ?? cx.table.self.name })] : [];
    const scale = cx.health.scale;
    const probe: Probe = { target: m.name, incarnation: m.incarnation, directDeadline: now + cx.config.probeTimeoutMs * scale, end: now + cx.config.probeIntervalMs * scale, helpers: null, nacks: 0 };
    this.probes.set(seq, probe);
    // An unreachable member (its dials backing off) is simply not answered: the probe runs its course.
    cx.send(m.name, "ping", [seq], { extra });
  }

  private askHelpers(seq: number, p: Probe): void {
    const cx = this.cx;
    const ok = (m: Member): boolean => m.state === "alive" && m.name !== p.target;
    // Connected helpers answer without a dial; any live member will do when too few are.
    let helpers = cx.table.pick(cx.config.indirectChecks, (m) => ok(m) && cx.connected(m.name));
    if (helpers.length < cx.config.indirectChecks) {
      const more = cx.table.pick(cx.config.indirectChecks - helpers.length, (m) => ok(m) && !helpers.includes(m));
      helpers = [...helpers, ...more];
    }
    p.helpers = [];
    for (const h of helpers) if (cx.send(h.name, "ping-req", [seq, new Str(p.target)])) p.helpers.push(h.name);
  }

  private fail(seq: number, p: Probe, now: number): void {
    const cx = this.cx;
    this.probes.delete(seq);
    if (p.helpers !== null && p.nacks < p.helpers.length) cx.health.worse();
    const m = cx.table.get(p.target);
    // A member that refuted meanwhile (a higher incarnation) is not accused for the old one.
    if (m !== undefined && m.live && m.incarnation === p.incarnation) cx.table.accuse(m, now);
  }

  private nextTarget(): Member | null {
    const table = this.cx.table;
    for (let guard = 0; guard < 2; guard++) {
      while (this.ringPos < this.ring.length) {
        const m = table.get(this.ring[this.ringPos++]!);
        if (m !== undefined && m.live && m !== table.self) return m;
      }
      this.newRound();
    }
    return null;
  }

  /** A new round over the live members, in a new random order. */
  private newRound(): void {
    const table = this.cx.table;
    this.ring = shuffle(
      table.list.filter((m) => m.live && m !== table.self).map((m) => m.name),
      this.cx.random,
    );
    this.ringPos = 0;
  }
}
