/**
 * The sup CLI as a user drives it: exit codes, usage errors, `check`, `version`, `help` and the REPL.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SUP = join(import.meta.dir, "..", "bin", "sup");
const work = mkdtempSync(join(tmpdir(), "sup-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sup(args: string[], stdin?: string, env: Record<string, string> = {}) {
  const r = Bun.spawnSync([SUP, ...args], { cwd: work, stdin: stdin === undefined ? "ignore" : Buffer.from(stdin), stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

function file(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

describe("exit codes", () => {
  test("no command prints usage on stderr and exits 2", () => {
    const r = sup([]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("Usage: sup <command>");
  });
  test("unknown command exits 2 and names it", () => {
    const r = sup(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Unknown command "frobnicate"');
  });
  test("a command named like an Object property is unknown, not a crash", () => {
    const r = sup(["constructor"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('Unknown command "constructor"');
  });
  test("run without a file is a usage error", () => {
    const r = sup(["run"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("Missing program file");
  });
  test("unknown option is a usage error naming it", () => {
    const r = sup(["run", "x.sxs", "--frob"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--frob");
  });
  test("bad budget value is a usage error", () => {
    const r = sup(["run", file("ok.sxs", "[]"), "--max-steps", "lots"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--max-steps");
  });
  test("missing program file exits 1 and names the file", () => {
    const r = sup(["run", "nope.sxs"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('Cannot read program "nope.sxs"');
  });
  test("success exits 0 with program output on stdout only", () => {
    const r = sup(["run", file("hi.sxs", '[ (debug "hi") ]')]);
    expect(r).toEqual({ code: 0, out: '[DEBUG] "hi"\n', err: "" });
  });
  test("uncaught exception exits 1 with the message and position on stderr", () => {
    const r = sup(["run", file("boom.sxs", '[\n  (assert 0 "boom")\n]')]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("Exception during execution: boom");
    expect(r.err).toContain("boom.sxs:2:3");
  });
});

describe("parse and check diagnostics", () => {
  test("every syntax error of a file is reported with file:line:col", () => {
    const p = file("syntax.sxs", "[ (a ]\n  (b 1e999) \"open\n");
    const r = sup(["run", p]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${p}:1:6: Mismatched closing ']': expected ')' to close the list opened at line 1, column 3`);
    const q = file("syntax2.sxs", "[ (a 1e999)\n  (b 9223372036854775808) \"open\n");
    const r2 = sup(["run", q]);
    expect(r2.err).toContain(`${q}:1:6: stod`);
    expect(r2.err).toContain(`${q}:2:6: stoll`);
    expect(r2.err).toContain(`${q}:2:27: Unclosed string`);
  });
  test("check reports type errors with their position and runs nothing", () => {
    const p = file("typed.sxs", '[\n  (debug "side effect")\n  (def f (fn (n :int) :int [ "s" ]))\n]');
    const r = sup(["check", p]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toContain("fn: body returns type 5, but declared return type is 9");
    expect(r.err).toMatch(/typed\.sxs:3:\d+:/);
    const run = sup(["run", p]);
    expect(run.code).toBe(1);
    expect(run.out).toBe("");
  });
  test("--no-check runs a program the checker rejects", () => {
    const p = file("unchecked.sxs", '[ (debug "ran") (def f (fn (n :int) :int [ "s" ])) ]');
    expect(sup(["run", p]).code).toBe(1);
    const r = sup(["run", p, "--no-check"]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('[DEBUG] "ran"\n');
  });
  test("check of a good program says ok", () => {
    const r = sup(["check", file("good.sxs", "[ (debug 1) ]")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("ok");
  });
  test("trailing text after the first object is ignored with a warning", () => {
    const r = sup(["run", file("trail.sxs", "[ (debug 1) ] (debug 2)")]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("[DEBUG] 1\n");
    expect(r.err).toContain("ignored");
  });
});

describe("budget", () => {
  test("a runaway loop is stopped by --max-ms", () => {
    const r = sup(["run", file("spin.sxs", "[ (do [ 1 ]) ]"), "--max-ms", "200"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("time budget of 200 ms exhausted");
  });
  test("recover cannot swallow a budget stop", () => {
    const r = sup(["run", file("swallow.sxs", '[ (recover [ (do [ 1 ]) ] [ (debug "caught") ]) ]'), "--max-steps", "500"]);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
  });
  test("runaway recursion stops cleanly", () => {
    const p = file("deep.sxs", "[ (def f (fn () :int [ 0 ])) (def g (fn () :int [ (def f (fn () :int [ (f) ])) (f) ])) (g) ]");
    const r = sup(["run", p]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("calls nest deeper than");
  });
});

describe("version and help", () => {
  test("version names sup, bun, commit, target and the standard kernels", () => {
    const r = sup(["version"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^sup \d+\.\d+\.\d+\nbun 1\.4\.5\ncommit [0-9a-f]{7,}\ntarget linux-x64\nkernels .*alu.*fs.*io.*kv/s);
  });
  test("help lists the commands", () => {
    const r = sup(["help"]);
    expect(r.code).toBe(0);
    for (const c of ["run", "check", "repl", "version"]) expect(r.out).toContain(c);
  });
});

describe("execution tiers", () => {
  const loop = `[ (def sq (fn (x :int) :int [ (eq x x) ])) (debug (do [ (sq $iterations) (if (eq $iterations 50) (done $iterations) ()) ])) ]`;
  test("SUP_TIER=closure|js|auto run a program alike; SUP_LOG=debug shows what was compiled and the count", () => {
    const prog = file("tiers.sxs", loop);
    const closure = sup(["run", prog], undefined, { SUP_TIER: "closure", SUP_LOG: "debug" });
    expect(closure.out).toBe("[DEBUG] 50\n");
    expect(closure.err).toContain("debug tier mode=closure compiledUnits=0");
    const js = sup(["run", prog], undefined, { SUP_TIER: "js", SUP_LOG: "debug" });
    expect(js.out).toBe("[DEBUG] 50\n");
    expect(js.err).toMatch(/debug tier: compiled program unit at .*tiers\.sxs@0 after 1 runs/);
    // The program and the lambda body; the loop is part of the program's function.
    expect(js.err).toContain("debug tier mode=js compiledUnits=2");
    const auto = sup(["run", prog], undefined, { SUP_LOG: "debug" });
    expect(auto.out).toBe("[DEBUG] 50\n");
    expect(auto.err).toMatch(/debug tier: compiled lambda unit at .* after 20 runs/);
    expect(auto.err).toContain("debug tier mode=auto compiledUnits=2");
  });
  test("an unknown SUP_TIER is a usage error that names the choices", () => {
    const r = sup(["run", file("t.sxs", "[]")], undefined, { SUP_TIER: "fast" });
    expect(r.code).toBe(2);
    expect(r.err).toContain('Unknown SUP_TIER "fast": expected auto, closure, js');
  });
});

describe("repl", () => {
  test("evaluates input, waits for balanced lists, shows values, survives errors", () => {
    const input = ['#(load "io")', "(def x", "  41)", "(eq x 41)", "(undefined-call)", '(io/put "n=%d\\n" x)', "x", ":quit"].join("\n") + "\n";
    const r = sup(["repl"], input);
    expect(r.code).toBe(0);
    expect(r.out).toBe("=> 1\nn=41\n=> 5\n=> 41\n");
    expect(r.err).toContain("Unknown callable symbol: undefined-call");
  });
  test("kernels can be loaded after other input", () => {
    const r = sup(["repl"], '(debug 1)\n#(load "io")\n(io/put "ok\\n")\n');
    expect(r.out).toBe("[DEBUG] 1\nok\n=> 3\n");
  });
});
