/**
 * Keeps dialing the addresses a node should be connected to (its join target and the peers it
 * learned), with exponential backoff between DIAL_RETRY_MS_MIN and DIAL_RETRY_MS_MAX. A target
 * whose peer is connected (under any address) waits until that peer is lost; a peer that left is
 * not dialed (it dials back when it returns: this node is in its store); an address that turns out
 * to be this node itself is dropped.
 */
import { log } from "../log.ts";
import { DIAL_RETRY_MS_MAX, DIAL_RETRY_MS_MIN, type Backchannel, DialError } from "../net/mod.ts";
import { splitAddress } from "./peer-messages.ts";

interface Target {
  readonly address: string;
  /** The peer's name once a dial reached it. */
  name: string | null;
  failures: number;
  timer: ReturnType<typeof setTimeout> | null;
  dialing: boolean;
}

/** See the file comment. */
export class PeerDialer {
  private readonly targets = new Map<string, Target>();
  private readonly leftPeers = new Set<string>();
  private stopped = false;

  constructor(private readonly bc: Backchannel) {}

  /** Adds an address to keep connected (dialed at once unless its peer is connected already). */
  add(address: string, name: string | null = null): void {
    if (this.stopped) return;
    let t = this.targets.get(address);
    if (t === undefined) this.targets.set(address, (t = { address, name, failures: 0, timer: null, dialing: false }));
    else if (name !== null) t.name = name;
    this.arm(t, 0);
  }

  /** A peer's connection was lost: dial its addresses again soon. */
  lost(name: string): void {
    this.leftPeers.delete(name);
    for (const t of this.targets.values()) if (t.name === name) this.arm(t, DIAL_RETRY_MS_MIN);
  }

  /** A peer left on purpose: stop dialing it until it connects again. */
  left(name: string): void {
    this.leftPeers.add(name);
  }

  /** A peer connected (either way): it is no longer "left". */
  connected(name: string): void {
    this.leftPeers.delete(name);
  }

  /** Stops every timer; no more dials. */
  stop(): void {
    this.stopped = true;
    for (const t of this.targets.values()) if (t.timer !== null) clearTimeout(t.timer);
  }

  private arm(t: Target, delayMs: number): void {
    if (this.stopped || t.dialing || t.timer !== null) return;
    t.timer = setTimeout(() => {
      t.timer = null;
      void this.attempt(t);
    }, delayMs);
  }

  private async attempt(t: Target): Promise<void> {
    if (this.stopped || t.dialing) return;
    if (t.name !== null && (this.bc.peer(t.name) !== undefined || this.leftPeers.has(t.name))) return;
    t.dialing = true;
    const { host, port } = splitAddress(t.address);
    try {
      const peer = await this.bc.dial(host, port);
      t.name = peer.name;
      t.failures = 0;
    } catch (e) {
      t.failures++;
      const handshake = e instanceof DialError ? e.handshake : null;
      if (handshake?.reason === "self") {
        log("info", "backchannel address is this node; not dialing it again", { address: t.address });
        this.targets.delete(t.address);
        return;
      }
      // Refusals are logged by the backchannel; a failed connect is logged here, once per streak.
      if (handshake === null && t.failures === 1) log("warn", "cannot reach peer; retrying", { address: t.address, name: t.name ?? "", error: e instanceof Error ? e.message : String(e) });
      const delay = Math.min(DIAL_RETRY_MS_MAX, DIAL_RETRY_MS_MIN * 2 ** Math.min(t.failures - 1, 16));
      t.dialing = false;
      this.arm(t, delay);
      return;
    } finally {
      t.dialing = false;
    }
  }
}
