/** The revocation list: kept in the store across reopenings, reasons for refusals, and its limit at max and max+1. */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MEMORY_PATH, Store } from "../store/mod.ts";
import { REVOCATION_REASON_CHARS_MAX, Revocations, REVOCATIONS_MAX } from "./revocations.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

test("a revocation is kept in the store, refuses its serial with a reason, and is added once", () => {
  const dir = mkdtempSync(join(tmpdir(), "sup-revocations-"));
  dirs.push(dir);
  const path = join(dir, "sup.db");
  const s = Store.open(path);
  const r = new Revocations(s);
  expect(r.add({ serial: "ab12", name: "web-2", by: "op", reason: "lost laptop", at: Date.UTC(2030, 0, 1) })).toBe(true);
  expect(r.add({ serial: "ab12", name: "web-2", by: "op", reason: "again", at: 1 })).toBe(false);
  expect(r.reason("ab12")).toBe("revoked by op at 2030-01-01T00:00:00.000Z: lost laptop");
  expect(r.reason("cd34")).toBeNull();
  s.close();
  const again = new Revocations(Store.open(path));
  expect(again.serials()).toEqual(["ab12"]);
  expect(again.list()[0]!.name).toBe("web-2");
});

test(`REVOCATIONS_MAX (${REVOCATIONS_MAX}) of the longest revocations are kept in the store; one more is refused with a message`, () => {
  const store = Store.open(MEMORY_PATH);
  const r = new Revocations(store);
  const long = (c: string, n: number) => c.repeat(n);
  for (let i = 0; i < REVOCATIONS_MAX; i++) r.add({ serial: `${i}`.padStart(32, "f"), name: `${i}`.padStart(63, "n"), by: long("b", 63), reason: long("r", REVOCATION_REASON_CHARS_MAX + 50), at: Date.now() });
  expect(new Revocations(store).serials().length).toBe(REVOCATIONS_MAX);
  expect(r.list()[0]!.reason.length).toBe(REVOCATION_REASON_CHARS_MAX);
  expect(r.serials().length).toBe(REVOCATIONS_MAX);
  expect(() => r.add({ serial: "one-more", name: "web-9", by: "op", reason: "", at: 0 })).toThrow(`Cannot revoke "web-9": this node already holds ${REVOCATIONS_MAX} revocations`);
});
