/**
 * `sup help`: the list of commands.
 */
import { EXIT_OK, noArguments } from "./args.ts";
import { writeOut } from "./output.ts";

export const HELP = `sup - a programmable runtime

Usage: sup <command> [options]

Commands:
  run FILE [-i DIR]... [-w DIR] [--no-check] [--max-steps N] [--max-ms N]
                      Check and run an SLP program
  check FILE [-i DIR]... [-w DIR]
                      Parse and type check a program without running it
  repl [-i DIR]... [-w DIR]
                      Interactive SLP session
  project new|build|run|clean [NAME] [DIR]
                      Create a project, build its kernels, run it, or remove its build cache
  deps [DIR]          List a project's kernels and modules, where each comes from, and its state
  start [--data DIR] [--http HOST:PORT] [--kernels a,b,...]
        [--identity FILE] [--listen HOST:PORT] [--advertise HOST:PORT] [--join HOST:PORT]
                      Run a node: code in its SQLite store (default ./sup-data), HTTP on 8080;
                      with an identity, the backchannel on 7000 and a cluster to join (through
                      any member); --advertise: the address peers dial when it is not the listen one
  --identity FILE --join HOST:PORT
                      The same as start: join a cluster (no subcommand)
  --connect HOST:PORT --identity FILE COMMAND ...
                      Run code, kernels, status, nodes or exec against a node over the
                      backchannel, from a machine with no node, as that identity (its
                      permissions decide: code for code writes, admin for the control plane)
  identity root|issue|request|sign|accept|show
                      Cluster root keys and node identities (sup identity for the options)
  nodes [--json]      The members a running node knows: state, incarnation, roles, addresses,
                      load, change-log position, how far behind each is and its code's state
                      hash, last heard, kernel set (--json: every metadata field)
  nodes revoke NAME [--serial SERIAL] [--reason TEXT] [--timeout D] [--json]
                      A revocation entry: every node refuses that certificate from now on,
                      also after restarts and once a node that was down is back (admin)
  exec --on SELECTOR (-e EXPR | FILE) [--timeout D] [--json] [--tenant T]
                      Run a program on every node the selector picks; a result per node
                      (ok, error, timeout, unreachable); exit 1 when any failed (admin)
  code put NAME FILE | ls | show NAME [--version N] | history NAME | rollback NAME [--to N] | rm NAME
                      Read and change a running node's code (--data DIR, --tenant T); in a
                      cluster every write goes to every node: --on SELECTOR for some nodes only,
                      --wait [all|N] [--timeout D] to return once they applied it (one line per
                      node), jobs: --every D, --each-node (else one node of the cluster runs it);
                      versions written on two nodes at once are named N@ORIGIN
  kernels ls | load NAME | unload NAME [--on SELECTOR [--timeout D] [--json]]
                      A running node's kernel set (ls: built in, or the directory each came from);
                      with --on, a kernel entry for every node the selector picks, a result
                      per node; a node that is down applies it when it is back (admin)
  status              What a running node reports about itself (identity, cluster id, backchannel,
                      state hash of its code, change-log size)
  health [URL | --http HOST:PORT]
                      Check a node's /_sup/health over HTTP (exit 0 when healthy)
  version             Show version, Bun, commit, target and standard kernels
  help                Show this help

Options:
  -i, --include DIR   Add a kernel/import search directory (repeatable)
  -w, --working-dir DIR
                      Working directory for imports, kernels and fs (default: current)
  --no-check          Run without the static type check
  --max-steps N       Stop the program after N steps (lambda calls and loop turns)
  --max-ms N          Stop the program after N milliseconds

Selectors (--on): all, node:NAME, role:R, label:K=V, or a comma-separated list of these.
Durations (--timeout, --every): a number with a unit, e.g. 500ms, 10s, 5m.

Exit codes: 0 success, 1 failure (parse, check, uncaught exception, missing file, no node,
output that cannot be written), 2 usage error.
Environment: SUP_HOME (default ~/.sup) holds user kernels and the build cache; SUP_LOG sets the log level;
SUP_TIER=auto|closure|js picks the execution tier (auto compiles hot code to JavaScript).
`;

/** Runs the `help` subcommand. */
export function helpCommand(argv: string[] = []): number {
  noArguments(argv, "help");
  writeOut(HELP);
  return EXIT_OK;
}
