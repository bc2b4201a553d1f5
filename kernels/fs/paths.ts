/**
 * Path operations of the `fs` kernel on byte paths. SLP strings are byte strings (latin1 JS strings),
 * so paths travel as Buffers and reach the OS byte for byte; names read back from the OS come out
 * as latin1 again. Mirrors `std::filesystem` as the original used it.
 */
import { lstatSync, mkdirSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync } from "node:fs";
import { SlpException } from "sup/kernel";

const SLASH = Buffer.from("/");

/** Appends part to base with `std::filesystem` `/=` rules (kernels spec §10.3, join_path). */
export function appendPath(base: string, part: string): string {
  if (part.startsWith("/") || base === "") return part;
  return base.endsWith("/") ? base + part : base + "/" + part;
}

/** Resolves an SLP path against the working directory: absolute as given, "" is the root itself. */
export function resolvePath(workingDir: string, p: string): Buffer {
  if (p.startsWith("/")) return Buffer.from(p, "latin1");
  // The working directory is ordinary (UTF-8) text; the SLP path is raw bytes.
  const root = Buffer.from(workingDir, "utf8");
  if (p === "") return root;
  const sep = root.length > 0 && root[root.length - 1] !== 0x2f ? SLASH : Buffer.alloc(0);
  return Buffer.concat([root, sep, Buffer.from(p, "latin1")]);
}

/** True when something exists at path (symlinks followed). */
export function exists(path: Buffer): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

function isDirectory(path: Buffer): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

/** Texts of the errors `std::filesystem::remove` reports by throwing (strerror wording). */
const REMOVE_ERRORS: Readonly<Record<string, string>> = {
  ENOTEMPTY: "Directory not empty",
  EEXIST: "Directory not empty",
  EACCES: "Permission denied",
  EPERM: "Operation not permitted",
  EBUSY: "Device or resource busy",
  EROFS: "Read-only file system",
};

function errorCode(e: unknown): string {
  return e instanceof Error && "code" in e && typeof e.code === "string" ? e.code : "";
}

/**
 * Removes a file or an empty directory → 0; nothing there → -1. Like the original, a non-empty
 * directory (or a refused removal) throws the `std::filesystem` message instead of returning -1.
 */
export function removePath(path: Buffer): number {
  try {
    if (lstatSync(path).isDirectory()) rmdirSync(path);
    else unlinkSync(path);
    return 0;
  } catch (e) {
    const text = REMOVE_ERRORS[errorCode(e)];
    if (text === undefined) return -1; // ENOENT, ENOTDIR: nothing there.
    throw new SlpException(`filesystem error: cannot remove: ${text} [${path.toString("latin1")}]`);
  }
}

/** Renames/moves, replacing an existing target file → 0, or -1. */
export function renamePath(from: Buffer, to: Buffer): number {
  try {
    renameSync(from, to);
    return 0;
  } catch {
    return -1;
  }
}

/** Creates the directory and missing parents → 0; anything already there → -1. */
export function makeDirectories(path: Buffer): number {
  try {
    // Anything there (even a dangling link), or a path that cannot be looked at, is a failure.
    if (lstatSync(path, { throwIfNoEntry: false }) !== undefined) return -1;
    mkdirSync(path, { recursive: true });
    return 0;
  } catch {
    return -1;
  }
}

/** Removes an empty directory → 0; not a directory, missing or not empty → -1. */
export function removeDirectory(path: Buffer): number {
  if (!isDirectory(path)) return -1;
  try {
    // A symlink to a directory passes the check above; std::filesystem::remove deletes the link.
    if (lstatSync(path).isSymbolicLink()) unlinkSync(path);
    else rmdirSync(path);
    return 0;
  } catch {
    return -1;
  }
}

/** Removes path and everything below it (symlinks not followed) → entries removed; missing → 0. */
export function removeAll(path: Buffer): number {
  try {
    return removeTree(path);
  } catch {
    return -1;
  }
}

function removeTree(path: Buffer): number {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  let count = 1;
  if (st.isDirectory()) {
    for (const name of readdirSync(path, { encoding: "buffer" })) count += removeTree(Buffer.concat([path, SLASH, name]));
    rmdirSync(path);
  } else unlinkSync(path);
  return count;
}

/** Environment variables consulted for the temporary directory, in order (libstdc++). */
const TMP_VARIABLES = ["TMPDIR", "TMP", "TEMP", "TEMPDIR"] as const;

/** The temporary directory as configured (trailing `/` kept), or "" when it is not a directory. */
export function tempDirectory(env: Readonly<Record<string, string | undefined>>): string {
  let dir = "/tmp";
  for (const name of TMP_VARIABLES) {
    const v = env[name];
    if (v !== undefined) {
      dir = v;
      break;
    }
  }
  // Checked against the process's directory, as the original's std::filesystem::status did.
  const bytes = Buffer.from(dir, "utf8");
  return dir !== "" && isDirectory(bytes) ? bytes.toString("latin1") : "";
}

/** Entry names of a directory as latin1 strings, or null when path is not a readable directory. */
export function listDirectory(path: Buffer): string[] | null {
  if (!isDirectory(path)) return null;
  try {
    return readdirSync(path, { encoding: "buffer" }).map((n) => n.toString("latin1"));
  } catch {
    return null;
  }
}
