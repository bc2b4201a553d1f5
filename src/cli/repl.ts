/**
 * `sup repl`: an interactive session. Input is read until the first object is complete (lists
 * balanced, strings closed), then evaluated in one persistent interpreter, and its value shown.
 * Loading kernels is allowed at any prompt (the lock rule applies within one input).
 */
import { resolve } from "node:path";
import { BudgetExceeded, Interp, Session, SlpException, compile, read, sourceForm, textFromLatin1, latin1FromText, NONE } from "../lang/mod.ts";
import { ProgramHost } from "../node/program-host.ts";
import { EXIT_OK, parse } from "./args.ts";
import { ByteOutput, errorLine } from "./output.ts";

const REPL_HELP = `Enter SLP expressions; input continues until lists and strings are closed.
  :help   this text
  :quit   leave (also Ctrl-D)
`;

/** Runs the `repl` subcommand. */
export async function replCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    include: { type: "string", short: "i", multiple: true },
    "working-dir": { type: "string", short: "w" },
  });
  const out = new ByteOutput(1);
  const host = new ProgramHost({
    workingDir: resolve(values["working-dir"] ?? process.cwd()),
    includePaths: (values.include ?? []).map((p) => resolve(p)),
    write: out.write,
  });
  const session = new Session(host);
  const it = new Interp(session, "<repl>");
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
      if (trimmed === ":help") out.write(REPL_HELP);
      else errorLine(`error: Unknown REPL command "${trimmed}": try :help`);
      prompt(false);
      continue;
    }
    buffer += latin1FromText(line) + "\n";
    buffer = evaluateComplete(buffer, it, out);
    prompt(buffer.trim() !== "");
  }
  out.flush();
  session.close();
  host.close();
  return EXIT_OK;
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
