/**
 * Helpers shared by the store's tests: building programs, writing code with defaults, and reaching
 * the SQLite connection behind a store for white-box checks.
 */
import type { Database } from "bun:sqlite";
import { expect } from "bun:test";
import { read } from "../lang/reader.ts";
import type { Value } from "../lang/value.ts";
import type { CodeKind, CodeVersion, PutCodeInput, Store } from "./mod.ts";

/** Parses a test program; a test with a typo in its program is itself broken. */
export function program(text: string): Value {
  const r = read(text);
  if (r.value === null) throw new Error(`test program does not parse: ${text}`);
  return r.value;
}

/** The kind a test name designates. */
function kindOf(name: string): CodeKind {
  return name.startsWith("job:") ? "job" : name.startsWith("mod:") ? "module" : "route";
}

/** Stores `source` under `name`, filling in the rest. */
export function put(store: Store, name: string, source = "[1]", more: Partial<PutCodeInput> = {}): CodeVersion {
  return store.putCode({ name, kind: kindOf(name), source, program: program(source), author: "tester", ...more });
}

/** The store's connection, for tests that count rows or hook into SQLite (white-box). */
export function rawDb(store: Store): Database {
  return (store as unknown as { db: Database }).db;
}

/** Expects `fn` to throw a SupError with `code` (and a message matching `message` when given). */
export function expectCode(fn: () => unknown, code: string, message?: RegExp | string): void {
  let thrown: unknown = null;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(Error);
  expect((thrown as { code?: unknown }).code).toBe(code);
  if (message !== undefined) expect((thrown as Error).message).toMatch(message);
}

