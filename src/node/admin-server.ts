/**
 * The admin socket of a node: JSON over HTTP on a Unix socket in the data directory, readable and
 * writable by the owner only, so nothing on the network can reach it. Requests are answered by the
 * transport-neutral handleAdmin (admin-api.ts) with the owner's authority; the backchannel's
 * clients reach the same function with their identity's (node-clients.ts).
 */
import { chmodSync, existsSync, rmSync } from "node:fs";
import { AdminRequestError, handleAdmin } from "./admin-api.ts";
import type { SupNode } from "./node.ts";

/** Largest admin request body: code is at most 256 KiB, plus JSON framing and metadata. */
const ADMIN_BODY_BYTES_MAX = 1024 * 1024;

/** The socket's owner may do everything: the file mode (0600) is the authority. */
const OWNER = { kind: "owner" } as const;

/** The admin socket server of one node. */
export class AdminServer {
  private constructor(
    private readonly server: ReturnType<typeof Bun.serve>,
    readonly socketPath: string,
  ) {}

  /**
   * Refuses to go on when another node answers on `socketPath`, and removes a stale socket. Called
   * before a node touches its store, so a second node in the same directory changes nothing.
   */
  static async claim(socketPath: string): Promise<void> {
    if (!existsSync(socketPath)) return;
    const alive = await fetch("http://localhost/status", { unix: socketPath }).then(
      () => true,
      () => false,
    );
    if (alive) throw new AdminRequestError("node-running", `Another node is already running in this data directory (its admin socket ${socketPath} answers)`, 409);
    rmSync(socketPath, { force: true });
  }

  /** Listens on `socketPath`, which `claim` has made free. */
  static start(node: SupNode, socketPath: string): AdminServer {
    const server = Bun.serve({
      unix: socketPath,
      maxRequestBodySize: ADMIN_BODY_BYTES_MAX,
      fetch: async (req) => {
        const url = new URL(req.url);
        let body: unknown;
        if (req.method === "POST") {
          const bad = Symbol();
          body = await req.json().catch(() => bad);
          if (body === bad) return Response.json({ error: { code: "admin-bad-request", message: "Request body is not valid JSON" } }, { status: 400 });
        }
        const reply = await handleAdmin(node, { method: req.method, path: url.pathname + url.search, body }, OWNER);
        return Response.json(reply.body, { status: reply.status });
      },
    });
    // Owner-only: the socket is the node's administrative authority.
    chmodSync(socketPath, 0o600);
    return new AdminServer(server, socketPath);
  }

  /** Stops listening and removes the socket file. */
  async stop(): Promise<void> {
    await this.server.stop(true);
    rmSync(this.socketPath, { force: true });
  }
}
