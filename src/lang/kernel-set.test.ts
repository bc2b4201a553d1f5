import { describe, expect, test } from "bun:test";
import type { Host, KernelFn, LoadedKernel } from "./host.ts";
import { Interp } from "./interp.ts";
import { Session } from "./session.ts";
import { KernelSet } from "./kernel-set.ts";
import { NONE, T_INT, T_STR, sym, type TypeCode } from "./value.ts";

const fn = (): KernelFn => () => NONE;
const kernel = (fns: string[], forms: [string, TypeCode[]][] = []): LoadedKernel => ({ functions: new Map(fns.map((f) => [f, fn()])), forms: new Map(forms) });

describe("KernelSet", () => {
  test("adding a kernel names its functions load-name/fn and keeps its forms", () => {
    const a = kernel(["x", "y"], [["point", [T_INT, T_INT]]]);
    const s = KernelSet.EMPTY.with("a", a);
    expect([...s.fns.keys()]).toEqual(["a/x", "a/y"]);
    expect(s.fns.get("a/x")).toBe(a.functions.get("x")!);
    expect(s.forms.get("point")).toEqual([T_INT, T_INT]);
    expect(s.kernels.get("a")).toBe(a);
    expect(KernelSet.EMPTY.fns.size).toBe(0);
  });

  test("the same kernels in the same order give the same set; another version gives another", () => {
    const a = kernel(["x"]);
    const b = kernel(["y"]);
    const one = KernelSet.EMPTY.with("a", a).with("b", b);
    expect(KernelSet.EMPTY.with("a", a).with("b", b)).toBe(one);
    // Interleaved with other transitions, the cached set is still found.
    KernelSet.EMPTY.with("b", b);
    expect(KernelSet.EMPTY.with("a", a).with("b", b)).toBe(one);
    const a2 = kernel(["x", "z"]);
    const two = KernelSet.EMPTY.with("a", a2).with("b", b);
    expect(two).not.toBe(one);
    expect(two.fns.has("a/z")).toBe(true);
    expect(one.fns.has("a/z")).toBe(false);
  });

  test("the same kernel under two load names is two sets of names", () => {
    const a = kernel(["x"]);
    expect([...KernelSet.EMPTY.with("a", a).with("alias", a).fns.keys()]).toEqual(["a/x", "alias/x"]);
  });

  test("without drops a kernel's functions and keeps the others in load order", () => {
    const s = KernelSet.EMPTY.with("a", kernel(["x"])).with("b", kernel(["y"])).with("c", kernel(["z"]));
    const t = s.without("b");
    expect([...t.kernels.keys()]).toEqual(["a", "c"]);
    expect([...t.fns.keys()]).toEqual(["a/x", "c/z"]);
    expect(s.without("nope")).toBe(s);
  });

  test("adding a name that is there replaces that kernel's functions", () => {
    const s = KernelSet.EMPTY.with("a", kernel(["x", "old"])).with("a", kernel(["x"]));
    expect([...s.fns.keys()]).toEqual(["a/x"]);
  });
});

/** A host that hands out the given kernels and records releases. */
function host(kernels: Record<string, LoadedKernel>, failRelease: string | null = null): Host & { released: string[] } {
  const released: string[] = [];
  return {
    released,
    workingDir: "/",
    write: () => undefined,
    loadKernel: (name) => {
      const k = kernels[name];
      if (k === undefined) throw new Error(`no kernel ${name}`);
      return k;
    },
    releaseKernel: (name) => {
      released.push(name);
      if (name === failRelease) throw new Error(`release of ${name} failed`);
    },
    findManifest: () => null,
    readImport: () => null,
    log: () => undefined,
  };
}

describe("Session kernels", () => {
  test("sessions that load the same kernels share one function table", () => {
    const h = host({ a: kernel(["x"]), b: kernel(["y"]) });
    const tables = [0, 1].map(() => {
      const s = new Session(h);
      s.addKernel("a", h.loadKernel("a"));
      s.addKernel("b", h.loadKernel("b"));
      const fns = s.kernelFns;
      s.close();
      return fns;
    });
    expect(tables[0]).toBe(tables[1]!);
    expect(h.released).toEqual(["a", "b", "a", "b"]);
  });

  test("define-form and a dropped kernel's forms stay in the session only", () => {
    const h = host({ a: kernel(["x"], [["pair", [T_INT, T_INT]]]) });
    const s = new Session(h);
    s.addKernel("a", h.loadKernel("a"));
    s.defineForm("named", [T_STR]);
    expect(s.forms.get("pair")).toEqual([T_INT, T_INT]);
    expect(s.forms.get("named")).toEqual([T_STR]);
    const other = new Session(h);
    other.addKernel("a", h.loadKernel("a"));
    expect(other.forms.has("named")).toBe(false);
    s.dropKernel("a");
    expect(s.kernelFns.has("a/x")).toBe(false);
    expect(s.forms.get("pair")).toEqual([T_INT, T_INT]);
    expect(h.released).toEqual(["a"]);
    other.close();
    s.close();
    expect(h.released).toEqual(["a", "a"]);
  });

  test("close releases every kernel even when one release throws, then rethrows", () => {
    const h = host({ a: kernel(["x"]), b: kernel(["y"]) }, "a");
    const s = new Session(h);
    s.addKernel("a", h.loadKernel("a"));
    s.addKernel("b", h.loadKernel("b"));
    expect(() => s.close()).toThrow("release of a failed");
    expect(h.released).toEqual(["a", "b"]);
    s.close();
    expect(h.released).toEqual(["a", "b"]);
  });
});

describe("Interp recycling", () => {
  test("an interpreter whose session ended neither sees nor touches the next one's bindings", () => {
    const h = host({});
    const x = sym("recycle-test-x");
    const y = sym("recycle-test-y");
    const s1 = new Session(h);
    const first = new Interp(s1, "first");
    first.define(x, 1);
    s1.close();
    expect(first.lookup(x)).toBeUndefined();
    const s2 = new Session(h);
    const second = new Interp(s2, "second");
    expect(second.lookup(x)).toBeUndefined();
    second.define(y, 2);
    expect(first.lookup(y)).toBeUndefined();
    // The finished interpreter cannot bind anything any more.
    expect(() => first.define(x, 3)).toThrow();
    expect(second.lookup(x)).toBeUndefined();
    expect(second.lookup(y)).toBe(2);
    s2.close();
  });

  test("trails up to the recycling limit and past it leave the next interpreter unbound", () => {
    const h = host({});
    const x = sym("recycle-test-deep");
    // Three trail slots per binding; the limit is 3 * 1024 slots.
    for (const bindings of [1024, 1025]) {
      const s = new Session(h);
      const it = new Interp(s, "deep");
      for (let i = 0; i < bindings; i++) it.define(x, i);
      expect(it.lookup(x)).toBe(bindings - 1);
      s.close();
      const next = new Session(h);
      const fresh = new Interp(next, "next");
      expect(fresh.lookup(x)).toBeUndefined();
      next.close();
    }
  });
});
