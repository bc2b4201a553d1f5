import { afterEach, describe, expect, test } from "bun:test";
import { read } from "../lang/mod.ts";
import { MEMORY_PATH, Store } from "../store/mod.ts";
import { MODULE_FILES_KEPT_MAX, tenantModules } from "./tenant-modules.ts";

let store: Store;
afterEach(() => store.close());

function putModule(name: string, source: string, tenant = "default"): void {
  store.putCode({ tenant, name, kind: "module", source, program: read(source).value!, author: "t" });
}

describe("tenant modules", () => {
  test("one version is one SourceFile object, so the evaluator parses it once; a new version is another", () => {
    store = Store.open(MEMORY_PATH);
    putModule("mod:util", "[ (export one 1) ]");
    const resolve = tenantModules(store, "default");
    const a = resolve("mod:util");
    expect(a).not.toBeNull();
    expect(resolve("mod:util")).toBe(a);
    putModule("mod:util", "[ (export one 2) ]");
    const b = resolve("mod:util");
    expect(b).not.toBe(a);
    expect(b!.text).toBe("[ (export one 2) ]");
    expect(resolve("mod:util")).toBe(b);
  });

  test("only the tenant's own modules resolve, and only mod: names", () => {
    store = Store.open(MEMORY_PATH);
    putModule("mod:util", "[ 1 ]", "acme");
    expect(tenantModules(store, "default")("mod:util")).toBeNull();
    expect(tenantModules(store, "acme")("mod:util")).not.toBeNull();
    expect(tenantModules(store, "acme")("util.sxs")).toBeNull();
  });

  test(`at most ${MODULE_FILES_KEPT_MAX} versions are kept: the oldest is made again when used`, () => {
    store = Store.open(MEMORY_PATH);
    const resolve = tenantModules(store, "default");
    for (let i = 0; i <= MODULE_FILES_KEPT_MAX; i++) putModule(`mod:m${i}`, `[ ${i} ]`);
    const first = resolve("mod:m0");
    const m1 = resolve("mod:m1");
    for (let i = 2; i < MODULE_FILES_KEPT_MAX; i++) resolve(`mod:m${i}`);
    expect(resolve("mod:m0")).toBe(first); // MODULE_FILES_KEPT_MAX kept: still there
    resolve(`mod:m${MODULE_FILES_KEPT_MAX}`); // one past: m1 (now the oldest) goes
    expect(resolve("mod:m0")).toBe(first);
    const again = resolve("mod:m1");
    expect(again).not.toBe(m1);
    expect(again!.text).toBe("[ 1 ]");
  });
});
