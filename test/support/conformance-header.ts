/**
 * The header comment lines of a conformance program: `; exit: N` (default 0), `; args: …` (extra
 * CLI arguments) and `; stderr: text` (a substring stderr must contain; repeatable).
 */

/** What a conformance program's header expects of its run. */
export interface Expectation {
  exit: number;
  args: string[];
  stderr: string[];
}

/** Reads the header lines at the top of a program (comments and blank lines before the code). */
export function conformanceHeader(src: string): Expectation {
  const e: Expectation = { exit: 0, args: [], stderr: [] };
  for (const line of src.split("\n")) {
    const m = /^;\s*(exit|args|stderr):\s?(.*)$/.exec(line);
    if (m === null) {
      if (line.startsWith(";") || line.trim() === "") continue;
      break;
    }
    if (m[1] === "exit") e.exit = Number(m[2]);
    else if (m[1] === "args") e.args.push(...m[2]!.trim().split(/\s+/).filter(Boolean));
    else e.stderr.push(m[2]!);
  }
  return e;
}
