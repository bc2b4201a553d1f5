/**
 * `sup version`: sup's version, the Bun it runs on, the git commit it was built from, the target
 * and the standard kernels it carries.
 */
import { readdirSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { STANDARD_KERNEL_DIR } from "../kernel/mod.ts";
import { EXIT_OK } from "./args.ts";

/** The commit of the checkout sup runs from, or "unknown". */
function gitCommit(): string {
  const root = join(STANDARD_KERNEL_DIR, "..");
  try {
    const head = readFileSync(join(root, ".git", "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head.slice(0, 12);
    const ref = head.slice(5);
    const refFile = join(root, ".git", ref);
    if (existsSync(refFile)) return readFileSync(refFile, "utf8").trim().slice(0, 12);
    const packed = readFileSync(join(root, ".git", "packed-refs"), "utf8");
    const line = packed.split("\n").find((l) => l.endsWith(" " + ref));
    return line ? line.slice(0, 12) : "unknown";
  } catch {
    return "unknown";
  }
}

/** Runs the `version` subcommand. */
export function versionCommand(): number {
  const kernels = existsSync(STANDARD_KERNEL_DIR)
    ? readdirSync(STANDARD_KERNEL_DIR).filter((d) => existsSync(join(STANDARD_KERNEL_DIR, d, "kernel.sxs"))).sort()
    : [];
  const lines = [
    `sup ${pkg.version}`,
    `bun ${Bun.version}`,
    `commit ${gitCommit()}`,
    `target ${process.platform}-${process.arch}`,
    `kernels ${kernels.join(" ")}`,
  ];
  process.stdout.write(lines.join("\n") + "\n");
  return EXIT_OK;
}
