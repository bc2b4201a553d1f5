/**
 * What a Backchannel counts, rendered in the Prometheus text format for /_sup/metrics (the node
 * appends it to the HTTP layer's metrics). Every label value comes from a fixed set (directions,
 * refusal reasons, close causes), so the number of series is bounded.
 */
import { REFUSAL_REASONS, type RefusalReason } from "./errors.ts";

/** Why an established connection ended (a fixed set, for the metric label). */
export const CLOSE_CAUSES = ["peer-closed", "local", "leave", "replaced", "frame-rejected", "oversized", "protocol", "cert-recheck", "error"] as const;
export type CloseCause = (typeof CLOSE_CAUSES)[number];

type Direction = "in" | "out";

/** Counters and gauges of one backchannel. */
export class BackchannelMetrics {
  connectionsOpened = { in: 0, out: 0 };
  handshakesOk = 0;
  readonly handshakesFailed = new Map<RefusalReason, number>();
  readonly refusedByPeer = new Map<RefusalReason, number>();
  readonly closed = new Map<CloseCause, number>();
  bytes = { in: 0, out: 0 };
  frames = { in: 0, out: 0 };
  rekeys = 0;
  sendQueueFull = 0;
  /** Read when rendering: live values owned by the backchannel. */
  gauges: () => { pending: number; peers: number; clients: number; queuedBytes: number } = () => ({ pending: 0, peers: 0, clients: 0, queuedBytes: 0 });

  /** A handshake that this side refused (or the peer refused: byPeer). */
  failed(reason: RefusalReason, byPeer: boolean): void {
    const m = byPeer ? this.refusedByPeer : this.handshakesFailed;
    m.set(reason, (m.get(reason) ?? 0) + 1);
  }

  /** An established connection that ended. */
  closedBy(cause: CloseCause): void {
    this.closed.set(cause, (this.closed.get(cause) ?? 0) + 1);
  }

  /** Bytes and frames moved. */
  moved(direction: Direction, bytes: number, frames: number): void {
    this.bytes[direction] += bytes;
    this.frames[direction] += frames;
  }

  /** The Prometheus text of every backchannel metric. */
  render(): string {
    const g = this.gauges();
    const out: string[] = [];
    const family = (name: string, type: string, help: string, lines: string[]) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    family("sup_backchannel_peers", "gauge", "Authenticated backchannel connections open now.", [`sup_backchannel_peers ${g.peers}`]);
    family("sup_backchannel_clients", "gauge", "Client connections (operators' CLIs, other nodes' exec workers) open now.", [`sup_backchannel_clients ${g.clients}`]);
    family("sup_backchannel_pending_connections", "gauge", "Connections still in their handshake.", [`sup_backchannel_pending_connections ${g.pending}`]);
    family("sup_backchannel_send_queue_bytes", "gauge", "Encrypted bytes waiting in all peers' send queues.", [`sup_backchannel_send_queue_bytes ${g.queuedBytes}`]);
    family("sup_backchannel_connections_total", "counter", "Connections accepted (in) and dialed (out).", [
      `sup_backchannel_connections_total{direction="in"} ${this.connectionsOpened.in}`,
      `sup_backchannel_connections_total{direction="out"} ${this.connectionsOpened.out}`,
    ]);
    const handshakes = [`sup_backchannel_handshakes_total{result="ok",reason="",by="local"} ${this.handshakesOk}`];
    for (const r of REFUSAL_REASONS) {
      const local = this.handshakesFailed.get(r);
      if (local !== undefined) handshakes.push(`sup_backchannel_handshakes_total{result="failed",reason="${r}",by="local"} ${local}`);
      const peer = this.refusedByPeer.get(r);
      if (peer !== undefined) handshakes.push(`sup_backchannel_handshakes_total{result="failed",reason="${r}",by="peer"} ${peer}`);
    }
    family("sup_backchannel_handshakes_total", "counter", "Handshakes finished, and failed by reason and by which side refused.", handshakes);
    family("sup_backchannel_bytes_total", "counter", "Bytes received (in) and sent (out) on backchannel sockets.", [
      `sup_backchannel_bytes_total{direction="in"} ${this.bytes.in}`,
      `sup_backchannel_bytes_total{direction="out"} ${this.bytes.out}`,
    ]);
    family("sup_backchannel_frames_total", "counter", "Frames received (in) and sent (out), handshake frames included.", [
      `sup_backchannel_frames_total{direction="in"} ${this.frames.in}`,
      `sup_backchannel_frames_total{direction="out"} ${this.frames.out}`,
    ]);
    family("sup_backchannel_rekeys_total", "counter", "Rekeys completed inside open connections.", [`sup_backchannel_rekeys_total ${this.rekeys}`]);
    family("sup_backchannel_send_queue_full_total", "counter", "Sends refused because the peer's queue was full (backpressure).", [`sup_backchannel_send_queue_full_total ${this.sendQueueFull}`]);
    family(
      "sup_backchannel_closed_total",
      "counter",
      "Authenticated connections that ended, by cause.",
      [...this.closed].map(([c, n]) => `sup_backchannel_closed_total{cause="${c}"} ${n}`),
    );
    return out.join("\n") + "\n";
  }
}
