/**
 * `bun run bench`: runs the SLP benchmark programs of ../shared/bench/slp through the sup CLI,
 * checks their output, and prints per program the median wall time, peak memory and the speed-up
 * over the original C++ interpreter's recorded medians. Then times fib in-process against the same
 * algorithm written in JavaScript, in this same Bun process.
 *
 * Options: --runs N (default 5), --sup PATH (default bin/sup; dist/sup to bench the binary),
 * --only a,b (program names).
 *
 * `--only http` runs the HTTP benchmark instead (bench/http.ts: a stored SLP route against a bare
 * Elysia route under wrk, and live code replacement under load). It takes about a minute and needs
 * wrk, so only naming it runs it; `bun bench/http.ts --help` lists its own options.
 *
 * `--only membership` runs bench/membership.ts: the membership core at 1,000 simulated nodes and 1%
 * loss (join and death dissemination, messages per node per second, wall time of the simulation).
 * `--only backchannel` runs bench/backchannel.ts: the encrypted backchannel against raw Bun TCP with
 * the same framing (throughput at 64 B / 1 KiB / 64 KiB, 64 B round trips, handshake time, memory
 * per idle connection).
 *
 * `--only startup` runs bench/startup.ts: the compiled binary's start-up next to bare Bun, its size
 * and an idle node's memory (`--sup` names the binary; default dist/sup, built when missing).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ProgramHost } from "../src/node/program-host.ts";
import { read, runProgram } from "../src/lang/mod.ts";
import { backchannelBench } from "./backchannel.ts";
import { httpBench } from "./http.ts";
import { membershipBench } from "./membership.ts";
import { startupBench } from "./startup.ts";

const ROOT = resolve(import.meta.dir, "..");
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
const BENCH_DIR = process.env.SLP_BENCH_DIR ?? resolve(ROOT, "..", "shared", "bench", "slp");

/** The original interpreter's medians (seconds, MiB) from the benchmark folder's README. */
const ORIGINAL: Record<string, { s: number; mib: number }> = {
  empty: { s: 0.002, mib: 4.6 },
  hello: { s: 0.003, mib: 4.8 },
  fib: { s: 2.51, mib: 6.8 },
  loop: { s: 2.85, mib: 5.0 },
  calls: { s: 2.98, mib: 5.1 },
  strbuild: { s: 4.01, mib: 69.3 },
  listbuild: { s: 2.53, mib: 30.2 },
  kv_mem: { s: 4.42, mib: 16.0 },
  kv_disk: { s: 4.97, mib: 16.3 },
  parse_big: { s: 3.0, mib: 563.7 },
};

/** Writes the deterministic parse_big program (the same bytes as the folder's generator). */
function writeParseBig(path: string, rows = 50_000): void {
  const out: string[] = ["[\n", '  #(load "alu" "io" "forge")\n', "  (def table '(\n"];
  for (let i = 0; i < rows; i++) {
    out.push(`    (row${i} ${i} ${i}.25 "text number ${i}" [${i} ${i + 1} ${i + 2}] {${i % 7} ${i % 11}})\n`);
  }
  const mid = Math.floor(rows / 2);
  out.push("  ))\n", '  (io/put "rows=%d\\n" (forge/count table))\n');
  out.push(`  (def middle (cast :list-p (at ${mid} table)))\n`, `  (def final (cast :list-p (at ${rows - 1} table)))\n`);
  out.push('  (io/put "fields=%d\\n" (forge/count middle))\n', `  (io/put "row${mid} id=%d text=%s\\n" (at 1 middle) (at 3 middle))\n`);
  out.push('  (io/put "last id=%d\\n" (at 1 final))\n', "]\n");
  writeFileSync(path, out.join(""));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string" }, sup: { type: "string" }, only: { type: "string" } } });
  const runs = Number(values.runs ?? 5);
  const sup = resolve(values.sup ?? join(ROOT, "bin", "sup"));
  const only = values.only?.split(",");
  const programs = Object.keys(ORIGINAL).filter((name) => only === undefined || only.includes(name));
  let failures = 0;
  if (programs.length > 0 || only === undefined || only.includes("fib-js")) failures += slpBenchmarks(programs, runs, sup, only);
  if (only?.includes("http")) failures += await httpBench();
  if (only?.includes("startup")) failures += await startupBench({ sup: values.sup !== undefined ? sup : undefined });
  if (only?.includes("membership")) failures += membershipBench();
  if (only?.includes("backchannel")) failures += await backchannelBench();
  if (failures > 0) process.exit(1);
}

/** The SLP programs against the original's medians (and fib against JavaScript); returns the failures. */
function slpBenchmarks(programs: readonly string[], runs: number, sup: string, only: readonly string[] | undefined): number {
  const work = mkdtempSync(join(tmpdir(), "sup-bench-"));
  writeParseBig(join(work, "parse_big.sxs"));
  console.log(`sup benchmark: ${sup}, median of ${runs} runs, original = C++ sxs medians from ${BENCH_DIR}/README.md\n`);
  console.log("program      wall ms   peak MiB   original s  orig MiB   speed-up   output");
  let failures = 0;
  try {
    for (const name of programs) {
      const prog = name === "parse_big" ? join(work, "parse_big.sxs") : join(BENCH_DIR, `${name}.sxs`);
      const expected = readFileSync(join(BENCH_DIR, `${name}.expected`), "latin1");
      const times: number[] = [];
      const rss: number[] = [];
      let ok = true;
      for (let r = 0; r < runs; r++) {
        rmSync(join(work, "slp-bench-kv-disk"), { recursive: true, force: true });
        const rssFile = join(work, "rss");
        // GNU time reports the peak of the measured process itself; Bun's resourceUsage is the
        // fallback where it is not installed.
        const cmd = TIME !== null ? [TIME, "-f", "%M", "-o", rssFile, sup, "run", prog] : [sup, "run", prog];
        const t0 = performance.now();
        const p = Bun.spawnSync(cmd, { cwd: work, stdout: "pipe", stderr: "pipe" });
        times.push(performance.now() - t0);
        rss.push(TIME !== null ? Number(readFileSync(rssFile, "utf8").trim()) / 1024 : p.resourceUsage.maxRSS / (1024 * 1024));
        if (p.exitCode !== 0 || p.stdout.toString("latin1") !== expected) {
          ok = false;
          if (r === 0) console.error(`${name}: exit ${p.exitCode}\n${p.stderr.toString()}\n${p.stdout.toString()}`);
        }
      }
      if (!ok) failures++;
      const ms = median(times);
      const orig = ORIGINAL[name]!;
      const speedup = (orig.s * 1000) / ms;
      console.log(
        `${name.padEnd(12)} ${ms.toFixed(1).padStart(8)} ${median(rss).toFixed(1).padStart(10)} ${orig.s.toFixed(3).padStart(12)} ${orig.mib.toFixed(1).padStart(9)} ${speedup.toFixed(1).padStart(9)}x   ${ok ? "ok" : "MISMATCH"}`,
      );
    }
    if (only === undefined || only.includes("fib-js")) fibVersusJs(runs);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return failures;
}

/** The benchmark's algorithm, written directly in JavaScript. */
function fibJs(n: number): number {
  return n === 0 ? 0 : n === 1 ? 1 : fibJs(n - 1) + fibJs(n - 2);
}

/** Times fib.sxs (evaluation only, kernels loaded) against fibJs(23) in this process. */
function fibVersusJs(runs: number): void {
  const path = join(BENCH_DIR, "fib.sxs");
  const text = readFileSync(path, "latin1");
  const program = read(text).value!;
  const slp: number[] = [];
  const js: number[] = [];
  let out = "";
  for (let r = 0; r < runs; r++) {
    const host = new ProgramHost({ workingDir: BENCH_DIR, includePaths: [], write: (s) => (out += s) });
    host.loadKernel("alu");
    host.loadKernel("io");
    const t0 = performance.now();
    const outcome = runProgram(program, { path, text }, host);
    slp.push(performance.now() - t0);
    host.close();
    if (!outcome.ok) throw new Error(`fib.sxs failed: ${outcome.exception.message}`);
    const t1 = performance.now();
    const v = fibJs(23);
    js.push(performance.now() - t1);
    if (v !== 28657) throw new Error("fibJs is wrong");
  }
  const s = median(slp);
  const j = median(js);
  console.log(`\nfib(23) in-process: SLP ${s.toFixed(2)} ms, JavaScript ${j.toFixed(3)} ms, ratio ${(s / j).toFixed(1)}x (target <= 20x)`);
}

void main();
