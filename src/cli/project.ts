/**
 * `sup project new NAME [DIR] | build [DIR] | run [DIR] | clean [DIR]`: creates, builds, runs and
 * cleans projects (src/project). Build progress goes to stderr; `build` prints one status line per
 * kernel on stdout; `run` stays quiet when every kernel is cached, so stdout is the program's.
 * Exit 0 on success, 1 on a failed build, run or missing project, 2 on usage errors (bad name too).
 */
import { join, relative } from "node:path";
import {
  buildProject,
  buildSucceeded,
  cleanProject,
  createProject,
  openProject,
  PROJECT_ENTRY_FILE,
  projectIncludePaths,
  ProjectError,
  TEMPLATE_MODULE,
  type BuildEvent,
  type KernelOutcome,
  type Project,
} from "../project/mod.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, intOption, parse } from "./args.ts";
import { formatBytes } from "./deps.ts";
import { errorLine, writeOut } from "./output.ts";
import { runFile } from "./run-file.ts";

export const PROJECT_USAGE = `Usage: sup project new NAME [DIR]
       sup project build [DIR]
       sup project run [DIR] [--no-check] [--max-steps N] [--max-ms N]
       sup project clean [DIR]`;

type Subcommand = (argv: string[]) => number;

const SUBCOMMANDS: Record<string, Subcommand> = { new: newCommand, build: buildCommand, run: runCommand, clean: cleanCommand };

/** Runs the `project` subcommand. */
export function projectCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  if (sub === undefined) throw new UsageError(`Missing project subcommand: expected new, build, run or clean\n${PROJECT_USAGE}`);
  const command = Object.hasOwn(SUBCOMMANDS, sub) ? SUBCOMMANDS[sub] : undefined;
  if (command === undefined) throw new UsageError(`Unknown project subcommand "${sub}": expected new, build, run or clean\n${PROJECT_USAGE}`);
  return command(rest);
}

/** The optional DIR of build/run/clean. */
function dirArgument(positionals: string[]): string {
  if (positionals.length > 1) throw new UsageError(`Too many arguments: ${positionals.slice(1).join(" ")}\n${PROJECT_USAGE}`);
  return positionals[0] ?? ".";
}

function newCommand(argv: string[]): number {
  const { positionals } = parse(argv, {});
  if (positionals.length === 0) throw new UsageError(`Missing project name\n${PROJECT_USAGE}`);
  if (positionals.length > 2) throw new UsageError(`Too many arguments: ${positionals.slice(2).join(" ")}\n${PROJECT_USAGE}`);
  const [name, parent] = positionals as [string, string | undefined];
  let project: Project;
  try {
    project = createProject(name, parent ?? ".");
  } catch (e) {
    // A bad name is a mistake on the command line, like a bad option.
    if (e instanceof ProjectError && e.code === "project-name") throw new UsageError(`${e.message}\n${PROJECT_USAGE}`);
    throw e;
  }
  const files: [string, string][] = [
    ["init.sxs", "entry point: loads the kernels, imports the module"],
    [`kernels/${name}/kernel.sxs`, "manifest of the project's native kernel"],
    [`kernels/${name}/${name}.c`, "its C source"],
    [`modules/${TEMPLATE_MODULE}/${TEMPLATE_MODULE}.sxs`, "a module"],
    ["README.md", "the layout and commands"],
  ];
  const width = Math.max(...files.map(([f]) => f.length)) + 2;
  const lines = files.map(([f, what]) => `  ${f.padEnd(width)}${what}`);
  writeOut(`Created project ${name} in ${project.root}\n\n${lines.join("\n")}\n\nNext: cd ${relative(process.cwd(), project.root) || "."} && sup project run\n`);
  return EXIT_OK;
}

function buildCommand(argv: string[]): number {
  const { positionals } = parse(argv, {});
  const project = openProject(dirArgument(positionals));
  const outcomes = buildProject(project.root, { onEvent: progressTo(false) });
  for (const o of outcomes) {
    if (o.kind === "failed") errorLine(`error: ${o.error.message}`);
    writeOut(`${statusLine(o, project.root)}\n`);
  }
  if (outcomes.length === 0) writeOut(`No kernels to build in ${project.root}\n`);
  const failed = outcomes.filter((o) => o.kind === "failed").length;
  if (failed > 0) {
    errorLine(`error: Build failed: ${failed} of ${outcomes.length} kernel${outcomes.length === 1 ? "" : "s"} did not build`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

function runCommand(argv: string[]): number {
  const { values, positionals } = parse(argv, {
    "no-check": { type: "boolean" },
    "max-steps": { type: "string" },
    "max-ms": { type: "string" },
  });
  const budget = { steps: intOption(values["max-steps"], "--max-steps"), timeMs: intOption(values["max-ms"], "--max-ms") };
  const project = openProject(dirArgument(positionals));
  // Quiet when cached: only compiles announce themselves (and their results) on stderr.
  const outcomes = buildProject(project.root, { onEvent: progressTo(true) });
  if (!buildSucceeded(outcomes)) {
    const failed = outcomes.filter((o) => o.kind === "failed");
    for (const o of failed) errorLine(`error: ${o.error.message}`);
    errorLine(`error: Cannot run project "${project.name}": ${failed.length} kernel${failed.length === 1 ? "" : "s"} did not build`);
    return EXIT_FAILURE;
  }
  return runFile(join(project.root, PROJECT_ENTRY_FILE), { workingDir: project.root, includePaths: projectIncludePaths(project.root), check: !values["no-check"], budget });
}

function cleanCommand(argv: string[]): number {
  const { positionals } = parse(argv, {});
  const project = openProject(dirArgument(positionals));
  const r = cleanProject(project.root);
  if (!r.existed) writeOut(`Nothing to clean in ${project.root}\n`);
  else writeOut(`Removed ${r.cacheDir} (${r.files} file${r.files === 1 ? "" : "s"}, ${formatBytes(r.bytes)})\n`);
  return EXIT_OK;
}

/** Progress on stderr: a line before each compile and, with `results`, one after it. */
function progressTo(results: boolean): (e: BuildEvent) => void {
  return (e) => {
    if (e.kind === "start") errorLine(`Building kernel ${e.name} (${e.sources} source${e.sources === 1 ? "" : "s"})…`);
    else if (results && e.report.status === "built") errorLine(`Built kernel ${e.report.name} in ${formatMs(e.report.ms)} (${e.report.compiler})`);
  };
}

/** One line per kernel for `project build`. */
function statusLine(o: KernelOutcome, root: string): string {
  const name = `kernel ${o.kernel.name}:`;
  if (o.kind === "typescript") return `${name} TypeScript, nothing to build`;
  if (o.kind === "failed") return `${name} failed`;
  const r = o.report;
  const lib = r.library !== null ? relative(root, r.library) : "";
  switch (r.status) {
    case "built":
      return `${name} built in ${formatMs(r.ms)} (${r.compiler}) → ${lib}`;
    case "cached":
      return `${name} cached (${lib})`;
    case "prebuilt":
      return `${name} prebuilt (${lib})`;
    case "tinycc":
      return `${name} compiled by TinyCC in ${formatMs(r.ms)} (in memory at every load; nothing is cached)`;
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
