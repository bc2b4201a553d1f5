/**
 * Buffered program output to stdout. Program output is latin1 byte strings; it is collected and
 * written in large chunks (a program may print millions of small pieces), and flushed before
 * anything goes to stderr and before exit, so the two streams interleave sensibly on a terminal.
 */
import { writeSync } from "node:fs";

/** Bytes buffered before a write to the file descriptor. */
const FLUSH_BYTES = 64 * 1024;

/** A buffered writer of latin1 byte strings to a file descriptor. */
export class ByteOutput {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly fd: number) {}

  /** Appends bytes (a latin1 string). */
  readonly write = (bytes: string): void => {
    this.parts.push(bytes);
    this.size += bytes.length;
    if (this.size >= FLUSH_BYTES) this.flush();
  };

  /** Writes everything buffered. */
  flush(): void {
    if (this.size === 0) return;
    const buf = Buffer.from(this.parts.join(""), "latin1");
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(this.fd, buf, off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      }
    }
  }
}

/** Writes a line of text to stderr (UTF-8). */
export function errorLine(text: string): void {
  process.stderr.write(text + "\n");
}
