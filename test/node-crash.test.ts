/**
 * A node killed with SIGKILL in the middle of a stream of code writes: after a restart every write
 * the admin interface acknowledged is there, with its source, and the store passes SQLite's
 * integrity check.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Store } from "../src/store/mod.ts";
import { NodeSandbox } from "./support/node-process.ts";

const box = new NodeSandbox();
afterAll(() => box.cleanup());

type Ack = { name: string; version: number; body: string };

async function adminCall(data: string, method: "GET" | "POST", path: string, body?: unknown): Promise<{ ok?: unknown; error?: { message: string } }> {
  const r = await fetch(`http://localhost${path}`, { unix: join(data, "admin.sock"), method, body: body === undefined ? undefined : JSON.stringify(body) });
  return (await r.json()) as { ok?: unknown; error?: { message: string } };
}

test("every acknowledged code write survives SIGKILL, and the store is intact", async () => {
  const data = box.dataDir();
  const first = await box.start(data);
  const acked: Ack[] = [];
  let stop = false;
  // Four writers at once, so the kill lands while several writes are in flight.
  const writer = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const name = `GET /w${w}`;
      const body = `writer ${w} write ${i}`;
      try {
        const r = await adminCall(data, "POST", "/code/put", { name, source: `[ #(load "http") (http/text 200 "${body}") ]` });
        const v = r.ok as { version: number } | undefined;
        if (v !== undefined) acked.push({ name, version: v.version, body });
      } catch {
        return; // The node is gone: this write was never acknowledged.
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  while (acked.length < 60) await Bun.sleep(5);
  first.proc.kill("SIGKILL");
  await first.proc.exited;
  stop = true;
  await Promise.all(writers);
  expect(acked.length).toBeGreaterThanOrEqual(60);

  const second = await box.start(data);
  for (const a of acked) {
    const r = await adminCall(data, "GET", `/code/show?${new URLSearchParams({ name: a.name, version: String(a.version) })}`);
    expect((r.ok as { source: string } | undefined)?.source).toContain(a.body);
  }
  // The latest acknowledged version of each route is what it serves (or a later, unacknowledged one).
  for (const w of [0, 1, 2, 3]) {
    const mine = acked.filter((a) => a.name === `GET /w${w}`);
    const res = await fetch(`${second.url}/w${w}`);
    expect(res.status).toBe(200);
    const served = await res.text();
    const n = Number(/write (\d+)/.exec(served)?.[1]);
    expect(n).toBeGreaterThanOrEqual(Math.max(...mine.map((a) => Number(/write (\d+)/.exec(a.body)![1]))));
  }
  second.proc.kill("SIGTERM");
  expect(await second.proc.exited).toBe(0);
  const store = Store.open(join(data, "sup.db"));
  try {
    expect(store.checkIntegrity()).toEqual([]);
  } finally {
    store.close();
  }
}, 60_000);
