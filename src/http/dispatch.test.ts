import { afterAll, describe, expect, test } from "bun:test";
import { flushLog, setLogLevel } from "../log.ts";
import { Runtime } from "../node/runtime.ts";
import { Dispatcher, hundredths, newRequestId } from "./dispatch.ts";
import { REMEMBERED_PATHS_MAX, REQUEST_BODY_BYTES_MAX } from "./limits.ts";
import { MemoryRouteSource } from "./memory-source.ts";
import { REQUEST_ID_HEADER } from "./response.ts";
import { RouteTable } from "./route-table.ts";
import { TenantSelector } from "./tenant.ts";

const rt = new Runtime({ supHome: null });
afterAll(() => rt.close());

function setup(): { src: MemoryRouteSource; d: Dispatcher } {
  const src = new MemoryRouteSource();
  src.put("GET /users/:id", `[ #(load "http" "json") (http/json 200 (json/object "id" (http/param "id"))) ]`);
  src.put("POST /echo", `[ #(load "http") (http/body) ]`);
  src.put("GET /boom", `[ (nope) ]`);
  src.put("GET /five", `[ 5 ]`);
  src.put("GET /spin", `[ (do [ 1 ]) ]`, { meta: { budgetSteps: 1e9, budgetMs: 50 } });
  src.put("GET /x", `"acme x"`, { tenant: "acme" });
  const d = new Dispatcher({ routes: new RouteTable(src), host: rt.host, tenants: new TenantSelector({ byPath: true }) });
  return { src, d };
}

const get = (d: Dispatcher, path: string, init?: RequestInit) => d.handle(new Request(`http://127.0.0.1${path}`, init), "127.0.0.1");

/** Runs `fn` with every log line captured (at debug level) and returns them. */
async function captureLogs(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const write = process.stderr.write;
  setLogLevel("debug");
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
    // Info lines are buffered until the end of the event-loop turn.
    flushLog();
  } finally {
    process.stderr.write = write;
    setLogLevel("warn");
  }
  return lines;
}

describe("Dispatcher", () => {
  test("a route with a param answers JSON, without a request id (a success; its id is in the log)", async () => {
    const { d } = setup();
    const r = await get(d, "/users/42");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get(REQUEST_ID_HEADER)).toBeNull();
    expect(await r.json()).toEqual({ id: "42" });
  });

  test("no route is 404", async () => {
    const { d } = setup();
    const r = await get(d, "/nothing");
    expect(r.status).toBe(404);
    expect(await r.text()).toBe(`Not Found (request ${r.headers.get(REQUEST_ID_HEADER)})\n`);
    expect((await get(d, "/users/1", { method: "DELETE" })).status).toBe(404);
  });

  test("HEAD is served by the GET route", async () => {
    const { d } = setup();
    expect((await get(d, "/users/1", { method: "HEAD" })).status).toBe(200);
  });

  test("tenants are selected by path prefix", async () => {
    const { d } = setup();
    expect(await (await get(d, "/t/acme/x")).text()).toBe("acme x");
    expect((await get(d, "/x")).status).toBe(404);
  });

  test(`a body of ${REQUEST_BODY_BYTES_MAX} bytes reaches the handler; one more byte is 413`, async () => {
    const { d } = setup();
    const ok = await get(d, "/echo", { method: "POST", body: "a".repeat(REQUEST_BODY_BYTES_MAX) });
    expect(ok.status).toBe(200);
    expect((await ok.text()).length).toBe(REQUEST_BODY_BYTES_MAX);
    const big = await get(d, "/echo", { method: "POST", body: "a".repeat(REQUEST_BODY_BYTES_MAX + 1) });
    expect(big.status).toBe(413);
    expect(big.headers.get(REQUEST_ID_HEADER)).not.toBeNull();
  });

  test("an exception is 500 with a request id, and the log line names it", async () => {
    const { d } = setup();
    let r: Response | undefined;
    const logs = await captureLogs(async () => {
      r = await get(d, "/boom");
    });
    const id = r!.headers.get(REQUEST_ID_HEADER)!;
    expect(r!.status).toBe(500);
    expect(await r!.text()).toBe(`Internal Server Error (request ${id})\n`);
    const failure = logs.find((l) => l.startsWith("error handler failed"));
    expect(failure).toContain(`id=${id}`);
    expect(failure).toContain('exception="Unknown callable symbol: nope"');
    expect(failure).toContain('at="default:GET /boom:1:3"');
    const access = logs.find((l) => l.startsWith("info request"));
    expect(access).toContain(`id=${id} method=GET path=/boom tenant=default route="GET /boom" version=1 status=500 ms=`);
  });

  test("a value that is not a response is 500", async () => {
    const { d } = setup();
    expect((await get(d, "/five")).status).toBe(500);
  });

  test("a runaway handler is 503 while a concurrent request still succeeds", async () => {
    const { d } = setup();
    const t0 = performance.now();
    const [spin, user] = await Promise.all([get(d, "/spin"), get(d, "/users/7")]);
    expect(spin.status).toBe(503);
    expect(user.status).toBe(200);
    expect(await user.json()).toEqual({ id: "7" });
    expect(performance.now() - t0).toBeLessThan(2_000);
    const metrics = d.metrics.render([]);
    expect(metrics).toContain('sup_http_budget_exhausted_total{tenant="default",route="GET /spin",kind="time"} 1');
  });

  test("a request in flight finishes on the version it started with", async () => {
    const { src, d } = setup();
    src.put("POST /v", `"one"`);
    let finish!: () => void;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1]));
        finish = () => c.close();
      },
    });
    const inFlight = d.handle(new Request("http://127.0.0.1/v", { method: "POST", body }), "");
    // The route is resolved before the body is read; new code is written while the body arrives.
    await Promise.resolve();
    expect(d.inFlight).toBe(1);
    src.put("POST /v", `"two"`);
    expect(await (await get(d, "/v", { method: "POST" })).text()).toBe("two");
    finish();
    expect(await (await inFlight).text()).toBe("one");
    await d.idle();
    expect(d.inFlight).toBe(0);
  });

  test("metrics count requests by route and status", async () => {
    const { d } = setup();
    await get(d, "/users/1");
    await get(d, "/users/2");
    await get(d, "/boom");
    await get(d, "/nothing");
    const text = d.metrics.render([{ tenant: "default", name: "GET /users/:id", version: 3 }]);
    expect(text).toContain('sup_http_requests_total{tenant="default",route="GET /users/:id",status="200"} 2');
    expect(text).toContain('sup_http_requests_total{tenant="default",route="GET /boom",status="500"} 1');
    expect(text).toContain('sup_http_requests_total{tenant="default",route="(none)",status="404"} 1');
    expect(text).toContain('sup_http_handler_errors_total{tenant="default",route="GET /boom",kind="exception"} 1');
    expect(text).toContain('sup_http_request_duration_seconds_count{tenant="default",route="GET /users/:id"} 2');
    expect(text).toContain('sup_http_route_version{tenant="default",route="GET /users/:id"} 3');
  });
});

describe("request ids", () => {
  test("are the process prefix and a base-36 counter, in order", () => {
    const first = newRequestId();
    const [prefix, count] = first.split("-") as [string, string];
    expect(prefix).toMatch(/^[0-9a-f]{8}$/);
    const start = parseInt(count, 36);
    for (let i = 1; i <= 5_000; i++) expect(newRequestId()).toBe(`${prefix}-${(start + i).toString(36)}`);
  });
});

describe("access line durations", () => {
  test("hundredths are written as the rounded number would be", () => {
    const rows: [number, string][] = [[0, "0"], [0.004, "0"], [0.005, "0.01"], [0.1, "0.1"], [0.995, "1"], [1.1, "1.1"], [12.34, "12.34"], [99.999, "100"], [1234.5678, "1234.57"]];
    for (const [ms, text] of rows) expect(hundredths(ms)).toBe(text);
    for (let i = 0; i < 10_000; i++) {
      const ms = (i * 7.123) % 250;
      expect(hundredths(ms)).toBe(`${Math.round(ms * 100) / 100}`);
    }
  });
});

/** A request whose URL must not be read: Bun builds a server request's URL on first read. */
function urlUnread(url: string): Request {
  const req = new Request(url);
  Object.defineProperty(req, "url", {
    get() {
      throw new Error("the URL was read");
    },
  });
  return req;
}

describe("static paths (handleStatic)", () => {
  test("a GET of a fixed route is answered without reading the URL, with the same answer, log line and metrics as handle", async () => {
    const { src, d } = setup();
    src.put("GET /hello", `[ #(load "http" "json") (http/json 200 (json/object "hello" "world")) ]`);
    let r!: Response;
    let slow!: Response;
    const logs = await captureLogs(async () => {
      r = await d.handleStatic(urlUnread("http://127.0.0.1/hello"), "/hello");
      slow = await d.handle(new Request("http://127.0.0.1/hello"));
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(await r.text()).toBe(await slow.text());
    expect(d.stats.withoutUrl).toBe(1);
    // Lines buffered together come out in one write.
    const lines = logs.join("").split(/(?<=\n)/).filter((l) => l.startsWith("info request"));
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^info request id=[0-9a-f]{8}-[0-9a-z]+ method=GET path=\/hello tenant=default route="GET \/hello" version=1 status=200 ms=\d+(\.\d\d?)?\n$/);
    expect(d.metrics.render([])).toContain('sup_http_requests_total{tenant="default",route="GET /hello",status="200"} 2');
  });

  test("the query is read from the URL only when the handler reads $request", async () => {
    const { src, d } = setup();
    src.put("GET /q", `[ #(load "http") (http/text 200 (http/query "a")) ]`);
    const r = await d.handleStatic(new Request("http://127.0.0.1/q?a=%C3%A9t%C3%A9"), "/q");
    expect(await r.text()).toBe("été");
    expect(d.stats.withoutUrl).toBe(1);
  });

  test("tenant prefixes, errors with request ids, other methods and paths that are not fixed answer as handle does", async () => {
    const { src, d } = setup();
    src.put("GET /split", `"a"`, { meta: { split: [{ version: 1, weight: 100 }] } });
    const cases: [string, string, RequestInit?][] = [
      ["/t/acme/x", "/t/acme/x"],
      ["/boom", "/boom"],
      ["/five", "/five"],
      ["/users/9", "/users/9"],
      ["/split", "/split"],
      ["/nothing", "/nothing"],
      ["/echo", "/echo", { method: "POST", body: "hi" }],
      ["/users/9", "/users/9", { method: "HEAD" }],
    ];
    for (const [url, path, init] of cases) {
      const fast = await d.handleStatic(new Request(`http://127.0.0.1${url}`, init), path);
      const slow = await d.handle(new Request(`http://127.0.0.1${url}`, init));
      expect([url, fast.status, (await fast.text()).replace(/request [0-9a-z-]+/, "request ID")]).toEqual([url, slow.status, (await slow.text()).replace(/request [0-9a-z-]+/, "request ID")]);
      expect(fast.headers.get(REQUEST_ID_HEADER) === null).toBe(slow.headers.get(REQUEST_ID_HEADER) === null);
    }
    // Only the fixed GETs went without the URL: /t/acme/x, /boom and /five.
    expect(d.stats.withoutUrl).toBe(3);
  });

  test("every code change is followed at once", async () => {
    const { src, d } = setup();
    src.put("GET /v", `"one"`);
    expect(await (await d.handleStatic(urlUnread("http://127.0.0.1/v"), "/v")).text()).toBe("one");
    src.put("GET /v", `"two"`);
    expect(await (await d.handleStatic(urlUnread("http://127.0.0.1/v"), "/v")).text()).toBe("two");
    src.remove("GET /v");
    expect((await d.handleStatic(new Request("http://127.0.0.1/v"), "/v")).status).toBe(404);
  });

  test(`at most ${REMEMBERED_PATHS_MAX} paths are remembered; one more starts the set again`, async () => {
    const { d } = setup();
    for (let i = 0; i < REMEMBERED_PATHS_MAX; i++) d.handleStatic(new Request(`http://127.0.0.1/none/${i}`), `/none/${i}`);
    expect(d.rememberedPaths).toBe(REMEMBERED_PATHS_MAX);
    expect((await d.handleStatic(new Request("http://127.0.0.1/none/last"), "/none/last")).status).toBe(404);
    expect(d.rememberedPaths).toBe(1);
  });
});
