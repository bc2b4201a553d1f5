import { describe, expect, test } from "bun:test";
import { Rng } from "../../test/support/rng.ts";
import { FrameReader, plainFrame } from "./frame-reader.ts";

const SEED = 0xf4a3e;

function frames(rng: Rng, count: number, max: number): Uint8Array[] {
  return Array.from({ length: count }, () => {
    const b = new Uint8Array(rng.int(max + 1));
    for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
    return b;
  });
}

function readAll(reader: FrameReader, chunks: Uint8Array[]): { bodies: string[]; error: number | null } {
  const bodies: string[] = [];
  for (const c of chunks) {
    const r = reader.push(c, (body) => {
      bodies.push(Buffer.from(body).toString("hex"));
      return true;
    });
    if (!r.ok) return { bodies, error: r.length };
  }
  return { bodies, error: null };
}

describe("FrameReader", () => {
  test(`a stream of frames split at every byte gives the same frames (seed ${SEED})`, () => {
    const rng = new Rng(SEED);
    const bodies = frames(rng, 12, 40);
    const stream = Buffer.concat(bodies.map(plainFrame));
    const want = bodies.map((b) => Buffer.from(b).toString("hex"));
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(readAll(new FrameReader(64), [stream.subarray(0, cut), stream.subarray(cut)]).bodies).toEqual(want);
    }
    const bytewise = Array.from(stream, (b) => new Uint8Array([b]));
    expect(readAll(new FrameReader(64), bytewise).bodies).toEqual(want);
  });

  test(`random chunkings of 200 frames (seed ${SEED})`, () => {
    const rng = new Rng(SEED + 1);
    const bodies = frames(rng, 200, 300);
    const stream = Buffer.concat(bodies.map(plainFrame));
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < stream.length; ) {
      const n = 1 + rng.int(700);
      chunks.push(stream.subarray(at, at + n));
      at += n;
    }
    expect(readAll(new FrameReader(300), chunks).bodies).toEqual(bodies.map((b) => Buffer.from(b).toString("hex")));
  });

  test("a body of exactly the maximum is read; one byte more is refused when its header arrives", () => {
    const max = 1000;
    expect(readAll(new FrameReader(max), [plainFrame(new Uint8Array(max))]).bodies.length).toBe(1);
    const over = plainFrame(new Uint8Array(max + 1));
    // Only the header is fed: the refusal must not wait for (or buffer) the body.
    expect(readAll(new FrameReader(max), [over.subarray(0, 2), over.subarray(2, 4)]).error).toBe(max + 1);
    const r = new FrameReader(max);
    r.push(over.subarray(0, 4), () => true);
    expect(r.buffered).toBe(0);
  });

  test("a frame of length 2^32-1 is refused without allocating it", () => {
    expect(readAll(new FrameReader(1 << 20), [new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2])]).error).toBe(0xffffffff);
  });

  test(`5000 streams of seeded random bytes never throw and never hold more than one frame (seed ${SEED})`, () => {
    const rng = new Rng(SEED + 2);
    const max = 512;
    for (let n = 0; n < 5000; n++) {
      const r = new FrameReader(max);
      for (let c = 0; c < 1 + rng.int(4); c++) {
        const chunk = new Uint8Array(rng.int(300));
        for (let i = 0; i < chunk.length; i++) chunk[i] = rng.int(256);
        // Small lengths are more interesting than 32-bit noise: make some headers plausible.
        if (chunk.length >= 4 && rng.int(2) === 0) new DataView(chunk.buffer).setUint32(0, rng.int(max + 2));
        const res = r.push(chunk, (body) => body.length <= max);
        expect(r.buffered).toBeLessThanOrEqual(4 + max);
        if (!res.ok) {
          expect(res.length).toBeGreaterThan(max);
          break;
        }
      }
    }
  });

  test("setMax applies from the next header on", () => {
    const r = new FrameReader(10);
    const out = readAll(r, [plainFrame(new Uint8Array(10))]);
    expect(out.bodies.length).toBe(1);
    r.setMax(100);
    expect(readAll(r, [plainFrame(new Uint8Array(100))]).bodies.length).toBe(1);
  });

  test("onFrame returning false stops at that frame", () => {
    const stream = Buffer.concat([plainFrame(new Uint8Array([1])), plainFrame(new Uint8Array([2]))]);
    const seen: number[] = [];
    new FrameReader(10).push(stream, (b) => {
      seen.push(b[0]!);
      return false;
    });
    expect(seen).toEqual([1]);
  });
});
