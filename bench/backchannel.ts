/**
 * `bun run bench --only backchannel` (or `bun bench/backchannel.ts`): the encrypted backchannel
 * against raw Bun TCP with the same framing, side by side in one run on loopback.
 *
 * Both sides send the same codec-encoded message `(bench 1 PAYLOAD)` in `u32 length | body`
 * frames, write in batches at the end of each microtask, honour backpressure (a bounded queue and
 * the socket's drain) and decode every message on arrival; the only difference is the AEAD
 * (AES-256-GCM by default, `--suite secretbox` for the reference suite) and the handshake. Sender
 * and receiver run in this one process (one JS thread), so the figures are end-to-end CPU cost.
 *
 * 1. Throughput at 64 B, 1 KiB and 64 KiB payloads: messages/s and MB/s of payload, and the
 *    encrypted/raw ratio (targets: ≥ 30 % at 64 B, ≥ 50 % at 64 KiB); raw and encrypted runs
 *    alternate in rounds and the median round of each is shown, with the process CPU time per
 *    message (user + system), which a busy machine disturbs less than wall time.
 * 2. Round trip of a 64 B message (ping-pong, one at a time): p50 and p99.
 * 3. Handshake: dial until the handshake is done, and connect until the listener has the first
 *    message (target: median < 5 ms).
 * 4. Memory per idle connection (measured first, in a fresh process): N authenticated connections
 *    held open, heap and RSS growth after a full GC divided by N (each connection has both its
 *    ends in this process, so one end costs about half).
 *
 * Options: --scale F (message counts ×F, default 1), --suite aes256gcm|secretbox, --idle N.
 */
import type { Socket } from "bun";
import { parseArgs } from "node:util";
import { decode, encodeView } from "../src/lang/codec.ts";
import { List, str, sym, T_PAREN } from "../src/lang/value.ts";
import { Backchannel } from "../src/net/backchannel.ts";
import { FrameReader, plainFrame } from "../src/net/frame-reader.ts";
import { FRAME_BYTES_MAX, SEND_QUEUE_BYTES_LOW, SEND_QUEUE_BYTES_MAX } from "../src/net/limits.ts";
import type { SuiteName } from "../src/net/suite.ts";
import { TestCluster } from "../test/support/identities.ts";

const SIZES = [
  { label: "64 B", bytes: 64, count: 200_000 },
  { label: "1 KiB", bytes: 1024, count: 100_000 },
  { label: "64 KiB", bytes: 65_536, count: 6_000 },
];
const ROUND_TRIPS = 5_000;
/** Alternating raw/encrypted rounds per payload size. */
const ROUNDS = 5;
const HANDSHAKES = 60;
const WRITE_BATCH_BYTES = 64 * 1024;

function message(payload: string): List {
  return new List(T_PAREN, [sym("bench"), 1, str(payload)]);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

// ------------------------------------------------------------------------------------------------
// Raw TCP with the same framing, batching and backpressure as the backchannel's Connection.

class RawEnd {
  private out: Uint8Array[] = [];
  private outBytes = 0;
  private blocked = false;
  private scheduled = false;
  private waiters: (() => void)[] = [];
  readonly reader = new FrameReader(FRAME_BYTES_MAX);
  constructor(
    readonly socket: Socket<RawEnd | null>,
    readonly onMessage: (m: List) => void,
  ) {}

  send(m: List): "sent" | "full" {
    const body = encodeView(m);
    if (this.outBytes + 4 + body.length > SEND_QUEUE_BYTES_MAX) return "full";
    const f = plainFrame(body);
    this.out.push(f);
    this.outBytes += f.length;
    if (!this.blocked && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
    return "sent";
  }

  drained(): Promise<void> {
    return this.outBytes <= SEND_QUEUE_BYTES_LOW ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }

  data(chunk: Uint8Array): void {
    this.reader.push(chunk, (body) => {
      const r = decode(body);
      if (r.ok) this.onMessage(r.value as List);
      return true;
    });
  }

  flush(): void {
    this.scheduled = false;
    const out = this.out;
    while (out.length > 0 && !this.blocked) {
      let count = 1;
      let batch = out[0]!;
      if (batch.length < WRITE_BATCH_BYTES && out.length > 1) {
        let size = batch.length;
        while (count < out.length && size < WRITE_BATCH_BYTES) size += out[count++]!.length;
        batch = Buffer.concat(out.slice(0, count), size);
      }
      const n = this.socket.write(batch);
      if (n < 0) return;
      this.outBytes -= n;
      if (n < batch.length) {
        out.splice(0, count, batch.subarray(n));
        this.blocked = true;
      } else out.splice(0, count);
    }
    if (this.outBytes <= SEND_QUEUE_BYTES_LOW) for (const w of this.waiters.splice(0)) w();
  }

  drain(): void {
    this.blocked = false;
    this.flush();
  }
}

/** A sender and a receiver end of either kind. */
interface Pair {
  send(m: List): "sent" | "full" | string;
  drained(): Promise<void>;
  onReceive: (m: List) => void;
  /** The receiver answers on this (ping-pong). */
  reply(m: List): void;
  onReply: (m: List) => void;
  close(): Promise<void>;
}

export async function rawPair(): Promise<Pair> {
  const pair = { onReceive: (_m: List) => {}, onReply: (_m: List) => {} } as Pair;
  let serverEnd: RawEnd | null = null;
  const handlers = (make: (s: Socket<RawEnd | null>) => RawEnd) => ({
    binaryType: "uint8array" as const,
    open: (s: Socket<RawEnd | null>) => {
      s.setNoDelay(true);
      s.data = make(s);
    },
    data: (s: Socket<RawEnd | null>, d: Uint8Array) => s.data!.data(d),
    drain: (s: Socket<RawEnd | null>) => s.data!.drain(),
  });
  const listener = Bun.listen<RawEnd | null>({ hostname: "127.0.0.1", port: 0, socket: handlers((s) => (serverEnd = new RawEnd(s, (m) => pair.onReceive(m)))) });
  let clientEnd: RawEnd | null = null;
  await Bun.connect<RawEnd | null>({ hostname: "127.0.0.1", port: listener.port, data: null, socket: handlers((s) => (clientEnd = new RawEnd(s, (m) => pair.onReply(m)))) });
  while (serverEnd === null || clientEnd === null) await Bun.sleep(1);
  const c = clientEnd as RawEnd;
  const sv = serverEnd as RawEnd;
  pair.send = (m) => c.send(m);
  pair.drained = () => c.drained();
  pair.reply = (m) => void sv.send(m);
  pair.close = async () => {
    c.socket.end();
    listener.stop(true);
  };
  return pair;
}

export async function securePair(cluster: TestCluster, suite: SuiteName): Promise<Pair> {
  const pair = { onReceive: (_m: List) => {}, onReply: (_m: List) => {} } as Pair;
  const server = Backchannel.start({ identity: cluster.node("server"), listen: { host: "127.0.0.1", port: 0 }, suites: [suite], onMessage: (_p, m) => pair.onReceive(m) });
  const client = Backchannel.start({ identity: cluster.node("client"), suites: [suite], onMessage: (_p, m) => pair.onReply(m) });
  await client.dial("127.0.0.1", server.address!.port);
  pair.send = (m) => client.send("server", m);
  pair.drained = () => client.drained("server");
  pair.reply = (m) => void server.send("client", m);
  pair.close = async () => {
    await client.close();
    await server.close();
  };
  return pair;
}

/** Sends `count` messages as fast as backpressure allows; resolves when the receiver has them all. */
export async function throughput(pair: Pair, bytes: number, count: number): Promise<{ msgs: number; mbs: number; cpuUs: number }> {
  const m = message("x".repeat(bytes));
  let got = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  pair.onReceive = () => {
    if (++got === count) done();
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let sent = 0; sent < count; ) {
    const r = pair.send(m);
    if (r === "sent") sent++;
    else if (r === "full") await pair.drained();
    else throw new Error(`send failed: ${r}`);
    // Let the event loop run now and then, as a real node would between messages.
    if ((sent & 1023) === 0) await Promise.resolve();
  }
  await all;
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { msgs: count / s, mbs: (count * bytes) / s / 1e6, cpuUs: (cpu.user + cpu.system) / count };
}

async function roundTrips(pair: Pair, n: number): Promise<{ p50: number; p99: number }> {
  const m = message("x".repeat(64));
  pair.onReceive = (msg) => pair.reply(msg);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((r) => {
      pair.onReply = () => r();
      pair.send(m);
    });
    times.push(performance.now() - t0);
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function handshakes(cluster: TestCluster, suite: SuiteName, n: number): Promise<{ dial: number; firstFrame: number }> {
  let firstAt = 0;
  const server = Backchannel.start({ identity: cluster.node("hs-server"), listen: { host: "127.0.0.1", port: 0 }, suites: [suite], onMessage: () => void (firstAt = performance.now()) });
  const clients = Array.from({ length: n }, (_, i) => cluster.node(`hs-${i}`));
  const dial: number[] = [];
  const first: number[] = [];
  for (const identity of clients) {
    const c = Backchannel.start({ identity, suites: [suite] });
    firstAt = 0;
    const t0 = performance.now();
    await c.dial("127.0.0.1", server.address!.port);
    dial.push(performance.now() - t0);
    c.send("hs-server", message("hi"));
    while (firstAt === 0) await Bun.sleep(0);
    first.push(firstAt - t0);
    await c.close();
  }
  await server.close();
  return { dial: percentile(dial.slice(5), 50), firstFrame: percentile(first.slice(5), 50) };
}

async function idleMemory(cluster: TestCluster, n: number): Promise<{ heap: number; rss: number }> {
  const server = Backchannel.start({ identity: cluster.node("idle-server"), listen: { host: "127.0.0.1", port: 0 } });
  const ids = Array.from({ length: n }, (_, i) => cluster.node(`idle-${i}`));
  // One dialer per identity; the dialers themselves are made before measuring.
  const dialers = ids.map((identity) => Backchannel.start({ identity }));
  Bun.gc(true);
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  for (const d of dialers) await d.dial("127.0.0.1", server.address!.port);
  await Bun.sleep(200);
  Bun.gc(true);
  const heap = (process.memoryUsage().heapUsed - heap0) / n;
  const rss = (process.memoryUsage().rss - rss0) / n;
  for (const d of dialers) await d.close();
  await server.close();
  return { heap, rss };
}

const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

/** Runs the benchmark and prints its table; returns the number of failures (always 0: figures only). */
export async function backchannelBench(argv: string[] = []): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { scale: { type: "string" }, suite: { type: "string" }, idle: { type: "string" } } });
  const scale = Number(values.scale ?? 1);
  const suite = (values.suite ?? "aes256gcm") as SuiteName;
  const idle = Number(values.idle ?? 200);
  const cluster = new TestCluster();
  console.log(`backchannel benchmark: raw Bun TCP vs encrypted (${suite}), same framing and codec, loopback, one process`);
  console.log(`Bun ${Bun.version}, ${new Date().toISOString()}\n`);
  // Memory first, while the process is fresh: later runs leave freed memory that RSS would absorb.
  const mem = await idleMemory(cluster, idle);
  console.log(`memory per idle connection (${idle} connections, both ends in this process, after a full GC): JS heap ${kib(mem.heap)}, RSS ${kib(mem.rss)}\n`);
  console.log("payload   raw msg/s    raw MB/s   enc msg/s    enc MB/s   enc/raw   raw CPU µs/msg   enc CPU µs/msg");
  const raw = await rawPair();
  const enc = await securePair(cluster, suite);
  for (const s of SIZES) {
    const count = Math.max(100, Math.round(s.count * scale * (suite === "secretbox" && s.bytes > 1024 ? 0.1 : 1)));
    // A short warm-up of each, then ROUNDS alternating runs; the median round of each is shown,
    // so a burst of other work on a shared machine lands on both sides rather than one.
    await throughput(raw, s.bytes, Math.ceil(count / 10));
    await throughput(enc, s.bytes, Math.ceil(count / 10));
    const rs: { msgs: number; mbs: number; cpuUs: number }[] = [];
    const es: { msgs: number; mbs: number; cpuUs: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rs.push(await throughput(raw, s.bytes, Math.ceil(count / ROUNDS)));
      es.push(await throughput(enc, s.bytes, Math.ceil(count / ROUNDS)));
    }
    const mid = <T extends { msgs: number }>(xs: T[]) => [...xs].sort((a, b) => a.msgs - b.msgs)[Math.floor(xs.length / 2)]!;
    const r = mid(rs);
    const e = mid(es);
    console.log(
      `${s.label.padEnd(8)} ${r.msgs.toFixed(0).padStart(10)} ${r.mbs.toFixed(1).padStart(10)} ${e.msgs.toFixed(0).padStart(11)} ${e.mbs.toFixed(1).padStart(11)} ${((100 * e.msgs) / r.msgs).toFixed(0).padStart(8)} % ${r.cpuUs.toFixed(2).padStart(16)} ${e.cpuUs.toFixed(2).padStart(16)}`,
    );
  }
  const n = Math.max(200, Math.round(ROUND_TRIPS * scale));
  await roundTrips(raw, 200);
  await roundTrips(enc, 200);
  const rr = await roundTrips(raw, n);
  const er = await roundTrips(enc, n);
  console.log(`\nround trip of 64 B (${n} ping-pongs): raw p50 ${(rr.p50 * 1000).toFixed(0)} µs p99 ${(rr.p99 * 1000).toFixed(0)} µs; encrypted p50 ${(er.p50 * 1000).toFixed(0)} µs p99 ${(er.p99 * 1000).toFixed(0)} µs`);
  await raw.close();
  await enc.close();
  const hs = await handshakes(cluster, suite, HANDSHAKES);
  console.log(`handshake (median of ${HANDSHAKES - 5}): dial to established ${hs.dial.toFixed(2)} ms; connect to first frame at the listener ${hs.firstFrame.toFixed(2)} ms (target < 5 ms)`);
  return 0;
}

if (import.meta.main) {
  void backchannelBench(process.argv.slice(2)).then((f) => process.exit(f));
}
