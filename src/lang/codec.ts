/**
 * The sup value codec, format version 1 (docs/codec.md): one compact, canonical byte encoding of any
 * SLP value, used for code in the store, `kv` values and native-kernel calls. Encoding is canonical
 * (exactly one byte string per value), and decoding rejects every non-canonical input, so the hash
 * of an encoding identifies its value. Decoding never throws and never recurses: hostile input gets
 * a typed CodecError with the byte offset where it went wrong.
 */
import { SupError } from "../errors.ts";
import {
  Aberrant,
  aberrantLiteral,
  internedSym,
  intFromBig,
  List,
  NONE,
  Real,
  Str,
  sym,
  T_ABERRANT,
  T_BRACE,
  T_BRACKET,
  T_DATUM,
  T_ERROR,
  T_NONE,
  T_PAREN,
  T_REAL,
  T_SOME,
  T_STR,
  T_SYMBOL,
  Wrap,
  type Int,
  type ListKind,
  type Value,
  type WrapKind,
} from "./value.ts";

/** Deepest nesting of lists and wrappers (`'x`, `@x`, `#x`, `?x`) accepted; the same as the reader's. */
export const CODEC_DEPTH_MAX = 10_000;

const MAGIC = 0x53;
const VERSION = 0x01;
const TAG_LAMBDA = 0x8e;
/** A varint never takes more than 10 bytes: 10 × 7 bits covers 64 bits. */
const VARINT_BYTES_MAX = 10;
/** Strings at least this long are copied with Buffer's latin1 routines instead of a per-byte loop. */
const STRING_BULK_MIN = 32;
/** Initial size of the shared encode buffer; it doubles as needed and is kept for the next call. */
const ENCODE_BUFFER_BYTES_INITIAL = 4096;
/** A buffer grown past this by one huge value is dropped after the call rather than held forever. */
const ENCODE_BUFFER_BYTES_KEPT_MAX = 1 << 20;
/** High 32 bits of 0x7ff8000000000000, the quiet NaN JavaScript engines produce (low bits are 0). */
const NAN_CANONICAL_HI = 0x7ff80000;

export type CodecErrorCode =
  | "codec-truncated"
  | "codec-bad-magic"
  | "codec-bad-version"
  | "codec-bad-tag"
  | "codec-bad-varint"
  | "codec-too-deep"
  | "codec-trailing-bytes"
  | "codec-bad-symbol"
  | "codec-unknown-symbol"
  | "codec-bad-lambda-id";

/** Input that is not a canonical encoding (or a value too deep to encode); `offset` is a byte index. */
export class CodecError extends SupError {
  declare readonly code: CodecErrorCode;
  constructor(
    code: CodecErrorCode,
    readonly offset: number,
    message: string,
  ) {
    super(code, message);
  }
}

export type DecodeResult = { ok: true; value: Value } | { ok: false; error: CodecError };

/**
 * JavaScript engines collapse every NaN to one bit pattern, so a Real cannot carry a NaN payload.
 * The decoder remembers the exact bits of any other NaN here, keyed by the Real it made, so that
 * encode(decode(b)) = b holds for them too (docs/codec.md keeps NaN payloads bit-exact).
 */
const nanBits = new WeakMap<Real, Uint8Array>();

// ---------------------------------------------------------------------------------------------
// Encoding

// One shared output buffer (with a DataView for reals and a Buffer view for latin1 copies) and the
// write position: encoding is synchronous and never re-entered, and reuse keeps small encodes cheap.
let out: Uint8Array = new Uint8Array(0);
let outView: DataView = new DataView(out.buffer);
let outBuffer: Buffer = Buffer.from(out.buffer);
let at = 0;
useBuffer(new Uint8Array(ENCODE_BUFFER_BYTES_INITIAL));

function useBuffer(next: Uint8Array): void {
  out = next;
  outView = new DataView(next.buffer);
  outBuffer = Buffer.from(next.buffer, 0, next.byteLength);
}

/** Makes room for `n` more bytes in the shared encode buffer. */
function reserve(n: number): void {
  if (at + n <= out.length) return;
  let size = out.length * 2;
  while (size < at + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(out.subarray(0, at));
  useBuffer(next);
}

/** Writes a tag byte, then an unsigned varint of a non-negative integer exact as a double (up to 2^64). */
function writeTagUint(tag: number, n: number): void {
  reserve(1 + VARINT_BYTES_MAX);
  const o = out;
  let p = at;
  o[p++] = tag;
  // Above 2^31 bit operations would truncate, so peel 7 bits at a time with exact float division.
  while (n > 0x7fffffff) {
    o[p++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  while (n > 0x7f) {
    o[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  o[p++] = n;
  at = p;
}

/** Writes an unsigned varint of a bigint in [0, 2^64). */
function writeUintBig(z: bigint): void {
  reserve(VARINT_BYTES_MAX);
  while (z > 0x7fn) {
    out[at++] = Number(z & 0x7fn) | 0x80;
    z >>= 7n;
  }
  out[at++] = Number(z);
}

/** Below this magnitude the zigzag value (at most 2^53) is exact as a double. */
const ZIGZAG_NUMBER_LIMIT = 2 ** 52;

/** Writes an integer as tag 0x09 and the zigzag varint of its int64 value. */
function writeInt(n: Int): void {
  if (typeof n === "number") {
    if (n >= -0x40000000 && n < 0x40000000) {
      // The common case: zigzag and varint in 32-bit integer arithmetic, at most 5 bytes.
      reserve(6);
      const o = out;
      let p = at;
      o[p++] = 0x09;
      let z = (n << 1) ^ (n >> 31);
      while (z > 0x7f) {
        o[p++] = (z & 0x7f) | 0x80;
        z >>>= 7;
      }
      o[p++] = z;
      at = p;
      return;
    }
    if (n > -ZIGZAG_NUMBER_LIMIT && n < ZIGZAG_NUMBER_LIMIT) return writeTagUint(0x09, n >= 0 ? n * 2 : -n * 2 - 1);
    n = BigInt(n);
  }
  reserve(1);
  out[at++] = 0x09;
  writeUintBig(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
}

function writeBytes(tag: number, s: string): void {
  const len = s.length;
  writeTagUint(tag, len);
  reserve(len);
  if (len >= STRING_BULK_MIN) {
    outBuffer.write(s, at, len, "latin1");
  } else {
    const o = out;
    for (let i = 0; i < len; i++) o[at + i] = s.charCodeAt(i);
  }
  at += len;
}

function writeReal(r: Real): void {
  reserve(9);
  out[at++] = 0x0a;
  const x = r.v;
  if (x !== x) {
    const bits = nanBits.get(r);
    if (bits !== undefined) out.set(bits, at);
    else {
      outView.setUint32(at, 0, true);
      outView.setUint32(at + 4, NAN_CANONICAL_HI, true);
    }
  } else outView.setFloat64(at, x, true);
  at += 8;
}

function writeValue(v: Value, depth: number): void {
  if (typeof v === "number" || typeof v === "bigint") return writeInt(v);
  switch (v.t) {
    case T_NONE:
      reserve(1);
      out[at++] = 0x00;
      return;
    case T_REAL:
      return writeReal(v);
    case T_STR:
      return writeBytes(0x05, v.s);
    case T_SYMBOL:
      return writeBytes(0x07, v.name);
    case T_PAREN:
    case T_BRACE:
    case T_BRACKET: {
      if (depth > CODEC_DEPTH_MAX) throw tooDeepToEncode();
      const items = v.items;
      writeTagUint(v.t, items.length);
      for (let i = 0; i < items.length; i++) writeValue(items[i]!, depth + 1);
      return;
    }
    case T_SOME:
    case T_ERROR:
    case T_DATUM:
      if (depth > CODEC_DEPTH_MAX) throw tooDeepToEncode();
      reserve(1);
      out[at++] = v.t;
      return writeValue(v.inner, depth + 1);
    case T_ABERRANT:
      return writeAberrant(v, depth);
  }
}

function writeAberrant(v: Aberrant, depth: number): void {
  if (v.id > 0) {
    if (!Number.isSafeInteger(v.id)) throw new Error(`codec: lambda id ${v.id} is not a safe integer`);
    return writeTagUint(TAG_LAMBDA, v.id);
  }
  // An id of 0, or a literal without its inner object, cannot be built through value.ts: a bug.
  if (v.id === 0 || v.inner === null) throw new Error(`codec: malformed aberrant value with id ${v.id}`);
  if (depth > CODEC_DEPTH_MAX) throw tooDeepToEncode();
  reserve(1);
  out[at++] = T_ABERRANT;
  writeValue(v.inner, depth + 1);
}

function tooDeepToEncode(): CodecError {
  return new CodecError("codec-too-deep", at, `Cannot encode value: nesting deeper than ${CODEC_DEPTH_MAX} levels at byte ${at}`);
}

/**
 * Encodes a value in the canonical envelope (magic, version, value). Throws CodecError
 * "codec-too-deep" for a value nested deeper than CODEC_DEPTH_MAX, which no decoder would accept.
 */
export function encode(v: Value): Uint8Array {
  return encodeView(v).slice();
}

/** A caller-owned encode buffer (see encodeInto); grows as needed and is reused across calls. */
export interface EncodeScratch {
  out: Uint8Array;
  view: DataView;
  buffer: Buffer;
}

/** Makes an empty EncodeScratch. */
export function encodeScratch(): EncodeScratch {
  const out = new Uint8Array(ENCODE_BUFFER_BYTES_INITIAL);
  return { out, view: new DataView(out.buffer), buffer: Buffer.from(out.buffer) };
}

/**
 * Encodes into a caller-owned scratch buffer and returns a view of it, valid until that scratch is
 * used again. Native calls keep one per call depth, so their argument bytes stay put while the
 * kernel runs (and calls back into code that encodes) without a copy.
 */
export function encodeInto(v: Value, scratch: EncodeScratch): Uint8Array {
  const saved = { out, view: outView, buffer: outBuffer };
  out = scratch.out;
  outView = scratch.view;
  outBuffer = scratch.buffer;
  try {
    return encodeView(v);
  } finally {
    scratch.out = out;
    scratch.view = outView;
    scratch.buffer = outBuffer;
    out = saved.out;
    outView = saved.view;
    outBuffer = saved.buffer;
  }
}

/**
 * Like encode, but returns a view of the codec's shared buffer, valid only until the next encode:
 * for callers that copy or consume the bytes at once, saving an allocation.
 */
export function encodeView(v: Value): Uint8Array {
  at = 0;
  reserve(2);
  out[0] = MAGIC;
  out[1] = VERSION;
  at = 2;
  writeValue(v, 1);
  const result = out.subarray(0, at);
  if (out.length > ENCODE_BUFFER_BYTES_KEPT_MAX) useBuffer(new Uint8Array(ENCODE_BUFFER_BYTES_INITIAL));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** An open container while decoding: lists collect `left` more items, wrappers wait for one. */
type Frame = { list: true; t: ListKind; left: number; items: Value[] } | { list: false; t: WrapKind | typeof T_ABERRANT };

const LIST_KINDS: Readonly<Record<number, ListKind>> = { 0x02: T_PAREN, 0x04: T_BRACE, 0x0b: T_BRACKET };
const WRAP_KINDS: Readonly<Record<number, WrapKind | typeof T_ABERRANT>> = {
  0x01: T_SOME,
  0x0c: T_ERROR,
  0x0d: T_DATUM,
  0x0e: T_ABERRANT,
};

function hex(b: number): string {
  return "0x" + b.toString(16).padStart(2, "0").toUpperCase();
}

class Decoder {
  private p = 2;
  private view: DataView | null = null;
  private latin1: Buffer | null = null;
  constructor(
    private readonly b: Uint8Array,
    private readonly knownSymbolsOnly: boolean,
  ) {}

  private truncated(detail = ""): CodecError {
    const n = this.b.length;
    return new CodecError("codec-truncated", n, `Cannot decode value: truncated at byte ${n}${detail}`);
  }

  private badVarint(offset: number, why: string): CodecError {
    return new CodecError("codec-bad-varint", offset, `Cannot decode value: bad varint at byte ${offset}: ${why}`);
  }

  /** Reads a canonical unsigned varint: a number below 2^53, else a bigint. */
  private varint(): number | bigint {
    const b = this.b;
    const n = b.length;
    let p = this.p;
    if (p >= n) throw this.truncated();
    let byte = b[p++]!;
    if (byte < 0x80) {
      this.p = p;
      return byte;
    }
    // Up to 7 bytes (49 bits) accumulate exactly in a double.
    let result = byte & 0x7f;
    let scale = 128;
    for (let i = 1; i < 7; i++) {
      if (p >= n) throw this.truncated();
      byte = b[p++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (byte === 0) throw this.badVarint(p - 1, "not minimal");
        this.p = p;
        return result;
      }
      scale *= 128;
    }
    let big = BigInt(result);
    for (let i = 7; i < VARINT_BYTES_MAX; i++) {
      if (p >= n) throw this.truncated();
      byte = b[p++]!;
      if (i === VARINT_BYTES_MAX - 1) {
        // The 10th byte holds only bit 63, so it must be exactly 1.
        if (byte >= 0x80) throw this.badVarint(p - 1, `longer than ${VARINT_BYTES_MAX} bytes`);
        if (byte !== 1) throw this.badVarint(p - 1, byte === 0 ? "not minimal" : "exceeds 64 bits");
      } else if (byte === 0) throw this.badVarint(p - 1, "not minimal");
      big |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) {
        this.p = p;
        return big <= 9007199254740991n ? Number(big) : big;
      }
    }
    throw new Error("codec: varint loop ended without a last byte"); // Unreachable: the 10th byte returns or throws.
  }

  /** Reads a count or length that must fit in the bytes left after it. */
  private size(what: string): number {
    const v = this.varint();
    const left = this.b.length - this.p;
    if (typeof v === "bigint" || v > left) throw this.truncated(`: ${what} ${v} exceeds the ${left} bytes left`);
    return v;
  }

  private bytes(len: number): string {
    const b = this.b;
    const p = this.p;
    this.p = p + len;
    if (len >= STRING_BULK_MIN) {
      this.latin1 ??= Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      return this.latin1.toString("latin1", p, p + len);
    }
    let s = "";
    for (let i = p; i < p + len; i++) s += String.fromCharCode(b[i]!);
    return s;
  }

  private int(): Int {
    const b = this.b;
    const first = b[this.p];
    if (first !== undefined && first < 0x80) {
      this.p++;
      return (first >>> 1) ^ -(first & 1);
    }
    const z = this.varint();
    if (typeof z === "number") return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    return intFromBig((z >> 1n) ^ -(z & 1n));
  }

  private real(): Real {
    const p = this.p;
    if (p + 8 > this.b.length) throw this.truncated();
    const b = this.b;
    this.view ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
    const x = this.view.getFloat64(p, true);
    this.p = p + 8;
    const r = new Real(x);
    if (x !== x && (this.view.getUint32(p, true) !== 0 || this.view.getUint32(p + 4, true) !== NAN_CANONICAL_HI)) {
      nanBits.set(r, b.slice(p, p + 8));
    }
    return r;
  }

  run(): Value {
    const b = this.b;
    const n = b.length;
    if (n < 1) throw this.truncated();
    if (b[0] !== MAGIC) throw new CodecError("codec-bad-magic", 0, `Cannot decode value: bad magic ${hex(b[0]!)} at byte 0: expected ${hex(MAGIC)}`);
    if (n < 2) throw this.truncated();
    if (b[1] !== VERSION) throw new CodecError("codec-bad-version", 1, `Cannot decode value: unsupported format version ${b[1]} at byte 1: expected ${VERSION}`);
    const stack: Frame[] = [];
    for (;;) {
      if (this.p >= n) throw this.truncated();
      const tagAt = this.p;
      const tag = b[this.p++]!;
      let v: Value;
      switch (tag) {
        case 0x00:
          v = NONE;
          break;
        case 0x09:
          v = this.int();
          break;
        case 0x0a:
          v = this.real();
          break;
        case 0x05:
          v = new Str(this.bytes(this.size("string length")));
          break;
        case 0x07: {
          const len = this.size("symbol length");
          if (len === 0) throw new CodecError("codec-bad-symbol", tagAt, `Cannot decode value: empty symbol at byte ${tagAt}`);
          const name = this.bytes(len);
          if (this.knownSymbolsOnly) {
            const known = internedSym(name);
            if (known === undefined) throw new CodecError("codec-unknown-symbol", tagAt, `Cannot decode value: unknown symbol at byte ${tagAt}`);
            v = known;
          } else v = sym(name);
          break;
        }
        case TAG_LAMBDA: {
          const id = this.varint();
          if (typeof id === "bigint" || id === 0) {
            // Ids past 2^53 are valid varints but cannot be held exactly, so they could not round-trip.
            throw new CodecError("codec-bad-lambda-id", tagAt, `Cannot decode value: bad lambda id ${id} at byte ${tagAt}`);
          }
          v = new Aberrant(id);
          break;
        }
        case 0x02:
        case 0x04:
        case 0x0b: {
          if (stack.length >= CODEC_DEPTH_MAX) throw this.tooDeep(tagAt);
          const count = this.size("element count");
          const t = LIST_KINDS[tag]!;
          if (count === 0) {
            v = new List(t, []);
            break;
          }
          // Items are pushed as they arrive rather than preallocated: nested lists may each claim up
          // to the remaining input, and preallocating them all would cost depth × input size.
          stack.push({ list: true, t, left: count, items: [] });
          continue;
        }
        case 0x01:
        case 0x0c:
        case 0x0d:
        case 0x0e:
          if (stack.length >= CODEC_DEPTH_MAX) throw this.tooDeep(tagAt);
          stack.push({ list: false, t: WRAP_KINDS[tag]! });
          continue;
        default:
          throw new CodecError("codec-bad-tag", tagAt, `Cannot decode value: unknown tag ${hex(tag)} at byte ${tagAt}`);
      }
      // Hand the finished value to its enclosing containers, closing every one it completes.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) {
          if (this.p !== n) {
            throw new CodecError("codec-trailing-bytes", this.p, `Cannot decode value: trailing bytes at byte ${this.p}: ${n - this.p} after the root value`);
          }
          return v;
        }
        if (top.list) {
          top.items.push(v);
          if (--top.left > 0) break;
          v = new List(top.t, top.items);
        } else v = top.t === T_ABERRANT ? aberrantLiteral(v) : new Wrap(top.t, v);
        stack.pop();
      }
    }
  }

  private tooDeep(offset: number): CodecError {
    return new CodecError("codec-too-deep", offset, `Cannot decode value: nesting deeper than ${CODEC_DEPTH_MAX} levels at byte ${offset}`);
  }
}

/** How decode treats its input. */
export interface DecodeOptions {
  /**
   * Refuse symbols that are not interned yet (`codec-unknown-symbol`) instead of interning them.
   * Symbols are interned for the life of the process, so input from an unauthenticated source
   * (a backchannel handshake) must not be able to add to the table.
   */
  readonly knownSymbolsOnly?: boolean;
}

/** Decodes one enveloped value; never throws on any input, and works in time and memory linear in it. */
export function decode(bytes: Uint8Array, options?: DecodeOptions): DecodeResult {
  try {
    return { ok: true, value: new Decoder(bytes, options?.knownSymbolsOnly === true).run() };
  } catch (e) {
    if (e instanceof CodecError) return { ok: false, error: e };
    throw e; // A bug, not bad input.
  }
}
