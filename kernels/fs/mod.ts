/**
 * The `fs` kernel (kernels spec §10): files by small integer handles plus path utilities. Every
 * function evaluates its own arguments, re-checks their types and answers a wrong type or a missing
 * argument with its failure value (-1, "", [] or 0 for `exists`). Relative paths are resolved
 * against the program's working directory. The only exception it raises is the original's
 * `filesystem error: cannot remove: …` from `remove`. Imports only the kernel API.
 */
import { List, Str, T_BRACKET, rebuildList, str, type CallContext, type Int, type KernelDefinition, type KernelFn, type KernelInstance, type Value } from "sup/kernel";
import { FileTable } from "./file-table.ts";
import {
  appendPath,
  exists,
  listDirectory,
  makeDirectories,
  removeAll,
  removeDirectory,
  removePath,
  renamePath,
  resolvePath,
  tempDirectory,
} from "./paths.ts";

const FAILED = -1;
const EMPTY_STR = str("");
const EMPTY_BRACKET = new List(T_BRACKET, []);

function isInt(v: Value): v is Int {
  return typeof v === "number" || typeof v === "bigint";
}

/** Evaluates the first n arguments in order, or returns null when fewer were given. */
function evalArgs(cx: CallContext, args: readonly Value[], n: number): Value[] | null {
  if (args.length < n) return null;
  const out: Value[] = [];
  for (let i = 0; i < n; i++) out.push(cx.eval(args[i]!));
  return out;
}

/** Creates one kernel instance with its own handle table (handles start at 1). */
const createFs = (): KernelInstance => {
  const files = new FileTable();

  /** A function of one handle returning an int, -1 on any failure. */
  const handleFn =
    (op: (h: Int) => number): KernelFn =>
    (cx, args) => {
      const a = evalArgs(cx, args, 1);
      return a !== null && isInt(a[0]!) ? op(a[0]) : FAILED;
    };

  /** A function of one path returning an int; `failed` for a missing or non-string argument. */
  const pathFn =
    (op: (path: Buffer) => number, failed: number): KernelFn =>
    (cx, args) => {
      const a = evalArgs(cx, args, 1);
      const p = a?.[0];
      return p instanceof Str ? op(resolvePath(cx.workingDir, p.s)) : failed;
    };

  const functions: Record<string, KernelFn> = {
    open(cx, args) {
      const a = evalArgs(cx, args, 2);
      if (a === null) return FAILED;
      const [mode, path] = a;
      if (!(mode instanceof Str) || !(path instanceof Str)) return FAILED;
      return files.open(resolvePath(cx.workingDir, path.s), mode.s);
    },
    read(cx, args) {
      const a = evalArgs(cx, args, 1);
      if (a === null || !isInt(a[0]!)) return EMPTY_STR;
      const s = files.readAll(a[0]);
      return s === null || s === "" ? EMPTY_STR : str(s);
    },
    read_bytes(cx, args) {
      const a = evalArgs(cx, args, 2);
      if (a === null) return EMPTY_STR;
      const [fid, count] = a;
      if (!isInt(fid!) || !isInt(count!)) return EMPTY_STR;
      const s = files.readBytes(fid, count);
      return s === null || s === "" ? EMPTY_STR : str(s);
    },
    write(cx, args) {
      const a = evalArgs(cx, args, 2);
      if (a === null) return FAILED;
      const [fid, data] = a;
      return isInt(fid!) && data instanceof Str ? files.write(fid, data.s) : FAILED;
    },
    close: handleFn((h) => files.close(h)),
    tell: handleFn((h) => files.tell(h)),
    size: handleFn((h) => files.size(h)),
    flush: handleFn((h) => files.flush(h)),
    seek(cx, args) {
      const a = evalArgs(cx, args, 3);
      if (a === null) return FAILED;
      const [fid, offset, whence] = a;
      return isInt(fid!) && isInt(offset!) && isInt(whence!) ? files.seek(fid, offset, whence) : FAILED;
    },
    exists: pathFn((p) => (exists(p) ? 1 : 0), 0),
    remove: pathFn(removePath, FAILED),
    mkdir: pathFn(makeDirectories, FAILED),
    rmdir: pathFn(removeDirectory, FAILED),
    rmdir_recursive: pathFn(removeAll, FAILED),
    rename(cx, args) {
      const a = evalArgs(cx, args, 2);
      if (a === null) return FAILED;
      const [from, to] = a;
      if (!(from instanceof Str) || !(to instanceof Str)) return FAILED;
      return renamePath(resolvePath(cx.workingDir, from.s), resolvePath(cx.workingDir, to.s));
    },
    tmp() {
      return str(tempDirectory(process.env));
    },
    join_path(cx, args) {
      if (args.length < 2) return EMPTY_STR;
      let joined = "";
      for (const arg of args) {
        // Like the original, stop at the first non-string without evaluating the rest.
        const part = cx.eval(arg);
        if (!(part instanceof Str)) return EMPTY_STR;
        joined = appendPath(joined, part.s);
      }
      return str(joined);
    },
    ls(cx, args) {
      const a = evalArgs(cx, args, 1);
      const p = a?.[0];
      if (!(p instanceof Str)) return EMPTY_BRACKET;
      const names = listDirectory(resolvePath(cx.workingDir, p.s));
      // Built through TEXT-FORM like the original, so names holding `"` or `\` come back mangled.
      return names === null ? EMPTY_BRACKET : rebuildList(T_BRACKET, names.map(str), "empty");
    },
  };

  return {
    functions,
    shutdown(): void {
      files.closeAll();
    },
  };
};

const fs: KernelDefinition = { apiVersion: 1, create: createFs };

export default fs;
