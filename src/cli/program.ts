/**
 * Steps shared by `sup run` and `sup check`: read a source file, parse it, type check it, and
 * report diagnostics on stderr as `file:line:col: message`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { checkProgram } from "../lang/checker.ts";
import { formatDiagnostic, locate, parseFile, type Host, type SourceFile, type Value } from "../lang/mod.ts";
import { errorLine } from "./output.ts";

/** Reads a program file; returns null after reporting when it cannot be read. */
export function readProgram(path: string): SourceFile | null {
  const abs = resolve(path);
  if (!existsSync(abs)) {
    errorLine(`error: Cannot read program "${path}": file does not exist`);
    return null;
  }
  if (!statSync(abs).isFile()) {
    errorLine(`error: Cannot read program "${path}": not a regular file`);
    return null;
  }
  try {
    return { path: abs, text: readFileSync(abs, "latin1") };
  } catch (e) {
    errorLine(`error: Cannot read program "${path}": ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

/** Parses and (unless told not to) checks a program, reporting every diagnostic; null on failure. */
export function prepareProgram(file: SourceFile, host: Host, check: boolean): Value | null {
  const parsed = parseFile(file);
  if (!parsed.ok) {
    for (const d of parsed.diagnostics) errorLine(`${formatDiagnostic(d)} (parse error)`);
    return null;
  }
  const trailing = file.text.slice(parsed.end).replace(/;[^\n]*/g, "").trim();
  if (trailing.length > 0) {
    errorLine(`${formatDiagnostic(locate(file, parsed.end, "warning: text after the program's first object is ignored"))}`);
  }
  if (!check) return parsed.value;
  const diags = checkProgram(parsed.value, file, host);
  let failed = false;
  for (const d of diags) {
    errorLine(`${d.file}:${d.line}:${d.col}: ${d.severity === "warning" ? "warning: " : ""}${d.message}`);
    if (d.severity === "error") failed = true;
  }
  if (failed) errorLine(`error: type checking failed for ${file.path}`);
  return failed ? null : parsed.value;
}
