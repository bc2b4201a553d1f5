/**
 * The members a node knows, until the membership core (issue 13) takes over: itself, the peers it
 * is connected to, and the peers it was told about or kept in its store. A state comes from
 * connection events only: `alive` while connected, `dead` when the connection is lost (or was never
 * made since this start), `left` after the peer said goodbye (SIGTERM). `suspect` is reserved for
 * failure detection and not produced yet.
 */
import type { Certificate } from "../net/mod.ts";

export const MEMBER_STATES = ["alive", "suspect", "dead", "left"] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

/** One member as `sup nodes` shows it. */
export interface Member {
  readonly name: string;
  readonly state: MemberState;
  readonly roles: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** Where its backchannel listens (`host:port`), or null while unknown. */
  readonly backchannel: string | null;
  /** Where its HTTP service listens, or null when unknown or off. */
  readonly http: string | null;
  /** True for the node itself. */
  readonly self: boolean;
  /** When the state last changed (epoch ms). */
  readonly since: number;
}

/** The member table; see the file comment. */
export class MemberTable {
  private readonly members = new Map<string, Member>();

  constructor(
    self: Certificate,
    private readonly now: () => number = Date.now,
  ) {
    this.members.set(self.name, { ...fromCert(self), state: "alive", backchannel: null, http: null, self: true, since: now() });
  }

  /** Updates this node's own addresses. */
  setSelf(name: string, backchannel: string | null, http: string | null): void {
    const m = this.members.get(name);
    if (m !== undefined) this.members.set(name, { ...m, backchannel, http });
  }

  /** A peer known from the store or a `members` message, not connected (yet). */
  known(name: string, backchannel: string): void {
    const m = this.members.get(name);
    if (m === undefined) this.members.set(name, { name, state: "dead", roles: [], labels: {}, backchannel, http: null, self: false, since: this.now() });
    else if (m.backchannel === null && !m.self) this.members.set(name, { ...m, backchannel });
  }

  /** A peer authenticated: alive, with what its certificate says. */
  up(cert: Certificate): void {
    const m = this.members.get(cert.name);
    this.members.set(cert.name, { backchannel: null, http: null, ...m, ...fromCert(cert), state: "alive", self: false, since: m?.state === "alive" ? m.since : this.now() });
  }

  /** A peer's addresses, from its node-info message. */
  addresses(name: string, backchannel: string, http: string | null): void {
    const m = this.members.get(name);
    if (m !== undefined && !m.self) this.members.set(name, { ...m, backchannel, http });
  }

  /** A peer's connection ended: `left` when it said goodbye first, else `dead`. */
  down(name: string): void {
    const m = this.members.get(name);
    if (m === undefined || m.self || m.state === "left" || m.state === "dead") return;
    this.members.set(name, { ...m, state: "dead", since: this.now() });
  }

  /** A peer announced that it is leaving. */
  left(name: string): void {
    const m = this.members.get(name);
    if (m !== undefined && !m.self) this.members.set(name, { ...m, state: "left", since: this.now() });
  }

  /** One member. */
  get(name: string): Member | undefined {
    return this.members.get(name);
  }

  /** Every member: this node first, then by name. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.self !== b.self ? (a.self ? -1 : 1) : a.name < b.name ? -1 : 1));
  }

  /** Peers with a known backchannel address (what the store keeps and `members` messages carry). */
  addressed(): { name: string; address: string }[] {
    return this.list()
      .filter((m) => !m.self && m.backchannel !== null)
      .map((m) => ({ name: m.name, address: m.backchannel! }));
  }
}

function fromCert(c: Certificate): Pick<Member, "name" | "roles" | "labels"> {
  return { name: c.name, roles: [...c.roles], labels: Object.fromEntries(c.labels) };
}
