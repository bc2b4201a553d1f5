/**
 * `sup version`: sup's version, the Bun it runs on, the git commit it was built from, the target,
 * the standard kernels it carries (which are native and whether they are prebuilt), and where it
 * runs from. A compiled binary reports what its build baked in (embedded.ts), having no checkout.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { BUILD_INFO, type BuildInfo } from "../kernel/embedded.ts";
import { STANDARD_KERNEL_DIR } from "../kernel/mod.ts";
import { EXIT_OK, noArguments } from "./args.ts";
import { writeOut } from "./output.ts";

/**
 * The git directories of a checkout: where HEAD is, and where refs are. In a linked worktree `.git`
 * is a file naming the worktree's own directory, whose `commondir` names the shared one.
 */
function gitDirs(root: string): { head: string; common: string } {
  const dotGit = join(root, ".git");
  if (!statSync(dotGit).isFile()) return { head: dotGit, common: dotGit };
  const head = resolve(root, readFileSync(dotGit, "utf8").replace(/^gitdir:\s*/, "").trim());
  const commonFile = join(head, "commondir");
  return { head, common: existsSync(commonFile) ? resolve(head, readFileSync(commonFile, "utf8").trim()) : head };
}

/** The commit of the checkout sup runs from, or "unknown". */
function gitCommit(): string {
  try {
    const dirs = gitDirs(join(STANDARD_KERNEL_DIR, ".."));
    const head = readFileSync(join(dirs.head, "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head.slice(0, 12);
    const ref = head.slice(5);
    const refFile = join(dirs.common, ref);
    if (existsSync(refFile)) return readFileSync(refFile, "utf8").trim().slice(0, 12);
    const packed = readFileSync(join(dirs.common, "packed-refs"), "utf8");
    const line = packed.split("\n").find((l) => l.endsWith(" " + ref));
    return line ? line.slice(0, 12) : "unknown";
  } catch {
    return "unknown";
  }
}

/** The standard kernels of a checkout and which of them are native (their library is not `.ts`). */
function checkoutKernels(): { all: string[]; native: string[] } {
  if (!existsSync(STANDARD_KERNEL_DIR)) return { all: [], native: [] };
  const all = readdirSync(STANDARD_KERNEL_DIR)
    .filter((d) => existsSync(join(STANDARD_KERNEL_DIR, d, "kernel.sxs")))
    .sort();
  // The manifest's library string decides the kind, as the registry does; a regex spares the parser.
  const native = all.filter((d) => !/define-kernel\s+\S+\s+"[^"]*\.ts"/.test(readFileSync(join(STANDARD_KERNEL_DIR, d, "kernel.sxs"), "latin1")));
  return { all, native };
}

/** The `native` line of a binary: prebuilt libraries first, then kernels compiled on first use. */
function nativeLine(info: BuildInfo): string {
  const natives = info.kernels.filter((k) => k.kind === "native");
  const prebuilt = natives.filter((k) => k.library !== null).map((k) => k.name);
  const sources = natives.filter((k) => k.library === null).map((k) => k.name);
  const parts: string[] = [];
  if (prebuilt.length > 0) parts.push(`${prebuilt.join(" ")} (prebuilt for ${info.target}${info.compiler !== null ? ` by ${info.compiler}` : ""})`);
  if (sources.length > 0) parts.push(`${sources.join(" ")} (embedded sources, compiled on first use)`);
  return `native ${parts.join("; ")}`;
}

/** Runs the `version` subcommand. */
export function versionCommand(argv: string[] = []): number {
  noArguments(argv, "version");
  let lines: string[];
  if (BUILD_INFO !== null) {
    lines = [
      `sup ${BUILD_INFO.version}`,
      `bun ${Bun.version}`,
      `commit ${BUILD_INFO.commit}`,
      `target ${BUILD_INFO.target}`,
      `kernels ${BUILD_INFO.kernels.map((k) => k.name).join(" ")}`,
      nativeLine(BUILD_INFO),
      `from binary ${process.execPath}`,
    ];
  } else {
    const kernels = checkoutKernels();
    lines = [
      `sup ${pkg.version}`,
      `bun ${Bun.version}`,
      `commit ${gitCommit()}`,
      `target ${process.platform}-${process.arch}`,
      `kernels ${kernels.all.join(" ")}`,
      `native ${kernels.native.join(" ")} (compiled on first use)`,
      `from source ${join(STANDARD_KERNEL_DIR, "..")}`,
    ];
  }
  writeOut(lines.join("\n") + "\n");
  return EXIT_OK;
}
