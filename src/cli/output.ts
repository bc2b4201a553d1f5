/**
 * What the CLI writes. Program output is latin1 byte strings, buffered and written in large chunks
 * (a program may print millions of small pieces) and flushed before anything goes to stderr and
 * before exit, so the two streams interleave sensibly on a terminal. Command output (listings,
 * reports) is UTF-8 text written at once.
 *
 * Every write to stdout is synchronous and checked: output that cannot be written (a closed
 * stdout, a pipe whose reader is gone, a full disk) is an OutputError, which the entry point
 * reports on stderr with a non-zero exit, never a silent success.
 */
import { readFileSync, readlinkSync, writeSync } from "node:fs";
import { SupError } from "../errors.ts";

/** Bytes buffered before a write to the file descriptor. */
const FLUSH_BYTES = 64 * 1024;

/**
 * How long a write waits for a non-blocking stdout whose reader is not keeping up before it tries
 * again: short, so output stays prompt, and not a busy loop.
 */
const WRITE_RETRY_MS = 1;

/** O_CLOEXEC in /proc/PID/fdinfo flags (octal, Linux). */
const O_CLOEXEC = 0o2000000;

/** Output could not be written to stdout; `code` is `output`. */
export class OutputError extends SupError {
  constructor(detail: string) {
    super("output", `Cannot write output to stdout: ${detail}`);
  }
}

let closedAtStart: boolean | undefined;

/**
 * True when stdout was closed when sup started (`sup run prog >&-`). Bun then opens /dev/null as
 * fd 1 so that nothing else lands there; it opens it close-on-exec, which a descriptor inherited
 * from the parent can never be (exec would have closed it), so that flag tells the two apart.
 * `> /dev/null` is an inherited descriptor and is written to as usual.
 */
export function stdoutClosedAtStart(): boolean {
  if (closedAtStart !== undefined) return closedAtStart;
  closedAtStart = false;
  if (process.platform !== "linux") return false;
  try {
    const flags = /^flags:\s*([0-7]+)$/m.exec(readFileSync("/proc/self/fdinfo/1", "latin1"))?.[1];
    closedAtStart = flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) !== 0 && readlinkSync("/proc/self/fd/1") === "/dev/null";
  } catch {
    // No /proc: nothing to tell; writes still report their own failures.
  }
  return closedAtStart;
}

/** The reason a write failed, for a message: `no space left on device (ENOSPC)`. */
function writeFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case "EPIPE":
      return "the reading end of the pipe is closed (EPIPE)";
    case "ENOSPC":
      return "no space left on device (ENOSPC)";
    case "EBADF":
      return "stdout is closed (EBADF)";
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

/** Writes all of `buf` to `fd`, waiting out a non-blocking descriptor's EAGAIN; OutputError on failure. */
function writeAll(fd: number, buf: Uint8Array): void {
  if (buf.length === 0) return;
  if (fd === 1 && stdoutClosedAtStart()) throw new OutputError("stdout was closed when sup started");
  let off = 0;
  let pause: Int32Array | null = null;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw new OutputError(writeFailure(e));
      Atomics.wait((pause ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, WRITE_RETRY_MS);
    }
  }
}

/** Writes command output (UTF-8 text) to stdout now; throws OutputError when it cannot. */
export function writeOut(text: string): void {
  writeAll(1, Buffer.from(text, "utf8"));
}

/** A buffered writer of latin1 byte strings to a file descriptor. */
export class ByteOutput {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly fd: number) {}

  /** Appends bytes (a latin1 string); throws OutputError when a flush it causes fails. */
  readonly write = (bytes: string): void => {
    this.parts.push(bytes);
    this.size += bytes.length;
    if (this.size >= FLUSH_BYTES) this.flush();
  };

  /** Writes everything buffered; what cannot be written is dropped and reported as an OutputError. */
  flush(): void {
    if (this.size === 0) return;
    const buf = Buffer.from(this.parts.join(""), "latin1");
    this.parts = [];
    this.size = 0;
    writeAll(this.fd, buf);
  }
}

/** Writes a line of text to stderr (UTF-8). */
export function errorLine(text: string): void {
  process.stderr.write(text + "\n");
}
