/**
 * Loading a native kernel (native/sup_kernel.h, native/README.md): opens or builds its code
 * (native-build.ts), runs kernel_init through an API table (native-api-table.ts), checks that every
 * function the manifest declares was registered with the convention its signature implies, and wraps
 * each as a KernelFn (native-convert.ts). A library file loaded twice in one process shares its code.
 *
 * Invariants: a kernel that fails to load leaves nothing behind (its code is shut down and closed);
 * a function called after its kernel was unloaded throws instead of calling into closed code.
 */
import type { Pointer } from "bun:ffi";
import type { KernelFn, LoadedKernel } from "../lang/host.ts";
import { INTRINSICS } from "../lang/intrinsics.ts";
import type { Manifest } from "../lang/manifest.ts";
import type { TypeCode } from "../lang/value.ts";
import { NativeKernelError, runKernelInit, SUP_CALL_SCALAR, SUP_CALL_VALUE, unpinKernel, type Registration } from "./native-api-table.ts";
import { openKernelLibrary, type KernelLibrary, type NativeBuildOptions } from "./native-build.ts";
import { bind, conventionOf, type Convention, type Liveness } from "./native-convert.ts";

export { NativeKernelError } from "./native-api-table.ts";

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
  /**
   * False binds every function to its C code alone, ignoring `:pure` equivalents (the property
   * tests compare the two); default true.
   */
  readonly pureEquivalents?: boolean;
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
  let init: ReturnType<typeof runKernelInit>;
  try {
    init = runKernelInit((api) => lib.kernelInit(api), lib.origin, env.workingDir);
  } catch (e) {
    lib.close();
    throw e;
  }
  const code: KernelCode = { lib, ...init, refs: 1 };
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
    unpinKernel(code.hostId);
  }
}

/** Checks the registrations against the manifest and wraps every registered function. */
function bindAll(code: KernelCode, conventions: ReadonlyMap<string, Convention>, manifest: Manifest, live: Liveness, closers: (() => void)[], equivalents: boolean): Map<string, KernelFn> {
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
    // A declared pure equivalent (checked against the signature by the manifest parser) runs
    // instead of the C code (native-convert.ts), and a scalar one lets the JS tier inline it.
    const pure = manifest.functions.find((f) => f.name === name)?.pure;
    const b = bind(name, reg.fn, conv, live, pure !== undefined && equivalents ? pure : null);
    closers.push(b.close);
    if (conv.kind === "scalar" && pure !== undefined && equivalents && INTRINSICS.has(pure)) b.kernelFn.pure = pure;
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
    functions = bindAll(code, conventions, manifest, live, closers, env.pureEquivalents !== false);
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
