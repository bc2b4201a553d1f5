/**
 * What the core host counts, per hosted core (its channel name: a fixed set, so series are bounded):
 * messages received and sent, messages dropped by reason, dials started and failed, messages held
 * for pending dials, and messages whose channel no core reads. Rendered in the Prometheus text
 * format for /_sup/metrics.
 */

/** Why the host dropped a message a core asked it to send. */
export const DROP_REASONS = ["unconnected", "full", "closed", "held-full", "dial-failed", "malformed"] as const;
export type DropReason = (typeof DROP_REASONS)[number];

interface ChannelCounts {
  received: number;
  sent: number;
  readonly dropped: Record<DropReason, number>;
}

/** Counters of one CoreHost. */
export class CoreHostMetrics {
  private readonly channels = new Map<string, ChannelCounts>();
  dials = 0;
  dialsFailed = 0;
  /** Messages whose head symbol names no hosted core. */
  unrouted = 0;

  constructor(private readonly heldNow: () => number) {}

  /** Starts counting for a newly hosted core. */
  addChannel(name: string): void {
    const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
    this.channels.set(name, { received: 0, sent: 0, dropped });
  }

  received(channel: string): void {
    this.channels.get(channel)!.received++;
  }

  sent(channel: string): void {
    this.channels.get(channel)!.sent++;
  }

  dropped(channel: string, reason: DropReason): void {
    this.channels.get(channel)!.dropped[reason]++;
  }

  /** The counts of one channel (tests, `sup status`). */
  of(channel: string): Readonly<ChannelCounts> | undefined {
    return this.channels.get(channel);
  }

  /** The Prometheus text of every core-host metric. */
  render(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string, lines: string[]) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    const messages: string[] = [];
    const dropped: string[] = [];
    for (const [channel, c] of this.channels) {
      messages.push(`sup_core_messages_total{channel="${channel}",direction="in"} ${c.received}`, `sup_core_messages_total{channel="${channel}",direction="out"} ${c.sent}`);
      for (const r of DROP_REASONS) if (c.dropped[r] > 0) dropped.push(`sup_core_messages_dropped_total{channel="${channel}",reason="${r}"} ${c.dropped[r]}`);
    }
    family("sup_core_messages_total", "counter", "Protocol-core messages received (in) and handed to the backchannel (out), by core channel.", messages);
    family("sup_core_messages_dropped_total", "counter", "Protocol-core messages not sent, by core channel and reason.", dropped);
    family("sup_core_unrouted_messages_total", "counter", "Messages from peers whose channel no hosted core reads.", [`sup_core_unrouted_messages_total ${this.unrouted}`]);
    family("sup_core_dials_total", "counter", "Backchannel dials the protocol cores asked for, and those that failed.", [`sup_core_dials_total{result="started"} ${this.dials}`, `sup_core_dials_total{result="failed"} ${this.dialsFailed}`]);
    family("sup_core_messages_held", "gauge", "Messages waiting for a pending dial.", [`sup_core_messages_held ${this.heldNow()}`]);
    return out.join("\n") + "\n";
  }
}
