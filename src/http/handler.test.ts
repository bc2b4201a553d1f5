import { afterAll, describe, expect, test } from "bun:test";
import { sourceForm } from "../lang/printer.ts";
import { sym, type Value } from "../lang/value.ts";
import { Runtime } from "../node/runtime.ts";
import { requestValue } from "../../kernels/http/shape.ts";
import { withStackUsed } from "../../test/support/stack.ts";
import { runHandler } from "./handler.ts";
import { MemoryRouteSource } from "./memory-source.ts";
import { RouteTable, type RouteVersion } from "./route-table.ts";

const rt = new Runtime({ supHome: null });
afterAll(() => rt.close());

const request = requestValue({ method: "GET", path: "/p/1", params: [["id", "1"]], query: [], headers: [], body: "" });

/** A route version of the given code and meta, compiled the way the table compiles it. */
function version(source: string, meta: Record<string, unknown> = {}): RouteVersion {
  const src = new MemoryRouteSource();
  src.put("GET /p/:id", source, { meta });
  return new RouteTable(src).resolve("default", "GET", "/p/1")!.run;
}

describe("runHandler", () => {
  test("the program's value comes back, with $request bound in the global scope", () => {
    const r = runHandler(version(`[ #(load "http") (http/param "id") ]`), request, rt.host);
    expect(r.kind === "value" && sourceForm(r.value)).toBe('"1"');
    const direct = runHandler(version("[ $request ]"), request, rt.host);
    expect(direct.kind === "value" && direct.value).toBe(request);
  });

  test("a handler nested as deep as the reader allows compiles, and runs from a recursion that used 3/4 of the stack", () => {
    const depth = 10_000;
    const v = version(`[ #(load "http") ${"[".repeat(depth - 2)}1${"]".repeat(depth - 2)} ]`);
    const r = withStackUsed(0.75, () => runHandler(v, request, rt.host));
    expect(r.kind === "value" && r.value).toBe(1);
    for (const k of rt.kernels()) expect(k.refs).toBe(0);
  });

  test("a compiled program runs again and again with fresh sessions", () => {
    const v = version(`[ #(load "http") (def n 1) (http/path) ]`);
    for (let i = 0; i < 3; i++) {
      const r = runHandler(v, request, rt.host);
      expect(r.kind === "value" && sourceForm(r.value)).toBe('"/p/1"');
    }
  });

  test("kernels acquired by the program are released when it ends", () => {
    runHandler(version(`[ #(load "http" "json") (json/encode 1) ]`), request, rt.host);
    for (const k of rt.kernels()) expect(k.refs).toBe(0);
  });

  test("a loop past the step budget stops with a budget outcome", () => {
    const r = runHandler(version("[ (do [ 1 ]) ]", { budgetSteps: 5_000 }), request, rt.host);
    expect(r.kind === "budget" && r.error.kind).toBe("steps");
  });

  test("a loop past the time budget stops with a budget outcome in about that time", () => {
    const t0 = performance.now();
    const r = runHandler(version("[ (do [ 1 ]) ]", { budgetSteps: 1e8, budgetMs: 30 }), request, rt.host);
    const ms = performance.now() - t0;
    expect(r.kind === "budget" && r.error.kind).toBe("time");
    expect(ms).toBeGreaterThanOrEqual(30);
    expect(ms).toBeLessThan(1_000);
  });

  test("runaway recursion stops with a depth outcome", () => {
    const r = runHandler(version("[ (def f (fn () :int [ (f) ])) (f) ]", { budgetSteps: 1e7 }), request, rt.host);
    expect(r.kind === "budget" && r.error.kind).toBe("depth");
  });

  test("an SLP exception comes back with its message and location", () => {
    const r = runHandler(version("[\n  (nope 1) ]"), request, rt.host);
    if (r.kind !== "exception") throw new Error(`expected an exception, got ${r.kind}`);
    expect(r.message).toBe("Unknown callable symbol: nope");
    expect(r.where).toEqual({ file: "default:GET /p/:id", line: 2, col: 3, message: "Unknown callable symbol: nope" });
  });

  test("a kernel that cannot load is an exception, not a crash", () => {
    const r = runHandler(version(`[ #(load "no-such-kernel") 1 ]`), request, rt.host);
    expect(r.kind === "exception" && r.message).toBe("load: failed to load kernel no-such-kernel");
  });

  test("a binding made by one request is not visible to the next", () => {
    const writer = version(`[ (def leaked 42) (def f (fn () :int [ 7 ])) (def g (fn () :int [ (def inner 5) (nope) ])) (g) ]`);
    const reader = version("[ leaked ]");
    const inner = version("[ inner ]");
    const caller = version("[ (f) ]");
    for (let i = 0; i < 3; i++) {
      // The writer ends in an exception with a lambda's scope still open.
      expect(runHandler(writer, request, rt.host).kind).toBe("exception");
      // An unbound symbol evaluates to itself.
      const r = runHandler(reader, request, rt.host);
      expect(r.kind === "value" && r.value).toBe(sym("leaked"));
      const n = runHandler(inner, request, rt.host);
      expect(n.kind === "value" && n.value).toBe(sym("inner"));
      const c = runHandler(caller, request, rt.host);
      expect(c.kind === "exception" && c.message).toBe("Unknown callable symbol: f");
    }
  });

  test("a request given as a function is built only when the program reads it, and once", () => {
    let built = 0;
    const lazy = (): Value => {
      built++;
      return request;
    };
    const ignores = runHandler(version(`[ #(load "http" "json") (http/json 200 (json/object "a" 1)) ]`), lazy, rt.host);
    expect(ignores.kind).toBe("value");
    expect(built).toBe(0);
    const reads = runHandler(version(`[ #(load "http") (def a (http/param "id")) (def b $request) (http/path) ]`), lazy, rt.host);
    expect(reads.kind === "value" && sourceForm(reads.value)).toBe('"/p/1"');
    expect(built).toBe(1);
    const same = runHandler(version("[ $request ]"), lazy, rt.host);
    expect(same.kind === "value" && same.value).toBe(request);
  });

  test("code that does not parse is an internal outcome", () => {
    const r = runHandler(version("[ (unclosed "), request, rt.host);
    expect(r.kind).toBe("internal");
  });
});
