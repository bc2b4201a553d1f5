/**
 * Files and directories named on the command line: each is checked before use, so a mistyped or
 * unusable path is an InputError naming it (exit 1), never a stack trace or a silent no-op.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { SupError } from "../errors.ts";

/** A file or directory named on the command line cannot be used. */
export class InputError extends SupError {
  constructor(message: string) {
    super("input", message);
  }
}

/**
 * The absolute path of a directory given with `flag` (`--working-dir`, `--include`); InputError when
 * it is missing or not a directory, so a mistyped path is reported instead of resolving nothing.
 */
export function existingDirectory(path: string, flag: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(`Cannot use ${flag} "${path}": directory does not exist`);
  if (!statSync(abs).isDirectory()) throw new InputError(`Cannot use ${flag} "${path}": not a directory`);
  return abs;
}

/** The text of a file named on the command line (UTF-8); InputError saying why it cannot be read. */
export function readTextFile(path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(`Cannot read "${path}": file does not exist`);
  if (!statSync(abs).isFile()) throw new InputError(`Cannot read "${path}": not a regular file`);
  try {
    return readFileSync(abs, "utf8");
  } catch (e) {
    throw new InputError(`Cannot read "${path}": ${e instanceof Error ? e.message : String(e)}`);
  }
}
