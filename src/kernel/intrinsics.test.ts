/**
 * The TypeScript equivalents the JS tier inlines (lang/intrinsics.ts) against the C kernel they
 * stand for, which stays the reference: every `:pure` function of alu's manifest is called both ways
 * on edge inputs (int64 limits, ±2^53, division by zero, wraparound, FIXED6 ties and the rounding
 * fast limit, values of the wrong type) and on seeded random ones, and must give the same value.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INTRINSICS, fixed6Round } from "../lang/intrinsics.ts";
import { parseManifest } from "../lang/manifest.ts";
import { sourceForm } from "../lang/printer.ts";
import { NONE, Real, Str, sym, type Value } from "../lang/value.ts";
import { fakeContext } from "../../test/support/fake-context.ts";
import { Rng } from "../../test/support/rng.ts";
import { loadNativeKernel, type NativeKernel } from "./native-kernel.ts";

const ALU_DIR = join(import.meta.dir, "../../kernels/alu");
const SEED = 0x5eed16;
/** The context eager calls take (scalar functions never use it). */
const CX = fakeContext().cx;
const RANDOM_CASES = 4_000;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

let cacheDir = "";
/** alu bound to its C code alone (the reference), and alu as programs get it (equivalents on). */
let alu: NativeKernel;
let aluAsLoaded: NativeKernel;
const manifest = (() => {
  const parsed = parseManifest(readFileSync(join(ALU_DIR, "kernel.sxs"), "latin1"), "strict");
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.manifest;
})();

beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), "sup-intrinsics-"));
  alu = loadNativeKernel(ALU_DIR, manifest, { workingDir: "/", pureEquivalents: false }, { cacheDir });
  aluAsLoaded = loadNativeKernel(ALU_DIR, manifest, { workingDir: "/" }, { cacheDir });
});
afterAll(() => {
  aluAsLoaded.unload();
  alu.unload();
  rmSync(cacheDir, { recursive: true, force: true });
});

/** An Int in canonical form (number when safe). */
const int = (b: bigint): Value => (b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b);

const EDGE_INTS: Value[] = [0, 1, -1, 2, -2, 3, 7, -7, 10, 1000, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32, 2 ** 52, 9007199254740991, -9007199254740991]
  .map((n) => n as Value)
  .concat([int(9007199254740992n), int(-9007199254740992n), int(INT64_MAX), int(INT64_MIN), int(INT64_MAX - 1n), int(INT64_MIN + 1n), int(1n << 62n), int(-(1n << 62n))]);

const EDGE_REALS: number[] = [
  0, -0, 1, -1, 0.5, 2.5, 0.1, 0.2, 0.3, 1e-7, -1e-7, 4e-7, 5e-7, 6e-7, 0.0000005, 0.0078125, 0.0000015, 1.0000005, 2.0000005, 123.4567895, 1 / 3, 2 / 3,
  8.999999999e9, 9e9, 9.0000001e9, 1e15, 1e16, 1e21, 1e22, 1e300, -1e300, 5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, Number.MIN_VALUE,
];

/** Values of the wrong type, which the scalar convention reads as 0 / 0.0. */
const OTHERS: Value[] = [NONE, new Str("12"), sym("x"), new Real(2.5)];

function randomInt(r: Rng): Value {
  switch (r.int(4)) {
    case 0:
      return r.int(2001) - 1000;
    case 1:
      return r.int(2 ** 31) * (r.next() < 0.5 ? -1 : 1);
    case 2:
      return Math.floor((r.next() - 0.5) * 2 * 9007199254740991);
    default:
      return int(BigInt.asIntN(64, r.u64()));
  }
}

function randomReal(r: Rng): number {
  switch (r.int(4)) {
    case 0:
      return (r.int(2_000_001) - 1_000_000) / 1e6 + (r.int(3) - 1) * 5e-7; // near and on FIXED6 ties
    case 1:
      return (r.next() - 0.5) * 2e10;
    case 2:
      return (r.next() - 0.5) * 10 ** (r.int(40) - 20);
    default:
      return new Float64Array(new BigUint64Array([r.u64()]).buffer)[0]!;
  }
}

/** Both results, printed so bigint/number and real/symbol differences show. */
function both(name: string, a: Value, b: Value): [string, string] {
  const f = alu.functions.get(name)!;
  const pure = INTRINSICS.get(manifest.functions.find((m) => m.name === name)!.pure!)!;
  return [sourceForm(pure.fn(a, b)), sourceForm(f.eager!.call(a, b, NONE, CX))];
}

describe("pure equivalents against the alu C kernel", () => {
  test("every function of alu's manifest declares one, and the loaded kernel carries it", () => {
    for (const f of manifest.functions) {
      expect(f.pure).toBeDefined();
      expect(aluAsLoaded.functions.get(f.name)!.pure).toBe(f.pure!);
      expect(alu.functions.get(f.name)!.pure).toBeUndefined();
    }
  });

  for (const f of manifest.functions) {
    const real = f.params[0]!.type === ":real";
    test(`${f.name} (${f.pure}) on edge inputs`, () => {
      const xs: Value[] = real ? [...EDGE_REALS.flatMap((x) => [new Real(x), new Real(-x)]), ...OTHERS] : [...EDGE_INTS, ...OTHERS];
      for (const a of xs) {
        for (const b of xs) {
          const [ts, c] = both(f.name, a, b);
          if (ts !== c) throw new Error(`${f.name}(${sourceForm(a)}, ${sourceForm(b)}): TypeScript ${ts}, C ${c}`);
        }
      }
    });
    test(`${f.name} (${f.pure}) on ${RANDOM_CASES} random inputs (seed ${SEED})`, () => {
      const r = new Rng(SEED);
      for (let i = 0; i < RANDOM_CASES; i++) {
        const a = real ? new Real(randomReal(r)) : randomInt(r);
        const b = real ? new Real(randomReal(r)) : randomInt(r);
        const [ts, c] = both(f.name, a, b);
        if (ts !== c) throw new Error(`${f.name}(${sourceForm(a)}, ${sourceForm(b)}): TypeScript ${ts}, C ${c} (seed ${SEED}, case ${i})`);
      }
    });
  }

  test("fixed6Round rounds ties to even and keeps the sign of values that round to zero", () => {
    expect(fixed6Round(0.0078125)).toBe(0.007812);
    expect(fixed6Round(0.0234375)).toBe(0.023438);
    expect(Object.is(fixed6Round(-1e-7), -0)).toBe(true);
    expect(fixed6Round(1 / 3)).toBe(0.333333);
  });
});
