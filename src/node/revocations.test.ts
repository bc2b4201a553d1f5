/** Revocations read from replication's table: reasons for refusals, refreshed after an entry, kept across reopenings. */
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Store } from "../store/mod.ts";
import { NodeReplication } from "./replication.ts";
import { Revocations } from "./revocations.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function revoke(r: NodeReplication, serial: string, name: string, upTo: number, reason: string): void {
  r.write({ kind: "revoke", serial, name, upTo, reason }, { author: "op" });
}

test("a revocation entry refuses its serial with a reason once the table is read again; the lower cutoff wins; a reopened store keeps it", () => {
  const dir = mkdtempSync(join(tmpdir(), "sup-revocations-"));
  dirs.push(dir);
  const path = join(dir, "sup.db");
  const store = Store.open(path);
  const applied: string[] = [];
  const replication = NodeReplication.alone(store, "n1", { revoked: (x) => applied.push(`${x.serial} ${x.name} ${x.author}`) });
  const r = new Revocations(store);
  expect(r.reason("ab12")).toBeNull();
  revoke(replication, "ab12", "web-2", 7, "lost laptop");
  expect(applied).toEqual(["ab12 web-2 op"]);
  // A cache: it reads the table when told an entry was applied.
  expect(r.reason("ab12")).toBeNull();
  r.refresh();
  expect(r.reason("ab12")).toMatch(/^revoked by n1 at \d{4}-\d\d-\d\dT[\d:.]+Z: lost laptop$/);
  revoke(replication, "ab12", "web-2", 3, "again");
  revoke(replication, "cd34", "web-3", 0, "");
  r.refresh();
  expect(r.list().map((x) => [x.serial, x.upTo])).toEqual([
    ["ab12", 3],
    ["cd34", 0],
  ]);
  expect(r.reason("cd34")).toMatch(/^revoked by n1 at \S+$/);
  store.close();
  const again = new Revocations(Store.open(path));
  expect(again.serials().sort()).toEqual(["ab12", "cd34"]);
  expect(again.list()[0]!.name).toBe("web-2");
});
