/**
 * A real `sup start` node in production use: weighted and sticky splits, tenants that cannot reach
 * each other's code or kv data, code written by SLP itself through the `code` kernel, request ids
 * in logs, metrics, body and code limits, and the http kernel unloaded and loaded again.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { NodeSandbox, type NodeProcess } from "./support/node-process.ts";

const box = new NodeSandbox();
const data = box.dataDir();
let node: NodeProcess;
const cli = (...args: string[]) => box.cli(data, args);
const text = (name: string, body: string) => box.file(name, `[ #(load "http") (http/text 200 "${body}") ]`);
const put = (name: string, file: string, ...extra: string[]) => {
  const r = cli("code", "put", name, file, ...extra);
  if (r.code !== 0) throw new Error(`put ${name} failed: ${r.err}`);
  return r.out;
};

beforeAll(async () => {
  node = await box.start(data);
});
afterAll(() => box.cleanup());

describe("splits between versions", () => {
  test("a 90/10 split serves the versions in proportion over 1,000 requests", async () => {
    put("GET /ab", text("a.sxs", "a"));
    put("GET /ab", text("b.sxs", "b"));
    const s = cli("code", "split", "GET /ab", "1=90,2=10");
    expect(s.code).toBe(0);
    expect(s.out).toContain("version 3");
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 1000; i += 50) {
      const bodies = await Promise.all(Array.from({ length: 50 }, () => fetch(`${node.url}/ab`).then((r) => r.text())));
      for (const b of bodies) counts[b as "a" | "b"]++;
    }
    expect(counts.a + counts.b).toBe(1000);
    // Binomial(1000, 0.1): sd 9.5, so 60..140 is over four standard deviations either way.
    expect(counts.b).toBeGreaterThan(60);
    expect(counts.b).toBeLessThan(140);
  });

  test("a sticky split keeps each client on one version", async () => {
    expect(cli("code", "split", "GET /ab", "1=50,2=50", "--sticky", "--sticky-key", "header:x-user").code).toBe(0);
    const seen = new Map<string, Set<string>>();
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 40 }, async (_, u) => {
          const body = await (await fetch(`${node.url}/ab`, { headers: { "x-user": `user-${u}` } })).text();
          const s = seen.get(`user-${u}`) ?? new Set<string>();
          s.add(body);
          seen.set(`user-${u}`, s);
        }),
      );
    }
    for (const versions of seen.values()) expect(versions.size).toBe(1);
    const all = new Set([...seen.values()].flatMap((s) => [...s]));
    expect(all).toEqual(new Set(["a", "b"]));
  });

  test("turning the split off serves the current version only; bad splits are refused", async () => {
    expect(cli("code", "split", "GET /ab", "off").code).toBe(0);
    const bodies = await Promise.all(Array.from({ length: 20 }, () => fetch(`${node.url}/ab`).then((r) => r.text())));
    expect(new Set(bodies).size).toBe(1);
    const bad = cli("code", "split", "GET /ab", "1=50,9=50");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("no version 9");
    expect(cli("code", "split", "GET /ab", "1=x").code).toBe(2);
  });
});

describe("tenants", () => {
  const kvWrite = (value: string) => box.file(`kvw-${value}.sxs`, `[ #(load "http" "kv") (kv/open-disk secrets "../..") (kv/set secrets:k "${value}") (http/text 200 "ok") ]`);
  const kvRead = box.file("kvr.sxs", `[ #(load "http" "kv") (kv/open-disk secrets "/") (http/respond 200 (kv/get secrets:k)) ]`);

  test("each tenant has its own routes, selected by the /t/<tenant>/ prefix", async () => {
    put("GET /who", text("acme.sxs", "acme"), "--tenant", "acme");
    put("GET /who", text("evil.sxs", "evil"), "--tenant", "evil");
    expect(await (await fetch(`${node.url}/t/acme/who`)).text()).toBe("acme");
    expect(await (await fetch(`${node.url}/t/evil/who`)).text()).toBe("evil");
    expect((await fetch(`${node.url}/who`)).status).toBe(404);
    expect(cli("code", "ls", "--tenant", "evil").out).not.toContain("acme");
  });

  test("kv data is per tenant, kept in the node's database whatever path the code names", async () => {
    put("POST /w", kvWrite("acme-secret"), "--tenant", "acme");
    put("GET /r", kvRead, "--tenant", "acme");
    put("GET /r", kvRead, "--tenant", "evil");
    expect((await fetch(`${node.url}/t/acme/w`, { method: "POST" })).status).toBe(200);
    expect(await (await fetch(`${node.url}/t/acme/r`)).text()).toBe("acme-secret");
    // The other tenant opens a store of the same name: it is a different store, and empty.
    const evil = await fetch(`${node.url}/t/evil/r`);
    expect(evil.status).toBe(500);
    expect(await evil.text()).not.toContain("acme-secret");
    put("POST /w", kvWrite("evil-value"), "--tenant", "evil");
    await fetch(`${node.url}/t/evil/w`, { method: "POST" });
    expect(await (await fetch(`${node.url}/t/evil/r`)).text()).toBe("evil-value");
    expect(await (await fetch(`${node.url}/t/acme/r`)).text()).toBe("acme-secret");
    // No store directory appeared anywhere the paths pointed.
    expect(readdirSync(box.dir).some((f) => f === "secrets")).toBe(false);
    expect(existsSync("/secrets")).toBe(false);
  });

  test("code written through the code kernel stays in the writer's tenant", async () => {
    put("POST /deploy", box.file("deploy.sxs", `[ #(load "http" "code") (http/respond 200 (code/put "GET /who" (http/body))) ]`), "--tenant", "evil");
    const r = await fetch(`${node.url}/t/evil/deploy`, { method: "POST", body: '[ #(load "http") (http/text 200 "hijacked") ]' });
    expect(r.status).toBe(200);
    expect(await (await fetch(`${node.url}/t/evil/who`)).text()).toBe("hijacked");
    expect(await (await fetch(`${node.url}/t/acme/who`)).text()).toBe("acme");
    expect(cli("code", "history", "GET /who", "--tenant", "evil").out).toContain("slp");
  });

  test("a tenant's code cannot load kernels outside the node's set", () => {
    const r = cli("code", "put", "GET /files", box.file("fs.sxs", '[ #(load "http" "fs") (http/text 200 "x") ]'), "--tenant", "evil");
    expect(r.code).toBe(1);
    expect(r.err).toContain("fs");
    expect(cli("code", "ls", "--tenant", "evil").out).not.toContain("/files");
  });
});

describe("code from SLP", () => {
  test("a handler rewrites a route; the next request runs it; invalid code is refused and nothing stored", async () => {
    put("POST /deploy", box.file("deploy2.sxs", `[ #(load "http" "code") (http/respond 200 (code/put "GET /gen" (http/body))) ]`));
    const ok = await fetch(`${node.url}/deploy`, { method: "POST", body: '[ #(load "http") (http/text 200 "generated") ]' });
    expect(await ok.text()).toBe("1");
    expect(await (await fetch(`${node.url}/gen`)).text()).toBe("generated");
    const bad = await fetch(`${node.url}/deploy`, { method: "POST", body: "[ (http/text 200 " });
    expect(bad.status).toBe(500);
    expect(cli("code", "history", "GET /gen").out.trim().split("\n")).toHaveLength(1);
  });
});

describe("jobs from SLP", () => {
  test("code/put-meta stores a job with its interval, and it runs", async () => {
    put("POST /make-job", box.file("make-job.sxs", `[ #(load "http" "code") (http/respond 200 (code/put-meta "job:made" (http/body) (http/header "x-meta"))) ]`));
    const r = await fetch(`${node.url}/make-job`, { method: "POST", headers: { "x-meta": '{"intervalMs": 100}' }, body: "[ 42 ]" });
    expect(await r.text()).toBe("1");
    const bad = await fetch(`${node.url}/make-job`, { method: "POST", headers: { "x-meta": "[1]" }, body: "[ 42 ]" });
    expect(bad.status).toBe(500);
    const deadline = Date.now() + 10_000;
    let show = "";
    while (Date.now() < deadline && !/42/.test(show.split("\n").slice(1).join("\n"))) {
      await Bun.sleep(100);
      show = cli("code", "show", "job:made").out;
    }
    expect(show).toContain("every 100ms");
    expect(show).toMatch(/ok\s+42/);
    expect(cli("status").out).toContain("jobs 1 scheduled");
  });
});

describe("errors, limits and observability", () => {
  test("a handler exception is a 500 whose request id is in the log", async () => {
    put("GET /boom", box.file("boom.sxs", '[ #(load "http") (assert 0 "kaput") ]'));
    const r = await fetch(`${node.url}/boom`);
    expect(r.status).toBe(500);
    const id = r.headers.get("x-request-id");
    expect(id).toBeTruthy();
    expect(await r.text()).toContain(id!);
    await Bun.sleep(50);
    const line = node.stderr().split("\n").find((l) => l.includes(`id=${id}`) && l.startsWith("error"));
    expect(line).toContain("kaput");
  });

  test("oversized bodies get 413 and oversized code is refused", async () => {
    put("POST /echo", box.file("echo.sxs", '[ #(load "http") (http/text 200 (http/body)) ]'));
    expect((await fetch(`${node.url}/echo`, { method: "POST", body: "x".repeat(2 * 1024 * 1024) })).status).toBe(413);
    expect(await (await fetch(`${node.url}/echo`, { method: "POST", body: "small" })).text()).toBe("small");
    const big = cli("code", "put", "GET /big", box.file("big.sxs", `[ #(load "http") (http/text 200 "${"y".repeat(300 * 1024)}") ]`));
    expect(big.code).toBe(1);
    expect(big.err).toMatch(/big|limit|bytes/i);
  });

  test("metrics count requests by route and status and show each route's version", async () => {
    const m = await (await fetch(`${node.url}/_sup/metrics`)).text();
    expect(m).toMatch(/sup_http_requests_total\{tenant="default",route="GET \/ab",status="200"\} \d+/);
    expect(m).toMatch(/sup_http_requests_total\{tenant="default",route="GET \/boom",status="500"\} 1/);
    expect(m).toContain("sup_http_request_duration_seconds_bucket");
    expect(m).toMatch(/sup_http_route_version\{tenant="default",route="GET \/ab"\} 5/);
  });

  test("unloading the http kernel stops serving; loading it again resumes", async () => {
    expect(cli("kernels", "unload", "http").code).toBe(0);
    expect(await fetch(`${node.url}/gen`).then(() => "served", () => "refused")).toBe("refused");
    expect(cli("kernels", "load", "http").code).toBe(0);
    expect(cli("status").out).toContain("http 127.0.0.1:");
  });
});

describe("admin access", () => {
  test("the data directory and the admin socket are the owner's only", () => {
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(statSync(`${data}/admin.sock`).mode & 0o777).toBe(0o600);
  });
});

describe("bad input never takes the node down", () => {
  const sock = () => `${data}/admin.sock`;
  const adminRaw = (path: string, init: RequestInit = {}) => fetch(`http://localhost${path}`, { ...init, unix: sock() } as RequestInit);

  test("malformed admin requests get clear 4xx errors", async () => {
    const cases: [string, RequestInit, number, string][] = [
      ["/code/put", { method: "POST", body: "{not json" }, 400, "not valid JSON"],
      ["/code/put", { method: "POST", body: "[1,2]" }, 400, "JSON object"],
      ["/code/put", { method: "POST", body: JSON.stringify({ name: 7, source: "[]" }) }, 400, '"name"'],
      ["/code/put", { method: "POST", body: JSON.stringify({ name: "GET /x" }) }, 400, '"source"'],
      ["/code/put", { method: "POST", body: JSON.stringify({ name: "NOPE /x", source: "[]" }) }, 400, "NOPE"],
      ["/code/put", { method: "POST", body: JSON.stringify({ name: "GET /x", source: "[]", meta: [1] }) }, 400, '"meta"'],
      ["/code/show?name=GET%20%2Fnothing", {}, 404, "No code named"],
      ["/code/show?name=GET%20%2Fab&version=-3", {}, 400, "positive integer"],
      ["/code/rollback", { method: "POST", body: JSON.stringify({ name: "GET /nothing" }) }, 404, ""],
      ["/kernels/load", { method: "POST", body: JSON.stringify({ name: "no-such-kernel" }) }, 400, "no-such-kernel"],
      ["/no/such/endpoint", {}, 404, "No admin endpoint"],
    ];
    for (const [path, init, status, says] of cases) {
      const r = await adminRaw(path, init);
      const body = (await r.json()) as { error?: { message: string } };
      expect({ path, status: r.status }).toEqual({ path, status });
      expect(body.error?.message ?? "").toContain(says);
    }
    expect((await fetch(`${node.url}/ab`)).status).toBe(200);
  });

  test("garbage on the admin socket and the HTTP port is survived", async () => {
    for (const target of [{ unix: sock() }, { hostname: "127.0.0.1", port: Number(new URL(node.url).port) }]) {
      const s = await Bun.connect({ ...target, socket: { data() {}, error() {} } } as Parameters<typeof Bun.connect>[0]);
      s.write("\x00\xff GARBAGE \r\n\r\n POST / HTTP/9.9\r\nContent-Length: -5\r\n\r\n");
      s.end();
    }
    await Bun.sleep(100);
    expect((await fetch(`${node.url}/ab`)).status).toBe(200);
    expect(box.cli(data, ["status"]).code).toBe(0);
  });
});

describe("modules", () => {
  test("routes import their tenant's mod: code, and nothing else", async () => {
    put("mod:greet", box.file("greet.sxs", '[ (export hello (fn (who :str) :str [ who ])) ]'), "--tenant", "acme");
    put("GET /greet", box.file("use-greet.sxs", '[ #(load "http") #(import g "mod:greet") (http/text 200 (g/hello "from a module")) ]'), "--tenant", "acme");
    expect(await (await fetch(`${node.url}/t/acme/greet`)).text()).toBe("from a module");
    // Another tenant cannot import it, nor any file.
    const other = cli("code", "put", "GET /greet", box.file("steal.sxs", '[ #(load "http") #(import g "mod:greet") (http/text 200 (g/hello "x")) ]'), "--tenant", "evil");
    expect(other.code).toBe(1);
    expect(other.err).toContain("mod:greet");
    const file = cli("code", "put", "GET /file", box.file("file-import.sxs", `[ #(load "http") #(import g "${box.file("lib.sxs", "[ (export x 1) ]")}") (http/text 200 "x") ]`));
    expect(file.code).toBe(1);
  });
});
