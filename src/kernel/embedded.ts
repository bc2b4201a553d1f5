/**
 * What a compiled `sup` binary carries besides its code, and how it gets it onto disk. `bun run build`
 * (embedded-build.ts) embeds the standard kernels' manifests and C sources, the native ABI headers
 * and, for the build's own target, the standard C kernels as prebuilt shared libraries; it bakes a
 * BuildInfo (version, commit, target, the hash of every embedded file) into the binary as a constant.
 *
 * Embedded files are read in place through Bun's virtual file system, except what must be a real
 * file: a library for dlopen, and sources for a compiler. Those are extracted into a private cache
 * directory, `${SUP_HOME:-$HOME/.sup}/cache/embedded/<content hash>/`, never into a shared temp
 * directory where another user could plant a library; they are checked against the baked hash
 * before every use.
 *
 * Invariant: a file is only used from its final path, which is written by an atomic rename of a
 * fully written temporary file whose content hash matched. Running from source, nothing here does
 * anything: BUILD_INFO is null and no path is embedded.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { SupError } from "../errors.ts";

/** One standard kernel as the build saw it. */
export interface EmbeddedKernel {
  readonly name: string;
  readonly kind: "typescript" | "native";
  /** Embedded path (relative to the embedded root) of its prebuilt library, or null: compiled on first use. */
  readonly library: string | null;
}

/** What `bun run build` baked into the binary. */
export interface BuildInfo {
  readonly version: string;
  /** `git rev-parse` of the checkout, with `+dirty` when it had uncommitted changes; "unknown" outside git. */
  readonly commit: string;
  /** The binary's target: `linux-x64-glibc`, `linux-arm64-musl`, … */
  readonly target: string;
  /** The compiler that built the prebuilt libraries (`gcc 12.2.0`), or null when there are none. */
  readonly compiler: string | null;
  readonly kernels: readonly EmbeddedKernel[];
  /** sha256 (hex) of every embedded file, by path relative to the embedded root. */
  readonly files: Readonly<Record<string, string>>;
}

// Replaced by a literal with `--define` when the binary is built; an undeclared global from source.
declare const SUP_BUILD_INFO: BuildInfo | undefined;

/** The build's facts when running as a compiled binary, or null when running from source. */
export const BUILD_INFO: BuildInfo | null = typeof SUP_BUILD_INFO !== "undefined" ? SUP_BUILD_INFO : null;

/**
 * Where embedded files are (Bun's virtual `/$bunfs/root`), or null from source. Taken from Bun.main
 * at run time because the bundler may inline import.meta.dir as the build machine's path.
 */
export const EMBEDDED_ROOT: string | null = BUILD_INFO !== null ? dirname(Bun.main) : null;

/** The folder of the cache root that holds extracted files. */
export const EMBEDDED_CACHE_DIR_NAME = "embedded";
/** Hex digits of the content hash naming an extraction directory: 64 bits, as the native build cache. */
const EXTRACT_HASH_HEX_DIGITS = 16;
/** Owner-only: nobody else may read, replace or add a library that this user's processes will dlopen. */
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;

/** An embedded file could not be put on disk (or was corrupt); the message names the directory to set. */
export class EmbeddedExtractError extends SupError {
  constructor(message: string) {
    super("embedded-extract", message);
  }
}

/** True when `path` is inside the binary's embedded files. */
export function isEmbeddedPath(path: string): boolean {
  return EMBEDDED_ROOT !== null && path.startsWith(EMBEDDED_ROOT + "/");
}

/** The path of an embedded file or folder (relative path) as the process sees it, or null from source. */
export function embeddedPath(relative: string): string | null {
  return EMBEDDED_ROOT === null ? null : join(EMBEDDED_ROOT, relative);
}

/** The standard kernel the build embedded under `name`, or null. */
export function embeddedKernel(name: string): EmbeddedKernel | null {
  return BUILD_INFO?.kernels.find((k) => k.name === name) ?? null;
}

/** Extracts one embedded file into `<cacheRoot>/embedded/<hash>/<name>` (once) and returns its real path. */
export function extractEmbeddedFile(relative: string, cacheRoot: string): string {
  const hash = expectedHash(relative);
  const root = join(cacheRoot, EMBEDDED_CACHE_DIR_NAME);
  const dir = join(root, hash.slice(0, EXTRACT_HASH_HEX_DIGITS));
  const target = join(dir, basename(relative));
  // The common case, checked without creating anything: extracted before, into a private folder.
  if (isPrivateDir(root) && holds(target, hash)) return target;
  ensurePrivateRoot(root);
  return place(relative, hash, target, dir);
}

/**
 * Extracts every embedded file under the folder `relative` into `<cacheRoot>/embedded/<hash>/<folder>/`
 * (once; the hash covers the names and contents of all of them) and returns that real folder.
 */
export function extractEmbeddedDir(relative: string, cacheRoot: string): string {
  const prefix = relative.replace(/\/+$/, "") + "/";
  const files = Object.keys(filesTable()).filter((f) => f.startsWith(prefix)).sort();
  if (files.length === 0) throw new Error(`bug: nothing embedded under "${relative}"`);
  const tree = new Bun.CryptoHasher("sha256");
  for (const f of files) tree.update(`${f.slice(prefix.length)}\0${expectedHash(f)}\0`);
  const root = join(cacheRoot, EMBEDDED_CACHE_DIR_NAME);
  const top = join(root, tree.digest("hex").slice(0, EXTRACT_HASH_HEX_DIGITS));
  const out = join(top, basename(relative));
  const targets = files.map((f) => ({ f, hash: expectedHash(f), target: join(out, f.slice(prefix.length)) }));
  if (isPrivateDir(root) && targets.every((t) => holds(t.target, t.hash))) return out;
  ensurePrivateRoot(root);
  for (const t of targets) place(t.f, t.hash, t.target, top);
  return out;
}

function filesTable(): Readonly<Record<string, string>> {
  if (BUILD_INFO === null) throw new Error("bug: extracting an embedded file when running from source");
  return BUILD_INFO.files;
}

function expectedHash(relative: string): string {
  const hash = filesTable()[relative];
  if (hash === undefined) throw new Error(`bug: "${relative}" is not embedded`);
  return hash;
}

function sha256(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
}

/** The advice every extraction error ends with. */
function remedy(): string {
  const home = process.env.SUP_HOME;
  const now = home !== undefined && home !== "" ? `now "${home}"` : "unset, so ~/.sup is used";
  return `set SUP_HOME to a private directory you can write (${now})`;
}

function errnoText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  // Bun's messages already start with the code ("EACCES: permission denied, mkdir '…'").
  return code === undefined || e.message.startsWith(code) ? e.message : `${code}: ${e.message}`;
}

/** True when `dir` is a real directory (not a link) that this user owns and only this user can use. */
function isPrivateDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** True when `path` holds exactly the bytes whose sha256 is `hash`. */
function holds(path: string, hash: string): boolean {
  try {
    return sha256(readFileSync(path)) === hash;
  } catch {
    return false;
  }
}

/**
 * Creates `<cacheRoot>/embedded` owner-only, or makes an existing one owner-only. One that another
 * user owns, or a symbolic link, is refused: the libraries in it could be swapped under us.
 */
function ensurePrivateRoot(root: string): void {
  try {
    mkdirSync(root, { recursive: true, mode: PRIVATE_DIR_MODE });
    const st = lstatSync(root);
    if (!st.isDirectory()) throw new EmbeddedExtractError(`Cannot use "${root}" for embedded files: it is not a directory: ${remedy()}`);
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw new EmbeddedExtractError(`Cannot use "${root}" for embedded files: it belongs to user ${st.uid}, not ${uid}: ${remedy()}`);
    if ((st.mode & 0o077) !== 0) chmodSync(root, PRIVATE_DIR_MODE);
  } catch (e) {
    if (e instanceof EmbeddedExtractError) throw e;
    throw new EmbeddedExtractError(`Cannot create the directory "${root}" for the binary's embedded files: ${errnoText(e)}: ${remedy()}`);
  }
}

/**
 * Makes `target` hold the embedded file `relative` (whose sha256 is `hash`): kept when it already
 * does, else written to a temporary file beside it and renamed into place.
 */
function place(relative: string, hash: string, target: string, entryDir: string): string {
  if (holds(target, hash)) return target;
  const bytes = readFileSync(join(EMBEDDED_ROOT!, relative));
  if (sha256(bytes) !== hash) throw new EmbeddedExtractError(`Cannot extract "${relative}": the copy inside the sup binary is corrupt (its hash does not match the build's)`);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    mkdirSync(entryDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    mkdirSync(dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE });
    writeFileSync(temp, bytes, { mode: PRIVATE_FILE_MODE });
    renameSync(temp, target);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new EmbeddedExtractError(`Cannot extract "${relative}" from the sup binary into "${dirname(target)}": ${errnoText(e)}: ${remedy()}`);
  }
  return target;
}
