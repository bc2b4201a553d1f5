/**
 * A node's kernel set: the kernels its runtime has loaded and the set kept in its store (setting
 * `node.kernels`, so a restart brings the same set back). It changes two ways: locally, through the
 * node's own admin socket (`sup kernels load|unload NAME`), or by a kernel entry aimed at this node
 * (`sup kernels load|unload NAME --on SELECTOR`, applied through replica-log.ts's hook). Both are
 * stamped (HLC, origin) in the store's kernel stamps, so last-writer-wins decides between a local
 * change and an entry in whatever order they arrive. Loading or unloading `http` starts or drains
 * the node's HTTP service.
 */
import { log } from "../log.ts";
import type { Store } from "../store/mod.ts";
import type { NodeHttp } from "./node-http.ts";
import type { Runtime } from "./runtime.ts";

/** The store setting that holds the node's kernel set (a JSON list of names). */
export const SETTING_KERNELS = "node.kernels";

/** What a kernel entry did here: the settings to store with it (the new set), or why nothing changed. */
export type KernelEntryEffect = { readonly settings: readonly (readonly [string, string])[] } | { readonly error: string };

/** See the file comment. */
export class NodeKernels {
  /** Counts changes of `http`: an unload whose drain ends after a later load must not undo that load. */
  private httpChanges = 0;

  constructor(
    private readonly store: Store,
    private readonly runtime: Runtime,
    private readonly http: NodeHttp,
    /** The name kernel stamps carry for local changes (the node's origin name). */
    private readonly origin: () => string,
  ) {}

  /** The kernel names of the node's set, as stored. */
  set(): string[] {
    return this.store.getSetting<string[]>(SETTING_KERNELS) ?? [];
  }

  /** Adds a kernel to the running node and its stored set (a local change, stamped). */
  async load(name: string): Promise<void> {
    if (name === "http") this.httpChanges++;
    this.runtime.loadKernel(name);
    const set = this.set();
    if (!set.includes(name)) this.store.putSetting(SETTING_KERNELS, [...set, name]);
    this.stamp(name, true);
    if (name === "http") this.http.start();
  }

  /** Removes a kernel from the running node and its stored set (draining HTTP first when it is `http`); stamped. */
  async unload(name: string): Promise<void> {
    if (name === "http") this.httpChanges++;
    if (name === "http") await this.http.stop();
    this.runtime.unloadKernel(name);
    this.store.putSetting(
      SETTING_KERNELS,
      this.set().filter((k) => k !== name),
    );
    this.stamp(name, false);
  }

  /**
   * A kernel load or unload entry aimed at this node, newer than the last change of that kernel:
   * done now, synchronously (the replication core is waiting); unloading `http` stops listening at
   * once and unloads the kernel when the requests in flight are done. Returns the kernel set to
   * store with the entry, or the error (nothing changes here).
   */
  applyEntry(op: "load" | "unload", name: string): KernelEntryEffect {
    const set = this.set();
    const change = name === "http" ? ++this.httpChanges : 0;
    try {
      if (op === "load") {
        // The runtime may still hold it: an `http` unload that is draining (it will not unload it now).
        if (!this.runtime.kernels().some((k) => k.name === name && k.state === "current")) this.runtime.loadKernel(name);
        if (name === "http") this.http.start();
        return { settings: [[SETTING_KERNELS, JSON.stringify(set.includes(name) ? set : [...set, name])]] };
      }
      if (name === "http") {
        void this.http.stop().then(
          () => {
            if (change === this.httpChanges) this.runtime.unloadKernel(name);
          },
          (e: unknown) => log("error", "http kernel not unloaded", { error: String(e) }),
        );
      } else if (set.includes(name)) this.runtime.unloadKernel(name);
      return { settings: [[SETTING_KERNELS, JSON.stringify(set.filter((k) => k !== name))]] };
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }

  private stamp(name: string, loaded: boolean): void {
    this.store.log.stampKernel(name, loaded, this.store.log.tick(Date.now()), this.origin());
  }
}
