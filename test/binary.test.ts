/**
 * The compiled binary on its own (issue 5): built by scripts/build, copied outside the checkout and
 * run in a sandbox with no Bun, no node_modules and no C compiler (test/support/binary.ts; where
 * the tests may make mount namespaces, the checkout and the C headers are hidden from it too). It
 * must run every conformance program, check programs, start a node that serves its welcome route,
 * and run a project whose kernels were built beforehand; embedded libraries go to a private cache
 * under SUP_HOME, and an unwritable or full cache fails with a message naming SUP_HOME.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Glob } from "bun";
import { templateOutput } from "../src/project/mod.ts";
import {
  BinarySandbox,
  BUILD_TIMEOUT_MS,
  builtBinary,
  CAN_DROP_PRIVILEGES,
  CAN_HIDE,
  FORBIDDEN_TOOLS,
  HIDDEN_DIRS,
  NOBODY_UID,
  releaseBinaries,
  ROOT,
} from "./support/binary.ts";
import { startedNode } from "./support/node-process.ts";
import { envOf, execForm, FINAL_STAGE, healthcheckCommand, only } from "./support/dockerfile.ts";
import { conformanceHeader } from "./support/conformance-header.ts";

const CONFORMANCE = join(ROOT, "test", "conformance");
const NATIVE_KERNELS = ["alu", "forge", "random"];

// Built in the background while the prebuilt binary's tests run; awaited by its own describe.
const sourcesBinary = builtBinary("sources");
sourcesBinary.catch(() => {});

let box: BinarySandbox;
beforeAll(async () => {
  box = new BinarySandbox(await builtBinary());
}, BUILD_TIMEOUT_MS);
afterAll(async () => {
  box?.cleanup();
  await releaseBinaries();
});

/** Library files left directly in the shared temp folder (where Bun would extract an embedded dlopen). */
function tempLibraries(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.endsWith(".so") || f.includes(".so."));
}

function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

describe("the sandbox", () => {
  test("offers no Bun and no compiler, and runs the binary from outside the checkout", () => {
    for (const t of FORBIDDEN_TOOLS) expect(Bun.which(t, { PATH: box.bin })).toBeNull();
    expect(relative(ROOT, box.sup).startsWith("..")).toBe(true);
    if (CAN_HIDE) {
      // Through the same wrapper the binary gets, a shell sees the checkout and the C headers empty.
      const probe = Bun.spawnSync(box.argv({ args: [] }).map((a) => (a === box.sup ? "/bin/ls" : a)).concat(HIDDEN_DIRS), { env: box.env(), stdout: "pipe" });
      expect(probe.stdout.toString().trim().split("\n").filter((l) => l !== "" && !l.endsWith(":"))).toEqual([]);
    }
  });
});

describe("sup version", () => {
  test("names the version, Bun, the build's commit, the target and the embedded kernels", () => {
    const r = box.run({ args: ["version"] });
    expect(r.code).toBe(0);
    const head = Bun.spawnSync(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], { stdout: "pipe" }).stdout.toString().trim();
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const lines = r.out.trimEnd().split("\n");
    expect(lines[0]).toBe(`sup ${pkg.version}`);
    expect(lines[1]).toBe(`bun ${Bun.version}`);
    expect(lines[2]).toMatch(head === "" ? /^commit \S+$/ : new RegExp(`^commit ${head}(\\+dirty)?$`));
    expect(lines[3]).toBe(`target ${process.platform}-${process.arch}-glibc`);
    expect(lines[4]).toBe("kernels alu cluster code forge fs http io json kv random");
    expect(lines[5]).toMatch(new RegExp(`^native ${NATIVE_KERNELS.join(" ")} \\(prebuilt for ${process.platform}-${process.arch}-glibc by .+\\)$`));
    expect(lines[6]).toBe(`from binary ${box.sup}`);
  });
});

describe("conformance programs through the binary", () => {
  test("every program prints what it expects, native kernels from the embedded libraries", () => {
    const dir = join(box.dir, "conformance");
    cpSync(CONFORMANCE, dir, { recursive: true });
    const before = tempLibraries();
    const failures: string[] = [];
    let count = 0;
    for (const rel of [...new Glob("**/*.sxs").scanSync(dir)].sort()) {
      const path = join(dir, rel);
      const expectedPath = path.replace(/\.sxs$/, ".expected");
      if (!existsSync(expectedPath)) continue; // helper modules imported by other programs
      count++;
      const src = readFileSync(path, "latin1");
      const want = conformanceHeader(src);
      const work = join(box.dir, "conf-work");
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work);
      const r = box.run({ args: ["run", path, "-w", work, "-i", join(path, ".."), ...want.args], cwd: work });
      const expected = readFileSync(expectedPath, "latin1");
      const stderrOk = want.stderr.every((s) => r.err.includes(s));
      if (r.out !== expected || r.code !== want.exit || !stderrOk) failures.push(`${rel}: exit ${r.code}\n${r.err}`);
    }
    expect(count).toBeGreaterThan(50);
    expect(failures).toEqual([]);
    // The native programs above loaded the embedded libraries: extracted privately, never into /tmp.
    const embedded = join(box.supHome, "cache", "embedded");
    expect(statSync(embedded).mode & 0o777).toBe(0o700);
    const libs = readdirSync(embedded, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".so"));
    expect(libs.map((f) => f.split("/").pop()).sort()).toEqual(NATIVE_KERNELS.map((k) => `libkernel_${k}.so`));
    for (const f of libs) expect(statSync(join(embedded, f)).mode & 0o777).toBe(0o600);
    expect(tempLibraries()).toEqual(before);
    // Nothing was compiled: no native build cache appeared.
    expect(existsSync(join(box.supHome, "cache", "kernels"))).toBe(false);
  });

  test("a tampered extracted library is replaced by the embedded one before it is loaded", () => {
    const prog = join(box.work, "alu.sxs");
    writeFileSync(prog, '[ #(load "alu") (debug (alu/mul 6 7)) ]\n');
    const embedded = join(box.supHome, "cache", "embedded");
    const lib = readdirSync(embedded, { recursive: true, encoding: "utf8" }).find((f) => f.endsWith("libkernel_alu.so"))!;
    const good = sha256(join(embedded, lib));
    writeFileSync(join(embedded, lib), "not a library");
    const r = box.run({ args: ["run", prog] });
    expect(r).toMatchObject({ code: 0, out: "[DEBUG] 42\n" });
    expect(sha256(join(embedded, lib))).toBe(good);
  });
});

describe("sup check", () => {
  test("accepts a good program and reports a bad one with file:line:col", () => {
    const good = join(box.work, "good.sxs");
    const bad = join(box.work, "bad.sxs");
    writeFileSync(good, '[ #(load "io" "alu") (io/put "%d\\n" (alu/add 1 2)) ]\n');
    writeFileSync(bad, '[ #(load "alu")\n  (alu/add "one" 2) ]\n');
    expect(box.run({ args: ["check", good] })).toMatchObject({ code: 0, out: `${good}: ok\n` });
    const r = box.run({ args: ["check", bad] });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${bad}:2:`);
  });
});

describe("a node started from the binary", () => {
  test("serves the welcome route, answers `sup health` and `sup status`, and stops on SIGTERM", async () => {
    const data = join(box.dir, "node-data");
    const proc = box.spawn({ args: ["start", "--http", "127.0.0.1:0", "--data", data] });
    const node = await startedNode(proc);
    const res = await fetch(`${node.url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Welcome to sup");
    const health = box.run({ args: ["health", node.url] });
    expect(health.code).toBe(0);
    expect(JSON.parse(health.out)).toMatchObject({ status: "ok" });
    const status = box.run({ args: ["status", "--data", data] });
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/^kernels .*alu@1.*http@1/m);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const down = box.run({ args: ["health", node.url] });
    expect(down.code).toBe(1);
    expect(down.err).toContain(`Cannot reach "${node.url}/_sup/health"`);
  });
});

describe("a cluster from the binary alone", () => {
  test("sup identity makes a root and two identities; a second node joins the first with sup --identity F --join H:P; exec and cluster/exec work", async () => {
    const at = (f: string) => join(box.dir, f);
    const root = box.run({ args: ["identity", "root", "--out", at("root.key")] });
    expect(root.code).toBe(0);
    for (const n of ["a", "b"]) expect(box.run({ args: ["identity", "issue", n, "--root", at("root.key"), "--out", at(`${n}.key`), ...(n === "a" ? ["--can", "admin"] : [])] }).code).toBe(0);
    const a = box.spawn({ args: ["start", "--http", "127.0.0.1:0", "--data", at("a-data"), "--identity", at("a.key"), "--listen", "127.0.0.1:0", "--kernels", "http,alu,cluster"] });
    await startedNode(a);
    const status = box.run({ args: ["status", "--data", at("a-data")] });
    expect(status.out).toContain(`cluster ${root.out.trim()}`);
    const bc = /^backchannel (127\.0\.0\.1:\d+)/m.exec(status.out)![1]!;
    const b = box.spawn({ args: ["--identity", at("b.key"), "--join", bc, "--http", "127.0.0.1:0", "--data", at("b-data"), "--listen", "127.0.0.1:0"] });
    await startedNode(b);
    const deadline = Date.now() + 20_000;
    let nodes = "";
    while (Date.now() < deadline && !/^b\s+alive/m.test(nodes)) {
      nodes = box.run({ args: ["nodes", "--data", at("a-data")] }).out;
      await Bun.sleep(50);
    }
    expect(nodes).toMatch(/^b\s+alive/m);
    // sup exec, and (cluster/exec …), whose exec worker is an entry point of its own in the binary.
    const exec = box.run({ args: ["exec", "--on", "all", "-e", '[#(load "alu") (alu/add 40 2)]', "--data", at("a-data")] });
    expect(exec.out).toMatch(/^b\s+ok\s+[\d.]+ ms\s+42$/m);
    const kernel = box.run({ args: ["exec", "--on", "node:a", "-e", '[#(load "cluster") (cluster/exec "all" "7")]', "--data", at("a-data")] });
    expect(kernel.out).toContain('{("a" 7) ("b" 7)}');
    a.kill("SIGTERM");
    b.kill("SIGTERM");
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  });
});

describe("a project built beforehand", () => {
  test("`sup project run` uses the kernels another compiler built, with no compiler of its own", () => {
    const bin = join(ROOT, "bin", "sup");
    const env = { ...(process.env as Record<string, string>), SUP_HOME: box.supHome };
    expect(Bun.spawnSync([bin, "project", "new", "demo", box.dir], { env, stdout: "pipe" }).exitCode).toBe(0);
    const project = join(box.dir, "demo");
    const built = Bun.spawnSync([bin, "project", "build", project], { env, stdout: "pipe", stderr: "pipe" });
    expect(built.stdout.toString()).toContain("kernel demo: built");
    expect(box.run({ args: ["project", "run", project] })).toEqual({ code: 0, out: templateOutput("demo"), err: "" });
    expect(box.run({ args: ["project", "build", project] }).out).toMatch(/^kernel demo: cached \(\.sup-cache\/kernels\/demo-[0-9a-f]{16}\/libkernel_demo\.so\)$/m);
    // Sources changed after the build: nothing can be reused, and (headers hidden) nothing can compile.
    const source = join(project, "kernels", "demo", "demo.c");
    writeFileSync(source, readFileSync(source, "latin1") + "\n/* edited */\n");
    const stale = box.run({ args: ["project", "run", project] });
    if (CAN_HIDE) {
      expect(stale.code).toBe(1);
      expect(stale.err).toContain('Cannot build kernel "demo"');
    }
  });
});

describe("an unusable cache directory", () => {
  const prog = () => {
    const p = join(box.work, "native.sxs");
    writeFileSync(p, '[ #(load "alu") (debug (alu/add 1 2)) ]\n');
    return p;
  };

  test.skipIf(!CAN_DROP_PRIVILEGES && process.getuid?.() === 0)("read-only: the error names the directory and SUP_HOME", () => {
    const ro = join(box.dir, "ro-home");
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const r = box.run({ args: ["run", prog()], env: { SUP_HOME: ro }, asNobody: CAN_DROP_PRIVILEGES });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain(`Cannot create the directory "${join(ro, "cache", "embedded")}" for the binary's embedded files: EACCES`);
    expect(r.err).toContain(`set SUP_HOME to a private directory you can write (now "${ro}")`);
    if (CAN_DROP_PRIVILEGES) expect(NOBODY_UID).not.toBe(process.getuid?.());
  });

  test("full (file size limit): the error names the directory and SUP_HOME, nothing half-written is left", () => {
    const full = join(box.dir, "full-home");
    // `trap '' XFSZ` makes the write fail with EFBIG instead of killing the process, as a full disk would.
    const r = box.run({ args: ["run", prog()], env: { SUP_HOME: full }, prelude: "trap '' XFSZ; ulimit -f 4" });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/Cannot extract "kernels\/alu\/libkernel_alu\.so" from the sup binary into "[^"]+": EFBIG/);
    expect(r.err).toContain(`set SUP_HOME to a private directory you can write (now "${full}")`);
    const left = readdirSync(join(full, "cache", "embedded"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".so") || f.endsWith(".tmp"));
    expect(left).toEqual([]);
  });

  test("a symbolic link in place of the private folder is refused", () => {
    const home = join(box.dir, "link-home");
    mkdirSync(join(home, "cache"), { recursive: true });
    mkdirSync(join(box.dir, "elsewhere"));
    symlinkSync(join(box.dir, "elsewhere"), join(home, "cache", "embedded"));
    const r = box.run({ args: ["run", prog()], env: { SUP_HOME: home } });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`Cannot use "${join(home, "cache", "embedded")}" for embedded files: it is not a directory`);
    expect(readdirSync(join(box.dir, "elsewhere"))).toEqual([]);
  });
});

describe("as the container image runs it", () => {
  test("the Dockerfile's ENTRYPOINT + CMD start a node as an unprivileged user, and its HEALTHCHECK passes", async () => {
    // /data of the image is a folder of the sandbox; the HTTP port is any free one on 127.0.0.1.
    const data = join(box.dir, "image-data");
    const mapped = (v: string) => v.replace(/^\/data(?=\/|$)/, data);
    mkdirSync(data, { mode: 0o700 });
    if (CAN_DROP_PRIVILEGES) chownSync(data, NOBODY_UID, NOBODY_UID);
    const env = Object.fromEntries(Object.entries(envOf(FINAL_STAGE)).map(([k, v]) => [k, mapped(v)]));
    const [entry, ...args] = [...execForm(only(FINAL_STAGE, "ENTRYPOINT")), ...execForm(only(FINAL_STAGE, "CMD"))];
    expect(entry).toBe("sup");
    args[args.indexOf("--http") + 1] = "127.0.0.1:0";
    const proc = box.spawn({ args, env, cwd: mapped(only(FINAL_STAGE, "WORKDIR")), asNobody: CAN_DROP_PRIVILEGES });
    const node = await startedNode(proc);
    expect(node.stderr()).toContain(`data ${data}`);
    const [hcEntry, ...hcArgs] = healthcheckCommand(only(FINAL_STAGE, "HEALTHCHECK"));
    expect(hcEntry).toBe("sup");
    const check = box.run({ args: hcArgs.map((a) => a.replace("http://127.0.0.1:8080", node.url)), env, cwd: data, asNobody: CAN_DROP_PRIVILEGES });
    expect(check.code).toBe(0);
    expect((await fetch(`${node.url}/`)).status).toBe(200);
    // The private cache went into the volume, owned by the node's user.
    const embedded = join(env.SUP_HOME!, "cache", "embedded");
    expect(statSync(embedded).uid).toBe(CAN_DROP_PRIVILEGES ? NOBODY_UID : process.getuid!());
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  });
});

describe("a binary that embeds the C kernels as sources", () => {
  let src: BinarySandbox;
  beforeAll(async () => {
    src = new BinarySandbox(await sourcesBinary);
  }, BUILD_TIMEOUT_MS);
  afterAll(() => src?.cleanup());

  const program = "[ #(load \"alu\" \"forge\" \"random\") (debug (alu/add 40 2) (forge/count '(1 2 3)) (random/int_range 5 5)) ]\n";
  const expected = "[DEBUG] 42 3 5\n";

  test("says so in `sup version`", () => {
    expect(src.run({ args: ["version"] }).out).toContain("\nnative alu forge random (embedded sources, compiled on first use)\n");
  });

  test("compiles them on first use with the system compiler and caches them", () => {
    const prog = join(src.work, "all.sxs");
    writeFileSync(prog, program);
    const withCompiler = { PATH: `${src.bin}:/usr/bin:/bin` };
    const first = src.run({ args: ["run", prog], env: withCompiler, allowCompiler: true });
    expect(first).toMatchObject({ code: 0, out: expected });
    const cache = join(src.supHome, "cache", "kernels");
    const libs = readdirSync(cache, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".so"));
    expect(libs.map((f) => f.split("/").pop()).sort()).toEqual(NATIVE_KERNELS.map((k) => `libkernel_${k}.so`));
    const mtimes = libs.map((f) => statSync(join(cache, f)).mtimeMs);
    expect(src.run({ args: ["run", prog], env: withCompiler, allowCompiler: true })).toMatchObject({ code: 0, out: expected });
    expect(libs.map((f) => statSync(join(cache, f)).mtimeMs)).toEqual(mtimes);
    // The sources went to the private cache, extracted from the binary.
    const embedded = readdirSync(join(src.supHome, "cache", "embedded"), { recursive: true, encoding: "utf8" });
    for (const k of NATIVE_KERNELS) expect(embedded.some((f) => f.endsWith(`/${k}/${k}.c`))).toBe(true);
    // Later, without a compiler (and, where hidden, without C headers), the cached builds still serve.
    expect(src.run({ args: ["run", prog] })).toMatchObject({ code: 0, out: expected });
  });
});
