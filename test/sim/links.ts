/**
 * The virtual network's links: a base latency per directed link (fixed for the run, drawn from the
 * seed), per-message jitter, message loss, and partitions as rules "nothing from these nodes reaches
 * those" (a symmetric partition is two rules), so asymmetric partitions come for free.
 */
import type { Prng } from "../../src/cluster/prng.ts";

/** How links behave. */
export interface LinkOptions {
  /** Base one-way latency of each link is drawn uniformly from [minMs, maxMs]. */
  readonly latencyMs: { readonly min: number; readonly max: number };
  /** Each message's latency is the base × (1 ± jitter). */
  readonly jitter: number;
  /** Probability that any one message is lost. */
  readonly lossRate: number;
}

/** A partition rule: messages from `from` to `to` are dropped. */
export interface PartitionRule {
  readonly from: ReadonlySet<number>;
  readonly to: ReadonlySet<number>;
}

/** A 32-bit integer hash (from the murmur3 finalizer), to draw a link's base latency without storing N² of them. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Latency, loss and partitions between nodes (by index). */
export class Links {
  private rules: PartitionRule[] = [];

  constructor(
    private readonly options: LinkOptions,
    private readonly seed: number,
    private readonly rng: Prng,
  ) {}

  /** The fixed base latency from a to b. */
  baseMs(a: number, b: number): number {
    const { min, max } = this.options.latencyMs;
    const h = mix(mix(this.seed ^ Math.imul(a, 0x9e3779b1)) ^ Math.imul(b, 0x7feb352d));
    return min + ((max - min) * h) / 4294967296;
  }

  /** One message's latency from a to b. */
  latencyMs(a: number, b: number): number {
    const j = this.options.jitter;
    return this.baseMs(a, b) * (1 - j + 2 * j * this.rng.next());
  }

  /** True when this message is lost (draws from the network's random stream). */
  lose(): boolean {
    return this.options.lossRate > 0 && this.rng.next() < this.options.lossRate;
  }

  /** True while a partition drops messages from a to b. */
  blocked(a: number, b: number): boolean {
    for (const r of this.rules) if (r.from.has(a) && r.to.has(b)) return true;
    return false;
  }

  /** True while any partition is in place. */
  get partitioned(): boolean {
    return this.rules.length > 0;
  }

  /** Drops everything from `from` to `to` (and back, unless `oneWay`). */
  partition(from: readonly number[], to: readonly number[], oneWay: boolean): void {
    const a = new Set(from);
    const b = new Set(to);
    this.rules.push({ from: a, to: b });
    if (!oneWay) this.rules.push({ from: b, to: a });
  }

  /** Removes every partition. */
  heal(): void {
    this.rules = [];
  }
}
