/**
 * Open files of one `fs` kernel instance, with C `fopen` semantics on top of raw descriptors. Each
 * handle keeps its own position and reads/writes with explicit offsets; append handles let the OS
 * place every write at the end. Writes are unbuffered, so `flush` has nothing to do and other
 * handles see data at once (the original's stdio buffer hid it until a flush or close).
 */
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";

/**
 * Largest read a handle serves, in bytes: the result becomes one latin1 JS string, and JavaScriptCore
 * caps strings at 2^31−1 characters; 1 GiB keeps well clear of that and of doubling memory use.
 */
export const READ_BYTES_MAX = 1 << 30;

/** File positions stay exact JS numbers; a seek beyond this fails like an out-of-range fseek. */
export const POSITION_MAX = Number.MAX_SAFE_INTEGER;

/**
 * Files one kernel instance keeps open at once. Handles outlive the program run that opened them
 * (a node shares one instance between requests), so code that never closes what it opens would
 * otherwise use up the process's descriptors, sockets included; past this, open fails (-1) as fopen
 * does at EMFILE. A few hundred is far beyond what a program works on at a time.
 */
export const OPEN_FILES_MAX = 256;

/** Permission bits for files fopen creates (before the umask), as C's fopen uses. */
const CREATE_MODE = 0o666;

/** glibc reads at most this many mode characters after the first. */
const MODE_FLAGS_MAX = 6;

interface OpenFile {
  readonly fd: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly append: boolean;
  pos: number;
}

interface ParsedMode {
  readonly flags: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly append: boolean;
}

/** Parses an fopen mode the way glibc does: r/w/a first, then `+`, `x` and ignored letters. */
export function parseMode(mode: string): ParsedMode | null {
  const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL } = constants;
  let flags: number;
  let readable = false;
  let writable = false;
  let append = false;
  switch (mode[0]) {
    case "r":
      flags = O_RDONLY;
      readable = true;
      break;
    case "w":
      flags = O_WRONLY | O_CREAT | O_TRUNC;
      writable = true;
      break;
    case "a":
      flags = O_WRONLY | O_CREAT | O_APPEND;
      writable = true;
      append = true;
      break;
    default:
      return null;
  }
  for (let i = 1; i <= MODE_FLAGS_MAX && i < mode.length; i++) {
    const c = mode[i];
    if (c === "\0") break; // The mode reaches fopen as a C string.
    if (c === "+") {
      flags = (flags & ~(O_RDONLY | O_WRONLY | O_RDWR)) | O_RDWR;
      readable = writable = true;
    } else if (c === "x") flags |= O_EXCL;
    // Every other character (b, e, m, c, anything) is ignored, as glibc does.
  }
  return { flags, readable, writable, append };
}

/** Reads up to `want` bytes at `pos`, retrying short reads; returns the bytes actually read. */
function readAt(fd: number, pos: number, want: number): Buffer {
  const buf = Buffer.allocUnsafe(want);
  let got = 0;
  while (got < want) {
    const n = readSync(fd, buf, got, want - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Bytes as a latin1 string cut at the first NUL (the original builds results from C strings). */
function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString("latin1", 0, nul === -1 ? b.length : nul);
}

/** Handle numbers start at 1 and are never reused; a closed handle stays invalid. */
export class FileTable {
  private next = 1;
  private readonly files = new Map<number, OpenFile>();

  /** Opens path with an fopen mode → new handle, or -1. */
  open(path: Buffer, mode: string): number {
    const m = parseMode(mode);
    if (m === null || this.files.size >= OPEN_FILES_MAX) return -1;
    let fd: number;
    try {
      fd = openSync(path, m.flags, CREATE_MODE);
    } catch {
      return -1;
    }
    // glibc starts a write-only append stream at the end; "a+" starts at 0 for reading.
    let pos = 0;
    if (m.append && !m.readable) pos = safeSize(fd) ?? 0;
    const h = this.next++;
    this.files.set(h, { fd, readable: m.readable, writable: m.writable, append: m.append, pos });
    return h;
  }

  private file(h: number | bigint): OpenFile | undefined {
    return typeof h === "number" ? this.files.get(h) : undefined;
  }

  /** The whole file from offset 0, cut at NUL; leaves the position at the end. null on failure. */
  readAll(h: number | bigint): string | null {
    const f = this.file(h);
    if (f === undefined) return null;
    const size = safeSize(f.fd);
    if (size === null) return null;
    // The original seeks to 0 before its read fails on a non-readable stream.
    f.pos = 0;
    if (!f.readable || size > READ_BYTES_MAX) return null;
    try {
      const b = readAt(f.fd, 0, size);
      f.pos = b.length;
      return cString(b);
    } catch {
      return null; // e.g. EISDIR: a directory opened with "r".
    }
  }

  /** Up to n bytes from the position (advancing it), cut at NUL; null on failure. */
  readBytes(h: number | bigint, n: number | bigint): string | null {
    const f = this.file(h);
    if (f === undefined || n < 0 || !f.readable) return null;
    const size = safeSize(f.fd);
    if (size === null) return null;
    const want = Math.min(Number(n), Math.max(0, size - f.pos), READ_BYTES_MAX);
    if (want === 0) return "";
    try {
      const b = readAt(f.fd, f.pos, want);
      f.pos += b.length;
      return cString(b);
    } catch {
      return null;
    }
  }

  /** Writes all bytes at the position (append handles: at the end) → count, or -1. */
  write(h: number | bigint, data: string): number {
    const f = this.file(h);
    if (f === undefined || !f.writable) return -1;
    const b = Buffer.from(data, "latin1");
    try {
      let done = 0;
      while (done < b.length) {
        // O_APPEND makes the OS put each write at the end whatever offset we pass.
        const n = writeSync(f.fd, b, done, b.length - done, f.append ? null : f.pos + done);
        if (n === 0) return -1;
        done += n;
      }
      f.pos = f.append ? (safeSize(f.fd) ?? f.pos + done) : f.pos + done;
      return done;
    } catch {
      return -1;
    }
  }

  /** Moves the position (whence 0 start, 1 current, 2 end) → new position, or -1. */
  seek(h: number | bigint, offset: number | bigint, whence: number | bigint): number {
    const f = this.file(h);
    if (f === undefined || (whence !== 0 && whence !== 1 && whence !== 2)) return -1;
    let base = 0;
    if (whence === 1) base = f.pos;
    else if (whence === 2) {
      const size = safeSize(f.fd);
      if (size === null) return -1;
      base = size;
    }
    const target = BigInt(base) + BigInt(offset);
    if (target < 0n || target > BigInt(POSITION_MAX)) return -1;
    f.pos = Number(target);
    return f.pos;
  }

  /** Current position, or -1. */
  tell(h: number | bigint): number {
    return this.file(h)?.pos ?? -1;
  }

  /** File size in bytes (position unchanged), or -1. */
  size(h: number | bigint): number {
    const f = this.file(h);
    return f === undefined ? -1 : (safeSize(f.fd) ?? -1);
  }

  /** Nothing is buffered, so flushing an open handle always succeeds → 0, or -1. */
  flush(h: number | bigint): number {
    return this.file(h) === undefined ? -1 : 0;
  }

  /** Closes a handle → 0, or -1 when it is unknown or already closed. */
  close(h: number | bigint): number {
    const f = this.file(h);
    if (f === undefined) return -1;
    this.files.delete(h as number);
    try {
      closeSync(f.fd);
    } catch {
      // The handle is gone either way; a failed close cannot be retried.
    }
    return 0;
  }

  /** Closes every open handle (kernel shutdown). */
  closeAll(): void {
    for (const h of [...this.files.keys()]) this.close(h);
  }
}

function safeSize(fd: number): number | null {
  try {
    return fstatSync(fd).size;
  } catch {
    return null;
  }
}
