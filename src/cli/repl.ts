/**
 * `sup repl`: an interactive session. Input is read until the first object is complete (lists
 * balanced, strings closed), then evaluated in one persistent interpreter, and its value shown.
 * Loading kernels is allowed at any prompt (the lock rule applies within one input).
 *
 * The REPL owns a Runtime, so its `:` commands drive live kernels: `:load`, `:unload` and `:reload`
 * change the runtime's registry and the REPL session together. A failed command prints one error
 * line on stderr and changes nothing.
 */
import { SupError } from "../errors.ts";
import type { KernelInfo } from "../kernel/mod.ts";
import { BudgetExceeded, Interp, Session, SlpException, compile, read, sourceForm, textFromLatin1, latin1FromText, NONE } from "../lang/mod.ts";
import { Runtime } from "../node/runtime.ts";
import { EXIT_FAILURE, EXIT_OK, atMostPositionals, parse } from "./args.ts";
import { ByteOutput, errorLine } from "./output.ts";
import { existingDirectory } from "./input.ts";

export const REPL_USAGE = "Usage: sup repl [-i DIR]... [-w DIR]";

const REPL_HELP = `Enter SLP expressions; input continues until lists and strings are closed.
  :kernels       list the runtime's kernel versions (current and retired)
  :load NAME     load a kernel into the runtime and this session
  :unload NAME   take a kernel out of the runtime and this session
  :reload NAME   replace a kernel with a new version from disk (rebuilt if changed)
  :help          this text
  :quit          leave (also Ctrl-D)
`;

/** A `:` command was mistyped or lacks its argument. */
class ReplCommandError extends SupError {
  constructor(message: string) {
    super("repl-command", message);
  }
}

/** What a `:` command needs: the runtime, the REPL's session, and stdout. */
interface ReplState {
  readonly runtime: Runtime;
  readonly session: Session;
  readonly out: ByteOutput;
}

/** Runs the `repl` subcommand. */
export async function replCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    include: { type: "string", short: "i", multiple: true },
    "working-dir": { type: "string", short: "w" },
  });
  atMostPositionals(positionals, 0, REPL_USAGE);
  const workingDir = values["working-dir"] === undefined ? undefined : existingDirectory(values["working-dir"], "--working-dir");
  const includePaths = (values.include ?? []).map((p) => existingDirectory(p, "--include"));
  const out = new ByteOutput(1);
  const runtime = new Runtime({ workingDir, includePaths, write: out.write });
  const session = new Session(runtime.host);
  const it = new Interp(session, "<repl>");
  const state: ReplState = { runtime, session, out };
  const interactive = process.stdin.isTTY === true;
  const prompt = (more: boolean) => {
    if (interactive) out.write(more ? "...> " : "sup> ");
    out.flush();
  };
  let buffer = "";
  prompt(false);
  for await (const line of console) {
    const trimmed = line.trim();
    if (buffer === "" && trimmed.startsWith(":")) {
      if (trimmed === ":quit" || trimmed === ":q") break;
      replCommandLine(trimmed, state);
      prompt(false);
      continue;
    }
    buffer += latin1FromText(line) + "\n";
    buffer = evaluateComplete(buffer, it, out);
    prompt(buffer.trim() !== "");
  }
  out.flush();
  session.close();
  runtime.close();
  // Input that ends inside an unclosed list or string was never evaluated: say so.
  if (buffer.trim() !== "") {
    errorLine(`error: Input ended inside an unclosed list or string: ${JSON.stringify(buffer.trim().slice(0, UNFINISHED_SHOWN_CHARS))} was not evaluated`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/** Characters of an unfinished last input quoted in the error about it. */
const UNFINISHED_SHOWN_CHARS = 40;

/** Runs one `:` command; errors go to stderr and leave the runtime and session as they were. */
function replCommandLine(line: string, s: ReplState): void {
  const [command = "", ...rest] = line.split(/\s+/);
  const name = rest.join(" ");
  const needsName = command === ":load" || command === ":unload" || command === ":reload";
  try {
    if (needsName && name === "") throw new ReplCommandError(`Missing kernel name: usage ${command} NAME`);
    if (command === ":help") s.out.write(REPL_HELP);
    else if (command === ":kernels") s.out.write(kernelTable(s.runtime.kernels()));
    else if (command === ":load") loadCommand(name, s);
    else if (command === ":unload") {
      s.runtime.unloadKernel(name);
      s.session.dropKernel(name);
      s.out.write(`unloaded "${name}"\n`);
    } else if (command === ":reload") reloadCommand(name, s);
    else throw new ReplCommandError(`Unknown REPL command "${command}": try :help`);
  } catch (e) {
    if (!(e instanceof SupError)) throw e;
    s.out.flush();
    errorLine(`error: ${e.message}`);
  }
  s.out.flush();
}

/** `:load NAME`: the runtime's current version, acquired by the session (replacing an older one it holds). */
function loadCommand(name: string, s: ReplState): void {
  const info = s.runtime.loadKernel(name);
  const held = s.session.kernels.get(name);
  const kernel = s.session.host.loadKernel(name);
  if (held === kernel) {
    s.session.host.releaseKernel?.(name, kernel); // the session already holds this version once
    s.out.write(`"${name}" version ${info.version} is already loaded\n`);
    return;
  }
  if (held === undefined) s.session.addKernel(name, kernel);
  else s.session.replaceKernel(name, kernel);
  s.out.write(`loaded "${name}" version ${info.version} from ${info.origin}\n`);
}

/** `:reload NAME`: replaces the kernel in the runtime, then moves the session onto the new version. */
function reloadCommand(name: string, s: ReplState): void {
  const t0 = performance.now();
  const swap = s.runtime.reloadKernel(name);
  if (s.session.kernels.has(name)) s.session.replaceKernel(name, s.session.host.loadKernel(name));
  const ms = performance.now() - t0;
  s.out.write(`reloaded "${name}": version ${swap.kernel.version} from ${swap.kernel.origin} in ${ms.toFixed(2)} ms\n`);
}

/** The `:kernels` table, one version per line. */
function kernelTable(kernels: readonly KernelInfo[]): string {
  if (kernels.length === 0) return "no kernels loaded\n";
  const rows = [["name", "version", "kind", "refs", "state", "origin"], ...kernels.map((k) => [k.name, String(k.version), k.kind, String(k.refs), k.state, k.origin])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

/** Evaluates every complete object at the start of `text`; returns the incomplete rest. */
function evaluateComplete(text: string, it: Interp, out: ByteOutput): string {
  for (;;) {
    if (text.replace(/;[^\n]*/g, "").trim() === "") return "";
    const r = read(text);
    if (r.value === null) {
      const d = r.diagnostics[0]!;
      if (d.code >= 1 && d.code <= 4) return text; // unclosed: wait for more input
      out.flush();
      errorLine(`error: ${d.message}`);
      return "";
    }
    it.locked = false;
    try {
      const v = compile(r.value)(it);
      if (v !== NONE) out.write("=> " + sourceForm(v) + "\n");
    } catch (e) {
      if (!(e instanceof SlpException) && !(e instanceof BudgetExceeded)) throw e;
      it.unwindTo(1, 0, 0);
      out.flush();
      errorLine(`error: ${textFromLatin1(e.message)}`);
    }
    out.flush();
    text = text.slice(r.end);
  }
}
