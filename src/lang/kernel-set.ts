/**
 * The kernels a session holds, as an immutable value: load names to loaded kernels, plus the derived
 * tables the evaluator reads (functions by full name `load-name/fn`, forms by name).
 *
 * Sets are shared and built once: adding a kernel to a set returns the set cached for that
 * (load name, kernel) pair, so every session that loads the same kernel versions in the same order
 * ends up holding the same set object. A node's requests therefore build no maps per request, and
 * call sites, which cache their resolution against the function table's identity, stay resolved
 * from one request to the next. A replaced kernel is a different LoadedKernel, so sessions on the
 * new version get a different set while those still on the old one keep theirs.
 */
import type { KernelFn, LoadedKernel } from "./host.ts";
import type { TypeCode } from "./value.ts";

/** An immutable set of kernels by load name, with their function and form tables. */
export class KernelSet {
  /** The set of a session that has loaded nothing. */
  static readonly EMPTY = new KernelSet(new Map(), new Map(), new Map());

  /**
   * Sets reached from this one by `with`, by load name then kernel. Weak in the kernel, so a kernel
   * version that was retired and released is not kept alive by the sets that once held it.
   */
  private readonly next = new Map<string, WeakMap<LoadedKernel, KernelSet>>();
  /**
   * The last transition taken, checked before the maps: every request of a route loads the same
   * kernels in the same order, so it is nearly always the one asked for. It holds the kernel
   * strongly until another transition replaces it, a bounded delay for a retired kernel.
   */
  private lastName = "";
  private lastKernel: LoadedKernel | null = null;
  private lastSet: KernelSet | null = null;

  private constructor(
    /** Loaded kernels by load name, in load order (the order sessions release them in). */
    readonly kernels: ReadonlyMap<string, LoadedKernel>,
    /** Kernel functions by full name (`load-name/fn`). */
    readonly fns: ReadonlyMap<string, KernelFn>,
    /** Forms the kernels' manifests define; a later kernel's form replaces an earlier one's. */
    readonly forms: ReadonlyMap<string, readonly TypeCode[]>,
  ) {}

  /** This set plus `kernel` under `name` (replacing a kernel of that name); cached, so repeated calls return the same set. */
  with(name: string, kernel: LoadedKernel): KernelSet {
    if (kernel === this.lastKernel && name === this.lastName) return this.lastSet!;
    let byKernel = this.next.get(name);
    if (byKernel === undefined) this.next.set(name, (byKernel = new WeakMap()));
    let set = byKernel.get(kernel);
    if (set === undefined) {
      const base = this.kernels.has(name) ? this.without(name) : this;
      const kernels = new Map(base.kernels).set(name, kernel);
      const fns = new Map(base.fns);
      for (const [fn, impl] of kernel.functions) fns.set(`${name}/${fn}`, impl);
      const forms = new Map(base.forms);
      for (const [form, types] of kernel.forms) forms.set(form, types);
      set = new KernelSet(kernels, fns, forms);
      byKernel.set(kernel, set);
    }
    this.lastName = name;
    this.lastKernel = kernel;
    this.lastSet = set;
    return set;
  }

  /** This set without the kernel loaded as `name` (not cached: dropping kernels is rare). */
  without(name: string): KernelSet {
    if (!this.kernels.has(name)) return this;
    let set: KernelSet = KernelSet.EMPTY;
    for (const [n, k] of this.kernels) if (n !== name) set = set.with(n, k);
    return set;
  }
}
