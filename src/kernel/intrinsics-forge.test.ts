/**
 * The TypeScript equivalents of forge's value functions (lang/intrinsics-forge.ts) against the C
 * kernel, which stays the reference: every function is called both ways on the same argument
 * values, edge cases and seeded random ones (lists of every kind holding ints at the int64 and
 * 2^53 edges, bytes 0 and 255, reals at FIXED6 ties, symbols bound and unbound, strings with quotes,
 * backslashes and NUL, nested lists, wrappers, aberrant literals), and must give the same value,
 * evaluate the same values in the same order, and raise the same exception. Where an equivalent
 * declines (its documented cases), it must have evaluated nothing but symbols and scalars.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallContext } from "../lang/host.ts";
import { parseManifest } from "../lang/manifest.ts";
import { VALUE_INTRINSICS } from "../lang/pure.ts";
import { Aberrant, aberrantLiteral, List, NONE, Real, Str, Sym, sym, T_BRACE, T_BRACKET, T_DATUM, T_ERROR, T_PAREN, T_SOME, Wrap, type Value } from "../lang/value.ts";
import { fakeContext } from "../../test/support/fake-context.ts";
import { Rng } from "../../test/support/rng.ts";
import { loadNativeKernel, type NativeKernel } from "./native-kernel.ts";

const FORGE_DIR = join(import.meta.dir, "../../kernels/forge");
const SEED = 0xf0e6e;
const RANDOM_CASES = 1_500;

let cacheDir = "";
let forge: NativeKernel;
const manifest = (() => {
  const parsed = parseManifest(readFileSync(join(FORGE_DIR, "kernel.sxs"), "latin1"), "strict");
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.manifest;
})();

beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), "sup-intrinsics-forge-"));
  forge = loadNativeKernel(FORGE_DIR, manifest, { workingDir: "/", pureEquivalents: false }, { cacheDir });
});
afterAll(() => {
  forge.unload();
  rmSync(cacheDir, { recursive: true, force: true });
});

/** A value printed so that every difference shows: int vs bigint form, -0, list kinds, positions. */
function shape(v: Value): string {
  if (typeof v === "number") return `i${v}`;
  if (typeof v === "bigint") return `I${v}`;
  if (v instanceof Real) return `r${Object.is(v.v, -0) ? "-0" : String(v.v)}`;
  if (v instanceof Str) return `s${JSON.stringify(v.s)}`;
  if (v instanceof Sym) return `y${JSON.stringify(v.name)}`;
  if (v instanceof List) return `L${v.t}@${v.pos}(${v.items.map(shape).join(" ")})`;
  if (v instanceof Wrap) return `W${v.t}@${v.pos}(${shape(v.inner)})`;
  if (v instanceof Aberrant) return v.id > 0 ? `lambda${v.id}` : `?(${v.inner === null ? "" : shape(v.inner)})`;
  return "none";
}

/** A context whose evaluator (test/support's) also logs every value it is asked to evaluate. */
function loggingContext(vars: Map<Sym, Value>): { cx: CallContext; log: string[] } {
  const inner = fakeContext({ vars }).cx;
  const log: string[] = [];
  const cx: CallContext = { ...inner, eval: (e) => (log.push(shape(e).replace(/@-?\d+/g, "")), inner.eval(e)) };
  return { cx, log };
}

/** One side's outcome: its value or exception text, and what it evaluated. */
function outcome(run: () => Value | undefined, log: string[]): string {
  try {
    const v = run();
    return `${v === undefined ? "declined" : shape(v)} evaluating [${log.join(", ")}]`;
  } catch (e) {
    return `throws ${(e as Error).message} evaluating [${log.join(", ")}]`;
  }
}

const BOUND = new Map<Sym, Value>([
  [sym("bx"), 42],
  [sym("bl"), new List(T_PAREN, [1, sym("q"), new Str("s")])],
  [sym("bs"), new Str("hi")],
  [sym("br"), new Real(2.5)],
  [sym("bw"), new Wrap(T_SOME, sym("z"))],
]);

/** Integers at the edges; forge's size limits are tested at their maximum and one past below. */
const EDGE_INTS: Value[] = [0, 1, -1, 7, 44, 255, 256, 257, -256, 65, 2 ** 31, -(2 ** 31), 2 ** 53 - 1, -(2 ** 53 - 1), 2n ** 53n, (1n << 63n) - 1n, -(1n << 63n)];
const EDGE_REALS: number[] = [0, -0, 0.5, 2.5, 1e-7, 5e-7, 0.0000015, 123.4567895, 1 / 3, 9e9, 1e21, 1e300, -1e300, 5e-324];
const STRINGS = ["", "a", "ab\"c", "back\\slash", "nul\0after", "\0", "\xff\x80", "x y", "(1 2)", "\"", "\\"];
const SYMBOLS = ["bx", "bl", "bs", "br", "bw", "unbound", "q", "a:b"];

function randomScalar(r: Rng): Value {
  switch (r.int(6)) {
    case 0:
      return r.pick(EDGE_INTS);
    case 1:
      return r.int(600) - 300;
    case 2:
      return new Real(r.int(3) === 0 ? r.pick(EDGE_REALS) : (r.next() - 0.5) * 10 ** r.int(12));
    case 3:
      return new Str(r.pick(STRINGS));
    case 4:
      return sym(r.pick(SYMBOLS));
    default:
      return NONE;
  }
}

/** Any value; items of lists are mostly scalars, as in the lists programs build. */
function randomValue(r: Rng, depth: number): Value {
  const k = depth > 1 ? 0 : depth === 1 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 8, 9][r.int(20)]! : r.int(10);
  if (k < 4) return randomScalar(r);
  if (k < 8) {
    const n = r.int(7);
    const items = Array.from({ length: n }, () => randomValue(r, depth + 1));
    return new List(r.pick([T_PAREN, T_BRACE, T_BRACKET] as const), items);
  }
  if (k === 8) return new Wrap(r.pick([T_SOME, T_ERROR, T_DATUM] as const), randomValue(r, depth + 1));
  return aberrantLiteral(randomScalar(r));
}

/** An argument of a function's declared type: mostly the type, sometimes anything. */
function randomArg(r: Rng, type: string, sized: boolean): Value {
  // resize builds as many items as its size says: edge sizes would make each case slow.
  if (type === ":int" && r.int(5) > 0) return r.int(3) === 0 && !sized ? r.pick(EDGE_INTS) : r.int(20) - 5;
  if (type === ":real" && r.int(5) > 0) return new Real(r.pick(EDGE_REALS) * (r.int(2) === 0 ? 1 : -1));
  if (type === ":list-c" && r.int(5) > 0) {
    const n = r.int(3) === 0 ? 64 + r.int(10) : r.int(70);
    return new List(r.pick([T_BRACE, T_PAREN] as const), Array.from({ length: n }, () => (r.int(8) === 0 ? randomScalar(r) : r.int(2))));
  }
  return randomValue(r, 0);
}

/** Calls both sides with the same values; `argc` below the arity calls with missing arguments. */
function compare(name: string, args: readonly Value[], argc: number): { ts: string; c: string } {
  const f = manifest.functions.find((x) => x.name === name)!;
  const equivalent = VALUE_INTRINSICS.get(f.pure!)!.fn;
  const n = f.params.length;
  const [a = NONE, b = NONE, c = NONE] = args;
  const t = loggingContext(BOUND);
  const ts = outcome(() => equivalent(t.cx, argc, a, b, c), t.log);
  const native = forge.functions.get(name)!;
  const cSide = loggingContext(BOUND);
  // Values reach C through the eager form (exactly n of them) or, for missing arguments, the
  // general form with fewer (which evaluates none of them).
  const run = argc >= n ? () => native.eager!.call(a, b, c, cSide.cx) : () => native(cSide.cx, args.slice(0, argc));
  return { ts, c: outcome(run, cSide.log) };
}

/** A declined call may only have evaluated symbols and scalars (whose evaluation has no effects). */
function expectHarmlessDecline(ts: string): void {
  const evaluated = /evaluating \[(.*)\]$/.exec(ts)?.[1] ?? "";
  expect(evaluated).not.toMatch(/L\d|W\d/);
}

describe("forge's TypeScript equivalents against the forge C kernel", () => {
  test("every function of forge's manifest declares one, of its exact signature", () => {
    for (const f of manifest.functions) {
      expect(f.pure).toBeDefined();
      const x = VALUE_INTRINSICS.get(f.pure!)!;
      expect([...x.params, x.ret]).toEqual([...f.params.map((p) => p.type), f.ret]);
    }
  });

  test("results at forge's size limits, and one past, agree (the equivalents leave those to C)", () => {
    const big = (n: number, item: Value = 7) => new List(T_BRACE, new Array<Value>(n).fill(item));
    const cases: [string, Value[]][] = [
      ["resize", [new List(T_PAREN, []), 262144, 0]],
      ["resize", [new List(T_PAREN, []), 262145, 0]],
      ["pb", [big(262143), 1]],
      ["pb", [big(262144), 1]],
      ["concat", [big(131072), big(131072)]],
      ["concat", [big(131072), big(131073)]],
      ["pb", [new List(T_PAREN, [new Str("x".repeat(8388608 - 5))]), 1]],
      ["pb", [new List(T_PAREN, [new Str("x".repeat(8388608 - 4))]), 1]],
    ];
    for (const [name, args] of cases) {
      const { ts, c } = compare(name, args, args.length);
      if (!ts.startsWith("declined")) expect(ts.slice(0, 300)).toBe(c.slice(0, 300));
    }
  });

  for (const f of manifest.functions) {
    test(`${f.name} (${f.pure}) on edge inputs`, () => {
      const targets: Value[] = [
        new List(T_PAREN, []),
        new List(T_BRACE, [1, 2, 3]),
        new List(T_BRACKET, [new Str("a\"b"), 1]),
        new List(T_PAREN, [0, 65, 256, -1, new Str("nul\0x"), sym("s")]),
        new List(T_BRACE, [new Real(0.0000005), new Real(-0), new List(T_PAREN, [1]), NONE, aberrantLiteral(1)]),
        new Str("abc"),
        sym("bx"),
        sym("bl"),
        sym("unbound"),
        7,
        new Real(1.5),
        NONE,
        new Wrap(T_SOME, 1),
        aberrantLiteral(sym("x")),
      ];
      for (const t of targets) {
        const rest = f.params.slice(1).map((p) => (p.type === ":int" ? 1 : new Str("z\"")));
        const args = [t, ...rest];
        for (let argc = 0; argc <= f.params.length; argc++) {
          const { ts, c } = compare(f.name, args, argc);
          if (ts.startsWith("declined")) continue;
          expect(ts).toBe(c);
        }
      }
    });

    test(`${f.name} (${f.pure}) on ${RANDOM_CASES} random inputs (seed ${SEED})`, () => {
      const r = new Rng(SEED ^ f.name.length * 7919);
      let declined = 0;
      for (let i = 0; i < RANDOM_CASES; i++) {
        const args = f.params.map((p) => randomArg(r, p.type, f.name === "resize"));
        const { ts, c } = compare(f.name, args, f.params.length);
        if (ts.startsWith("declined")) {
          declined++;
          expectHarmlessDecline(ts);
          continue;
        }
        if (ts !== c) expect(`${args.map(shape).join(" ")} → ${ts}`).toBe(`${args.map(shape).join(" ")} → ${c}`);
      }
      // Declines are the exception (wrapped or non-finite values): most calls never reach C.
      expect(declined).toBeLessThan(RANDOM_CASES / 3);
    });
  }
});
