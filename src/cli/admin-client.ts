/**
 * Talks to a running node for the admin commands (`sup code`, `kernels`, `status`, `nodes`,
 * `exec`): through its admin socket (`<data>/admin.sock`), or, after `useRemote` (the entry point's
 * `--connect HOST:PORT --identity FILE`), over the backchannel as a client (remote-admin.ts). Both
 * give the same answers; errors come back as typed values with the node's message.
 */
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { SupError } from "../errors.ts";
import type { RemoteAdmin } from "./remote-admin.ts";

/** The node reached over the backchannel instead of a socket, when the command line said so. */
let remoteTarget: { readonly address: string; readonly identityFile: string } | null = null;
let remote: RemoteAdmin | null = null;

/** Sends every admin request of this process to `address` over the backchannel, as `identityFile`. */
export function useRemote(address: string, identityFile: string): void {
  remoteTarget = { address, identityFile };
}

/** True when admin requests go to a remote node (the `--data` option means nothing then). */
export function isRemote(): boolean {
  return remoteTarget !== null;
}

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
  if (remoteTarget !== null) {
    // Loaded only here: the backchannel's code is not worth loading for a local command.
    remote ??= new (await import("./remote-admin.ts")).RemoteAdmin(remoteTarget.address, remoteTarget.identityFile);
    const a = await remote.request(method, path, body ?? (method === "POST" ? {} : undefined));
    return payloadOf(a.status, a.body);
  }
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
  return payloadOf(res.status, await res.json().catch(() => ({})));
}

/** The `ok` payload of an answer, or its error as an AdminError. */
function payloadOf(status: number, body: unknown): unknown {
  const payload = (typeof body === "object" && body !== null ? body : {}) as { ok?: unknown; error?: { code?: string; message?: string; diagnostics?: { line: number; col: number; message: string }[] } };
  if (status >= 400 || payload.error !== undefined) {
    const err = payload.error ?? {};
    throw new AdminError(err.code ?? "admin-failed", err.message ?? `Admin request failed with status ${status}`, err.diagnostics ?? []);
  }
  return payload.ok;
}
