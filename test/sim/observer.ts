/**
 * Watches a simulation from outside, through the events the cores emit, and judges it against the
 * truth the simulator knows (who is really up, which partitions and stalls happened when): how long
 * each death took to be known everywhere, which live members were declared dead outside partitions
 * (false positives), and when the cluster converged.
 */
import type { MemberState } from "../../src/cluster/mod.ts";
import type { Simulation } from "./simulation.ts";

/** One crash and how the cluster learned of it. */
export interface Death {
  readonly name: string;
  readonly index: number;
  readonly at: number;
  /** Nodes up at the crash (its witnesses), and when each marked it dead or left. */
  readonly witnesses: number[];
  readonly seen: Map<number, number>;
  /** Set when the node restarted: later verdicts are about its next life. */
  endedAt: number | null;
}

/** A live member declared dead where no partition, crash or long stall explains it. */
export interface FalsePositive {
  readonly observer: string;
  readonly member: string;
  readonly at: number;
}

/** Watches one simulation. */
export class Observer {
  /** Each node's view in its current life: name → state (itself not included). */
  readonly views: Map<string, MemberState>[] = [];
  private readonly viewGen: number[] = [];
  readonly deaths: Death[] = [];
  readonly falsePositives: FalsePositive[] = [];
  /** Suspicions (member, incarnation) of members up and not stalled, outside partitions (SWIM refutes these; counted for reports). */
  private readonly liveSuspicions = new Set<string>();
  refutations = 0;
  stalledReports = 0;
  private readonly partitions: [start: number, end: number][] = [];
  private readonly stalls: [node: number, start: number, end: number][] = [];
  private readonly crashes: [node: number, at: number][] = [];

  constructor(
    private readonly sim: Simulation,
    /** How far back a partition, crash or stall explains a death verdict. */
    private readonly windowMs: number,
    /** Stalls up to this long must not get a node declared dead. */
    private readonly stallAllowanceMs: number,
  ) {
    sim.onEvent((node, event, vt) => {
      const view = this.view(node.index);
      switch (event.type) {
        case "member": {
          if (event.name === node.name) return;
          view.set(event.name, event.state);
          const m = sim.byName.get(event.name);
          if (m === undefined) return;
          if (event.state === "dead" || event.state === "left") this.verdict(node.index, m, event.state, vt);
          if (event.state === "suspect" && sim.nodes[m]!.up && !this.explained(m, vt, 0)) this.liveSuspicions.add(`${event.name}:${event.incarnation}`);
          return;
        }
        case "removed":
          view.delete(event.name);
          return;
        case "refuted":
          this.refutations++;
          return;
        case "stalled":
          this.stalledReports++;
          return;
      }
    });
  }

  /** Distinct suspicions of live members seen so far. */
  get suspicionsOfLive(): number {
    return this.liveSuspicions.size;
  }

  private view(i: number): Map<string, MemberState> {
    const gen = this.sim.nodes[i]!.gen;
    if (this.viewGen[i] !== gen) {
      this.views[i] = new Map();
      this.viewGen[i] = gen;
    }
    return this.views[i]!;
  }

  /** Records a crash of node `i` now (call right after Simulation.crash). */
  crashed(i: number): void {
    const sim = this.sim;
    for (const d of this.deaths) if (d.index === i && d.endedAt === null) d.endedAt = sim.now;
    const witnesses = sim.nodes.filter((n) => n.up && n.index !== i).map((n) => n.index);
    this.deaths.push({ name: sim.nodes[i]!.name, index: i, at: sim.now, witnesses, seen: new Map(), endedAt: null });
    this.crashes.push([i, sim.now]);
  }

  /** Node `i` is running again: verdicts about it are no longer about its crash. */
  restarted(i: number): void {
    for (const d of this.deaths) if (d.index === i && d.endedAt === null) d.endedAt = this.sim.now;
  }

  /** A partition from now until `end`. */
  partitioned(end: number): void {
    this.partitions.push([this.sim.now, end]);
  }

  /** Node `i` stalls from now for `ms`. */
  stalled(i: number, ms: number): void {
    this.stalls.push([i, this.sim.now, this.sim.now + ms]);
  }

  private verdict(observer: number, m: number, state: MemberState, vt: number): void {
    for (const d of this.deaths) if (d.index === m && d.endedAt === null && !d.seen.has(observer)) d.seen.set(observer, vt);
    const sim = this.sim;
    if (state !== "dead" || !sim.nodes[m]!.up || this.explained(m, vt, this.stallAllowanceMs)) return;
    this.falsePositives.push({ observer: sim.nodes[observer]!.name, member: sim.nodes[m]!.name, at: vt });
  }

  /** True when a partition, a crash of `m` or a stall of `m` longer than `stallMs` lies within the window before `vt`. */
  private explained(m: number, vt: number, stallMs: number): boolean {
    const from = vt - this.windowMs;
    if (this.partitions.some(([s, e]) => s <= vt && e >= from)) return true;
    if (this.crashes.some(([i, at]) => i === m && at >= from)) return true;
    return this.stalledRecently(m, vt, stallMs);
  }

  /** True when node `i` was stalled for longer than `longerThanMs` within the window before `vt`. */
  private stalledRecently(i: number, vt: number, longerThanMs: number): boolean {
    return this.stalls.some(([n, s, e]) => n === i && e - s > longerThanMs && e >= vt - this.windowMs && s <= vt);
  }

  /**
   * True when every running node sees every running node alive and every crashed node dead, left
   * or forgotten (a stalled node's view is taken as it is).
   */
  converged(): boolean {
    return this.disagreements(1).length === 0;
  }

  /** Up to `max` views that keep the cluster from converging, as `observer:member=state (truth)`. */
  disagreements(max: number): string[] {
    const sim = this.sim;
    const out: string[] = [];
    for (const o of sim.nodes) {
      if (!o.up) continue;
      const view = this.view(o.index);
      for (const m of sim.nodes) {
        if (m === o) continue;
        const s = view.get(m.name);
        if (m.up ? s !== "alive" : s === "alive" || s === "suspect") {
          out.push(`${o.name}:${m.name}=${s ?? "unknown"} (${m.up ? "up" : "down"})`);
          if (out.length >= max) return out;
        }
      }
    }
    return out;
  }

  /** True when every running node holds the same list: the same names in the same states. */
  sameLists(): boolean {
    const sim = this.sim;
    const key = (i: number): string => {
      const v = this.view(i);
      const self = sim.nodes[i]!.name;
      return [...v.entries(), [self, "alive"]]
        .filter(([, s]) => s !== "suspect")
        .map(([n, s]) => `${n}=${s}`)
        .sort()
        .join(",");
    };
    const up = sim.nodes.filter((n) => n.up).map((n) => key(n.index));
    return up.every((k) => k === up[0]);
  }

  /** Per death: ms from the crash to the first and to the last witness's verdict, and witnesses that never saw it. */
  detection(d: Death): { firstMs: number | null; allMs: number | null; missing: string[] } {
    const sim = this.sim;
    const live = d.witnesses.filter((w) => sim.nodes[w]!.up && sim.nodes[w]!.crashedAt === null);
    const times = live.map((w) => d.seen.get(w)).filter((t): t is number => t !== undefined);
    const missing = live.filter((w) => !d.seen.has(w)).map((w) => sim.nodes[w]!.name);
    return {
      firstMs: times.length > 0 ? Math.min(...times) - d.at : null,
      allMs: missing.length === 0 && times.length > 0 ? Math.max(...times) - d.at : null,
      missing,
    };
  }
}
