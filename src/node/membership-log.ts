/**
 * What a node makes of its membership core's events: one log line per event (a member's state
 * change, new metadata, a forgotten member, a refutation, the join, a stall, refused input) and
 * counters for /_sup/metrics, with gauges of the member table read when scraping. Refused input
 * comes from peers, so its log lines are throttled (counted always).
 */
import type { MemberState, MemberView, MembershipEvent } from "../cluster/mod.ts";
import { log, type LogLevel } from "../log.ts";

const STATES: readonly MemberState[] = ["alive", "suspect", "dead", "left"];
const EVENT_TYPES: readonly MembershipEvent["type"][] = ["member", "updated", "removed", "refuted", "joined", "stalled", "rejected"];

/** `rejected` lines written per second at most: a hostile peer cannot flood the log. */
export const REJECTED_LOG_LINES_PER_SECOND = 10;

/** Log level of a state change: a death is worth a warning, the rest is news. */
const LEVEL: Record<MemberState, LogLevel> = { alive: "info", suspect: "info", dead: "warn", left: "info" };

/** See the file comment. */
export class MembershipLog {
  private readonly transitions = new Map<MemberState, number>(STATES.map((s) => [s, 0]));
  private readonly events = new Map<MembershipEvent["type"], number>(EVENT_TYPES.map((t) => [t, 0]));
  private rejectedWindow = 0;
  private rejectedInWindow = 0;

  constructor(
    private readonly members: () => readonly MemberView[],
    private readonly self: () => MemberView,
    private readonly healthScore: () => number,
    private readonly wallNow: () => number = Date.now,
  ) {}

  /** Logs and counts one event. */
  observe(e: MembershipEvent): void {
    this.events.set(e.type, this.events.get(e.type)! + 1);
    switch (e.type) {
      case "member":
        this.transitions.set(e.state, this.transitions.get(e.state)! + 1);
        return log(LEVEL[e.state], "member state changed", { name: e.name, state: e.state, previous: e.previous ?? "unknown", incarnation: e.incarnation });
      case "updated":
        return log("info", "member metadata updated", { name: e.name, incarnation: e.incarnation });
      case "removed":
        return log("info", "member forgotten", { name: e.name });
      case "refuted":
        return log("warn", "suspicion of this node refuted", { claim: e.claim, incarnation: e.incarnation });
      case "joined":
        return log("info", "joined the cluster", { through: e.peer, members: this.members().length });
      case "stalled":
        return log("warn", "node was stalled; the lost time did not count against peers", { lagMs: e.lagMs });
      case "rejected": {
        const second = Math.floor(this.wallNow() / 1000);
        if (second !== this.rejectedWindow) {
          this.rejectedWindow = second;
          this.rejectedInWindow = 0;
        }
        if (++this.rejectedInWindow <= REJECTED_LOG_LINES_PER_SECOND) log("warn", "membership input refused", { peer: e.peer, reason: e.reason });
        return;
      }
    }
  }

  /** The Prometheus text of the membership metrics. */
  render(): string {
    const count = new Map<MemberState, number>(STATES.map((s) => [s, 0]));
    for (const m of this.members()) count.set(m.state, count.get(m.state)! + 1);
    const out: string[] = [];
    const family = (name: string, type: string, help: string, lines: string[]) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    family("sup_members", "gauge", "Members this node knows (itself included), by state.", STATES.map((s) => `sup_members{state="${s}"} ${count.get(s)}`));
    family("sup_member_state_changes_total", "counter", "Members entering a state, as seen by this node.", STATES.map((s) => `sup_member_state_changes_total{state="${s}"} ${this.transitions.get(s)}`));
    family("sup_membership_events_total", "counter", "Membership events of this node, by type.", EVENT_TYPES.map((t) => `sup_membership_events_total{type="${t}"} ${this.events.get(t)}`));
    family("sup_membership_incarnation", "gauge", "This node's incarnation number.", [`sup_membership_incarnation ${this.self().incarnation}`]);
    family("sup_membership_health_score", "gauge", "Lifeguard's local health score (0 healthy; higher makes this node slower to accuse).", [`sup_membership_health_score ${this.healthScore()}`]);
    return out.join("\n") + "\n";
  }
}
