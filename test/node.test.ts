/**
 * A real `sup start` process driven over HTTP and the CLI: the welcome route, put / call / update /
 * rollback, rejected code, a runaway handler, kernel set and code surviving a restart, and a clean
 * SIGTERM. Every process listens on 127.0.0.1 port 0 and is killed at the end.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SUP = join(import.meta.dir, "..", "bin", "sup");
const work = mkdtempSync(join(tmpdir(), "sup-node-"));
const data = join(work, "data");
const procs: Bun.Subprocess[] = [];

afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

/** Starts a node and resolves with its base URL once it says it is running. */
async function startNode(extra: string[] = []): Promise<{ proc: Bun.Subprocess<"ignore", "pipe", "pipe">; url: string; stderr: () => string }> {
  const proc = Bun.spawn([SUP, "start", "--data", data, "--http", "127.0.0.1:0", ...extra], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  procs.push(proc);
  let err = "";
  const reader = proc.stderr.getReader();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const m = /http:\/\/([\d.]+:\d+)\//.exec(err);
    if (m !== null) {
      // Keep draining stderr so the node never blocks on a full pipe.
      void (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          err += new TextDecoder().decode(value);
        }
      })();
      return { proc, url: `http://${m[1]}`, stderr: () => err };
    }
    const { done, value } = await reader.read();
    if (done) break;
    err += new TextDecoder().decode(value);
  }
  throw new Error(`node did not start:\n${err}`);
}

function cli(args: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([SUP, ...args, "--data", data], { stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

function program(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

const hello = (greeting: string) => `[ #(load "http")
  (http/text 200 (cast :str (forge/concat (cast :list-c "${greeting} ") (cast :list-c (http/param "name"))))) ]`.replace('#(load "http")', '#(load "http" "forge")');

describe("sup start", () => {
  let url = "";
  let proc: Bun.Subprocess | null = null;

  test("serves the welcome route, which is code in the store", async () => {
    const n = await startNode();
    url = n.url;
    proc = n.proc;
    const r = await fetch(`${url}/`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain("Welcome to sup");
    const show = cli(["code", "show", "GET /"]);
    expect(show.code).toBe(0);
    expect(show.out).toContain("Welcome to sup");
    const health = await fetch(`${url}/_sup/health`);
    expect(health.status).toBe(200);
  });

  test("put, call, update, call again, rollback", async () => {
    expect(cli(["code", "put", "GET /hello/:name", program("v1.sxs", hello("hello"))]).code).toBe(0);
    expect(await (await fetch(`${url}/hello/bob`)).text()).toBe("hello bob");
    const put2 = cli(["code", "put", "GET /hello/:name", program("v2.sxs", hello("howdy"))]);
    expect(put2.out).toContain("version 2");
    expect(await (await fetch(`${url}/hello/ann`)).text()).toBe("howdy ann");
    const rb = cli(["code", "rollback", "GET /hello/:name"]);
    expect(rb.code).toBe(0);
    expect(rb.out).toContain("version 3");
    expect(await (await fetch(`${url}/hello/cy`)).text()).toBe("hello cy");
    const hist = cli(["code", "history", "GET /hello/:name"]);
    expect(hist.out.trim().split("\n")).toHaveLength(3);
    expect(cli(["code", "show", "GET /hello/:name", "--version", "2"]).out).toContain("howdy");
  });

  test("invalid code is rejected with diagnostics and nothing is stored", async () => {
    const before = cli(["code", "ls"]).out;
    const bad = cli(["code", "put", "GET /bad", program("bad.sxs", "[ (http/text 200 ")]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("Cannot store code \"GET /bad\"");
    expect(bad.err).toContain("Unclosed");
    const badType = cli(["code", "put", "GET /bad", program("bad2.sxs", '[ #(load "http") (def f (fn (n :int) :int [ "s" ])) ]')]);
    expect(badType.code).toBe(1);
    expect(badType.err).toContain("declared return type is 9");
    expect(cli(["code", "ls"]).out).toBe(before);
    expect((await fetch(`${url}/bad`)).status).toBe(404);
  });

  test("a handler that loops forever gets a 503 and the node keeps serving", async () => {
    expect(cli(["code", "put", "GET /spin", program("spin.sxs", '[ #(load "http") (do [ 1 ]) ]')]).code).toBe(0);
    const spin = fetch(`${url}/spin`);
    const other = await fetch(`${url}/hello/dee`);
    expect(other.status).toBe(200);
    expect((await spin).status).toBe(503);
    expect((await fetch(`${url}/hello/eve`)).status).toBe(200);
  });

  test("status and kernels describe the node", () => {
    const s = cli(["status"]);
    expect(s.code).toBe(0);
    expect(s.out).toContain("kernels");
    expect(cli(["kernels", "ls"]).out).toContain("http");
  });

  test("SIGTERM stops the node cleanly; a restart brings back the same code and kernels", async () => {
    proc!.kill("SIGTERM");
    expect(await proc!.exited).toBe(0);
    const n = await startNode(["--kernels", "io"]);
    expect(await (await fetch(`${n.url}/hello/fay`)).text()).toBe("hello fay");
    expect(cli(["kernels", "ls"]).out).toContain("forge");
    n.proc.kill("SIGTERM");
    expect(await n.proc.exited).toBe(0);
  });

  test("admin commands without a running node say so", () => {
    const r = Bun.spawnSync([SUP, "code", "ls", "--data", join(work, "nothing")], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toContain("No node is running");
  });
});
