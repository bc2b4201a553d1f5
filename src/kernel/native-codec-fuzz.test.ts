/**
 * Fuzz of the C codec decoder (native/sup_value.c) through a kernel function. The fixture kernel
 * test/support/codecprobe copies each input into a heap buffer of exactly its size, decodes it with
 * sv_decode and sv_decode_blob, and rebuilds every accepted value from the accessors. On every input
 * its verdict (code and offset) must be src/lang/codec.ts's, and an accepted input must rebuild to
 * the same bytes. Under `scripts/sanitize` the kernel is built with AddressSanitizer and UBSan, so a
 * read past an input or undefined behaviour in the decoder fails the run.
 *
 * The inputs come from a seeded generator (FUZZ_SEED, or SUP_FUZZ_SEED to explore another); every
 * failure names the seed and the input.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode, encode } from "../lang/codec.ts";
import { parseManifest } from "../lang/manifest.ts";
import { List, Str, type Value } from "../lang/value.ts";
import { fakeContext } from "../../test/support/fake-context.ts";
import { randomValue } from "../../test/support/random-value.ts";
import { Rng } from "../../test/support/rng.ts";
import { loadNativeKernel, type NativeKernel } from "./native-kernel.ts";

const PROBE_DIR = join(import.meta.dir, "../../test/support/codecprobe");
const FUZZ_SEED = process.env.SUP_FUZZ_SEED !== undefined ? Number(process.env.SUP_FUZZ_SEED) : 0x5eed_c0de;
/** Random values behind the valid inputs; each also yields its truncations, splices and corruptions. */
const VALUES = 2000;
/** Encodings whose every prefix, split and single-byte corruption is tried (each costs its length in calls). */
const EXHAUSTIVE = 300;
/** Longest encoding whose every prefix is tried: each prefix is a call, so the cost grows with its square. */
const TRUNCATED_BYTES_MAX = 3000;
/** Longest encoding whose every split and corruption is tried: those calls carry the whole input. */
const CORRUPTED_BYTES_MAX = 400;
/** Inputs of each purely random kind (byte flips of valid encodings, garbage after the envelope). */
const RANDOM_ROUNDS = 20_000;
/** The codec's deepest nesting (CODEC_DEPTH_MAX, SV_DEPTH_MAX). */
const DEPTH_MAX = 10_000;
/** Per test: a run takes seconds, but several times longer on a busy machine or under the sanitizers. */
const FUZZ_TEST_TIMEOUT_MS = 300_000;

/** sv_decode's codes by number, named as codec.ts names them (without the `codec-` prefix). */
const C_CODES = ["ok", "truncated", "bad-magic", "bad-version", "bad-tag", "bad-varint", "too-deep", "trailing-bytes", "bad-symbol", "bad-lambda-id", "no-memory"];

let cacheDir = "";
let probe: NativeKernel;
const cx = fakeContext().cx;

beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), "sup-codec-fuzz-"));
  const parsed = parseManifest(readFileSync(join(PROBE_DIR, "kernel.sxs"), "latin1"), "strict");
  if (!parsed.ok) throw new Error(parsed.error);
  probe = loadNativeKernel(PROBE_DIR, parsed.manifest, { workingDir: "/" }, { cacheDir });
}, FUZZ_TEST_TIMEOUT_MS);
afterAll(() => {
  probe?.unload();
  rmSync(cacheDir, { recursive: true, force: true });
});

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** What the C decoder says about b: its verdict, and the bytes it rebuilt when it accepted b. */
function cVerdict(b: Uint8Array): { code: string; offset: number; rebuilt: string } {
  const r = probe.functions.get("decode")!(cx, [new Str(Buffer.from(b).toString("latin1"))]);
  if (!(r instanceof List) || r.items.length !== 3) throw new Error(`codecprobe/decode returned an unexpected value for ${hex(b)}`);
  const [code, offset, rebuilt] = r.items;
  return { code: C_CODES[Number(code)] ?? `code-${String(code)}`, offset: Number(offset), rebuilt: rebuilt instanceof Str ? rebuilt.s : "?" };
}

/** What src/lang/codec.ts says about the same bytes. */
function tsVerdict(b: Uint8Array): { code: string; offset: number } {
  const d = decode(b);
  return d.ok ? { code: "ok", offset: -1 } : { code: d.error.code.replace("codec-", ""), offset: d.error.offset };
}

/** Checks one input; returns whether the decoders accepted it. Throws with the seed and input on any disagreement. */
function check(b: Uint8Array, what: string): boolean {
  const c = cVerdict(b);
  const t = tsVerdict(b);
  if (c.code !== t.code || c.offset !== t.offset) {
    throw new Error(`${what} (seed ${FUZZ_SEED}): C says ${c.code} at ${c.offset}, codec.ts ${t.code} at ${t.offset}, input ${hex(b)}`);
  }
  if (c.code === "ok" && c.rebuilt !== Buffer.from(b).toString("latin1")) {
    throw new Error(`${what} (seed ${FUZZ_SEED}): accepted but rebuilt as ${Buffer.from(c.rebuilt, "latin1").toString("hex")}, input ${hex(b)}`);
  }
  return c.code === "ok";
}

describe("C codec decoder fuzz (codecprobe kernel)", () => {
  const rng = new Rng(FUZZ_SEED);
  const values: Value[] = Array.from({ length: VALUES }, () => randomValue(rng, 1 + rng.int(5)));
  const encoded = values.map(encode);
  const truncated = encoded.filter((e) => e.length <= TRUNCATED_BYTES_MAX).slice(0, EXHAUSTIVE);
  const corrupted = encoded.filter((e) => e.length <= CORRUPTED_BYTES_MAX).slice(0, EXHAUSTIVE);

  test.if((process.env.SUP_CFLAGS ?? "").includes("-fsanitize=address"))("asked for AddressSanitizer (scripts/sanitize), the probe kernel is instrumented", () => {
    // A TinyCC build or a stale cached library would make the whole fuzz run uninstrumented.
    expect(probe.origin.startsWith("tinycc:")).toBe(false);
    expect(readFileSync(probe.origin).includes("libasan.so")).toBe(true);
  }, FUZZ_TEST_TIMEOUT_MS);

  test(`${VALUES} random valid encodings are accepted and rebuilt byte for byte (seed ${FUZZ_SEED})`, () => {
    encoded.forEach((e, i) => expect(check(e, `value ${i}`)).toBe(true));
  }, FUZZ_TEST_TIMEOUT_MS);

  test(`every truncation of ${EXHAUSTIVE} encodings gets codec.ts's verdict (seed ${FUZZ_SEED})`, () => {
    let checked = 0;
    truncated.forEach((e, i) => {
      for (let n = 0; n < e.length; n++, checked++) expect(check(e.subarray(0, n), `prefix ${n} of value ${i}`)).toBe(false);
    });
    expect(checked).toBeGreaterThan(3000);
  }, FUZZ_TEST_TIMEOUT_MS);

  test(`every split of ${EXHAUSTIVE} encodings joined to another value, and with a byte more, gets codec.ts's verdict (seed ${FUZZ_SEED})`, () => {
    corrupted.forEach((e, i) => {
      const other = corrupted[(i + 1) % corrupted.length]!;
      for (let k = 2; k < e.length; k++) {
        // The head of one value up to byte k, then the whole body of another.
        const spliced = new Uint8Array(k + other.length - 2);
        spliced.set(e.subarray(0, k));
        spliced.set(other.subarray(2), k);
        check(spliced, `value ${i} split at ${k}`);
      }
      const longer = new Uint8Array(e.length + 1);
      longer.set(e);
      longer[e.length] = i & 0xff;
      expect(check(longer, `value ${i} with a trailing byte`)).toBe(false);
    });
  }, FUZZ_TEST_TIMEOUT_MS);

  test(`every single-byte corruption of ${EXHAUSTIVE} encodings gets codec.ts's verdict (seed ${FUZZ_SEED})`, () => {
    corrupted.forEach((e, i) => {
      for (let at = 0; at < e.length; at++) {
        for (const x of [0x00, 0x01, 0x7f, 0x80, 0xff, e[at]! ^ 0x40]) {
          const c = e.slice();
          c[at] = x;
          check(c, `value ${i} with byte ${at} set to ${x}`);
        }
      }
    });
  }, FUZZ_TEST_TIMEOUT_MS);

  test(`${RANDOM_ROUNDS} random byte flips and ${RANDOM_ROUNDS} random byte strings get codec.ts's verdict (seed ${FUZZ_SEED})`, () => {
    const frng = new Rng(FUZZ_SEED ^ 0xf11b);
    let accepted = 0;
    for (let round = 0; round < RANDOM_ROUNDS; round++) {
      const b = encoded[frng.int(encoded.length)]!.slice();
      for (let f = 1 + frng.int(3); f > 0; f--) {
        const at = frng.int(b.length);
        b[at] = frng.next() < 0.5 ? b[at]! ^ (1 << frng.int(8)) : frng.int(256);
      }
      if (check(b, `flip round ${round}`)) accepted++;
    }
    expect(accepted).toBeGreaterThan(0);
    const tags = [0x00, 0x01, 0x02, 0x04, 0x05, 0x07, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x8e, 0x80, 0xff];
    for (let round = 0; round < RANDOM_ROUNDS; round++) {
      const b = new Uint8Array(2 + frng.int(40));
      b[0] = 0x53;
      b[1] = 0x01;
      for (let i = 2; i < b.length; i++) b[i] = frng.next() < 0.5 ? frng.pick(tags) : frng.int(256);
      check(b, `garbage round ${round}`);
    }
  }, FUZZ_TEST_TIMEOUT_MS);

  test("oversized counts and lengths, and the deepest nesting and one past it, get codec.ts's verdict", () => {
    const huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]; // 2^63
    const cases = [
      [0x53, 0x01, 0x02, ...huge, 0x00],
      [0x53, 0x01, 0x05, ...huge, 0x61],
      [0x53, 0x01, 0x07, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x61],
      [0x53, 0x01, 0x0b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00],
      [0x53, 0x01, 0x8e, ...huge],
      [0x53, 0x01, 0x0a, 0, 0, 0, 0, 0, 0, 0],
      [0x53],
      [],
    ];
    for (const c of cases) expect(check(new Uint8Array(c), "oversized")).toBe(false);
    const nest = (levels: number, tag: number) => {
      const b = new Uint8Array(2 + levels * (tag === 0x01 ? 1 : 2) + 1);
      b[0] = 0x53;
      b[1] = 0x01;
      let p = 2;
      for (let i = 0; i < levels; i++) {
        b[p++] = tag;
        if (tag !== 0x01) b[p++] = 0x01;
      }
      return b;
    };
    for (const tag of [0x02, 0x01]) {
      expect(check(nest(DEPTH_MAX, tag), `${DEPTH_MAX} levels of tag ${tag}`)).toBe(true);
      expect(check(nest(DEPTH_MAX + 1, tag), `${DEPTH_MAX + 1} levels of tag ${tag}`)).toBe(false);
    }
  }, FUZZ_TEST_TIMEOUT_MS);

  test(`${VALUES} random values cross from the host into C and back unchanged (seed ${FUZZ_SEED})`, () => {
    const echo = probe.functions.get("echo")!;
    values.forEach((v, i) => {
      const back = echo(cx, [v]);
      if (hex(encode(back)) !== hex(encoded[i]!)) throw new Error(`value ${i} (seed ${FUZZ_SEED}) came back as ${hex(encode(back))}, sent ${hex(encoded[i]!)}`);
    });
  }, FUZZ_TEST_TIMEOUT_MS);
});
