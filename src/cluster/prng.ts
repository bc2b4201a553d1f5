/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) for cores: the node seeds one from the
 * operating system's randomness, the simulator from its run seed, so a simulated run replays exactly.
 */
import type { Random } from "./core.ts";

/** splitmix32: spreads a 32-bit seed over the generator's state words. */
function splitmix32(state: { s: number }): number {
  let z = (state.s = (state.s + 0x9e3779b9) | 0);
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** sfc32: fast, small state, passes PractRand far beyond what a protocol core draws. */
export class Prng implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const st = { s: seed >>> 0 };
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
    // The first outputs of a fresh state are correlated with the seed; discard them.
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Any unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** An integer in [0, n) from any Random. */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random.next() * n);
}

/** Shuffles `xs` in place (Fisher–Yates) with `random`. */
export function shuffle<T>(xs: T[], random: Random): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const t = xs[i]!;
    xs[i] = xs[j]!;
    xs[j] = t;
  }
  return xs;
}
