/**
 * `sup identity` through the real CLI: a root, the short issue path, the request flow (the node's
 * secret stays in its key file), `show` in text and JSON, and the failures a user can hit: usage,
 * an existing file, a secret file others can read, a truncated or altered file.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SUP } from "./support/node-process.ts";

const dir = mkdtempSync(join(tmpdir(), "sup-identity-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => join(dir, f);

function sup(...args: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([SUP, "identity", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe("sup identity", () => {
  let clusterId = "";

  test("root prints the cluster id and writes an owner-only root key", () => {
    const r = sup("root", "--out", at("root.key"));
    expect(r.code).toBe(0);
    clusterId = r.out.trim();
    expect(clusterId).toMatch(/^[0-9a-f]{4}(-[0-9a-f]{4}){3}$/);
    expect(statSync(at("root.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(at("root.key"), "utf8")).toContain(`cluster ${clusterId}`);
  });

  test("issue writes an identity; show prints it without the secret and says it verifies", () => {
    const r = sup("issue", "web-1", "--root", at("root.key"), "--out", at("web-1.key"), "--role", "web", "--label", "region=eu", "--can", "code", "--days", "30");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`node "web-1", cluster ${clusterId}, roles web, labels region=eu, can code`);
    const show = sup("show", at("web-1.key"));
    expect(show.code).toBe(0);
    expect(show.out).toMatch(/^name\s+web-1$/m);
    expect(show.out).toMatch(/^roles\s+web$/m);
    expect(show.out).toContain(`verifies    yes: signed by the root of cluster ${clusterId}; valid until`);
    const secret = /^secret-key (.*)$/m.exec(readFileSync(at("web-1.key"), "utf8"))![1]!;
    expect(show.out).not.toContain(secret);
    const json = JSON.parse(sup("show", at("web-1.key"), "--json").out) as Record<string, unknown>;
    expect(json).toMatchObject({ kind: "identity", name: "web-1", clusterId, roles: ["web"], labels: { region: "eu" }, can: ["code"], verifies: true, validity: "valid" });
    expect(JSON.stringify(json)).not.toContain(secret);
  });

  test("the request flow: request, sign on the root machine, accept on the node", () => {
    const req = sup("request", "web-2", "--out", at("web-2.req"));
    expect(req.code).toBe(0);
    const keyText = readFileSync(at("web-2.key"), "utf8");
    const secret = /^secret-key (.*)$/m.exec(keyText)![1]!;
    expect(readFileSync(at("web-2.req"), "utf8")).not.toContain(secret);
    expect(sup("show", at("web-2.req")).out).toContain("verifies    yes: the proof is signed by the requested key");
    const sign = sup("sign", at("web-2.req"), "--root", at("root.key"), "--out", at("web-2.cert"), "--role", "web");
    expect(sign.code).toBe(0);
    expect(readFileSync(at("web-2.cert"), "utf8")).not.toContain(secret);
    const accept = sup("accept", at("web-2.cert"), "--key", at("web-2.key"));
    expect(accept.code).toBe(0);
    expect(readFileSync(at("web-2.key"), "utf8")).toContain(`secret-key ${secret}`);
    expect(sup("show", at("web-2.key"), "--json").out).toContain('"verifies": true');
  });

  test("usage errors exit 2; an existing file is never overwritten", () => {
    expect(sup("root").code).toBe(2);
    expect(sup("issue", "--root", at("root.key"), "--out", at("x.key")).err).toContain('"sup identity issue" needs a node NAME');
    expect(sup("frobnicate").code).toBe(2);
    const again = sup("root", "--out", at("root.key"));
    expect(again.code).toBe(1);
    expect(again.err).toContain(`Cannot write "${at("root.key")}": the file exists`);
  });

  test("a secret file that others can read is refused with the chmod that fixes it", () => {
    chmodSync(at("root.key"), 0o644);
    const r = sup("issue", "db-1", "--root", at("root.key"), "--out", at("db-1.key"));
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: Refusing to use "${at("root.key")}": it holds a secret key and group or others can access it (mode 0644): run chmod 600 ${at("root.key")}\n`);
    chmodSync(at("root.key"), 0o600);
  });

  test("a truncated or altered identity names the file and the field; show exits 1 on a bad signature", () => {
    const text = readFileSync(at("web-1.key"), "utf8");
    writeFileSync(at("cut.key"), text.slice(0, text.indexOf("serial")), { mode: 0o600 });
    const cut = sup("show", at("cut.key"));
    expect(cut.code).toBe(1);
    expect(cut.err).toContain(`Cannot read "${at("cut.key")}": field "serial" is missing`);
    writeFileSync(at("altered.key"), text.replace(/^labels .*$/m, "labels region=us"), { mode: 0o600 });
    const altered = sup("show", at("altered.key"));
    expect(altered.code).toBe(1);
    expect(altered.out).toContain('verifies    NO: field "signature" does not verify against root-key');
  });
});
