/**
 * The admin interface of a node reached over the backchannel, for `sup --connect HOST:PORT
 * --identity FILE COMMAND …` on a machine with no node: the CLI dials as a *client* (declared in
 * the handshake, so the node never takes it for a member), sends each admin request as an
 * `(admin 1 request …)` message and waits for its response. The node authorizes each request by
 * the identity's certificate. One connection serves every request of one command.
 */
import { SupError } from "../errors.ts";
import { Backchannel, DialError, loadIdentityFile, NodeIdentity, type PeerInfo } from "../net/mod.ts";
import { adminRequestMessage, readAdminResponse } from "../node/admin-wire.ts";
import { EXEC_TIMEOUT_MS_MAX } from "../cluster/mod.ts";

/**
 * How long the CLI waits for one answer: the longest exec deadline plus time for the answer to
 * travel; a node that says nothing for that long is treated as gone.
 */
export const REMOTE_ANSWER_MS_MAX = EXEC_TIMEOUT_MS_MAX + 10_000;

/** A remote admin request failed before any answer (connect, handshake, lost connection, silence). */
export class RemoteAdminError extends SupError {
  constructor(message: string) {
    super("remote-admin", message);
  }
}

/** A node's answer: status and JSON body, as the socket would give them. */
export interface RemoteAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One client connection to one node; see the file comment. */
export class RemoteAdmin {
  private bc: Backchannel | null = null;
  private peer: Promise<PeerInfo> | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (a: RemoteAnswer) => void; reject: (e: Error) => void }>();

  constructor(
    /** `host:port` of the node's backchannel. */
    readonly address: string,
    /** The operator's identity file. */
    readonly identityFile: string,
  ) {}

  /** Sends one request and resolves with the node's answer. */
  async request(method: string, path: string, body?: unknown): Promise<RemoteAnswer> {
    const peer = await this.connect();
    const id = this.nextId++;
    return new Promise<RemoteAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new RemoteAdminError(`No answer from "${peer.name}" at ${this.address} within ${REMOTE_ANSWER_MS_MAX / 1000} s`));
      }, REMOTE_ANSWER_MS_MAX);
      this.waiting.set(id, {
        resolve: (a) => (clearTimeout(timer), resolve(a)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      const sent = this.bc!.send(peer.name, adminRequestMessage(id, method, path, body));
      if (sent !== "sent") this.fail(id, new RemoteAdminError(`Cannot send to "${peer.name}" at ${this.address}: the connection is ${sent === "full" ? "full" : "closed"}`));
    });
  }

  /** Closes the connection (after writing what is queued). */
  async close(): Promise<void> {
    await this.bc?.close();
  }

  private connect(): Promise<PeerInfo> {
    this.peer ??= this.open();
    return this.peer;
  }

  private async open(): Promise<PeerInfo> {
    const colon = this.address.lastIndexOf(":");
    const host = this.address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
    const port = Number(this.address.slice(colon + 1));
    const identity = new NodeIdentity(loadIdentityFile(this.identityFile));
    const bc = Backchannel.start({
      identity,
      onMessage: (_p, m) => this.answer(m),
      onPeerLost: (p, _cause, detail) => this.lost(new RemoteAdminError(`Lost the connection to "${p.name}" at ${this.address}: ${detail}`)),
    });
    this.bc = bc;
    try {
      return await bc.dial(host, port, { client: true });
    } catch (e) {
      const why = e instanceof DialError && e.handshake !== null ? `${e.handshake.byPeer ? "it refused" : "refused"} ${e.handshake.reason}: ${e.handshake.detail}` : e instanceof Error ? e.message : String(e);
      throw new RemoteAdminError(`Cannot connect to "${this.address}" as "${identity.name}": ${why}`);
    }
  }

  private answer(m: Parameters<typeof readAdminResponse>[0]): void {
    const r = readAdminResponse(m);
    if (!r.ok) {
      if (r.id !== null) this.fail(r.id, new RemoteAdminError(`Unreadable answer from ${this.address}: ${r.reason}`));
      return;
    }
    const w = this.waiting.get(r.value.id);
    this.waiting.delete(r.value.id);
    w?.resolve({ status: r.value.status, body: r.value.body });
  }

  private fail(id: number, e: Error): void {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    w?.reject(e);
  }

  private lost(e: Error): void {
    for (const id of [...this.waiting.keys()]) this.fail(id, e);
  }
}
