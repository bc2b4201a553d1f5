/**
 * A member as `sup nodes --json` shows it: every metadata field, its state and incarnation, its
 * last reported load and change-log position, and when this node last heard from it. Times the
 * core keeps on the monotonic clock are turned into wall-clock ISO times here.
 */
import type { MemberState, MemberView } from "../cluster/mod.ts";

/** One member in `sup nodes --json` (and the admin socket's GET /nodes). */
export interface MemberInfo {
  readonly name: string;
  readonly state: MemberState;
  /** True for the node that answered. */
  readonly self: boolean;
  readonly incarnation: number;
  /** Its certificate's serial. */
  readonly serial: string;
  readonly roles: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** Where peers dial its backchannel, or null when it only dials out. */
  readonly backchannel: string | null;
  /** Its HTTP address, or null when it serves none. */
  readonly http: string | null;
  readonly kernels: readonly string[];
  /** Its sup version. */
  readonly version: string;
  /** Load it last reported: requests in flight, event-loop lag, CPU in permille of one core. */
  readonly load: { readonly inflight: number; readonly lagMs: number; readonly cpuPermille: number };
  /** Its change-log position (the store sequence it has applied). */
  readonly logPosition: number;
  /** When this node last heard from it directly (ISO time), or null when it never did. */
  readonly lastHeard: string | null;
  /** Milliseconds since then, or null. */
  readonly lastHeardAgoMs: number | null;
  /** When it entered its current state here (ISO time). */
  readonly since: string;
}

/**
 * The JSON form of `m`; `self` is this node's name, `monoNow` and `wallNow` read the monotonic and
 * wall clocks at the same moment. This node has always "just" heard from itself.
 */
export function memberInfo(m: MemberView, self: string, monoNow: number, wallNow: number): MemberInfo {
  const isSelf = m.name === self;
  const heard = isSelf ? monoNow : m.lastHeardMs;
  const wall = (mono: number) => new Date(Math.round(wallNow - (monoNow - mono))).toISOString();
  return {
    name: m.name,
    state: m.state,
    self: isSelf,
    incarnation: m.incarnation,
    serial: m.meta.serial,
    roles: [...m.meta.roles],
    labels: Object.fromEntries(m.meta.labels),
    backchannel: m.meta.backchannel === "" ? null : m.meta.backchannel,
    http: m.meta.http === "" ? null : m.meta.http,
    kernels: [...m.meta.kernels],
    version: m.meta.version,
    load: { inflight: m.stats.inflight, lagMs: m.stats.lagMs, cpuPermille: m.stats.cpuPermille },
    logPosition: m.stats.logPosition,
    lastHeard: heard === null ? null : wall(heard),
    lastHeardAgoMs: heard === null ? null : Math.max(0, Math.round(monoNow - heard)),
    since: wall(m.sinceMs),
  };
}
