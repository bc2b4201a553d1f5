/**
 * Talks to a running node through its admin socket (`<data>/admin.sock`) for `sup code`,
 * `sup kernels` and `sup status`. Errors come back as typed values with the node's message.
 */
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { SupError } from "../errors.ts";

/** The default data directory of `sup start` and the admin commands. */
export const DEFAULT_DATA_DIR = "sup-data";

/** The admin request failed; `diagnostics` carries a rejected program's problems. */
export class AdminError extends SupError {
  constructor(
    code: string,
    message: string,
    readonly diagnostics: readonly { line: number; col: number; message: string }[] = [],
  ) {
    super(code, message);
  }
}

/** The data directory from `--data`, `$SUP_DATA` or the default. */
export function dataDirOf(flag: string | undefined): string {
  return resolve(flag ?? process.env.SUP_DATA ?? DEFAULT_DATA_DIR);
}

/** Sends one admin request and returns the `ok` payload. */
export async function admin(dataDir: string, method: "GET" | "POST", path: string, body?: Record<string, unknown>): Promise<unknown> {
  const socket = join(dataDir, "admin.sock");
  try {
    statSync(socket);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new AdminError("node-not-running", `No node is running in "${dataDir}" (no admin socket ${socket}); start one with: sup start --data ${dataDir}`);
    if (code === "ENOTDIR") throw new AdminError("node-not-running", `Cannot reach a node in "${dataDir}": it is not a directory`);
    throw new AdminError("node-not-running", `Cannot reach a node in "${dataDir}": ${e instanceof Error ? e.message : String(e)}`);
  }
  let res: Response;
  try {
    res = await fetch(`http://localhost${path}`, {
      unix: socket,
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new AdminError("node-not-running", `Cannot reach the node in "${dataDir}": ${e instanceof Error ? e.message : String(e)}`);
  }
  const payload = (await res.json().catch(() => ({}))) as { ok?: unknown; error?: { code?: string; message?: string; diagnostics?: { line: number; col: number; message: string }[] } };
  if (!res.ok || payload.error !== undefined) {
    const err = payload.error ?? {};
    throw new AdminError(err.code ?? "admin-failed", err.message ?? `Admin request failed with status ${res.status}`, err.diagnostics ?? []);
  }
  return payload.ok;
}
