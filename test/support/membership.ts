/**
 * Helpers for membership-core tests: cores with fixed seeds and simple metadata, messages built the
 * way the core builds them, and readers for the effects a step returned.
 */
import { Prng } from "../../src/cluster/prng.ts";
import { MembershipCore, type CoreEffect, type MembershipConfig, type MemberMeta, type MembershipEvent, type MemberRecord } from "../../src/cluster/mod.ts";
import { claimValue, decodeMessage, messageValue, recordValue, statsValue, type Claim, type MembershipMessage, type MessageBody } from "../../src/cluster/messages.ts";
import { EMPTY_STATS } from "../../src/cluster/member.ts";
import { List, T_PAREN, type Value } from "../../src/lang/value.ts";

/** Simple metadata for a test member called `name`. */
export function testMeta(name: string): MemberMeta {
  return { serial: `s-${name}`, roles: ["web"], labels: [["zone", "a"]], backchannel: `${name}.test:7000`, http: `${name}.test:8080`, kernels: ["io"], version: "0.1.0" };
}

/** A member record as sync sends it. */
export function testRecord(name: string, incarnation = 0, state: MemberRecord["state"] = "alive"): MemberRecord {
  return { name, incarnation, state, meta: testMeta(name), stats: EMPTY_STATS };
}

/** A core named `name` at time `now`, with a fixed seed. */
export function testCore(name = "me", now = 0, config: Partial<MembershipConfig> = {}, incarnation = 0): MembershipCore {
  return new MembershipCore({ name, meta: testMeta(name), incarnation, now, random: new Prng(42), config });
}

/** A core that already knows `others` (alive at incarnation 0), connected to all of them. */
export function coreWithPeers(others: readonly string[], now = 0, config: Partial<MembershipConfig> = {}): MembershipCore {
  const core = testCore("me", now, config);
  core.step({ type: "request", now, request: { type: "restore", records: others.map((n) => testRecord(n)) } });
  for (const n of others) core.step({ type: "connected", now, peer: n, dialed: null });
  return core;
}

/** A membership message value of `kind` with `fields`, carrying `claims`. */
export function testMessage(kind: MessageBody["kind"], fields: readonly Value[] = [], claims: readonly Claim[] = []): List {
  return messageValue(kind, statsValue(EMPTY_STATS), claims.map(claimValue), fields);
}

/** The body of a sync-update carrying `records`. */
export function recordsField(records: readonly MemberRecord[]): List {
  return new List(T_PAREN, records.map(recordValue));
}

/** The messages among `effects`, decoded, with their destination. */
export function sent(effects: readonly CoreEffect<MembershipEvent>[]): { to: string; msg: MembershipMessage }[] {
  const out: { to: string; msg: MembershipMessage }[] = [];
  for (const e of effects) {
    if (e.type !== "send") continue;
    const d = decodeMessage(e.message);
    if (!d.ok) throw new Error(`core sent an undecodable message: ${d.reason}`);
    out.push({ to: e.to, msg: d.message });
  }
  return out;
}

/** The events among `effects`. */
export function emitted(effects: readonly CoreEffect<MembershipEvent>[]): MembershipEvent[] {
  return effects.flatMap((e) => (e.type === "emit" ? [e.event] : []));
}

/** The timer the step asked for. */
export function timerOf(effects: readonly CoreEffect<MembershipEvent>[]): number {
  const t = effects.findLast((e) => e.type === "timer");
  if (t === undefined || t.type !== "timer") throw new Error("step asked for no timer");
  return t.at;
}

/** Feeds ticks to `core` at every timer it asks for until `until`, returning every effect. */
export function runTicks(core: MembershipCore, from: number, until: number): CoreEffect<MembershipEvent>[] {
  const all: CoreEffect<MembershipEvent>[] = [];
  let now = from;
  while (now <= until) {
    const effects = core.step({ type: "tick", now });
    all.push(...effects);
    now = Math.max(timerOf(effects), now + 1);
  }
  return all;
}
