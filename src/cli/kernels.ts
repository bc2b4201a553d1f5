/**
 * `sup kernels ls|load NAME|unload NAME [--on SELECTOR]`: the kernel set of a running node (kept in
 * its store), or with `--on` of every node the selector picks, with a result per node (a node that
 * cannot load the kernel says why and stays as it was). `ls` prints one line per loaded version:
 * name, version, kind, state, references, and where its code came from — `built in`, or the
 * kernel's directory (marked when it shadows a built-in's name).
 */
import { EXEC_TIMEOUT_MS_MAX } from "../cluster/mod.ts";
import { admin, dataDirOf, AdminError } from "./admin-client.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, atMostPositionals, parse } from "./args.ts";
import { printResults, selectorOption, timeoutOption, type NodeResult } from "./node-results.ts";
import { errorLine, writeOut } from "./output.ts";

export const KERNELS_USAGE = "Usage: sup kernels ls | load NAME | unload NAME [--on SELECTOR [--timeout DURATION] [--json]] [--data DIR]";

/** One loaded kernel version as the node's admin interface reports it (KernelInfo). */
interface LoadedKernelRow {
  readonly name: string;
  readonly version: number;
  readonly kind: string;
  readonly state: string;
  readonly refs: number;
  readonly dir: string;
  readonly builtin: boolean;
  readonly shadowsBuiltin: boolean;
}

/** Where a kernel's code came from, for people. */
function sourceText(k: LoadedKernelRow): string {
  if (k.builtin) return "built in";
  return k.shadowsBuiltin ? `from ${k.dir} (shadows the built-in)` : `from ${k.dir}`;
}

/** Runs the `kernels` subcommand. */
export async function kernelsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { data: { type: "string" }, on: { type: "string" }, timeout: { type: "string" }, json: { type: "boolean" } });
  const [sub, name] = positionals;
  const data = dataDirOf(values.data);
  atMostPositionals(positionals, sub === "ls" || sub === undefined ? 1 : 2, KERNELS_USAGE);
  try {
    if (sub === "ls" || sub === undefined) {
      if (values.on !== undefined || values.timeout !== undefined || values.json === true) throw new UsageError(`--on, --timeout and --json go with "sup kernels load|unload"\n${KERNELS_USAGE}`);
      const r = (await admin(data, "GET", "/kernels")) as { set: string[]; loaded: LoadedKernelRow[] };
      for (const k of r.loaded) writeOut(`${k.name}\tv${k.version}\t${k.kind}\t${k.state}\trefs ${k.refs}\t${sourceText(k)}\n`);
      return EXIT_OK;
    }
    if (sub !== "load" && sub !== "unload") throw new UsageError(`Unknown kernels command "${sub}"\n${KERNELS_USAGE}`);
    if (name === undefined) throw new UsageError(`"sup kernels ${sub}" needs a NAME\n${KERNELS_USAGE}`);
    if (values.on !== undefined) {
      const on = selectorOption(values.on, KERNELS_USAGE);
      const timeoutMs = timeoutOption(values.timeout, EXEC_TIMEOUT_MS_MAX);
      const r = (await admin(data, "POST", `/kernels/${sub}`, { name, on, timeoutMs })) as { results: NodeResult[] };
      return printResults(r.results, values.json === true);
    }
    if (values.timeout !== undefined || values.json === true) throw new UsageError(`--timeout and --json go with --on\n${KERNELS_USAGE}`);
    const r = (await admin(data, "POST", `/kernels/${sub}`, { name })) as { set: string[] };
    writeOut(`${sub === "load" ? "loaded" : "unloaded"} ${name}; kernel set: ${r.set.join(" ")}\n`);
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    errorLine(`error: ${e.message}`);
    return EXIT_FAILURE;
  }
}
