/**
 * The sup entry point: registers the standard TypeScript kernels' code, dispatches to one subcommand,
 * and is the only place that exits the process.
 */
import { STANDARD_TS_KERNELS } from "../../kernels/mod.ts";
import { SupError } from "../errors.ts";
import { registerBuiltinKernels } from "../kernel/builtin-table.ts";
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from "./args.ts";
import { HELP, helpCommand } from "./help.ts";
import { errorLine } from "./output.ts";

type Command = (argv: string[]) => number | Promise<number>;

// Subcommands are imported when chosen, so `sup run` does not load the REPL or version code.
const version: Command = async (argv) => (await import("./version.ts")).versionCommand(argv);
const COMMANDS: Record<string, Command> = {
  run: async (argv) => (await import("./run.ts")).runCommand(argv),
  start: async (argv) => (await import("./start.ts")).startCommand(argv),
  code: async (argv) => (await import("./code.ts")).codeCommand(argv),
  kernels: async (argv) => (await import("./kernels.ts")).kernelsCommand(argv),
  status: async (argv) => (await import("./status.ts")).statusCommand(argv),
  nodes: async (argv) => (await import("./nodes.ts")).nodesCommand(argv),
  exec: async (argv) => (await import("./exec.ts")).execCommand(argv),
  identity: async (argv) => (await import("./identity.ts")).identityCommand(argv),
  health: async (argv) => (await import("./health.ts")).healthCommand(argv),
  check: async (argv) => (await import("./check.ts")).checkCommand(argv),
  repl: async (argv) => (await import("./repl.ts")).replCommand(argv),
  project: async (argv) => (await import("./project.ts")).projectCommand(argv),
  deps: async (argv) => (await import("./deps.ts")).depsCommand(argv),
  version,
  "--version": version,
  help: helpCommand,
  "--help": helpCommand,
  "-h": helpCommand,
};

// The one import arrow into kernels/: src/kernel/ never imports it (docs/architecture.md).
registerBuiltinKernels(STANDARD_TS_KERNELS);

/** The commands `sup --connect HOST:PORT --identity FILE COMMAND` runs against a remote node. */
const REMOTE_COMMANDS = ["code", "kernels", "status", "nodes", "exec"];
const REMOTE_USAGE = `Usage: sup --connect HOST:PORT --identity FILE COMMAND ... (COMMAND: ${REMOTE_COMMANDS.join(", ")})`;

/**
 * Reads `--connect HOST:PORT --identity FILE` before a command: the remote node and the identity
 * to reach it as. Null when the line does not start with --connect (then leading options mean
 * `sup start`, as before).
 */
function remoteOptions(argv: string[]): { connect: string; identity: string; rest: string[] } | null {
  const seen: Record<string, string> = {};
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith("--"); i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name !== "connect" && name !== "identity") break;
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "") throw new UsageError(`Option "--${name}" needs a value\n${REMOTE_USAGE}`);
    seen[name] = value;
  }
  if (seen.connect === undefined) return null;
  if (seen.identity === undefined) throw new UsageError(`--connect needs --identity FILE: the identity (with its permissions) to act as\n${REMOTE_USAGE}`);
  if (!/^(\[[^\]]+\]|[^:\s]+):\d{1,5}$/.test(seen.connect)) throw new UsageError(`Invalid --connect address "${seen.connect}": expected HOST:PORT, e.g. root.example.com:7000\n${REMOTE_USAGE}`);
  const rest = argv.slice(i);
  if (rest[0] === undefined || !REMOTE_COMMANDS.includes(rest[0])) {
    throw new UsageError(`${rest[0] === undefined ? "--connect needs a command" : `"sup --connect" cannot run "${rest[0]}"`}\n${REMOTE_USAGE}`);
  }
  return { connect: seen.connect, identity: seen.identity, rest };
}

async function main(argv: string[]): Promise<number> {
  let remote: ReturnType<typeof remoteOptions>;
  try {
    remote = remoteOptions(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    errorLine(`error: ${e.message}`);
    return EXIT_USAGE;
  }
  if (remote !== null) {
    (await import("./admin-client.ts")).useRemote(remote.connect, remote.identity);
    argv = remote.rest;
  }
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(HELP);
    return EXIT_USAGE;
  }
  // Options with no subcommand mean `sup start` (the line users type: sup --identity F --join H:P).
  if (name.startsWith("--") && !Object.hasOwn(COMMANDS, name)) return run(COMMANDS.start!, argv);
  // Own properties only: `sup constructor` must not find Object.prototype's.
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    errorLine(`error: Unknown command "${name}": run "sup help" for the list of commands`);
    return EXIT_USAGE;
  }
  return run(command, rest);
}

async function run(command: Command, argv: string[]): Promise<number> {
  const tier = process.env.SUP_TIER;
  if (tier !== undefined && tier !== "") {
    const { setTierMode, TIER_MODES } = await import("../lang/tier.ts");
    const mode = TIER_MODES.find((m) => m === tier);
    if (mode === undefined) {
      errorLine(`error: Unknown SUP_TIER "${tier}": expected ${TIER_MODES.join(", ")}`);
      return EXIT_USAGE;
    }
    setTierMode(mode);
  }
  try {
    return await command(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      errorLine(`error: ${e.message}`);
      return EXIT_USAGE;
    }
    if (e instanceof SupError) {
      errorLine(`error: ${e.message}`);
      return EXIT_FAILURE;
    }
    throw e;
  }
}

// No top-level await: a bytecode-compiled binary (`bun build --compile --bytecode`) cannot use it.
void main(process.argv.slice(2)).then((code) => process.exit(code));
