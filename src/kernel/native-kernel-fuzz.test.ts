/**
 * Fuzz of the standard C kernels (alu, forge, random): every function called with seeded random
 * arguments (none up to one too many; integers at the edges of every rule, reals of any bits,
 * strings, symbols, wrappers, lists of up to 70 items that may hold calls the kernel evaluates,
 * including one that throws). Each call must return a value or raise a language exception; a
 * kernel that returns nothing without raising, or a malformed value, fails. Under `scripts/sanitize`
 * the kernels are built with AddressSanitizer and UBSan, so any memory error or undefined behaviour
 * on these paths fails the run. Failures name the seed and the call.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SlpException } from "../lang/errors.ts";
import { parseManifest } from "../lang/manifest.ts";
import { sourceForm } from "../lang/printer.ts";
import { intFromBig, List, NONE, Real, Str, sym, T_BRACE, T_BRACKET, T_ERROR, T_PAREN, T_SOME, Wrap, type Value } from "../lang/value.ts";
import { fakeContext } from "../../test/support/fake-context.ts";
import { EDGE_REAL_BITS, realFromBits } from "../../test/support/random-value.ts";
import { Rng } from "../../test/support/rng.ts";
import { loadNativeKernel, type NativeKernel } from "./native-kernel.ts";

const KERNELS_DIR = join(import.meta.dir, "../../kernels");
const FUZZ_SEED = process.env.SUP_FUZZ_SEED !== undefined ? Number(process.env.SUP_FUZZ_SEED) : 0x0f0f_5eed;
/** Calls per function. */
const CALLS = 400;
/** Longest random list: past 64 so from_bits meets lists longer than an integer's bits. */
const LIST_ITEMS_MAX = 70;
/** Per test: seconds normally, several times that on a busy machine or under the sanitizers. */
const FUZZ_TEST_TIMEOUT_MS = 300_000;
/**
 * Integers at the edges of the kernels' rules: signs, 64-bit limits, bit counts, shift counts. Sizes
 * stay small on purpose: resize and the random strings would allocate up to their limits (16M
 * items, 64 MiB), which their own tests cover; past the limits they raise, which is cheap.
 */
const EDGE_INTS: readonly bigint[] = [0n, 1n, -1n, 2n, 3n, 63n, 64n, 65n, 70n, -64n, -65n, (1n << 31n) - 1n, 1n << 32n, (1n << 53n) + 1n, -(1n << 63n), (1n << 63n) - 1n, -(1n << 63n) + 1n, 64n * 1024n * 1024n + 1n];

let cacheDir = "";
const kernels = new Map<string, NativeKernel>();

beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), "sup-kernel-fuzz-"));
  for (const name of ["alu", "forge", "random"]) {
    const dir = join(KERNELS_DIR, name);
    const parsed = parseManifest(readFileSync(join(dir, "kernel.sxs"), "latin1"), "strict");
    if (!parsed.ok) throw new Error(parsed.error);
    kernels.set(name, loadNativeKernel(dir, parsed.manifest, { workingDir: "/" }, { cacheDir }));
  }
}, FUZZ_TEST_TIMEOUT_MS);
afterAll(() => {
  for (const k of kernels.values()) k.unload();
  rmSync(cacheDir, { recursive: true, force: true });
});

/** One random argument; `depth` bounds nesting. */
function randomArg(rng: Rng, depth: number): Value {
  switch (rng.int(depth > 0 ? 12 : 8)) {
    case 0:
    case 1:
      return rng.int(141) - 70;
    case 2:
      return intFromBig(rng.pick(EDGE_INTS));
    case 3:
      return rng.next() < 0.5 ? realFromBits(rng.pick(EDGE_REAL_BITS)) : new Real((rng.next() - 0.5) * 10 ** (rng.int(40) - 20));
    case 4:
      // Bytes of any value, NUL and quotes included (string results are cut at NUL; TEXT-FORM re-reads quotes).
      return new Str(Array.from({ length: rng.int(6) }, () => rng.pick(["a", "\0", '"', "\\", " ", "\xff"])).join(""));
    case 5:
      return rng.next() < 0.5 ? sym(rng.pick(["x", "a", "inf", "nan"])) : NONE;
    case 6:
      return new List(T_PAREN, [sym(rng.next() < 0.9 ? "trace" : "boom"), rng.int(3)]); // evaluated by drop_match, from_bits, upcast
    case 7:
      return new List(T_BRACE, Array.from({ length: rng.pick([0, 1, 63, 64, 65, LIST_ITEMS_MAX]) }, () => rng.int(2)));
    case 8:
    case 9:
      return new List(rng.pick([T_PAREN, T_BRACE, T_BRACKET]), Array.from({ length: rng.int(8) }, () => randomArg(rng, depth - 1)));
    case 10:
      return new Wrap(rng.pick([T_SOME, T_ERROR]), randomArg(rng, depth - 1));
    default:
      return new List(T_BRACE, Array.from({ length: rng.int(LIST_ITEMS_MAX + 1) }, () => randomArg(rng, 0)));
  }
}

describe("standard C kernels with random arguments", () => {
  for (const name of ["alu", "forge", "random"]) {
    test(`every ${name} function, ${CALLS} calls each, returns a value or raises (seed ${FUZZ_SEED})`, () => {
      const k = kernels.get(name)!;
      const rng = new Rng(FUZZ_SEED ^ name.length);
      let raised = 0;
      for (const [fn, f] of [...k.functions].sort(([a], [b]) => a.localeCompare(b))) {
        for (let call = 0; call < CALLS; call++) {
          const args = Array.from({ length: rng.int(5) }, () => randomArg(rng, 2));
          const what = () => `(${name}/${fn} ${args.map(sourceForm).join(" ")}) (seed ${FUZZ_SEED}, call ${call})`;
          try {
            const v = f(fakeContext().cx, args);
            if (v === undefined || v === null) throw new Error(`${what()} returned nothing`);
          } catch (e) {
            // A kernel that returned nothing without raising, or a malformed value, is a kernel bug.
            if (!(e instanceof SlpException) || /returned (no value|a malformed value)/.test(e.text)) throw new Error(`${what()} failed: ${String(e)}`);
            raised++;
          }
        }
      }
      expect(raised).toBeLessThan(k.functions.size * CALLS);
    }, FUZZ_TEST_TIMEOUT_MS);
  }
});
