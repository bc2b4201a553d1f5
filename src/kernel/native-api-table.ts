/**
 * The host side of the native ABI's API table (native/sup_kernel.h): the sup_api struct a kernel's
 * kernel_init receives, the callbacks in it (register_function, eval, raise, read, write), the call
 * frames those callbacks find their caller's context in, and the host-owned result buffer. The
 * callbacks are created once and shared by every kernel.
 *
 * Invariants: C never sees a JavaScript exception: a callback records it in its call's frame and the
 * wrapper (native-convert.ts) rethrows it once the C function has returned; every table and string
 * C holds a pointer into stays pinned here until its kernel is unloaded.
 */
import { JSCallback, ptr, read as readMemory, toArrayBuffer, type Pointer } from "bun:ffi";
import { SupError } from "../errors.ts";
import { decode, encode } from "../lang/codec.ts";
import { SlpException } from "../lang/errors.ts";
import type { CallContext } from "../lang/host.ts";
import { read as readSource } from "../lang/reader.ts";
import { latin1FromBytes, type Value } from "../lang/value.ts";

/** The ABI version of native/sup_kernel.h this host implements. */
export const SUP_ABI_VERSION = 1;
/** register_function's convention codes (sup_kernel.h SUP_CALL_SCALAR, SUP_CALL_VALUE). */
export const SUP_CALL_SCALAR = 1;
export const SUP_CALL_VALUE = 2;
/** Bytes of the length that starts every blob (sup_kernel.h SUP_BLOB_HEADER_BYTES). */
export const BLOB_HEADER_BYTES = 8;
/** sizeof(sup_api) on a 64-bit target: two u32, then seven pointers, the result buffer and its size. */
const API_TABLE_BYTES = 80;
/**
 * The host's result buffer (sup_api.result_buf): small results are copied here by sv_return, so the
 * host decodes its own memory instead of reading C memory word by word. Shared by all kernels:
 * it is read as soon as a function returns, before anything else can write it.
 */
const RESULT_BUFFER_BYTES = 64 * 1024;
export const resultBuffer = new Uint8Array(RESULT_BUFFER_BYTES);
export const resultView = new DataView(resultBuffer.buffer);
export const resultPtr = ptr(resultBuffer);
/** Longest function name read from register_function; longer is a kernel bug. */
const FUNCTION_NAME_BYTES_MAX = 4096;

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
/** Value-function calls in progress (the innermost frame is `frames[depth - 1]`). */
export let depth = 0;
/** A raise with no valid context (scalar functions, kernel_init): thrown after the current call. */
export let looseRaise: string | null = null;

/** Enters a frame for a value-function call; returns the `ctx` C receives (its 1-based index). */
export function enterFrame(cx: CallContext, args: Uint8Array): number {
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
export function leaveFrame(): unknown {
  const f = frames[--depth]!;
  f.cx = null;
  f.args = null;
  f.reply = null;
  if (f.hasThrown) return f.thrown;
  if (f.raised !== null) return new SlpException(f.raised);
  return takeLooseRaise();
}

/** The pending raise from outside any frame, as an exception (cleared), or null. */
export function takeLooseRaise(): SlpException | null {
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
export function resultBytes(p: number): Uint8Array {
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

export interface Registration {
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

/** A kernel's code after a successful kernel_init: its pinned API table and what it registered. */
export interface InitializedKernel {
  readonly apiPtr: Pointer;
  readonly hostId: number;
  readonly registered: ReadonlyMap<string, Registration>;
}

/**
 * Builds and pins an API table for one kernel and runs its kernel_init through it, collecting the
 * functions it registers. Throws a NativeKernelError (with the table unpinned) when kernel_init
 * fails or raises; the caller closes the library.
 */
export function runKernelInit(kernelInit: (api: Pointer) => number, origin: string, workingDirPath: string): InitializedKernel {
  const hostId = nextHostId++;
  const workingDir = Buffer.from(workingDirPath + "\0", "utf8");
  const api = apiTable(hostId, workingDir);
  const apiPtr = ptr(api);
  pinned.set(hostId, { api, workingDir });
  const registered = new Map<string, Registration>();
  initializing.set(hostId, registered);
  let status: number;
  try {
    status = kernelInit(apiPtr);
  } catch (e) {
    status = -1;
    looseRaise ??= String(e);
  } finally {
    initializing.delete(hostId);
  }
  const raisedInInit = takeLooseRaise();
  if (status !== 0 || raisedInInit !== null) {
    pinned.delete(hostId);
    throw new NativeKernelError(`kernel_init of ${origin} failed${status !== 0 ? ` with status ${status}` : ""}${raisedInInit !== null ? `: ${raisedInInit.text}` : ""}`);
  }
  return { apiPtr, hostId, registered };
}

/** Releases a kernel's API table once its code is shut down and closed. */
export function unpinKernel(hostId: number): void {
  pinned.delete(hostId);
}
