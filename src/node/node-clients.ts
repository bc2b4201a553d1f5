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
 * Anything else from a client is logged and ignored.
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

/** Answers an admin request for a principal (handleAdmin, bound to the node). */
export type AdminHandler = (request: AdminRequest, principal: Principal) => Promise<AdminReply>;

/** See the file comment. */
export class NodeClients {
  private readonly inFlight = new Map<number, number>();

  constructor(
    private readonly bc: () => Backchannel,
    private readonly host: CoreHost,
    private readonly admin: AdminHandler,
  ) {}

  /** A client connected. */
  up(c: ClientInfo): void {
    log("info", "client connected", { name: c.peer.name, id: c.id, address: c.peer.address });
  }

  /** A client's connection ended. */
  lost(c: ClientInfo): void {
    this.inFlight.delete(c.id);
  }

  /** A message from a client. */
  message(c: ClientInfo, msg: List): void {
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
    }
  }
}
