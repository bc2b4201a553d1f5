import { describe, expect, test } from "bun:test";
import { CODEC_DEPTH_MAX, CodecError, decode, encode, type CodecErrorCode } from "./codec.ts";
import { NESTING_DEPTH_MAX, read } from "./reader.ts";
import {
  Aberrant,
  aberrantLiteral,
  intFromBig,
  List,
  NONE,
  Real,
  Str,
  sym,
  Sym,
  symbolStats,
  T_BRACE,
  T_BRACKET,
  T_DATUM,
  T_ERROR,
  T_PAREN,
  T_SOME,
  Wrap,
  type Value,
} from "./value.ts";
import { Rng } from "../../test/support/rng.ts";
import { EDGE_INTS, EDGE_REAL_BITS, randomValue } from "../../test/support/random-value.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function realBits(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x);
  return dv.getBigUint64(0);
}

/** Structural equality as the codec defines it: reals bit-exact, literal identities not kept. */
function sameValue(a: Value, b: Value): boolean {
  if (typeof a === "number" || typeof a === "bigint") return a === b && typeof a === typeof b;
  if (typeof b === "number" || typeof b === "bigint") return false;
  if (a.t !== b.t) return false;
  if (a instanceof Real && b instanceof Real) return Number.isNaN(a.v) ? Number.isNaN(b.v) : realBits(a.v) === realBits(b.v);
  if (a instanceof Str && b instanceof Str) return a.s === b.s;
  if (a instanceof Sym) return a === b;
  if (a instanceof List && b instanceof List) return a.items.length === b.items.length && a.items.every((x, i) => sameValue(x, b.items[i]!));
  if (a instanceof Wrap && b instanceof Wrap) return sameValue(a.inner, b.inner);
  if (a instanceof Aberrant && b instanceof Aberrant) {
    if (a.id > 0 || b.id > 0) return a.id === b.id;
    return a.inner !== null && b.inner !== null && sameValue(a.inner, b.inner);
  }
  return a === b;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

function bytes(...parts: (number | readonly number[])[]): Uint8Array {
  return new Uint8Array(parts.flat());
}

const ENV = [0x53, 0x01];

function decodeOk(b: Uint8Array): Value {
  const r = decode(b);
  if (!r.ok) throw new Error(`expected ${hex(b)} to decode: ${r.error.message}`);
  return r.value;
}

function decodeErr(b: Uint8Array): CodecError {
  const r = decode(b);
  if (r.ok) throw new Error(`expected ${hex(b).slice(0, 80)} to be rejected`);
  return r.error;
}

function expectError(b: Uint8Array, code: CodecErrorCode, offset?: number): CodecError {
  const e = decodeErr(b);
  expect(e).toBeInstanceOf(CodecError);
  expect(e.code).toBe(code);
  if (offset !== undefined) expect(e.offset).toBe(offset);
  expect(e.message).toContain(`at byte ${e.offset}`);
  expect(e.message.startsWith("Cannot decode value: ")).toBe(true);
  return e;
}

/** `depth` nested containers built from the given opener bytes, innermost holding NONE. */
function nestedBytes(depth: number, opener: readonly number[]): Uint8Array {
  const b = new Uint8Array(2 + depth * opener.length + 1);
  b.set(ENV);
  for (let i = 0; i < depth; i++) b.set(opener, 2 + i * opener.length);
  b[b.length - 1] = 0x00;
  return b;
}

function nestedValue(depth: number, make: (inner: Value) => Value): Value {
  let v: Value = NONE;
  for (let i = 0; i < depth; i++) v = make(v);
  return v;
}

const SEED = 0x5eed_c0de;

// ---------------------------------------------------------------------------------------------
// Known encodings

describe("encode: exact bytes", () => {
  const cases: [string, Value, string][] = [
    ["NONE", NONE, "530100"],
    ["0", 0, "53010900"],
    ["-1", -1, "53010901"],
    ["1", 1, "53010902"],
    ["63", 63, "5301097e"],
    ["-64", -64, "5301097f"],
    ["64", 64, "5301098001"],
    ["-65", -65, "5301098101"],
    ["int64 max", INT64_MAX, "530109feffffffffffffffff01"],
    ["int64 min", INT64_MIN, "530109ffffffffffffffffff01"],
    // 2^53 zigzags to 2^54: seven empty 7-bit groups, then bit 5 of the eighth.
    ["2^53", 2n ** 53n, "530109" + "80".repeat(7) + "20"],
    ["-0.0", new Real(-0), "53010a0000000000000080"],
    ["2.5", new Real(2.5), "53010a0000000000000440"],
    ["string", new Str("ab"), "530105026162"],
    ["empty string", new Str(""), "53010500"],
    ["symbol", sym("x"), "5301070178"],
    ["()", new List(T_PAREN, []), "53010200"],
    ["{}", new List(T_BRACE, []), "53010400"],
    ["[]", new List(T_BRACKET, []), "53010b00"],
    ["'x", new Wrap(T_SOME, sym("x")), "530101070178"],
    ["@x", new Wrap(T_ERROR, sym("x")), "53010c070178"],
    ["#x", new Wrap(T_DATUM, sym("x")), "53010d070178"],
    ["?5", aberrantLiteral(5), "53010e090a"],
    ["lambda 1", new Aberrant(1), "53018e01"],
    ["lambda 300", new Aberrant(300), "53018eac02"],
  ];
  for (const [name, v, want] of cases) {
    test(name, () => {
      expect(hex(encode(v))).toBe(want);
      expect(sameValue(decodeOk(encode(v)), v)).toBe(true);
    });
  }

  test("the list from the brief", () => {
    const v = read('(1 "ab" x 2.5)').value!;
    expect(hex(encode(v))).toBe("530102040902050261620701780a0000000000000440");
  });

  test("a list of 200 elements uses a two-byte count", () => {
    const v = new List(T_PAREN, new Array<Value>(200).fill(NONE));
    expect(hex(encode(v).subarray(0, 5))).toBe("530102c801");
  });
});

// ---------------------------------------------------------------------------------------------
// Decoding specifics

describe("decode", () => {
  test("integers are normalised: number when safe, bigint otherwise", () => {
    const check = (b: bigint) => {
      const v = decodeOk(encode(intFromBig(b)));
      const safe = b >= -9007199254740991n && b <= 9007199254740991n;
      expect(typeof v).toBe(safe ? "number" : "bigint");
      expect(BigInt(v as number | bigint)).toBe(b);
    };
    for (const b of EDGE_INTS) check(b);
    check(9007199254740991n);
    check(9007199254740992n);
    check(-9007199254740991n);
    check(-9007199254740992n);
  });

  test("every one-byte integer decodes to the zigzag value", () => {
    for (let z = 0; z < 128; z++) {
      const v = decodeOk(bytes(ENV, 0x09, z));
      expect(v).toBe(z % 2 === 0 ? z / 2 : -(z + 1) / 2);
      expect(Object.is(v, -0)).toBe(false);
    }
  });

  test("symbols are interned", () => {
    expect(decodeOk(bytes(ENV, 0x07, 0x03, 0x66, 0x6f, 0x6f))).toBe(sym("foo"));
  });

  test("knownSymbolsOnly decodes interned symbols and refuses new ones without interning them", () => {
    const known = encode(new List(T_PAREN, [sym("codec-test-known"), 1]));
    const r = decode(known, { knownSymbolsOnly: true });
    expect(r.ok && r.value instanceof List && r.value.items[0] === sym("codec-test-known")).toBe(true);
    const name = `codec-test-unknown-${Date.now()}`;
    // Built by hand: encoding through sym() would intern the name.
    const bytes = new Uint8Array([0x53, 0x01, 0x07, name.length, ...Buffer.from(name, "latin1")]);
    // Symbols alive, not ids in use: a new symbol may take the id of a collected one (symbols.ts).
    const before = symbolStats().live;
    const refused = decode(bytes, { knownSymbolsOnly: true });
    expect(refused.ok ? null : refused.error.code).toBe("codec-unknown-symbol");
    expect(symbolStats().live).toBe(before);
    expect(decode(bytes).ok).toBe(true);
    expect(symbolStats().live).toBe(before + 1);
  });

  test("an aberrant literal decodes to a fresh literal keeping its inner object", () => {
    const a = decodeOk(bytes(ENV, 0x0e, 0x09, 0x0a));
    const b = decodeOk(bytes(ENV, 0x0e, 0x09, 0x0a));
    expect(a).toBeInstanceOf(Aberrant);
    if (!(a instanceof Aberrant) || !(b instanceof Aberrant)) return;
    expect(a.id).toBeLessThan(0);
    expect(a.inner).toBe(5);
    expect(a.id).not.toBe(b.id);
  });

  test("a lambda reference decodes to its id", () => {
    const a = decodeOk(bytes(ENV, 0x8e, 0xac, 0x02));
    expect(a).toBeInstanceOf(Aberrant);
    expect(a instanceof Aberrant && a.id === 300 && a.inner === null).toBe(true);
    const max = decodeOk(encode(new Aberrant(Number.MAX_SAFE_INTEGER)));
    expect(max instanceof Aberrant && max.id).toBe(Number.MAX_SAFE_INTEGER);
  });

  test("strings keep all 256 byte values, short and long", () => {
    let all = "";
    for (let i = 0; i < 256; i++) all += String.fromCharCode(i);
    for (const s of [all, all.slice(0, 31), all.slice(200, 232), all.slice(128, 160), all.repeat(40)]) {
      const v = decodeOk(encode(new Str(s)));
      expect(v instanceof Str && v.s === s).toBe(true);
      const name = s.length > 0 ? s : "x";
      expect(decodeOk(encode(sym(name)))).toBe(sym(name));
    }
  });

  test("reals are bit-exact: -0.0, subnormals, infinities", () => {
    for (const bits of EDGE_REAL_BITS) {
      const b = bytes(ENV, 0x0a);
      const full = new Uint8Array(11);
      full.set(b);
      new DataView(full.buffer).setBigUint64(3, bits, true);
      const v = decodeOk(full);
      expect(v instanceof Real && realBits(v.v) === bits).toBe(true);
      expect(hex(encode(v))).toBe(hex(full));
    }
  });

  test("NaN payloads and signs survive decode then encode", () => {
    const rng = new Rng(SEED);
    const payloads = [0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff0000000000001n, 0xfff0000000000001n, 0x7ff4000000000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn];
    for (let i = 0; i < 200; i++) payloads.push((rng.u64() | 0x7ff0000000000000n) & ~(rng.next() < 0.5 ? 0n : 0x8000000000000000n));
    for (const bits of payloads) {
      if ((bits & 0x000fffffffffffffn) === 0n) continue; // An infinity, not a NaN.
      const full = new Uint8Array(11);
      full.set([0x53, 0x01, 0x0a]);
      new DataView(full.buffer).setBigUint64(3, bits, true);
      const v = decodeOk(full);
      expect(v instanceof Real && Number.isNaN(v.v)).toBe(true);
      expect(hex(encode(v))).toBe(hex(full));
    }
  });

  test("a NaN made in JavaScript encodes as the canonical quiet NaN", () => {
    expect(hex(encode(new Real(NaN)))).toBe("53010a000000000000f87f");
    expect(hex(encode(new Real(Math.sqrt(-1))))).toBe("53010a000000000000f87f");
    expect(hex(encode(new Real(-NaN)))).toBe("53010a000000000000f87f");
  });

  test("input may be a view into a larger buffer", () => {
    const v = read('(1 "a string long enough for the bulk copy path" 2.5 sym)').value!;
    const e = encode(v);
    const big = new Uint8Array(e.length + 7);
    big.set(e, 3);
    expect(sameValue(decodeOk(big.subarray(3, 3 + e.length)), v)).toBe(true);
  });

  test("values of several megabytes, and small ones after them", () => {
    const big = new Str("\xff\x00abc".repeat(600_000));
    const list = new List(T_BRACKET, [big, new List(T_PAREN, Array.from({ length: 100_000 }, (_, i) => i * 1_000_003))]);
    const e = encode(list);
    expect(e.length).toBeGreaterThan(3_000_000);
    expect(sameValue(decodeOk(e), list)).toBe(true);
    expect(hex(encode(new Str("ab")))).toBe("530105026162");
  });

  test("encode returns a fresh array each time", () => {
    const a = encode(1);
    const b = encode(2);
    expect(hex(a)).toBe("53010902");
    expect(hex(b)).toBe("53010904");
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests

describe("properties", () => {
  const rng = new Rng(SEED);
  const values: Value[] = [];
  for (let i = 0; i < 2500; i++) values.push(randomValue(rng, 1 + rng.int(5)));
  const encoded = values.map(encode);

  test(`2500 random values round-trip (seed ${SEED})`, () => {
    for (let i = 0; i < values.length; i++) {
      const back = decodeOk(encoded[i]!);
      if (!sameValue(back, values[i]!)) throw new Error(`value ${i} (seed ${SEED}) did not round-trip: ${hex(encoded[i]!)}`);
      expect(hex(encode(back))).toBe(hex(encoded[i]!));
    }
  });

  test("values read from source round-trip", () => {
    const src = "[ (def f (fn (x :int) :int [ (alu/add x 1) ])) '{1 2.5 \"s\\n\\0\"} @(disk full) #(load \"m\") ?x ?(1) -9223372036854775808 ]";
    const v = read(src).value!;
    expect(sameValue(decodeOk(encode(v)), v)).toBe(true);
  });

  test(`every truncation of 300 valid encodings is rejected as truncated (seed ${SEED})`, () => {
    let checked = 0;
    // Each prefix costs a decode of up to its length, so keep to encodings of moderate size.
    for (const e of encoded.filter((x) => x.length <= 3000).slice(0, 300)) {
      for (let n = 0; n < e.length; n++) {
        const err = decodeErr(e.subarray(0, n));
        if (err.code !== "codec-truncated" || err.offset !== n) throw new Error(`prefix ${n} of ${hex(e)}: ${err.code} at ${err.offset}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3000);
  });

  test(`random byte flips never throw, and whatever decodes re-encodes to the same bytes (seed ${SEED})`, () => {
    const frng = new Rng(SEED ^ 0xf11b);
    let accepted = 0;
    for (let round = 0; round < 20_000; round++) {
      const b = encoded[frng.int(encoded.length)]!.slice();
      const flips = 1 + frng.int(3);
      for (let f = 0; f < flips; f++) {
        const at = frng.int(b.length);
        b[at] = frng.next() < 0.5 ? b[at]! ^ (1 << frng.int(8)) : frng.int(256);
      }
      const r = decode(b);
      if (r.ok) {
        accepted++;
        // Canonical form: any accepted input is the one encoding of its value.
        if (hex(encode(r.value)) !== hex(b)) throw new Error(`round ${round} (seed ${SEED}): ${hex(b)} decoded but re-encoded differently`);
      } else expect(r.error).toBeInstanceOf(CodecError);
    }
    expect(accepted).toBeGreaterThan(0);
  });

  test(`random byte strings after the envelope never throw (seed ${SEED})`, () => {
    const grng = new Rng(SEED ^ 0x9a4b);
    for (let round = 0; round < 20_000; round++) {
      const b = new Uint8Array(2 + grng.int(40));
      b.set(ENV);
      for (let i = 2; i < b.length; i++) b[i] = grng.next() < 0.5 ? grng.pick([0x00, 0x01, 0x02, 0x04, 0x05, 0x07, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x8e, 0x80, 0xff]) : grng.int(256);
      const r = decode(b);
      if (r.ok) expect(hex(encode(r.value))).toBe(hex(b));
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile and non-canonical input

describe("rejects", () => {
  test("empty input and a lone magic byte as truncated", () => {
    const e = expectError(bytes(), "codec-truncated", 0);
    expect(e.message).toBe("Cannot decode value: truncated at byte 0");
    expectError(bytes(0x53), "codec-truncated", 1);
    expectError(bytes(ENV), "codec-truncated", 2);
  });

  test("a truncated value with the message style of the brief", () => {
    const e = expectError(bytes(ENV, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0).subarray(0, 10), "codec-truncated", 10);
    expect(e.message).toBe("Cannot decode value: truncated at byte 10");
  });

  test("bad magic and version", () => {
    expect(expectError(bytes(0x54, 0x01, 0x00), "codec-bad-magic", 0).message).toBe("Cannot decode value: bad magic 0x54 at byte 0: expected 0x53");
    expectError(bytes(0x00), "codec-bad-magic", 0);
    expect(expectError(bytes(0x53, 0x02, 0x00), "codec-bad-version", 1).message).toBe("Cannot decode value: unsupported format version 2 at byte 1: expected 1");
    expectError(bytes(0x53, 0x00, 0x00), "codec-bad-version", 1);
  });

  test("every unknown tag", () => {
    const known = new Set([0x00, 0x01, 0x02, 0x04, 0x05, 0x07, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x8e]);
    for (let tag = 0; tag < 256; tag++) {
      if (known.has(tag)) continue;
      expectError(bytes(ENV, 0x02, 0x02, 0x00, tag, 0x00), "codec-bad-tag", 5);
    }
    expect(decodeErr(bytes(ENV, 0x03)).message).toBe("Cannot decode value: unknown tag 0x03 at byte 2");
  });

  test("a count of 2^60 as truncated, without allocating", () => {
    // 2^60 as a varint: eight 0x80 bytes, then 0x10.
    const e = expectError(bytes(ENV, 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00), "codec-truncated");
    expect(e.message).toContain("element count 1152921504606846976 exceeds the 1 bytes left");
    expectError(bytes(ENV, 0x05, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10), "codec-truncated");
    expectError(bytes(ENV, 0x07, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x61), "codec-truncated");
  });

  test("a count one more than the bytes left, and exactly the bytes left", () => {
    expectError(bytes(ENV, 0x02, 0x03, 0x00, 0x00), "codec-truncated");
    expect(decodeOk(bytes(ENV, 0x02, 0x02, 0x00, 0x00))).toBeInstanceOf(List);
    expectError(bytes(ENV, 0x05, 0x03, 0x61, 0x62), "codec-truncated");
    expect(decodeOk(bytes(ENV, 0x05, 0x02, 0x61, 0x62))).toBeInstanceOf(Str);
  });

  test("an 11-byte varint", () => {
    const e = expectError(bytes(ENV, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00), "codec-bad-varint", 12);
    expect(e.message).toBe("Cannot decode value: bad varint at byte 12: longer than 10 bytes");
  });

  test("a 10-byte varint whose last byte is not 0x01", () => {
    expectError(bytes(ENV, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), "codec-bad-varint", 12);
    expectError(bytes(ENV, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), "codec-bad-varint", 12);
    expectError(bytes(ENV, 0x09, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), "codec-bad-varint", 12);
    expect(decodeOk(bytes(ENV, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))).toBe(INT64_MIN);
  });

  test("overlong varints at every length", () => {
    for (let len = 2; len <= 10; len++) {
      // The value 1 padded to `len` bytes, and 0 padded likewise: both have a trailing 0x00.
      const one = [0x81, ...new Array<number>(len - 2).fill(0x80), 0x00];
      const zero = [0x80, ...new Array<number>(len - 2).fill(0x80), 0x00];
      for (const v of [one, zero]) {
        expectError(bytes(ENV, 0x09, v), "codec-bad-varint", 2 + len);
        expectError(bytes(ENV, 0x02, v), "codec-bad-varint", 2 + len);
        expectError(bytes(ENV, 0x05, v), "codec-bad-varint", 2 + len);
        expectError(bytes(ENV, 0x8e, v), "codec-bad-varint", 2 + len);
      }
    }
  });

  test("symbol of length 0", () => {
    expect(expectError(bytes(ENV, 0x07, 0x00), "codec-bad-symbol", 2).message).toBe("Cannot decode value: empty symbol at byte 2");
    expectError(bytes(ENV, 0x02, 0x01, 0x07, 0x00), "codec-bad-symbol", 4);
  });

  test("lambda id 0, and ids past 2^53", () => {
    expect(expectError(bytes(ENV, 0x8e, 0x00), "codec-bad-lambda-id", 2).message).toBe("Cannot decode value: bad lambda id 0 at byte 2");
    expectError(bytes(ENV, 0x8e, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10), "codec-bad-lambda-id", 2);
    expectError(bytes(ENV, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), "codec-bad-lambda-id", 2);
  });

  test("trailing bytes", () => {
    expect(expectError(bytes(ENV, 0x00, 0x00), "codec-trailing-bytes", 3).message).toBe("Cannot decode value: trailing bytes at byte 3: 1 after the root value");
    expectError(bytes(ENV, 0x02, 0x01, 0x09, 0x02, 0x09), "codec-trailing-bytes", 6);
    const e = encode(new List(T_BRACE, [1, 2, 3]));
    const longer = new Uint8Array(e.length + 5);
    longer.set(e);
    expectError(longer, "codec-trailing-bytes", e.length);
  });

  test("nested lists each claiming the rest of the input fail fast", () => {
    // 10000 lists that each claim every byte left, then NONE padding that satisfies only the
    // innermost: nothing may be preallocated per claim, or this would need 10000 × 60000 slots.
    const depth = CODEC_DEPTH_MAX;
    const b = new Uint8Array(2 + depth * 4 + 20_000);
    b.set(ENV);
    for (let i = 0; i < depth; i++) {
      const left = b.length - (2 + i * 4 + 4);
      b.set([0x02, 0x80 | (left & 0x7f), 0x80 | ((left >> 7) & 0x7f), left >> 14], 2 + i * 4);
    }
    const t0 = performance.now();
    expectError(b, "codec-truncated", b.length);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

// ---------------------------------------------------------------------------------------------
// The depth limit, at its maximum and one past it

describe(`depth limit ${CODEC_DEPTH_MAX}`, () => {
  test("is the reader's nesting limit, so every value the reader makes can be encoded", () => {
    expect(CODEC_DEPTH_MAX).toBe(NESTING_DEPTH_MAX);
  });

  // Each opener and the number of containers it opens.
  const openers: [string, number[], number][] = [
    ["paren lists", [0x02, 0x01], 1],
    ["brace lists", [0x04, 0x01], 1],
    ["bracket lists", [0x0b, 0x01], 1],
    ["quotes", [0x01], 1],
    ["errors", [0x0c], 1],
    ["datums", [0x0d], 1],
    ["aberrant literals", [0x0e], 1],
    ["lists and quotes", [0x02, 0x01, 0x01], 2],
  ];
  for (const [name, opener, perOpener] of openers) {
    test(`${name}: decode accepts the maximum and rejects one more`, () => {
      const max = nestedBytes(CODEC_DEPTH_MAX / perOpener, opener);
      const v = decodeOk(max);
      expect(hex(encode(v))).toBe(hex(max));
      // One more level than the limit, whatever it is made of.
      const over = new Uint8Array(max.length + 1);
      over.set(max.subarray(0, 2));
      over[2] = 0x01;
      over.set(max.subarray(2), 3);
      expectError(over, "codec-too-deep");
    });
  }

  test("the error points at the first container past the limit", () => {
    const over = nestedBytes(CODEC_DEPTH_MAX + 1, [0x02, 0x01]);
    const e = expectError(over, "codec-too-deep", 2 + 2 * CODEC_DEPTH_MAX);
    expect(e.message).toBe(`Cannot decode value: nesting deeper than ${CODEC_DEPTH_MAX} levels at byte ${2 + 2 * CODEC_DEPTH_MAX}`);
    // An empty list is a level too.
    const emptyInnermost = nestedBytes(CODEC_DEPTH_MAX, [0x02, 0x01]);
    emptyInnermost[emptyInnermost.length - 1] = 0x02;
    const withEmpty = new Uint8Array(emptyInnermost.length + 1);
    withEmpty.set(emptyInnermost);
    expectError(withEmpty, "codec-too-deep", emptyInnermost.length - 1);
  });

  test("encode accepts the maximum and throws codec-too-deep one past it", () => {
    const maxList = nestedValue(CODEC_DEPTH_MAX, (v) => new List(T_PAREN, [v]));
    expect(sameValue(decodeOk(encode(maxList)), maxList)).toBe(true);
    const maxWrap = nestedValue(CODEC_DEPTH_MAX, (v) => (v === NONE ? aberrantLiteral(v) : new Wrap(T_SOME, v)));
    expect(sameValue(decodeOk(encode(maxWrap)), maxWrap)).toBe(true);
    for (const make of [(v: Value) => new List(T_BRACE, [1, v]), (v: Value) => new Wrap(T_ERROR, v), (v: Value) => aberrantLiteral(v)]) {
      const over = nestedValue(CODEC_DEPTH_MAX + 1, make);
      let thrown: unknown = null;
      try {
        encode(over);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(CodecError);
      expect(thrown instanceof CodecError && thrown.code).toBe("codec-too-deep");
    }
    // The shared buffer is still usable after the failed call.
    expect(hex(encode(7))).toBe("5301090e");
  });

  test("reader output at its own maximum nesting encodes", () => {
    const src = "(".repeat(NESTING_DEPTH_MAX) + ")".repeat(NESTING_DEPTH_MAX);
    const v = read(src).value!;
    expect(sameValue(decodeOk(encode(v)), v)).toBe(true);
  });
});
