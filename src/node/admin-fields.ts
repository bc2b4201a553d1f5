/**
 * The fields of admin requests (admin-api.ts), read from a JSON body or a query string and checked:
 * a missing, mistyped or out-of-range field is an AdminRequestError (400) naming the field.
 */
import { parseSelector, SelectorError, type Selector } from "../cluster/mod.ts";
import { SupError } from "../errors.ts";
import type { VersionRef } from "../store/mod.ts";
import { parseVersionRef } from "./code-ops.ts";
import type { WaitFor } from "./receipts.ts";

/** A request the admin interface refuses, with its HTTP status. */
export class AdminRequestError extends SupError {
  constructor(
    code: string,
    message: string,
    readonly status: number,
  ) {
    super(code, message);
  }
}

/** A request body (a JSON object). */
export type Json = Record<string, unknown>;

/** A text field; `required` makes a missing one an error. */
export function field(body: Json | URLSearchParams, name: string, required = true): string | undefined {
  const v = body instanceof URLSearchParams ? body.get(name) ?? undefined : body[name];
  if (v === undefined || v === null || v === "") {
    if (required) throw new AdminRequestError("admin-bad-request", `Missing field "${name}"`, 400);
    return undefined;
  }
  if (typeof v !== "string") throw new AdminRequestError("admin-bad-request", `Field "${name}" must be a string`, 400);
  return v;
}

/** A positive integer field, or undefined when absent. */
export function intField(body: Json | URLSearchParams, name: string): number | undefined {
  const v = body instanceof URLSearchParams ? body.get(name) ?? undefined : body[name];
  if (v === undefined || v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new AdminRequestError("admin-bad-request", `Field "${name}" must be a positive integer, got ${JSON.stringify(v)}`, 400);
  return n;
}

/** Longest `--wait` an admin request may hold its connection: the CLI's timeout is capped by it. */
const WAIT_MS_MAX = 10 * 60 * 1000;

/** `wait`: "all" or a node count; absent when the request does not wait. */
export function waitField(body: Json): WaitFor | undefined {
  const w = body.wait;
  if (w === undefined || w === null) return undefined;
  if (w === "all") return "all";
  if (typeof w === "number" && Number.isSafeInteger(w) && w >= 1) return w;
  throw new AdminRequestError("admin-bad-request", `Field "wait" must be "all" or a positive integer, got ${JSON.stringify(w)}`, 400);
}

/** `timeoutMs` of a wait (default 10 s, at most WAIT_MS_MAX). */
export function timeoutField(body: Json): number {
  const t = body.timeoutMs ?? 10_000;
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0 || t > WAIT_MS_MAX) throw new AdminRequestError("admin-bad-request", `Field "timeoutMs" must be 0 to ${WAIT_MS_MAX}, got ${JSON.stringify(t)}`, 400);
  return t;
}

/** `on`: the selector a write is for, or null for every node. */
export function targetField(body: Json): Selector | null {
  const on = field(body, "on", false);
  if (on === undefined) return null;
  try {
    return parseSelector(on);
  } catch (e) {
    if (e instanceof SelectorError) throw new AdminRequestError("admin-bad-request", e.message, 400);
    throw e;
  }
}

/** A version field: a number, or `N@ORIGIN` for one of several versions that share a number. */
export function versionRefField(body: Json | URLSearchParams, name: string): VersionRef | undefined {
  const v = body instanceof URLSearchParams ? body.get(name) : body[name];
  if (v === undefined || v === null || v === "") return undefined;
  const ref = parseVersionRef(String(v));
  if (ref === null) throw new AdminRequestError("admin-bad-request", `Field "${name}" must be a positive integer, got ${JSON.stringify(v)} (a version number, or N@ORIGIN for one of versions written on several nodes at once)`, 400);
  return ref;
}
