/**
 * Structured logs on stderr: `level message key=value …`. The level comes from SUP_LOG
 * (debug, info, warn, error; default warn for CLI commands so program runs stay quiet).
 *
 * A node logs one info line per request, so info and debug lines are buffered and written together
 * at the end of the event-loop turn, and under load at most once per LOG_FLUSH_MS: one write for all
 * the requests answered meanwhile instead of one each. Warnings and errors are written at once,
 * after anything buffered, so they are never late and lines keep their order. What is still
 * buffered when the process exits is written synchronously then, so a stopping node loses no lines.
 * While stderr takes no more (a write returned false and it has not drained), lines are held up to
 * LOG_STALLED_BYTES_MAX and the rest dropped and counted, so a reader that stops cannot make the
 * process hold its log without end.
 */
import { writeSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

let threshold: number = RANK[(process.env.SUP_LOG as LogLevel) ?? "warn"] ?? RANK.warn;

/**
 * Buffered log bytes written without waiting for the end of the turn: bounds the memory a long
 * synchronous stretch of logging can take, and 64 KiB is one pipe's worth, written in one go.
 */
const LOG_BUFFER_BYTES_MAX = 64 * 1024;

/**
 * How long the exit flush waits for a stderr pipe whose reader is not keeping up. Past it the
 * reader is taken to be gone, and the process exits rather than hang.
 */
const LOG_EXIT_FLUSH_MS_MAX = 5_000;

/**
 * Shortest time between two writes of buffered lines. Under load a turn answers only a few
 * requests, and a write per turn (a system call and a stream hop) cost more than the lines
 * themselves; 10 ms keeps lines timely and writes at 100 per second at most.
 */
const LOG_FLUSH_MS = 10;

/**
 * Buffered lines, encoded as they are logged into one buffer that is handed to stderr whole and
 * replaced: a string growing by a line per request, flattened and encoded at each write, made
 * garbage the collector then spent much of a busy node's time on.
 */
let pending = Buffer.allocUnsafe(LOG_BUFFER_BYTES_MAX);
/** Node's and Bun's Buffer method that writes UTF-8 at an offset and returns the bytes written. */
export type Utf8Writable = Buffer & { utf8Write(text: string, offset: number): number };
let pendingBytes = 0;
let lastFlush = 0;
let flushScheduled = false;

/**
 * Log bytes held while stderr takes no more (its reader is slow, stopped or gone). Past it lines
 * are dropped and counted, and the count is logged once stderr drains: a node whose log nobody
 * reads must not queue every request's line in memory.
 */
const LOG_STALLED_BYTES_MAX = 1024 * 1024;

/** stderr refused more (a write returned false) and has not drained since. */
let stalled = false;
/** What was flushed while stalled, in order, and its size. */
let held: (Buffer | string)[] = [];
let heldBytes = 0;
/** Lines dropped while stalled with LOG_STALLED_BYTES_MAX held. */
let dropped = 0;

/** Sets the lowest level that is written. */
export function setLogLevel(level: LogLevel): void {
  threshold = RANK[level];
}

/** True when lines of this level are written (lets hot paths skip building fields). */
export function logEnabled(level: LogLevel): boolean {
  return RANK[level] >= threshold;
}

/** Characters that make a value need quoting to stay one `key=value` token. */
const NEEDS_QUOTES = /[\s"=]/;

/** A value as it is written after `key=` in a line: quoted when it holds spaces, quotes or `=`. */
export function logValue(v: unknown): string {
  // Numbers are the most common field and never need quoting; JSON would write non-finite ones as null.
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return NEEDS_QUOTES.test(s) ? JSON.stringify(s) : s;
}

/** Writes one log line if its level is enabled. */
export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  if (RANK[level] < threshold) return;
  let text = "";
  for (const k in fields) text += ` ${k}=${logValue(fields[k])}`;
  logFormatted(level, message, text);
}

/**
 * Writes one log line whose fields are already formatted (` key=value …`, each value through
 * logValue), if its level is enabled: for lines written per request, most of whose fields can be
 * formatted once and reused.
 */
export function logFormatted(level: LogLevel, message: string, fieldsText: string): void {
  const rank = RANK[level];
  if (rank < threshold) return;
  const line = `${level} ${message}${fieldsText}\n`;
  if (stalled && heldBytes + pendingBytes + line.length * 3 > LOG_STALLED_BYTES_MAX) {
    dropped++;
    return;
  }
  if (rank >= RANK.warn) {
    flushLog();
    writeStderr(line);
    return;
  }
  // A line of up to 3 bytes per character always fits in a buffer written out first.
  if (pendingBytes + line.length * 3 > LOG_BUFFER_BYTES_MAX) flushLog();
  if (line.length * 3 > LOG_BUFFER_BYTES_MAX) {
    writeStderr(line);
    return;
  }
  // utf8Write takes no encoding name to parse: half the cost of write(line, at, "utf8") a line.
  pendingBytes += (pending as Utf8Writable).utf8Write(line, pendingBytes);
  scheduleFlush();
}

/** How a line of `level` starts (`level message`), for callers that write lines in place. */
export function logLineStart(level: LogLevel, message: string): string {
  return `${level} ${message}`;
}

/**
 * Room for one buffered line (info or debug) of at most `maxBytes` bytes, written in place: the
 * caller writes the whole line, logLineStart to newline, into logBuffer() from the returned offset
 * and hands the end to logCommit before anything else is logged. For a line written per request,
 * made without building a string. -1 when lines of this level are not written, or when this one
 * is dropped (stderr takes no more); a line of more than LOG_BUFFER_BYTES_MAX bytes cannot be written this way.
 */
export function logReserve(level: "info" | "debug", maxBytes: number): number {
  if (RANK[level] < threshold || maxBytes > LOG_BUFFER_BYTES_MAX) return -1;
  if (stalled && heldBytes + pendingBytes + maxBytes > LOG_STALLED_BYTES_MAX) {
    dropped++;
    return -1;
  }
  if (pendingBytes + maxBytes > LOG_BUFFER_BYTES_MAX) flushLog();
  return pendingBytes;
}

/** The buffer logReserve's offset is in (valid until logCommit). */
export function logBuffer(): Buffer & Utf8Writable {
  return pending as Buffer & Utf8Writable;
}

/** Ends a line written in place after logReserve: `end` is the offset after its newline. */
export function logCommit(end: number): void {
  pendingBytes = end;
  scheduleFlush();
}

function scheduleFlush(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  const wait = lastFlush + LOG_FLUSH_MS - performance.now();
  if (wait <= 0) setImmediate(flushAtTurnEnd);
  // Unreferenced: a program that is done does not wait for it (the exit flush writes the rest).
  else setTimeout(flushAtTurnEnd, wait).unref();
}

/** Writes the buffered lines now (tests that capture stderr call it before they stop capturing). */
export function flushLog(): void {
  if (pendingBytes === 0) return;
  lastFlush = performance.now();
  // The stream may write later: it keeps this buffer, and logging goes on in a new one.
  const bytes = pending.subarray(0, pendingBytes);
  pending = Buffer.allocUnsafe(LOG_BUFFER_BYTES_MAX);
  pendingBytes = 0;
  writeStderr(bytes);
}

/** Writes to stderr, or holds the text while stderr takes no more; a refused write starts holding. */
function writeStderr(text: Buffer | string): void {
  if (stalled) {
    held.push(text);
    heldBytes += typeof text === "string" ? Buffer.byteLength(text) : text.byteLength;
    return;
  }
  if (process.stderr.write(text)) return;
  stalled = true;
  process.stderr.once("drain", resume);
}

/** stderr drained: what was held goes out in order, then how many lines could not be held. */
function resume(): void {
  stalled = false;
  const out = held;
  held = [];
  heldBytes = 0;
  if (dropped > 0) {
    out.push(droppedNotice());
    dropped = 0;
  }
  for (const text of out) writeStderr(text);
}

function droppedNotice(): string {
  return `warn log lines dropped count=${dropped} reason="stderr was not being read"\n`;
}

function flushAtTurnEnd(): void {
  flushScheduled = false;
  flushLog();
}

/**
 * At exit a stream write may be dropped (Bun discards what a full pipe has not taken), so the last
 * lines go straight to fd 2, waiting for a slow reader within LOG_EXIT_FLUSH_MS_MAX.
 */
function flushAtExit(): void {
  const parts = [...held.map((h) => (typeof h === "string" ? Buffer.from(h) : h)), pending.subarray(0, pendingBytes)];
  if (dropped > 0) parts.push(Buffer.from(droppedNotice()));
  held = [];
  pendingBytes = 0;
  dropped = 0;
  const bytes = Buffer.concat(parts);
  if (bytes.byteLength === 0) return;
  const deadline = performance.now() + LOG_EXIT_FLUSH_MS_MAX;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let at = 0;
  while (at < bytes.byteLength) {
    try {
      at += writeSync(2, bytes, at);
    } catch (e) {
      // EAGAIN: stderr is a non-blocking pipe that is full; anything else cannot be retried.
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN" || performance.now() > deadline) return;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

process.on("exit", flushAtExit);
