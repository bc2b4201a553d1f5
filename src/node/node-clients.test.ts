/** A node's clients: admin requests answered with the client's identity, the in-flight limit at max and max+1, answers too big for a frame, other channels, idle clients closed. */
import { afterEach, describe, expect, test } from "bun:test";
import { List, Str, sym, T_PAREN } from "../lang/value.ts";
import type { Backchannel, ClientInfo } from "../net/mod.ts";
import { TestCluster } from "../../test/support/identities.ts";
import type { AdminReply, AdminRequest, Principal } from "./admin-api.ts";
import { ADMIN_WIRE_BODY_BYTES_MAX, adminRequestMessage, readAdminResponse } from "./admin-wire.ts";
import type { CoreHost } from "./core-host.ts";
import { ADMIN_CLIENT_REQUESTS_MAX, CLIENT_IDLE_MS, NodeClients } from "./node-clients.ts";

const op = new TestCluster().node("op", { can: ["admin"] });
const client: ClientInfo = { id: 4, peer: { name: "op", cert: op.cert, signed: op.signed, address: "127.0.0.1:5000", direction: "in", client: true } };

/** A NodeClients over fakes: what it sent to the client, what reached the core host, and the admin calls it made. */
function setup(admin: (r: AdminRequest, p: Principal) => Promise<AdminReply>) {
  const sent: { id: number; status: number; body: unknown }[] = [];
  const routed: string[] = [];
  const closed: { id: number; detail: string }[] = [];
  const bc = {
    sendClient: (id: number, m: List) => (expect(id).toBe(4), sent.push((readAdminResponse(m) as { value: { id: number; status: number; body: unknown } }).value), "sent"),
    disconnectClient: (id: number, _cause: string, detail: string) => closed.push({ id, detail }),
  } as unknown as Backchannel;
  const host = { message: (from: string) => (routed.push(from), true) } as unknown as CoreHost;
  const clients = new NodeClients(() => bc, host, admin);
  made.push(clients);
  return { clients, sent, routed, closed };
}

const made: NodeClients[] = [];
afterEach(() => made.splice(0).forEach((c) => c.stop()));

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("node clients", () => {
  test("an admin request is answered by the handler with the client's identity as principal", async () => {
    const seen: { r: AdminRequest; p: Principal }[] = [];
    const { clients, sent } = setup(async (r, p) => (seen.push({ r, p }), { status: 200, body: { ok: 1 } }));
    clients.message(client, adminRequestMessage(9, "GET", "/nodes", undefined));
    await settle();
    expect(seen[0]!.r).toEqual({ method: "GET", path: "/nodes", body: undefined });
    expect(seen[0]!.p).toEqual({ kind: "identity", cert: op.cert });
    expect(sent).toEqual([{ id: 9, status: 200, body: { ok: 1 } }]);
  });

  test(`ADMIN_CLIENT_REQUESTS_MAX (${ADMIN_CLIENT_REQUESTS_MAX}) requests are in flight at once; one more is answered busy at once`, async () => {
    const release: (() => void)[] = [];
    const { clients, sent } = setup(() => new Promise((resolve) => release.push(() => resolve({ status: 200, body: { ok: true } }))));
    for (let i = 1; i <= ADMIN_CLIENT_REQUESTS_MAX; i++) clients.message(client, adminRequestMessage(i, "POST", "/exec", {}));
    await settle();
    expect(release.length).toBe(ADMIN_CLIENT_REQUESTS_MAX);
    expect(sent).toEqual([]);
    clients.message(client, adminRequestMessage(99, "POST", "/exec", {}));
    await settle();
    expect(sent).toEqual([{ id: 99, status: 429, body: { error: { code: "busy", message: `Too many requests in flight: at most ${ADMIN_CLIENT_REQUESTS_MAX} per client` } } }]);
    release.shift()!();
    await settle();
    clients.message(client, adminRequestMessage(100, "POST", "/exec", {}));
    await settle();
    expect(release.length).toBe(ADMIN_CLIENT_REQUESTS_MAX);
  });

  test("an answer too big for a frame is replaced by an error that says so", async () => {
    const { clients, sent } = setup(async () => ({ status: 200, body: { ok: "x".repeat(ADMIN_WIRE_BODY_BYTES_MAX) } }));
    clients.message(client, adminRequestMessage(1, "GET", "/code/ls", undefined));
    await settle();
    expect(sent[0]!.status).toBe(413);
    expect((sent[0]!.body as { error: { code: string } }).error.code).toBe("response-too-large");
  });

  test("a bad request is answered 400; commands go to the core host as client#ID; other channels are ignored", async () => {
    const { clients, sent, routed } = setup(async () => ({ status: 200, body: {} }));
    clients.message(client, new List(T_PAREN, [sym("admin"), 1, sym("request"), 5, new Str("GET"), new Str("nodes"), new Str("")]));
    await settle();
    expect(sent).toEqual([{ id: 5, status: 400, body: { error: { code: "admin-bad-request", message: "Bad admin request: the path must start with /" } } }]);
    clients.message(client, new List(T_PAREN, [sym("command"), 1, sym("run")]));
    clients.message(client, new List(T_PAREN, [sym("member"), 1, sym("ping")]));
    expect(routed).toEqual(["client#4"]);
  });

  test(`a client silent for CLIENT_IDLE_MS (${CLIENT_IDLE_MS} ms) with nothing in flight is closed; one ms less, a message or a request in flight keeps it`, async () => {
    const release: (() => void)[] = [];
    const { clients, closed } = setup(() => new Promise((resolve) => release.push(() => resolve({ status: 200, body: {} }))));
    const t0 = performance.now();
    clients.up(client);
    const second = { ...client, id: 5 };
    clients.up(second);
    const now = performance.now();
    expect(clients.closeIdle(t0 + CLIENT_IDLE_MS - 1)).toEqual([]);
    // A request in flight keeps client 4 however long it takes; client 5 has nothing in flight.
    clients.message(client, adminRequestMessage(1, "POST", "/exec", {}));
    await settle();
    expect(clients.closeIdle(now + 10 * CLIENT_IDLE_MS)).toEqual([5]);
    expect(closed).toEqual([{ id: 5, detail: `idle for ${CLIENT_IDLE_MS / 1000} s` }]);
    // Idle time counts from the answer.
    const before = performance.now();
    release.shift()!();
    await settle();
    const after = performance.now();
    expect(clients.closeIdle(before + CLIENT_IDLE_MS - 1)).toEqual([]);
    expect(clients.closeIdle(after + CLIENT_IDLE_MS)).toEqual([4]);
    // A client closed (or gone) is not closed again.
    clients.lost(client);
    expect(clients.closeIdle(after + 100 * CLIENT_IDLE_MS)).toEqual([]);
  });
});
