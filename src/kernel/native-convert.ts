/**
 * Value conversion between SLP and C for native kernel functions: the calling convention a manifest
 * signature implies (sup_kernel.h), and the wrappers that make a registered C function a KernelFn.
 * Scalar functions (only :int/:real) get ints and doubles straight through bun:ffi; value functions
 * get their arguments as one codec buffer and return one blob, decoded from the host's result buffer
 * when it fits there.
 */
import { CFunction, FFIType, ptr, type Pointer } from "bun:ffi";
import { decode, encodeInto, encodeScratch, type EncodeScratch } from "../lang/codec.ts";
import { SlpException } from "../lang/errors.ts";
import type { CallContext, KernelFn } from "../lang/host.ts";
import type { ManifestFunction } from "../lang/manifest.ts";
import { INTRINSICS } from "../lang/intrinsics.ts";
import { VALUE_INTRINSICS, type ValueEquivalent } from "../lang/pure.ts";
import { fixed6 } from "../lang/printer.ts";
import { List, NONE, Real, sym, T_PAREN, type Int, type Value } from "../lang/value.ts";
import { BLOB_HEADER_BYTES, depth, enterFrame, leaveFrame, looseRaise, NativeKernelError, resultBuffer, resultBytes, resultPtr, resultView, takeLooseRaise } from "./native-api-table.ts";
import type { KernelLibrary } from "./native-build.ts";

/** Encode buffers for arguments, by call depth: a nested call (through eval) gets its own. */
const argScratch: ArgScratch[] = [];
/** An encode buffer plus the address of its bytes, taken again only when the codec grew it. */
type ArgScratch = EncodeScratch & { addressOf: Uint8Array | null; address: number };

function argScratchAt(d: number): ArgScratch {
  return (argScratch[d] ??= { ...encodeScratch(), addressOf: null, address: 0 });
}
/** Above this size a depth's buffer is not kept after the call (one huge call should not pin it). */
const ARG_BUFFER_BYTES_KEPT_MAX = 1 << 20;
/** Manifest attributes (after the return type) this host understands. */
const ATTR_VALUE = ":value";
const ATTR_RAW = ":raw";

/** How a function crosses into C, from its manifest signature. */
export type Convention =
  | { readonly kind: "scalar"; readonly params: readonly ("int" | "real")[]; readonly ret: "int" | "real" }
  | { readonly kind: "value"; readonly raw: boolean; readonly params: number; readonly variadic: boolean };

function scalarType(type: string): "int" | "real" | null {
  return type === ":int" ? "int" : type === ":real" ? "real" : null;
}

/** The convention a manifest signature implies (sup_kernel.h); throws on an unknown attribute. */
export function conventionOf(f: ManifestFunction): Convention {
  for (const a of f.attributes) {
    if (a !== ATTR_VALUE && a !== ATTR_RAW) throw new NativeKernelError(`kernel.sxs: function '${f.name}' has an unknown attribute ${a}: expected ${ATTR_VALUE} or ${ATTR_RAW}`);
  }
  const raw = f.attributes.includes(ATTR_RAW);
  const params = f.params.map((p) => scalarType(p.type));
  const ret = scalarType(f.ret);
  if (!raw && !f.attributes.includes(ATTR_VALUE) && !f.variadic && ret !== null && params.every((p) => p !== null)) {
    return { kind: "scalar", params: params as ("int" | "real")[], ret };
  }
  return { kind: "value", raw, params: f.params.length, variadic: f.variadic };
}

function unloaded(name: string): SlpException {
  return new SlpException(`native kernel function '${name}' was called after its kernel was unloaded`);
}

const asInt = (v: Value): Int => (typeof v === "number" || typeof v === "bigint" ? v : 0);
const asReal = (v: Value): number => (v instanceof Real ? v.v : 0);
/** A scalar :real result: finite as is, non-finite as the symbols inf, -inf, nan, -nan. */
const realResult = (x: number): Value => (x - x === 0 ? new Real(x) : sym(fixed6(x)));

/** Shared by a kernel's wrappers: set when it is unloaded, and keeps its code reachable until then. */
export interface Liveness {
  closed: boolean;
  readonly code: KernelLibrary;
}

/**
 * Wraps a scalar C function; 0–2 parameters get unrolled wrappers (alu is called in hot loops).
 * With a TypeScript equivalent (`:pure`, lang/intrinsics.ts) the eager form of a two-argument
 * function runs that instead of crossing bun:ffi: it gives the same results (a property test checks
 * it against the C code) for a fraction of the call's cost, in both tiers.
 */
function scalarFn(name: string, c: LazyCFunction, conv: Extract<Convention, { kind: "scalar" }>, live: Liveness, equivalent: ((a: Value, b: Value) => Value) | null): KernelFn {
  // Bound on the first call (see lazyCFunction), then the C function itself.
  let call = (...a: (number | bigint)[]): number | bigint => {
    call = c.get() as unknown as (...a: (number | bigint)[]) => number | bigint;
    return call(...a);
  };
  const n = conv.params.length;
  const conv0 = conv.params[0] === "real" ? asReal : asInt;
  const conv1 = conv.params[1] === "real" ? asReal : asInt;
  const toValue = conv.ret === "real" ? (r: number | bigint) => realResult(r as number) : (r: number | bigint) => r as Int;
  const finish = (r: number | bigint): Value => {
    if (looseRaise !== null) throw takeLooseRaise();
    return toValue(r);
  };
  if (n === 2) {
    const f: KernelFn = (cx, args) => {
      if (live.closed) throw unloaded(name);
      const argc = args.length;
      if (argc < 2) return finish(call(argc, 0, 0));
      const a = conv0(cx.eval(args[0]!));
      return finish(call(argc, a, conv1(cx.eval(args[1]!))));
    };
    f.eager = {
      arity: 2,
      call:
        equivalent !== null
          ? (a, b) => {
              if (live.closed) throw unloaded(name);
              return equivalent(a, b);
            }
          : (a, b) => {
              if (live.closed) throw unloaded(name);
              return finish(call(2, conv0(a), conv1(b)));
            },
    };
    return f;
  }
  if (n === 1) {
    const f: KernelFn = (cx, args) => {
      if (live.closed) throw unloaded(name);
      const argc = args.length;
      return finish(argc < 1 ? call(argc, 0) : call(argc, conv0(cx.eval(args[0]!))));
    };
    f.eager = {
      arity: 1,
      call: (a) => {
        if (live.closed) throw unloaded(name);
        return finish(call(1, conv0(a)));
      },
    };
    return f;
  }
  const converters = conv.params.map((p) => (p === "real" ? asReal : asInt));
  return (cx, args) => {
    if (live.closed) throw unloaded(name);
    const argc = args.length;
    const values: (number | bigint)[] = new Array(n).fill(0);
    if (argc >= n) for (let i = 0; i < n; i++) values[i] = converters[i]!(cx.eval(args[i]!));
    return finish(call(argc, ...values));
  };
}

const NO_ARGS: readonly Value[] = [];

/** Calls a value-convention C function on evaluated arguments (none when the call wrote fewer than it takes). */
type ValueCall = (cx: CallContext, values: readonly Value[], argc: number) => Value;

/** The C side of a value function: arguments encoded into the depth's scratch buffer, the result decoded. */
function valueCall(name: string, c: LazyCFunction): ValueCall {
  type Call = (ctx: number, args: number, len: number, argc: number) => number | null;
  // Bound on the first call (see lazyCFunction), then the C function itself.
  let call: Call = (ctx, args, len, argc) => {
    call = c.get() as unknown as Call;
    return call(ctx, args, len, argc);
  };
  return (cx, values, argc) => {
    const d0 = depth;
    const scratch = argScratchAt(d0);
    const buf = encodeInto(new List(T_PAREN, values), scratch);
    const len = buf.length;
    // The view usually starts where the scratch buffer does, whose address only changes when it
    // grows; but an encode that grew past the codec's keep limit returns a view of a buffer the
    // scratch no longer holds, so that case takes the view's own address.
    let bufPtr: number;
    if (buf.buffer === scratch.out.buffer) {
      if (scratch.addressOf !== scratch.out) {
        scratch.addressOf = scratch.out;
        scratch.address = ptr(scratch.out);
      }
      bufPtr = scratch.address;
    } else bufPtr = ptr(buf);
    const ctx = enterFrame(cx, buf);
    let result: number | null = null;
    let failure: unknown = null;
    try {
      result = call(ctx, bufPtr, len, argc);
    } finally {
      failure = leaveFrame();
    }
    if (scratch.out.length > ARG_BUFFER_BYTES_KEPT_MAX) argScratch[d0] = { ...encodeScratch(), addressOf: null, address: 0 };
    if (failure !== null) throw failure;
    if (!result) throw new SlpException(`native kernel function '${name}' returned no value`);
    const d = decode(result === resultPtr ? resultBuffer.subarray(BLOB_HEADER_BYTES, BLOB_HEADER_BYTES + resultView.getUint32(0, true)) : resultBytes(result));
    if (!d.ok) throw new SlpException(`native kernel function '${name}' returned a malformed value: ${d.error.message}`);
    return d.value;
  };
}

/** The first n of three argument values, as the list a value call encodes. */
function firstValues(n: number, a: Value, b: Value, c: Value): readonly Value[] {
  return n === 1 ? [a] : n === 2 ? [a, b] : [a, b, c];
}

/**
 * Wraps a value-convention C function. One that takes 1–3 plain evaluated arguments also gets the
 * eager form, so a call site with exactly that many evaluates them itself. With a TypeScript
 * equivalent (`:pure`, lang/pure.ts) the equivalent runs first, on the same evaluated values, and
 * the C function only when it declines.
 */
function valueFn(name: string, c: LazyCFunction, conv: Extract<Convention, { kind: "value" }>, live: Liveness, equivalent: ValueEquivalent | null): KernelFn {
  const callC = valueCall(name, c);
  const required = conv.variadic ? conv.params - 1 : conv.params;
  const n = conv.params;
  const f: KernelFn = (cx, args) => {
    if (live.closed) throw unloaded(name);
    const argc = args.length;
    if (conv.raw) return callC(cx, args, argc);
    if (argc < required) return (equivalent !== null ? equivalent(cx, argc, NONE, NONE, NONE) : undefined) ?? callC(cx, NO_ARGS, argc);
    const m = conv.variadic ? argc : n;
    const values: Value[] = new Array(m);
    for (let i = 0; i < m; i++) values[i] = cx.eval(args[i]!);
    if (equivalent !== null) {
      const r = equivalent(cx, argc, values[0] ?? NONE, values[1] ?? NONE, values[2] ?? NONE);
      if (r !== undefined) return r;
    }
    return callC(cx, values, argc);
  };
  if (conv.raw || conv.variadic || n < 1 || n > 3) return f;
  f.eager = {
    arity: n as 1 | 2 | 3,
    call: (a, b, c3, cx) => {
      if (live.closed) throw unloaded(name);
      if (equivalent !== null) {
        const r = equivalent(cx, n, a, b, c3);
        if (r !== undefined) return r;
      }
      return callC(cx, firstValues(n, a, b, c3), n);
    },
  };
  return f;
}

const VALUE_ARGS = ["ptr", "ptr", "u64", "i32"] as const;

/** A C function whose FFI binding is made when first needed; `close` frees it if it was. */
interface LazyCFunction {
  get(): ReturnType<typeof CFunction>;
  close(): void;
}

/**
 * Binds a C function on its first call rather than when its kernel loads: a binding costs a
 * generated trampoline (about 0.2–1 ms each on a loaded 2-core machine, measured with a whole
 * kernel: 2–12 ms for alu), and most programs call few of a kernel's functions, some none (alu's
 * arithmetic runs its TypeScript equivalents). The library stays open while the kernel is loaded,
 * so the address stays valid until the wrapper refuses calls (Liveness.closed).
 */
function lazyCFunction(definition: Parameters<typeof CFunction>[0]): LazyCFunction {
  let c: ReturnType<typeof CFunction> | null = null;
  return {
    get: () => (c ??= CFunction(definition)),
    close: () => {
      c?.close();
      c = null;
    },
  };
}

/**
 * Binds a registered C function under a convention; `close` frees its FFI binding. `pure`: the
 * TypeScript equivalent the manifest declares, to run instead of the C function (scalarFn, valueFn),
 * or null to call the C function alone.
 */
export function bind(name: string, fn: number, conv: Convention, live: Liveness, pure: string | null = null): { kernelFn: KernelFn; close(): void } {
  if (conv.kind === "scalar") {
    // i64 arguments take a number or a bigint; an i64_fast result is a number exactly when it is a
    // safe integer, which is value.ts's integer representation, so results need no conversion.
    // i64_fast arguments take a number or a bigint like i64 does, but convert numbers about 40%
    // faster (measured: 9.9 ns against 16.2 ns per two-argument call).
    const args = [FFIType.i32, ...conv.params.map((p) => (p === "real" ? FFIType.f64 : FFIType.i64_fast))];
    const c = lazyCFunction({ ptr: fn as Pointer, args, returns: conv.ret === "real" ? FFIType.f64 : FFIType.i64_fast });
    const equivalent = pure !== null && conv.params.length === 2 ? (INTRINSICS.get(pure)?.fn ?? null) : null;
    return { kernelFn: scalarFn(name, c, conv, live, equivalent), close: () => c.close() };
  }
  const c = lazyCFunction({ ptr: fn as Pointer, args: VALUE_ARGS, returns: "ptr" });
  return { kernelFn: valueFn(name, c, conv, live, pure !== null ? (VALUE_INTRINSICS.get(pure)?.fn ?? null) : null), close: () => c.close() };
}
