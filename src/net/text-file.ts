/**
 * The text layout shared by every identity file: comment lines (`# …`), a header line naming the
 * kind and its layout version (`sup-identity 1`), then one `field value` line per field. Every
 * field must appear exactly once; unknown fields, duplicates and missing fields are errors that
 * name the file and the field. Reading a secret file first checks that only its owner can read it,
 * as ssh does. Files are written owner-only (0600) through a temporary file and a rename, so a
 * crash never leaves half a key behind.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { IdentityFileError } from "./errors.ts";
import { IDENTITY_FILE_BYTES_MAX } from "./limits.ts";

/** The layout version of every identity file kind this code writes and reads. */
export const FILE_VERSION = 1;

/** Reads a file's text, refusing a secret one that group or others may read, and an oversized one. */
export function readIdentityText(file: string, secret: boolean): string {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new IdentityFileError(file, `Cannot read "${file}": ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, "identity-missing");
  }
  if (!st.isFile()) throw new IdentityFileError(file, `Cannot read "${file}": not a regular file`);
  if (secret && (st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
    throw new IdentityFileError(file, `Refusing to use "${file}": it holds a secret key and group or others can access it (mode ${mode}): run chmod 600 ${file}`, "identity-permissions");
  }
  if (st.size > IDENTITY_FILE_BYTES_MAX) throw new IdentityFileError(file, `Cannot read "${file}": ${st.size} bytes is more than the ${IDENTITY_FILE_BYTES_MAX} an identity file may have`);
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new IdentityFileError(file, `Cannot read "${file}": ${(e as Error).message}`);
  }
}

/** Parses the text of a file of `kind`: exactly the fields in `fields`, each once. */
export function parseFields(file: string, text: string, kind: string, fields: readonly string[]): Map<string, string> {
  const fail = (what: string) => new IdentityFileError(file, `Cannot read "${file}": ${what}`);
  const lines = text.split("\n");
  let header: string | null = null;
  const found = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "" || line.startsWith("#")) continue;
    if (header === null) {
      header = line;
      const m = /^(sup-[a-z]+) (\d+)$/.exec(line);
      if (m === null || m[1] !== kind) throw fail(`line ${i + 1}: expected the header "${kind} ${FILE_VERSION}", found "${clip(line)}"${m !== null ? ` (this is a ${m[1]} file)` : ""}`);
      if (Number(m[2]) !== FILE_VERSION) throw fail(`line ${i + 1}: unsupported ${kind} file version ${m[2]}: this sup reads version ${FILE_VERSION}`);
      continue;
    }
    const space = line.indexOf(" ");
    const name = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? "" : line.slice(space + 1);
    if (!fields.includes(name)) throw fail(`line ${i + 1}: unknown field "${clip(name)}"`);
    if (found.has(name)) throw fail(`line ${i + 1}: field "${name}" appears twice`);
    found.set(name, value);
  }
  if (header === null) throw fail(`no "${kind} ${FILE_VERSION}" header: the file is empty or not a ${kind} file`);
  for (const f of fields) if (!found.has(f)) throw fail(`field "${f}" is missing`);
  return found;
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + "…" : s;
}

/** The text of a file: comments, header, fields in order. */
export function formatFields(comments: readonly string[], kind: string, fields: readonly (readonly [string, string])[]): string {
  const lines = [...comments.map((c) => `# ${c}`), `${kind} ${FILE_VERSION}`, ...fields.map(([k, v]) => (v === "" ? k : `${k} ${v}`))];
  return lines.join("\n") + "\n";
}

/**
 * Writes `text` to `file` with mode 0600. Refuses to replace an existing file unless `replace`:
 * overwriting a root key by mistake would orphan a whole cluster.
 */
export function writeIdentityText(file: string, text: string, replace = false): void {
  let exists = false;
  try {
    statSync(file);
    exists = true;
  } catch {
    // No such file: the normal case.
  }
  if (exists && !replace) throw new IdentityFileError(file, `Cannot write "${file}": the file exists; remove it first or choose another --out`, "identity-exists");
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new IdentityFileError(file, `Cannot write "${file}": ${(e as Error).message}`);
  }
}
