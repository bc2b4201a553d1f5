/**
 * A store never loses an acknowledged write: a child process writes code as fast as it can and
 * prints each version after putCode returned; we SIGKILL it mid-stream, reopen the database, and
 * every printed version must be there, with SQLite's integrity check clean. Several rounds on the
 * same file, so recovery after a crash is itself crashed into.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../src/store/mod.ts";

const BUN = process.execPath;
const WRITER = join(import.meta.dir, "support", "store-writer.ts");
/** Acknowledged writes to wait for before each kill. */
const ACKS_BEFORE_KILL = 300;
/** Crash-and-recover rounds on one database. */
const ROUNDS = 3;
/** A round that takes longer than this has hung; the child is killed and the test fails. */
const ROUND_TIMEOUT_MS = 20_000;

const dir = mkdtempSync(join(tmpdir(), "sup-store-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ack {
  readonly name: string;
  readonly version: number;
  readonly seq: number;
}

/** Runs the writer until it acknowledged ACKS_BEFORE_KILL writes, SIGKILLs it, returns every ack it printed. */
async function crashWriter(dbPath: string): Promise<{ acks: Ack[]; signal: NodeJS.Signals | number | null }> {
  const child = Bun.spawn([BUN, WRITER, dbPath], { stdout: "pipe", stderr: "pipe" });
  const hang = setTimeout(() => child.kill("SIGKILL"), ROUND_TIMEOUT_MS);
  const acks: Ack[] = [];
  let pending = "";
  const decoder = new TextDecoder();
  try {
    // Keep reading after the kill: lines already in the pipe were acknowledged before it.
    for await (const chunk of child.stdout) {
      pending += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const m = /^(.*) (\d+) (\d+)$/.exec(line);
        if (m === null) throw new Error(`writer printed an unexpected line: ${JSON.stringify(line)}`);
        acks.push({ name: m[1] ?? "", version: Number(m[2]), seq: Number(m[3]) });
      }
      if (acks.length >= ACKS_BEFORE_KILL && child.exitCode === null) child.kill("SIGKILL");
    }
    await child.exited;
  } finally {
    clearTimeout(hang);
    child.kill("SIGKILL");
  }
  if (child.signalCode !== "SIGKILL") console.error(await new Response(child.stderr).text());
  return { acks, signal: child.signalCode };
}

test(
  "every acknowledged write survives SIGKILL, and the database stays intact",
  async () => {
    const dbPath = join(dir, "sup.db");
    let lastSeq = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { acks, signal } = await crashWriter(dbPath);
      expect(signal).toBe("SIGKILL");
      expect(acks.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

      const store = Store.open(dbPath);
      try {
        expect(store.checkIntegrity()).toEqual([]);
        for (const ack of acks) {
          const v = store.getCode("default", ack.name, ack.version);
          expect(v?.seq).toBe(ack.seq);
        }
        // The log has no gaps, and holds at least every acknowledged change.
        const changes = store.changesSince(lastSeq);
        expect(changes.map((c) => c.seq)).toEqual(changes.map((_, i) => lastSeq + i + 1));
        expect(store.seq).toBeGreaterThanOrEqual(acks[acks.length - 1]?.seq ?? 0);
        expect(acks[0]?.seq).toBe(lastSeq + 1);
        lastSeq = store.seq;
      } finally {
        store.close();
      }
    }
  },
  ROUNDS * ROUND_TIMEOUT_MS,
);
