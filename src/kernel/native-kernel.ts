/**
 * The host side of the native kernel ABI (native/sup_kernel.h, native/README.md): builds the API
 * table a kernel's kernel_init receives, collects the functions it registers, and wraps each one as
 * a KernelFn with the calling convention its manifest signature implies. Scalar functions (only
 * :int/:real) get ints and doubles straight through bun:ffi; value functions get one codec buffer
 * and return one. Kernels call back into the evaluator through JSCallbacks shared by all kernels.
 *
 * Invariants: a kernel that fails to load leaves nothing behind (its code is shut down and closed);
 * C never sees a JavaScript exception: callbacks record it in the call's frame and the wrapper
 * rethrows it once the C function has returned.
 */
import { CFunction, FFIType, JSCallback, ptr, read as readMemory, toArrayBuffer, type Pointer } from "bun:ffi";
import { SupError } from "../errors.ts";
import { decode, encode, encodeInto, encodeScratch, type EncodeScratch } from "../lang/codec.ts";
import { SlpException } from "../lang/errors.ts";
import type { CallContext, KernelFn, LoadedKernel } from "../lang/host.ts";
import type { Manifest, ManifestFunction } from "../lang/manifest.ts";
import { fixed6 } from "../lang/printer.ts";
import { read as readSource } from "../lang/reader.ts";
import { latin1FromBytes, List, Real, sym, T_PAREN, type Int, type TypeCode, type Value } from "../lang/value.ts";
import { openKernelLibrary, type KernelLibrary, type NativeBuildOptions } from "./native-build.ts";

/** The ABI version of native/sup_kernel.h this host implements. */
export const SUP_ABI_VERSION = 1;
const SUP_CALL_SCALAR = 1;
const SUP_CALL_VALUE = 2;
/** Bytes of the length that starts every blob (sup_kernel.h SUP_BLOB_HEADER_BYTES). */
const BLOB_HEADER_BYTES = 8;
/** sizeof(sup_api) on a 64-bit target: two u32, then seven pointers, the result buffer and its size. */
const API_TABLE_BYTES = 80;
/**
 * The host's result buffer (sup_api.result_buf): small results are copied here by sv_return, so the
 * host decodes its own memory instead of reading C memory word by word. Shared by all kernels:
 * it is read as soon as a function returns, before anything else can write it.
 */
const RESULT_BUFFER_BYTES = 64 * 1024;
const resultBuffer = new Uint8Array(RESULT_BUFFER_BYTES);
const resultView = new DataView(resultBuffer.buffer);
const resultPtr = ptr(resultBuffer);
/** Encode buffers for arguments, by call depth: a nested call (through eval) gets its own. */
const argScratch: ArgScratch[] = [];
/** An encode buffer plus the address of its bytes, taken again only when the codec grew it. */
type ArgScratch = EncodeScratch & { addressOf: Uint8Array | null; address: number };

function argScratchAt(d: number): ArgScratch {
  return (argScratch[d] ??= { ...encodeScratch(), addressOf: null, address: 0 });
}
/** Above this size a depth's buffer is not kept after the call (one huge call should not pin it). */
const ARG_BUFFER_BYTES_KEPT_MAX = 1 << 20;
/** Longest function name read from register_function; longer is a kernel bug. */
const FUNCTION_NAME_BYTES_MAX = 4096;
/** Manifest attributes (after the return type) this host understands. */
const ATTR_VALUE = ":value";
const ATTR_RAW = ":raw";

/** A loaded native kernel; `unload` calls kernel_shutdown and closes the code (idempotent). */
export interface NativeKernel extends LoadedKernel {
  /** Where the code came from (library path, or `tinycc:<dir>`). */
  readonly origin: string;
  unload(): void;
}

/** What the host needs from its environment to load a native kernel. */
export interface NativeKernelEnv {
  /** The program's working directory, handed to the kernel as system info. */
  readonly workingDir: string;
}

/** A native kernel did not load: bad manifest convention, failed kernel_init, missing registration. */
export class NativeKernelError extends SupError {
  constructor(message: string) {
    super("native-kernel", message);
  }
}

// ---------------------------------------------------------------------------------------------
// Call frames: one per value-function call in progress (the `ctx` C sees is its 1-based index).

interface Frame {
  cx: CallContext | null;
  /** The argument buffer C is reading; held here so a collection during a callback cannot free it. */
  args: Uint8Array | null;
  /** The last eval/read reply; C may read it until the next eval/read or the call's end. */
  reply: Uint8Array | null;
  /** An exception thrown by an evaluation C asked for, rethrown when the call returns. */
  thrown: unknown;
  hasThrown: boolean;
  /** A message from api->raise. */
  raised: string | null;
}

const frames: Frame[] = [];
let depth = 0;
/** A raise with no valid context (scalar functions, kernel_init): thrown after the current call. */
let looseRaise: string | null = null;

function enterFrame(cx: CallContext, args: Uint8Array): number {
  let f = frames[depth];
  if (f === undefined) frames[depth] = f = { cx: null, args: null, reply: null, thrown: undefined, hasThrown: false, raised: null };
  f.cx = cx;
  f.args = args;
  f.reply = null;
  f.thrown = undefined;
  f.hasThrown = false;
  f.raised = null;
  return ++depth;
}

/** Leaves the innermost frame and returns the exception its call must throw, or null. */
function leaveFrame(): unknown {
  const f = frames[--depth]!;
  f.cx = null;
  f.args = null;
  f.reply = null;
  if (f.hasThrown) return f.thrown;
  if (f.raised !== null) return new SlpException(f.raised);
  return takeLooseRaise();
}

function takeLooseRaise(): SlpException | null {
  if (looseRaise === null) return null;
  const e = new SlpException(looseRaise);
  looseRaise = null;
  return e;
}

function frameOf(ctx: number): Frame | null {
  return ctx >= 1 && ctx <= depth ? frames[ctx - 1]! : null;
}

/**
 * Buffers from C up to this size are copied out word by word: cheaper than wrapping C memory in an
 * ArrayBuffer (about 180 ns), which larger ones still use.
 */
const COPY_BYTES_MAX = 256;
const copyScratch = new Uint8Array(COPY_BYTES_MAX + 4);
const copyScratchView = new DataView(copyScratch.buffer);

/**
 * The bytes C holds at p (a copy, or a view of C memory): valid until the next bytesAt call, so
 * callers decode or copy them at once. Word reads of a 4-byte-aligned buffer may touch up to 3
 * bytes past its end, never past the aligned word that holds its last byte (same page).
 */
function bytesAt(p: number, len: number): Uint8Array {
  if (len > COPY_BYTES_MAX || (p & 3) !== 0) return new Uint8Array(toArrayBuffer(p as Pointer, 0, len));
  for (let i = 0; i < len; i += 4) copyScratchView.setUint32(i, readMemory.u32(p as Pointer, i), true);
  return copyScratch.subarray(0, len);
}

/** The envelope of a result blob (sup_kernel.h), with the same lifetime as bytesAt's. */
function resultBytes(p: number): Uint8Array {
  const len = readMemory.u32(p as Pointer, 0) + readMemory.u32(p as Pointer, 4) * 2 ** 32;
  return bytesAt(p + BLOB_HEADER_BYTES, len);
}

/** Makes a blob (8-byte length, then the envelope) and keeps it in the frame while C reads it. */
function replyBlob(f: Frame, v: Value): number {
  const env = encode(v);
  const blob = new Uint8Array(BLOB_HEADER_BYTES + env.length);
  new DataView(blob.buffer).setUint32(0, env.length, true);
  blob.set(env, BLOB_HEADER_BYTES);
  f.reply = blob;
  return ptr(blob);
}

// ---------------------------------------------------------------------------------------------
// The callbacks in the API table; created once and shared by every kernel.

interface Registration {
  readonly fn: number;
  readonly convention: number;
}
/**
 * The API table and working-directory bytes of every loaded kernel, by host handle. C keeps raw
 * pointers into them, so they must stay reachable from here until the kernel is unloaded (a
 * collected typed array's memory is reused at once).
 */
const pinned = new Map<number, { readonly api: BigUint64Array; readonly workingDir: Uint8Array }>();
/** Kernels inside kernel_init, by the `host` handle in their API table. */
const initializing = new Map<number, Map<string, Registration>>();
let nextHostId = 1;

let callbacks: { register: JSCallback; eval: JSCallback; raise: JSCallback; read: JSCallback; write: JSCallback } | null = null;

function apiCallbacks(): NonNullable<typeof callbacks> {
  if (callbacks !== null) return callbacks;
  const register = new JSCallback(
    (host: number, namePtr: number, fn: number, convention: number): number => {
      const table = initializing.get(host);
      if (table === undefined || !namePtr || !fn || (convention !== SUP_CALL_SCALAR && convention !== SUP_CALL_VALUE)) return -1;
      let name = "";
      for (let i = 0; i < FUNCTION_NAME_BYTES_MAX; i++) {
        const c = readMemory.u8(namePtr as Pointer, i);
        if (c === 0) break;
        name += String.fromCharCode(c);
      }
      if (name === "") return -1;
      table.set(name, { fn, convention });
      return 0;
    },
    { args: ["ptr", "ptr", "ptr", "i32"], returns: "i32" },
  );
  const evalCb = new JSCallback(
    (ctx: number, p: number, len: number | bigint): number => {
      const f = frameOf(ctx);
      if (f === null) {
        looseRaise ??= "native kernel called eval outside a value function call";
        return 0;
      }
      if (f.hasThrown) return 0;
      try {
        const d = decode(bytesAt(p, Number(len)));
        if (!d.ok) throw new SlpException(`native kernel passed a malformed value to eval: ${d.error.message}`);
        return replyBlob(f, f.cx!.eval(d.value));
      } catch (e) {
        f.thrown = e;
        f.hasThrown = true;
        return 0;
      }
    },
    { args: ["ptr", "ptr", "u64"], returns: "ptr" },
  );
  const raise = new JSCallback(
    (ctx: number, p: number, len: number | bigint): void => {
      const text = latin1FromBytes(bytesAt(p, Number(len)));
      const f = frameOf(ctx);
      if (f === null) looseRaise ??= text;
      else f.raised ??= text;
    },
    { args: ["ptr", "ptr", "u64"], returns: "void" },
  );
  const readCb = new JSCallback(
    (ctx: number, p: number, len: number | bigint): number => {
      const f = frameOf(ctx);
      if (f === null || f.hasThrown) return 0;
      try {
        const parsed = readSource(latin1FromBytes(bytesAt(p, Number(len))));
        return parsed.value === null ? 0 : replyBlob(f, parsed.value);
      } catch (e) {
        f.thrown = e;
        f.hasThrown = true;
        return 0;
      }
    },
    { args: ["ptr", "ptr", "u64"], returns: "ptr" },
  );
  const write = new JSCallback(
    (ctx: number, p: number, len: number | bigint): void => {
      const f = frameOf(ctx);
      if (f === null || f.hasThrown) return;
      try {
        f.cx!.write(latin1FromBytes(bytesAt(p, Number(len))));
      } catch (e) {
        f.thrown = e;
        f.hasThrown = true;
      }
    },
    { args: ["ptr", "ptr", "u64"], returns: "void" },
  );
  callbacks = { register, eval: evalCb, raise, read: readCb, write };
  return callbacks;
}

/** Builds a sup_api table (kept alive by the caller for as long as the kernel is loaded). */
function apiTable(hostId: number, workingDir: Uint8Array): BigUint64Array {
  const cb = apiCallbacks();
  const t = new BigUint64Array(API_TABLE_BYTES / 8);
  t[0] = BigInt(SUP_ABI_VERSION) | (BigInt(API_TABLE_BYTES) << 32n);
  t[1] = BigInt(hostId);
  t[2] = BigInt(cb.register.ptr!);
  t[3] = BigInt(cb.eval.ptr!);
  t[4] = BigInt(cb.raise.ptr!);
  t[5] = BigInt(cb.read.ptr!);
  t[6] = BigInt(cb.write.ptr!);
  t[7] = BigInt(ptr(workingDir));
  t[8] = BigInt(resultPtr);
  t[9] = BigInt(RESULT_BUFFER_BYTES);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Calling conventions.

type Convention =
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
interface Liveness {
  closed: boolean;
  readonly code: KernelLibrary;
}

/** Wraps a scalar C function; 0–2 parameters get unrolled wrappers (alu is called in hot loops). */
function scalarFn(name: string, c: ReturnType<typeof CFunction>, conv: Extract<Convention, { kind: "scalar" }>, live: Liveness): KernelFn {
  const call = c as unknown as (...a: (number | bigint)[]) => number | bigint;
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
      call: (a, b) => {
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

/** Wraps a value-convention C function. */
function valueFn(name: string, c: ReturnType<typeof CFunction>, conv: Extract<Convention, { kind: "value" }>, live: Liveness): KernelFn {
  const call = c as unknown as (ctx: number, args: number, len: number, argc: number) => number | null;
  const required = conv.variadic ? conv.params - 1 : conv.params;
  return (cx, args) => {
    if (live.closed) throw unloaded(name);
    const argc = args.length;
    let values: readonly Value[];
    if (conv.raw) values = args;
    else if (argc < required) values = NO_ARGS;
    else {
      const m = conv.variadic ? argc : conv.params;
      const evaluated: Value[] = new Array(m);
      for (let i = 0; i < m; i++) evaluated[i] = cx.eval(args[i]!);
      values = evaluated;
    }
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

const VALUE_ARGS = ["ptr", "ptr", "u64", "i32"] as const;

function bind(name: string, fn: number, conv: Convention, live: Liveness): { kernelFn: KernelFn; close(): void } {
  if (conv.kind === "scalar") {
    // i64 arguments take a number or a bigint; an i64_fast result is a number exactly when it is a
    // safe integer, which is value.ts's integer representation, so results need no conversion.
    // i64_fast arguments take a number or a bigint like i64 does, but convert numbers about 40%
    // faster (measured: 9.9 ns against 16.2 ns per two-argument call).
    const args = [FFIType.i32, ...conv.params.map((p) => (p === "real" ? FFIType.f64 : FFIType.i64_fast))];
    const c = CFunction({ ptr: fn as Pointer, args, returns: conv.ret === "real" ? FFIType.f64 : FFIType.i64_fast });
    return { kernelFn: scalarFn(name, c, conv, live), close: () => c.close() };
  }
  const c = CFunction({ ptr: fn as Pointer, args: VALUE_ARGS, returns: "ptr" });
  return { kernelFn: valueFn(name, c, conv, live), close: () => c.close() };
}

const CONVENTION_NAMES: Record<number, string> = { [SUP_CALL_SCALAR]: "scalar", [SUP_CALL_VALUE]: "value" };

/**
 * Initialised kernel code. A shared library is one instance per process (dlopen returns the same
 * handle for the same file, so its C globals are shared): a second load of the same file reuses
 * this and counts a reference, and only the last unload runs kernel_shutdown. TinyCC code is
 * compiled afresh for every load and never shared.
 */
interface KernelCode {
  readonly lib: KernelLibrary;
  readonly apiPtr: Pointer;
  readonly hostId: number;
  readonly registered: ReadonlyMap<string, Registration>;
  refs: number;
}

const sharedCode = new Map<string, KernelCode>();

/** Opens the kernel's code and runs kernel_init, or takes another reference to the loaded instance. */
function acquireCode(dir: string, manifest: Manifest, env: NativeKernelEnv, options: NativeBuildOptions): KernelCode {
  const lib = openKernelLibrary(dir, manifest, options);
  const shareable = !lib.origin.startsWith("tinycc:");
  const existing = shareable ? sharedCode.get(lib.origin) : undefined;
  if (existing !== undefined) {
    lib.close(); // drops only this dlopen's reference
    existing.refs++;
    return existing;
  }
  const hostId = nextHostId++;
  const workingDir = Buffer.from(env.workingDir + "\0", "utf8");
  const api = apiTable(hostId, workingDir);
  const apiPtr = ptr(api);
  pinned.set(hostId, { api, workingDir });
  const registered = new Map<string, Registration>();
  initializing.set(hostId, registered);
  let status: number;
  try {
    status = lib.kernelInit(apiPtr);
  } catch (e) {
    status = -1;
    looseRaise ??= String(e);
  } finally {
    initializing.delete(hostId);
  }
  const raisedInInit = takeLooseRaise();
  if (status !== 0 || raisedInInit !== null) {
    lib.close();
    pinned.delete(hostId);
    throw new NativeKernelError(`kernel_init of ${lib.origin} failed${status !== 0 ? ` with status ${status}` : ""}${raisedInInit !== null ? `: ${raisedInInit.text}` : ""}`);
  }
  const code: KernelCode = { lib, apiPtr, hostId, registered, refs: 1 };
  if (shareable) sharedCode.set(lib.origin, code);
  return code;
}

/** Drops a reference; the last one runs kernel_shutdown, closes the code and unpins the API table. */
function releaseCode(code: KernelCode): void {
  if (--code.refs > 0) return;
  if (sharedCode.get(code.lib.origin) === code) sharedCode.delete(code.lib.origin);
  try {
    if (code.lib.kernelShutdown !== null) code.lib.kernelShutdown(code.apiPtr);
    code.lib.close();
  } finally {
    pinned.delete(code.hostId);
  }
}

/** Checks the registrations against the manifest and wraps every registered function. */
function bindAll(code: KernelCode, conventions: ReadonlyMap<string, Convention>, manifest: Manifest, live: Liveness, closers: (() => void)[]): Map<string, KernelFn> {
  for (const f of manifest.functions) {
    const reg = code.registered.get(f.name);
    if (reg === undefined) throw new NativeKernelError(`kernel.sxs declares function '${f.name}' but dylib did not register it`);
    const expected = conventions.get(f.name)!.kind === "scalar" ? SUP_CALL_SCALAR : SUP_CALL_VALUE;
    if (reg.convention !== expected) {
      throw new NativeKernelError(
        `kernel.sxs declares function '${f.name}' with the ${CONVENTION_NAMES[expected]} convention but dylib registered it as ${CONVENTION_NAMES[reg.convention]}`,
      );
    }
  }
  const functions = new Map<string, KernelFn>();
  // Registered but undeclared functions stay callable (kernels spec 2.2); without a signature
  // only the value convention with unevaluated arguments can be assumed.
  for (const [name, reg] of code.registered) {
    const conv = conventions.get(name) ?? (reg.convention === SUP_CALL_VALUE ? { kind: "value" as const, raw: true, params: 0, variadic: true } : null);
    if (conv === null) continue;
    const b = bind(name, reg.fn, conv, live);
    closers.push(b.close);
    functions.set(name, b.kernelFn);
  }
  return functions;
}

/**
 * Loads the native kernel in `dir`: builds or opens its code (native-build.ts), calls kernel_init,
 * checks that every function kernel.sxs declares was registered with the convention its signature
 * implies, and wraps them. Throws a SupError (NativeBuildError, NativeKernelError) on any failure,
 * after shutting down and closing whatever it had opened. Loading the same library file again in
 * one process shares its code (kernel state is process-global, kernels spec 1); `unload` of the last
 * load shuts it down.
 */
export function loadNativeKernel(dir: string, manifest: Manifest, env: NativeKernelEnv, options: NativeBuildOptions = {}): NativeKernel {
  const conventions = new Map<string, Convention>();
  for (const f of manifest.functions) conventions.set(f.name, conventionOf(f));
  const code = acquireCode(dir, manifest, env, options);
  const live: Liveness = { closed: false, code: code.lib };
  const closers: (() => void)[] = [];
  const teardown = () => {
    live.closed = true;
    for (const close of closers) close();
    releaseCode(code);
  };
  let functions: Map<string, KernelFn>;
  try {
    functions = bindAll(code, conventions, manifest, live, closers);
  } catch (e) {
    teardown();
    throw e;
  }
  let done = false;
  return {
    functions,
    forms: manifest.forms as ReadonlyMap<string, readonly TypeCode[]>,
    origin: code.lib.origin,
    unload() {
      if (done) return;
      done = true;
      teardown();
    },
  };
}
