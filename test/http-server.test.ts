/**
 * End to end: the Elysia server on 127.0.0.1, port 0, serving routes from an in-memory source
 * through a real Runtime, driven with fetch.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { HttpServer, HttpServerStateError, MemoryRouteSource, REQUEST_BODY_BYTES_MAX, REQUEST_ID_HEADER } from "../src/http/mod.ts";
import { Runtime } from "../src/node/runtime.ts";

const USER_V1 = `[ #(load "http" "json")
  (http/json 200 (json/object "id" (http/param "id") "version" 1)) ]`;
const USER_V2 = `[ #(load "http" "json")
  (http/with-header (http/json 200 (json/object "user" (http/param "id") "version" 2 "q" (try (http/query "q") ""))) "cache-control" "no-store") ]`;

const rt = new Runtime({ supHome: null });
const src = new MemoryRouteSource();
const server = new HttpServer({ source: src, host: rt.host, tenants: { byPath: true, byHost: "sup.test" }, health: () => ({ node: "test-node" }) });
let base = "";

beforeAll(() => {
  src.put("GET /users/:id", USER_V1);
  src.put("POST /echo", `[ #(load "http") (http/text 201 (http/body)) ]`);
  src.put("GET /spin", `[ (do [ 1 ]) ]`, { meta: { budgetSteps: 1e9, budgetMs: 50 } });
  src.put("GET /", `"acme home"`, { tenant: "acme" });
  const { port } = server.start({ hostname: "127.0.0.1", port: 0 });
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server.stop({ drainMs: 1_000 });
  rt.close();
});

describe("HTTP server", () => {
  test("listens on the port it reports", () => {
    expect(server.port).toBeGreaterThan(0);
    expect(base).toBe(`http://127.0.0.1:${server.port}`);
  });

  test("a route with a param returns JSON", async () => {
    const r = await fetch(`${base}/users/42`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get(REQUEST_ID_HEADER)).toBeNull();
    expect(await r.json()).toEqual({ id: "42", version: 1 });
  });

  test("writing a new version changes the next request's behaviour", async () => {
    src.put("GET /users/:id", USER_V2);
    const r = await fetch(`${base}/users/7?q=hi`);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(await r.json()).toEqual({ user: "7", version: 2, q: "hi" });
  });

  test("stored static paths go through Bun's router and still follow every code change at once", async () => {
    src.put("GET /fast/path", `"v1"`);
    expect(await (await fetch(`${base}/fast/path`)).text()).toBe("v1");
    // The table is rebuilt after the request that noticed the change; wait for it, then use it.
    while (!server.nativePaths().includes("/fast/path")) await new Promise((r) => setTimeout(r, 1));
    expect(server.nativePaths()).toContain("/t/default/fast/path");
    expect(await (await fetch(`${base}/fast/path`)).text()).toBe("v1");
    expect((await fetch(`${base}/fast/path`, { method: "HEAD" })).status).toBe(200);
    src.put("GET /fast/path", `"v2"`);
    expect(await (await fetch(`${base}/fast/path`)).text()).toBe("v2");
    src.remove("GET /fast/path");
    expect((await fetch(`${base}/fast/path`)).status).toBe(404);
    expect((await fetch(`${base}/_sup/health`)).status).toBe(200);
    expect(server.nativePaths().some((p) => p.startsWith("/_sup/"))).toBe(false);
  });

  test("no route is 404", async () => {
    const r = await fetch(`${base}/no/such/route`, { method: "PATCH" });
    expect(r.status).toBe(404);
  });

  test("tenants by path prefix and by host name", async () => {
    expect(await (await fetch(`${base}/t/acme/`)).text()).toBe("acme home");
    expect(await (await fetch(`${base}/`, { headers: { host: "acme.sup.test" } })).text()).toBe("acme home");
    expect((await fetch(`${base}/`)).status).toBe(404);
  });

  test("bodies reach the handler; a body over the limit is 413", async () => {
    const ok = await fetch(`${base}/echo`, { method: "POST", body: "hello" });
    expect(ok.status).toBe(201);
    expect(await ok.text()).toBe("hello");
    const big = await fetch(`${base}/echo`, { method: "POST", body: new Uint8Array(REQUEST_BODY_BYTES_MAX + 1) });
    expect(big.status).toBe(413);
  });

  test("a runaway handler is 503 while a concurrent request succeeds", async () => {
    const [spin, user] = await Promise.all([fetch(`${base}/spin`), fetch(`${base}/users/1`)]);
    expect(spin.status).toBe(503);
    expect(user.status).toBe(200);
  });

  test("paths under /_sup/ never reach routes", async () => {
    src.put("POST /_sup/health", `"shadow"`);
    expect((await fetch(`${base}/_sup/health`, { method: "POST" })).status).toBe(404);
    src.remove("POST /_sup/health");
  });

  test("health answers JSON", async () => {
    const r = await fetch(`${base}/_sup/health`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(body["status"]).toBe("ok");
    expect(body["node"]).toBe("test-node");
    expect(body["routesSeq"]).toBe(src.seq);
  });

  test("metrics are Prometheus text naming the routes and their versions", async () => {
    const r = await fetch(`${base}/_sup/metrics`);
    expect(r.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    const text = await r.text();
    expect(text).toContain('sup_http_requests_total{tenant="default",route="GET /users/:id",status="200"}');
    expect(text).toContain('sup_http_requests_total{tenant="default",route="(none)",status="404"}');
    expect(text).toContain('sup_http_budget_exhausted_total{tenant="default",route="GET /spin",kind="time"} 1');
    expect(text).toContain('sup_http_route_version{tenant="default",route="GET /users/:id"} 2');
    expect(text).toContain('sup_http_route_version{tenant="acme",route="GET /"} 1');
    // Handlers compile to JavaScript on their first run: every version served so far counts.
    expect(Number(/^sup_compiled_units_total (\d+)$/m.exec(text)![1])).toBeGreaterThanOrEqual(3);
    expect(text).toContain('sup_http_request_duration_seconds_bucket{tenant="default",route="GET /users/:id",le="+Inf"}');
  });

  test("a request without a body is answered synchronously, without a promise", async () => {
    const r = server.handle(new Request(`${base}/users/5`));
    expect(r).toBeInstanceOf(Response);
    expect(await (r as Response).json()).toEqual({ user: "5", version: 2, q: "" });
  });

  test("starting twice is refused", () => {
    expect(() => server.start({ port: 0 })).toThrow(HttpServerStateError);
  });
});

describe("graceful stop", () => {
  test("a request in flight finishes; then the server no longer accepts", async () => {
    const rt2 = new Runtime({ supHome: null });
    const src2 = new MemoryRouteSource();
    src2.put("POST /slow", `[ #(load "http") (http/body) ]`);
    const s = new HttpServer({ source: src2, host: rt2.host });
    const { port } = s.start({ port: 0 });
    let finish!: () => void;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("part1 "));
        finish = () => {
          c.enqueue(new TextEncoder().encode("part2"));
          c.close();
        };
      },
    });
    const pending = fetch(`http://127.0.0.1:${port}/slow`, { method: "POST", body, duplex: "half" } as RequestInit);
    // Wait until the server has the request in flight.
    while (s.dispatcher.inFlight === 0) await Bun.sleep(1);
    const stopped = s.stop({ drainMs: 5_000 });
    const health = await fetch(`http://127.0.0.1:${port}/_sup/health`).then(
      (r) => r.status,
      () => "refused",
    );
    expect(health).toBe("refused");
    finish();
    const r = await pending;
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("part1 part2");
    await stopped;
    expect(() => s.port).toThrow(HttpServerStateError);
    await expect(fetch(`http://127.0.0.1:${port}/slow`, { method: "POST" })).rejects.toThrow();
    rt2.close();
  });
});

describe("stored static paths through Bun's router", () => {
  test("a GET is answered without reading its URL unless the handler reads $request; other methods and HEAD reach the same routes", async () => {
    const rt3 = new Runtime({ supHome: null });
    const src3 = new MemoryRouteSource();
    src3.put("GET /hello", `[ #(load "http" "json") (http/json 200 (json/object "hello" "world")) ]`);
    src3.put("GET /q", `[ #(load "http") (http/text 200 (http/query "a")) ]`);
    src3.put("POST /hello", `"posted"`);
    src3.put("GET /x", `"acme x"`, { tenant: "acme" });
    const s = new HttpServer({ source: src3, host: rt3.host, tenants: { byPath: true } });
    const { port } = s.start({ port: 0 });
    const at = `http://127.0.0.1:${port}`;
    try {
      while (!s.nativePaths().includes("/hello")) await Bun.sleep(1);
      const before = s.dispatcher.stats.withoutUrl;
      expect(await (await fetch(`${at}/hello`)).json()).toEqual({ hello: "world" });
      expect(await (await fetch(`${at}/hello?z=1`)).json()).toEqual({ hello: "world" });
      expect(await (await fetch(`${at}/q?a=b%20c`)).text()).toBe("b c");
      expect(await (await fetch(`${at}/t/acme/x`)).text()).toBe("acme x");
      expect(s.dispatcher.stats.withoutUrl - before).toBe(4);
      expect(await (await fetch(`${at}/hello`, { method: "POST" })).text()).toBe("posted");
      const head = await fetch(`${at}/hello`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect((await fetch(`${at}/hello`, { method: "DELETE" })).status).toBe(404);
      expect(s.dispatcher.stats.withoutUrl - before).toBe(4);
    } finally {
      await s.stop({ drainMs: 1_000 });
      rt3.close();
    }
  });
});
