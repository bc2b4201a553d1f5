/**
 * A node's clients: backchannel connections whose dialer declared itself a client (an operator's
 * `sup --connect … COMMAND`, another node's exec worker). They never reach membership: the
 * Backchannel reports them apart from members, and only two channels are read from them.
 *
 * - `admin`: a request is answered by handleAdmin with the client's identity as the principal,
 *   at most ADMIN_CLIENT_REQUESTS_MAX at once per client; an answer too big for a frame becomes an
 *   error that says so.
 * - `command`: fed to the commands core under the client's core name (`client#ID`), so a worker's
 *   run messages are answered like a member's; the core's sends to that name come back here.
 *
 * Anything else from a client is logged and ignored. A client with nothing in flight that has sent
 * nothing for CLIENT_IDLE_MS is closed, so clients that hang on to connections cannot hold the
 * node's CLIENT_CONNECTIONS_MAX slots for ever.
 */
import { COMMAND_CHANNEL, messageChannel } from "../cluster/mod.ts";
import type { List } from "../lang/value.ts";
import { log } from "../log.ts";
import type { Backchannel, ClientInfo } from "../net/mod.ts";
import type { AdminReply, AdminRequest, Principal } from "./admin-api.ts";
import { ADMIN_CHANNEL, ADMIN_WIRE_BODY_BYTES_MAX, adminResponseMessage, readAdminRequest, wireBodyBytes } from "./admin-wire.ts";
import type { CoreHost } from "./core-host.ts";
import { clientPeerName } from "./node-commands.ts";

/**
 * Admin requests one client may have in flight: the CLI sends one at a time; a few more allow a
 * script that pipelines, while a client cannot make the node hold many slow requests (an exec
 * holds its slot until its deadline).
 */
export const ADMIN_CLIENT_REQUESTS_MAX = 8;

/**
 * How long a client with no request in flight may stay silent before the node closes it. The CLI
 * closes its connection after one command and exec workers after a minute without use, so only a
 * client that forgot its connection reaches this; 5 minutes leaves a scripted session room to pause.
 */
export const CLIENT_IDLE_MS = 5 * 60_000;

/** How often idle clients are looked for: an idle client is closed at most this long after CLIENT_IDLE_MS. */
const IDLE_SWEEP_MS = 30_000;

/** Answers an admin request for a principal (handleAdmin, bound to the node). */
export type AdminHandler = (request: AdminRequest, principal: Principal) => Promise<AdminReply>;

/** See the file comment. */
export class NodeClients {
  private readonly inFlight = new Map<number, number>();
  /** When each connected client last sent something (performance.now()). */
  private readonly lastHeard = new Map<number, number>();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly bc: () => Backchannel,
    private readonly host: CoreHost,
    private readonly admin: AdminHandler,
  ) {
    this.sweeper = setInterval(() => this.closeIdle(performance.now()), IDLE_SWEEP_MS);
    this.sweeper.unref?.();
  }

  /** Stops looking for idle clients (the node is stopping). */
  stop(): void {
    clearInterval(this.sweeper);
  }

  /** A client connected. */
  up(c: ClientInfo): void {
    this.lastHeard.set(c.id, performance.now());
    log("info", "client connected", { name: c.peer.name, id: c.id, address: c.peer.address });
  }

  /** A client's connection ended. */
  lost(c: ClientInfo): void {
    this.inFlight.delete(c.id);
    this.lastHeard.delete(c.id);
  }

  /** Closes the clients that have nothing in flight and have been silent for CLIENT_IDLE_MS at `now`; returns their ids. */
  closeIdle(now: number): number[] {
    const idle = [...this.lastHeard].filter(([id, t]) => now - t >= CLIENT_IDLE_MS && (this.inFlight.get(id) ?? 0) === 0).map(([id]) => id);
    for (const id of idle) {
      this.lastHeard.delete(id);
      log("info", "idle client closed", { id, idleMs: CLIENT_IDLE_MS });
      this.bc().disconnectClient(id, "local", `idle for ${CLIENT_IDLE_MS / 1000} s`);
    }
    return idle;
  }

  /** A message from a client. */
  message(c: ClientInfo, msg: List): void {
    this.lastHeard.set(c.id, performance.now());
    const channel = messageChannel(msg);
    if (channel === ADMIN_CHANNEL) return void this.request(c, msg);
    if (channel === COMMAND_CHANNEL) return void this.host.message(clientPeerName(c.id), msg);
    log("warn", "client message of unknown kind ignored", { name: c.peer.name, id: c.id, kind: channel?.name ?? "?" });
  }

  private async request(c: ClientInfo, msg: List): Promise<void> {
    const r = readAdminRequest(msg);
    const reply = (id: number, status: number, body: unknown) => {
      const bytes = wireBodyBytes(body);
      if (bytes > ADMIN_WIRE_BODY_BYTES_MAX) {
        body = { error: { code: "response-too-large", message: `Cannot send the answer over the backchannel: it is ${bytes} bytes, more than ${ADMIN_WIRE_BODY_BYTES_MAX}; narrow the request (--tenant, one name) or run the command on the node` } };
        status = 413;
      }
      this.bc().sendClient(c.id, adminResponseMessage(id, status, body));
    };
    if (!r.ok) {
      log("warn", "client admin request refused", { name: c.peer.name, id: c.id, reason: r.reason });
      if (r.id !== null) reply(r.id, 400, { error: { code: "admin-bad-request", message: `Bad admin request: ${r.reason}` } });
      return;
    }
    const n = this.inFlight.get(c.id) ?? 0;
    if (n >= ADMIN_CLIENT_REQUESTS_MAX) return reply(r.value.id, 429, { error: { code: "busy", message: `Too many requests in flight: at most ${ADMIN_CLIENT_REQUESTS_MAX} per client` } });
    this.inFlight.set(c.id, n + 1);
    try {
      const { id, ...request } = r.value;
      const answer = await this.admin(request, { kind: "identity", cert: c.peer.cert });
      log("info", "client admin request", { name: c.peer.name, method: request.method, path: request.path.split("?")[0]!, status: answer.status });
      reply(id, answer.status, answer.body);
    } finally {
      const left = (this.inFlight.get(c.id) ?? 1) - 1;
      if (this.inFlight.has(c.id)) this.inFlight.set(c.id, left);
      // Idle time counts from the last answer, so a long request does not leave its client closable at once.
      if (this.lastHeard.has(c.id)) this.lastHeard.set(c.id, performance.now());
    }
  }
}
