/**
 * A real `sup start` process driven over HTTP and the CLI: the welcome route, put / call / update /
 * rollback, rejected code, a runaway handler, kernel set and code surviving a restart, and a clean
 * SIGTERM. Every process listens on 127.0.0.1 port 0 and is killed at the end.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { NodeSandbox, SUP } from "./support/node-process.ts";

const box = new NodeSandbox();
const data = box.dataDir();
afterAll(() => box.cleanup());

const startNode = (extra: string[] = []) => box.start(data, extra);
const cli = (args: string[]) => box.cli(data, args);
const program = (name: string, text: string) => box.file(name, text);

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

  test("a second node in the same data directory is refused before it touches anything", async () => {
    const seq = /change seq (\d+)/.exec(cli(["status"]).out)?.[1];
    const r = Bun.spawnSync([SUP, "start", "--data", data, "--http", "127.0.0.1:0", "--kernels", "io"], { stdout: "pipe", stderr: "pipe", timeout: 20_000 });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toContain("Another node is already running");
    expect(r.stderr.toString()).not.toContain("kernel set comes from the store");
    expect(/change seq (\d+)/.exec(cli(["status"]).out)?.[1]).toBe(seq);
    expect((await fetch(`${url}/hello/gus`)).status).toBe(200);
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
    const r = Bun.spawnSync([SUP, "code", "ls", "--data", join(box.dir, "nothing")], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toContain("No node is running");
  });
});
