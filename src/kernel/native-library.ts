/**
 * Opens a native kernel's code: a shared library through dlopen, or sources compiled into memory
 * by Bun's TinyCC. Either way the caller gets the kernel's entry points, bound and ready for
 * kernel_init. A library without kernel_shutdown is fine; one without kernel_init is refused.
 */
import { cc, dlopen, type Pointer } from "bun:ffi";
import {
  CompilerMissingError,
  displayOutput,
  installHint,
  KernelCompileError,
  missingCompilerDetail,
  NativeBuildError,
  parseDiagnostics,
} from "./native-compiler.ts";

/** A kernel's code, opened: entry points bound, ready for kernel_init. */
export interface KernelLibrary {
  /** `int32_t kernel_init(const sup_api *api)`. */
  readonly kernelInit: (api: Pointer) => number;
  /** `void kernel_shutdown(const sup_api *api)`, or null when the kernel does not export it. */
  readonly kernelShutdown: ((api: Pointer) => void) | null;
  /** Where the code came from: the library path, or `tinycc:<dir>`. */
  readonly origin: string;
  /** Unloads the code; every function pointer taken from it becomes invalid. */
  close(): void;
}

type EntryLib = { symbols: { kernel_init: (api: Pointer) => number; kernel_shutdown?: (api: Pointer) => void }; close(): void };

const ENTRY_SYMBOLS = {
  kernel_init: { args: ["ptr"], returns: "i32" },
  kernel_shutdown: { args: ["ptr"], returns: "void" },
} as const;
const INIT_ONLY = { kernel_init: ENTRY_SYMBOLS.kernel_init } as const;

/** What TinyCC needs to compile a kernel. */
export interface TinyCcInputs {
  readonly name: string;
  readonly dir: string;
  /** Kernel sources (C only) then the native helper sources. */
  readonly sources: readonly string[];
  readonly helperSources: readonly string[];
  readonly includeDirs: readonly string[];
  /** Compiler output paths are shown relative to this directory. */
  readonly displayRoot: string | null;
}

/** Opens a shared library and binds its entry points. */
export function openSharedLibrary(path: string): KernelLibrary {
  let lib: EntryLib;
  try {
    lib = dlopen(path, ENTRY_SYMBOLS);
  } catch (withShutdown) {
    const why = String(withShutdown);
    if (!why.includes('"kernel_shutdown"')) throw openError(path, why);
    try {
      lib = dlopen(path, INIT_ONLY);
    } catch (initOnly) {
      throw openError(path, String(initOnly));
    }
  }
  const { kernel_init, kernel_shutdown } = lib.symbols;
  return { kernelInit: (api) => kernel_init(api), kernelShutdown: kernel_shutdown ?? null, origin: path, close: () => lib.close() };
}

function openError(path: string, why: string): NativeBuildError {
  if (why.includes('"kernel_init"')) return new NativeBuildError(`Failed to find kernel_init in dylib: ${path}`);
  return new NativeBuildError(`Failed to load kernel dylib: ${why}`);
}

/** Compiles the kernel in memory with Bun's TinyCC (no cache: it takes milliseconds). */
export function compileWithTinyCc(plan: TinyCcInputs): KernelLibrary {
  // Bun ships TinyCC on its main platforms only; elsewhere nothing at all can build C.
  if (typeof cc !== "function") throw new CompilerMissingError(`Cannot build kernel "${plan.name}": ${missingCompilerDetail("c")}, and Bun's TinyCC is not available on this platform`);
  // Bun's cc() accepts several sources (each its own translation unit, as with the system compiler).
  const source = [...plan.sources, ...plan.helperSources] as unknown as string;
  const base = { source, include: [...plan.includeDirs] };
  let lib: EntryLib;
  try {
    lib = cc({ ...base, symbols: ENTRY_SYMBOLS });
  } catch (withShutdown) {
    const why = withShutdown instanceof Error ? withShutdown.message : String(withShutdown);
    if (!why.includes('"kernel_shutdown" is missing')) throw tinyCcError(plan, why);
    try {
      lib = cc({ ...base, symbols: INIT_ONLY });
    } catch (initOnly) {
      throw tinyCcError(plan, initOnly instanceof Error ? initOnly.message : String(initOnly));
    }
  }
  const { kernel_init, kernel_shutdown } = lib.symbols;
  return { kernelInit: (api) => kernel_init(api), kernelShutdown: kernel_shutdown ?? null, origin: `tinycc:${plan.dir}`, close: () => lib.close() };
}

function tinyCcError(plan: TinyCcInputs, why: string): NativeBuildError {
  if (why.includes('"kernel_init" is missing')) return new NativeBuildError(`Failed to find kernel_init in kernel "${plan.name}" (TinyCC)`);
  // TinyCC uses the system's C headers; a machine without a C compiler may lack them too.
  const headers = /include file .* not found/.test(why) ? `\n(the C headers are missing: ${installHint("c")}, or libc6-dev for the headers alone)` : "";
  const output = displayOutput(why, plan.displayRoot);
  return new KernelCompileError(`Cannot build kernel "${plan.name}" with TinyCC:\n${output}${headers}`, parseDiagnostics(output));
}
