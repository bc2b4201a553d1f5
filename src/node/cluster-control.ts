/**
 * The control plane of a cluster node (docs/cluster.md, "Control plane"): the commands core (exec
 * fanned out to the nodes a selector picks), the node's clients (operators' CLIs, other nodes' exec
 * workers), the exec worker behind `(cluster/exec …)`, kernel sets and revocations as change-log
 * entries (control-entries.ts), and the enforcement of revocations: replication's table (read by
 * the Backchannel's hook, set up by NodeCluster), connections closed when a revocation entry is
 * applied, and revoked members kept out of membership's dials.
 */
import { CommandsCore, parseSelector, Prng } from "../cluster/mod.ts";
import { SupError } from "../errors.ts";
import { log } from "../log.ts";
import { DialError, HandshakeError, type Backchannel, type Certificate, type NodeIdentity } from "../net/mod.ts";
import { joinAddress } from "./address.ts";
import { entryResults, type ControlEntries } from "./control-entries.ts";
import type { CoreHost, CoreTransport } from "./core-host.ts";
import { ExecWorker } from "./exec-worker-client.ts";
import type { MemberInfo } from "./member-json.ts";
import { NodeClients, type AdminHandler } from "./node-clients.ts";
import { clientIdOf, NodeCommands, type ExecInput, type ExecResultJson, type ExecRunner } from "./node-commands.ts";
import { EXEC_TIMEOUT_MS_DEFAULT } from "./limits.ts";
import type { Revocations } from "./revocations.ts";

/** A control-plane command cannot be carried out as asked (revoking itself, an unknown serial). */
export class ClusterCommandError extends SupError {
  constructor(message: string) {
    super("cluster-command", message);
  }
}

/** What the control plane needs of its node. */
export interface ControlNode {
  /** The node's kernel set. */
  kernels(): readonly string[];
  /** Answers admin requests from clients (the node's handleAdmin). */
  readonly admin: AdminHandler;
  /** Runs an exec'd program on this node. */
  readonly run: ExecRunner;
  /** The node's change-log entries (its replication), for kernel sets and revocations. */
  readonly entries: ControlEntries;
}

/** A revocation entry as it was applied here. */
export interface AppliedRevocation {
  readonly serial: string;
  readonly name: string;
  readonly reason: string;
  /** Who asked for it (the CLI user, or the operator identity's name). */
  readonly author: string;
  /** The node that signed the entry. */
  readonly origin: string;
}

/** What the control plane needs of its cluster part. */
export interface ControlCluster {
  readonly identity: NodeIdentity;
  readonly identityFile: string;
  readonly backchannel: Backchannel;
  readonly host: CoreHost;
  readonly revocations: Revocations;
  /** The members this node knows, itself included. */
  nodes(): MemberInfo[];
}

/** See the file comment. */
export class ClusterControl {
  readonly commands: NodeCommands;
  readonly clients: NodeClients;
  private worker: ExecWorker | null = null;
  private revokedSelfLogged = false;
  /** Serials this node is revoking right now: their connections stay open until the entry is through (revoke). */
  private readonly holding = new Set<string>();

  constructor(
    private readonly c: ControlCluster,
    private readonly node: ControlNode,
  ) {
    const core = new CommandsCore({ name: c.identity.name, now: performance.now(), random: new Prng(crypto.getRandomValues(new Uint32Array(1))[0]!) });
    this.commands = new NodeCommands(c.identity.name, c.host.add(core), (name) => this.certOf(name), node.run);
    this.clients = new NodeClients(() => c.backchannel, c.host, node.admin);
  }

  /** Runs a program on the members a selector picks; every target's result by the deadline. */
  exec(input: ExecInput): Promise<ExecResultJson[]> {
    return this.commands.exec(NodeCommands.targets(input.on, this.c.nodes()), input.tenant, input.code, input.timeoutMs);
  }

  /** The exec worker that carries (cluster/exec …) while this node's thread waits (started on first use). */
  execWorker(): ExecWorker {
    return (this.worker ??= new ExecWorker(this.c.identityFile));
  }

  /** Serials of the certificates this node refuses. */
  revokedSerials(): string[] {
    return this.c.revocations.serials();
  }

  /**
   * Has the nodes a selector picks load or unload a kernel: one targeted entry, applied by each of
   * them now or when it is back; every live target's result by the deadline.
   */
  async kernels(op: "load" | "unload", name: string, on: string, author: string, timeoutMs = EXEC_TIMEOUT_MS_DEFAULT): Promise<ExecResultJson[]> {
    // Resolved against the members first: an unknown node or an empty selection is an error before anything is written.
    const targets = NodeCommands.targets(on, this.c.nodes());
    const selector = parseSelector(on);
    const target = selector.terms.some((t) => t.kind === "all") ? null : selector;
    const w = this.node.entries.write({ kind: "kernel", op, name }, target, author, `Cannot ${op} kernel "${name}" on ${selector.text}`);
    const report = await this.node.entries.wait(w, timeoutMs);
    return entryResults(report, new Set(targets.map((t) => t.name)), op === "load" ? "loaded" : "unloaded", timeoutMs);
  }

  /**
   * Revokes a certificate (a member's by name; `serial` for one membership does not know): a
   * revocation entry for every node, the revoked one too, so it knows. This node keeps its own
   * connection to the revoked member open until that member's receipt is in (or the deadline),
   * so the entry reaches it; the other nodes close theirs as they apply it.
   */
  async revoke(name: string, serial: string | undefined, reason: string, author: string, timeoutMs = EXEC_TIMEOUT_MS_DEFAULT): Promise<{ serial: string; results: ExecResultJson[] }> {
    const self = () => new ClusterCommandError(`Cannot revoke "${name}" from itself: revoke it from another node with the admin permission`);
    if (name === this.c.identity.name) throw self();
    const members = this.c.nodes();
    const s = serial ?? members.find((m) => m.name === name)?.serial ?? this.c.revocations.list().find((x) => x.name === name)?.serial;
    if (s === undefined) throw new ClusterCommandError(`Cannot revoke "${name}": no member of that name is known here; give --serial (sup identity show FILE prints it)`);
    if (s === this.c.identity.cert.serial) throw self();
    this.holding.add(s);
    let report;
    try {
      const w = this.node.entries.write({ kind: "revoke", serial: s, name, upTo: this.node.entries.high(name), reason }, null, author, `Cannot revoke "${name}"`);
      report = await this.node.entries.wait(w, timeoutMs);
    } finally {
      this.holding.delete(s);
      this.c.backchannel.recheck();
    }
    const names = new Set(members.filter((m) => m.state !== "left" || m.name === name).map((m) => m.name));
    const results = entryResults(report, names, "revoked", timeoutMs).map((r) =>
      // The revoked node need not apply it: every other node refuses it.
      r.node === name && r.status === "unreachable" ? { node: r.node, ok: true, status: "ok" as const, value: "revoked (it is down: every other node refuses it)", ms: 0 } : r,
    );
    return { serial: s, results };
  }

  /**
   * A revocation entry was applied here (made here or by any node, now or while catching up): the
   * table is read again, connections with that certificate close (after the current step: this
   * runs inside the replication core's), and this node says so when it is the one revoked.
   */
  revoked(r: AppliedRevocation): void {
    this.c.revocations.refresh();
    if (r.serial === this.c.identity.cert.serial) {
      this.logRevokedSelf(this.c.revocations.reason(r.serial) ?? r.reason);
      return;
    }
    log("warn", "certificate revoked", { name: r.name, serial: r.serial, by: r.author, reason: r.reason, origin: r.origin });
    if (!this.holding.has(r.serial)) setImmediate(() => this.c.backchannel.recheck());
  }

  /** Says, once, that this node's own certificate is revoked: the cluster refuses it. */
  logRevokedSelf(detail: string): void {
    if (this.revokedSelfLogged) return;
    this.revokedSelfLogged = true;
    log("error", "this node's certificate is revoked: the cluster refuses it", { name: this.c.identity.name, serial: this.c.identity.cert.serial, detail });
  }

  /**
   * Why an address must not be dialed: it is a member whose certificate this node revoked (so
   * membership's retries of a dead member cost no handshake and no refusal on either side), or null.
   */
  revokedAt(address: string): string | null {
    if (this.c.revocations.serials().length === 0) return null;
    const m = this.c.nodes().find((x) => x.backchannel === address && this.c.revocations.reason(x.serial) !== null);
    return m === undefined ? null : `certificate of "${m.name}" (serial ${m.serial}) is revoked: ${this.c.revocations.reason(m.serial)}`;
  }

  /** A peer refused a dial as revoked: when it is this node's certificate, say so. */
  refusedAsRevoked(detail: string): void {
    if (detail.includes(`"${this.c.identity.name}" (serial ${this.c.identity.cert.serial})`)) this.logRevokedSelf(`refused by a peer: ${detail}`);
  }

  /** The certificate behind a core's peer name (a member, or a client as `client#ID`), while connected. */
  private certOf(name: string): Certificate | undefined {
    const id = clientIdOf(name);
    if (id === null) return this.c.backchannel.peer(name)?.cert;
    return this.c.backchannel.clients().find((c) => c.id === id)?.peer.cert;
  }

  /** Stops the exec worker and the search for idle clients. */
  stop(): void {
    this.worker?.stop();
    this.clients.stop();
  }
}

/**
 * The core host's view of the backchannel: a client's core name (`client#ID`) sends to that client;
 * an address of a revoked member is not dialed (refused here, as the handshake would); a dial a
 * peer refuses as revoked is reported (`revokedByPeer`, with the peer's detail).
 */
export function coreTransport(bc: Backchannel, revokedAt: (address: string) => string | null, revokedByPeer: (detail: string) => void): CoreTransport {
  return {
    dial: (host, port) => {
      const address = joinAddress(host, port);
      const revoked = revokedAt(address);
      if (revoked !== null) return Promise.reject(new DialError(address, `Cannot dial "${address}": ${revoked}`, new HandshakeError("revoked", revoked, false)));
      return bc.dial(host, port).catch((e: unknown) => {
        if (e instanceof DialError && e.handshake?.reason === "revoked" && e.handshake.byPeer) revokedByPeer(e.handshake.detail);
        throw e;
      });
    },
    send: (peer, msg) => {
      const id = clientIdOf(peer);
      if (id === null) return bc.send(peer, msg);
      const r = bc.sendClient(id, msg);
      return r === "no-client" ? "no-peer" : r;
    },
  };
}
