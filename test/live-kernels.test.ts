/**
 * Live kernels, end to end: a native kernel is rebuilt and swapped in a running Runtime while
 * programs call it in loops; sessions that started on the old version finish on it (even one whose
 * native call is in flight when the swap happens); the REPL drives the same through `:` commands.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile, Interp, read, Session, type Value } from "../src/lang/mod.ts";
import { Runtime, type RunResult } from "../src/node/runtime.ts";

const SUP = join(import.meta.dir, "..", "bin", "sup");
/** Native builds with the system compiler take about a third of a second each. */
const BUILD_TIMEOUT_MS = 60_000;
let work = "";
let cacheDir = "";

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "sup-live-"));
  cacheDir = join(work, "cache");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const LIVE_MANIFEST = `#(define-kernel live "libkernel_live.so" [
    (define-function version () :int)
    (define-function through (x :any) :int :raw)
])
`;

/**
 * The `live` kernel: `version` returns the version compiled in; `through` evaluates its argument
 * (which may reload this very kernel) and then returns the version from this library's code, so a
 * library closed under it would crash the process.
 */
function liveSource(version: number, initStatus = 0): string {
  return `#include "sup_kernel.h"
#include "sup_value.h"
static const sup_api *g_api;
static int64_t live_version(int32_t argc) { (void)argc; return ${version}; }
static const uint8_t *live_through(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[1];
    sv_value r;
    if (argc >= 1 && sv_args(g_api, ctx, args, len, a, 1) == 1 && sv_eval(g_api, ctx, &a[0], &r) != 0) return NULL;
    sv_builder b;
    sv_builder_init(&b);
    sv_put_int(&b, ${version});
    return sv_return(&b, g_api, ctx);
}
int32_t kernel_init(const sup_api *api) {
    g_api = api;
    if (api->register_function(api->host, "version", (sup_fn)live_version, SUP_CALL_SCALAR) != 0) return 2;
    if (api->register_function(api->host, "through", (sup_fn)live_through, SUP_CALL_VALUE) != 0) return 2;
    return ${initStatus};
}
void kernel_shutdown(const sup_api *api) { (void)api; sv_release(); }
`;
}

/** Writes the live kernel (version `v`) into `root/live`. */
function writeLive(root: string, v: number, initStatus = 0): void {
  mkdirSync(join(root, "live"), { recursive: true });
  writeFileSync(join(root, "live", "kernel.sxs"), LIVE_MANIFEST);
  writeFileSync(join(root, "live", "live.c"), liveSource(v, initStatus));
}

/** A TypeScript kernel `ctl` whose `reload` runs the test's hook (a program reloading a kernel mid-run). */
function writeCtl(root: string): void {
  mkdirSync(join(root, "ctl"), { recursive: true });
  writeFileSync(join(root, "ctl", "kernel.sxs"), '#(define-kernel ctl "mod.ts" [ (define-function reload () :int) ])\n');
  writeFileSync(
    join(root, "ctl", "mod.ts"),
    "export default { apiVersion: 1, create: () => ({ functions: { reload: () => ((globalThis as Record<string, unknown>).supLiveTestReload as () => number)() } }) };\n",
  );
}

function newRuntime(root: string, autoload = true): Runtime {
  return new Runtime({ workingDir: root, includePaths: [root], supHome: null, autoload, nativeBuild: { cacheDir } });
}

/** Each run calls the kernel 500 times and fails if the answer changes within the run. */
const LOOP_PROGRAM = `[ #(load "live")
  (def first (live/version))
  (do [ (if (eq $iterations 500) (done 0) ()) (assert (eq (live/version) first) "version changed within a run") ])
  first ]`;

function valueOf(r: RunResult): Value {
  if (!r.ok) throw new Error(`run failed: ${JSON.stringify(r)}`);
  return r.value;
}

/** Evaluates source in an open session's interpreter (as the REPL does). */
function evalIn(it: Interp, src: string): Value {
  it.locked = false;
  return compile(read(src).value!)(it);
}

describe("hot swap in a running runtime", () => {
  test(
    "loop programs never fail, switch to the new version after the swap and never go back",
    () => {
      const root = join(work, "swap");
      writeLive(root, 1);
      const runtime = newRuntime(root);
      try {
        // A REPL-like session started before the swap and still open across it.
        const held = new Session(runtime.host);
        const heldIt = new Interp(held, "<held>");
        evalIn(heldIt, '#(load "live")');
        const results: Value[] = [];
        for (let run = 0; run < 60; run++) {
          if (run === 20) {
            writeLive(root, 2);
            const swap = runtime.reloadKernel("live");
            expect(swap.kernel.version).toBe(2);
          }
          results.push(valueOf(runtime.run({ source: LOOP_PROGRAM, path: "loop.sxs" })));
        }
        expect(results).toEqual([...Array<number>(20).fill(1), ...Array<number>(40).fill(2)]);
        expect(evalIn(heldIt, "(live/version)")).toBe(1);
        expect(runtime.kernels().map((k) => [k.version, k.refs, k.state])).toEqual([
          [1, 1, "retired"],
          [2, 0, "current"],
        ]);
        held.close();
        expect(runtime.kernels().map((k) => [k.version, k.state])).toEqual([[2, "current"]]);
      } finally {
        runtime.close();
      }
    },
    BUILD_TIMEOUT_MS,
  );

  test(
    "a program that reloads a kernel while a call into it is in flight finishes on the old version",
    () => {
      const root = join(work, "inflight");
      writeLive(root, 1);
      writeCtl(root);
      const runtime = newRuntime(root);
      (globalThis as Record<string, unknown>).supLiveTestReload = () => {
        writeLive(root, 2);
        return runtime.reloadKernel("live").kernel.version;
      };
      try {
        const program = `[ #(load "live" "ctl")
          (debug (live/version) (live/through (ctl/reload)) (live/version)) ]`;
        const first = runtime.run({ source: program });
        expect(first).toMatchObject({ ok: true, output: "[DEBUG] 1 1 1\n" });
        expect(runtime.kernels().filter((k) => k.name === "live").map((k) => [k.version, k.state])).toEqual([[2, "current"]]);
        const next = runtime.run({ source: '[ #(load "live") (debug (live/version)) ]' });
        expect(next).toMatchObject({ ok: true, output: "[DEBUG] 2\n" });
      } finally {
        delete (globalThis as Record<string, unknown>).supLiveTestReload;
        runtime.close();
      }
    },
    BUILD_TIMEOUT_MS,
  );

  test(
    "a failed reload keeps the running version; a fixed one then swaps in",
    () => {
      const root = join(work, "failed");
      writeLive(root, 1);
      const runtime = newRuntime(root);
      try {
        runtime.loadKernel("live");
        const before = runtime.kernels();
        writeLive(root, 2, 7);
        expect(() => runtime.reloadKernel("live")).toThrow(/^Cannot reload kernel "live": kernel_init of \S+ failed with status 7$/);
        expect(runtime.kernels()).toEqual(before);
        expect(valueOf(runtime.run({ source: LOOP_PROGRAM }))).toBe(1);
        writeLive(root, 3);
        runtime.reloadKernel("live");
        expect(valueOf(runtime.run({ source: LOOP_PROGRAM }))).toBe(3);
      } finally {
        runtime.close();
      }
    },
    BUILD_TIMEOUT_MS,
  );

  test("a program needing a kernel the runtime does not have gets a catchable error", () => {
    const root = join(work, "missing");
    writeCtl(root);
    const runtime = newRuntime(root, false);
    try {
      const caught = runtime.run({ source: '[ #(recover [ #(load "ctl") ] [ (debug $exception) ]) ]' });
      expect(caught).toMatchObject({ ok: true, output: '[DEBUG] "load: failed to load kernel ctl"\n' });
      const uncaught = runtime.run({ source: '[ #(load "ctl") ]' });
      expect(uncaught.ok).toBe(false);
      if (!uncaught.ok && uncaught.stage === "run") expect(uncaught.exception.message).toBe("load: failed to load kernel ctl");
      runtime.loadKernel("ctl");
      expect(runtime.run({ source: '[ #(load "ctl") ]' }).ok).toBe(true);
    } finally {
      runtime.close();
    }
  });
});

/** A REPL child process driven line by line: `send` writes input, `until` waits for stdout text. */
function startRepl(root: string) {
  const proc = Bun.spawn([SUP, "repl", "-i", root], { cwd: root, env: { ...process.env, SUP_HOME: join(root, "home") }, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  let seen = 0;
  return {
    send(line: string) {
      proc.stdin.write(line + "\n");
      proc.stdin.flush();
    },
    /** Waits until stdout, after what earlier calls consumed, contains `text`; returns that stretch. */
    async until(text: string): Promise<string> {
      while (!out.slice(seen).includes(text)) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`REPL ended before printing ${JSON.stringify(text)}; stdout: ${out}`);
        out += decoder.decode(chunk.value);
      }
      const end = out.indexOf(text, seen) + text.length;
      const stretch = out.slice(seen, end);
      seen = end;
      return stretch;
    },
    async end(): Promise<{ code: number; err: string }> {
      proc.stdin.end();
      const err = await new Response(proc.stderr).text();
      return { code: await proc.exited, err };
    },
  };
}

test(
  "the REPL lists, loads, reloads and unloads kernels; bad commands change nothing",
  async () => {
    const root = join(work, "repl");
    writeLive(root, 1);
    const repl = startRepl(root);
    repl.send(":kernels");
    await repl.until("no kernels loaded\n");
    repl.send(":load live");
    expect(await repl.until("\n")).toMatch(/^loaded "live" version 1 from \S+libkernel_live\.so\n$/);
    repl.send("(live/version)");
    await repl.until("=> 1\n");
    writeLive(root, 2);
    repl.send(":reload live");
    expect(await repl.until("\n")).toMatch(/^reloaded "live": version 2 from \S+ in \d+\.\d\d ms\n$/);
    repl.send("(live/version)");
    await repl.until("=> 2\n");
    writeLive(root, 3, 5);
    repl.send(":reload live");
    repl.send(":load no-such-kernel");
    repl.send("(live/version)");
    await repl.until("=> 2\n");
    repl.send(":kernels");
    expect(await repl.until("current  ")).toMatch(/^name +version +kind +refs +state +origin\nlive +2 +native +1 +current {2}$/);
    await repl.until("\n");
    repl.send(":unload live");
    await repl.until('unloaded "live"\n');
    repl.send("(live/version)");
    repl.send(":kernels");
    await repl.until("no kernels loaded\n");
    repl.send(":quit");
    const { code, err } = await repl.end();
    expect(code).toBe(0);
    expect(err).toMatch(/error: Cannot reload kernel "live": kernel_init of \S+ failed with status 5\n/);
    expect(err).toContain('error: Cannot load kernel "no-such-kernel": Could not resolve kernel: no-such-kernel\n');
    expect(err).toContain("error: Unknown callable symbol: live/version\n");
  },
  BUILD_TIMEOUT_MS,
);
