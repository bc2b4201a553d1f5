/**
 * The control plane of a cluster node (docs/cluster.md, "Control plane"): the commands core (exec
 * and control tasks fanned out to the nodes a selector picks), the node's clients (operators'
 * CLIs, other nodes' exec workers), the exec worker behind `(cluster/exec …)`, and revocations:
 * kept in the store, enforced by the Backchannel's hook (set up by NodeCluster), applied when a
 * revoke task arrives, and kept out of membership's dials.
 */
import { CommandsCore, Prng } from "../cluster/mod.ts";
import { SupError } from "../errors.ts";
import { log } from "../log.ts";
import { DialError, HandshakeError, type Backchannel, type Certificate, type NodeIdentity } from "../net/mod.ts";
import { joinAddress } from "./address.ts";
import { kernelTask, revokeTask, runTask, type TaskNode } from "./control-tasks.ts";
import type { CoreHost, CoreTransport } from "./core-host.ts";
import { ExecWorker } from "./exec-worker-client.ts";
import type { MemberInfo } from "./member-json.ts";
import { NodeClients, type AdminHandler } from "./node-clients.ts";
import { clientIdOf, NodeCommands, type ExecInput, type ExecResultJson, type ExecRunner } from "./node-commands.ts";
import type { Revocation, Revocations } from "./revocations.ts";

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
  /** Changes the node's kernel set (control tasks). */
  loadKernel(name: string): Promise<void>;
  unloadKernel(name: string): Promise<void>;
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

  constructor(
    private readonly c: ControlCluster,
    node: ControlNode,
  ) {
    const core = new CommandsCore({ name: c.identity.name, now: performance.now(), random: new Prng(crypto.getRandomValues(new Uint32Array(1))[0]!) });
    const taskNode: TaskNode = { loadKernel: (k) => node.loadKernel(k), unloadKernel: (k) => node.unloadKernel(k), kernelSet: () => [...node.kernels()], revoke: (r) => this.applyRevocation(r) };
    this.commands = new NodeCommands(c.identity.name, c.host.add(core), (name) => this.certOf(name), node.run, (task) => runTask(taskNode, task, Date.now()));
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

  /** Has the nodes a selector picks change their kernel set; every target's result by the deadline. */
  kernels(op: "load" | "unload", name: string, on: string, timeoutMs?: number): Promise<ExecResultJson[]> {
    return this.commands.doTask(NodeCommands.targets(on, this.c.nodes()), kernelTask(op, name), timeoutMs);
  }

  /**
   * Revokes a member's certificate: every member this node can reach is told (the revoked one too,
   * so it knows), and once they have answered this node refuses it too (refusing it first would
   * cut the connection its answer comes back on). `serial` defaults to the member's, as membership
   * knows it.
   */
  async revoke(name: string, serial: string | undefined, reason: string, by: string, timeoutMs?: number): Promise<{ serial: string; results: ExecResultJson[] }> {
    if (name === this.c.identity.name) throw new ClusterCommandError(`Cannot revoke "${name}" from itself: revoke it from another node with the admin permission`);
    const members = this.c.nodes();
    const s = serial ?? members.find((m) => m.name === name)?.serial ?? this.c.revocations.list().find((x) => x.name === name)?.serial;
    if (s === undefined) throw new ClusterCommandError(`Cannot revoke "${name}": no member of that name is known here; give --serial (sup identity show FILE prints it)`);
    const r = { serial: s, name, reason, by };
    const t0 = performance.now();
    const others = members.filter((m) => !m.self && m.state !== "left").map((m) => ({ name: m.name, address: m.backchannel, state: m.state }));
    const told = others.length === 0 ? [] : await this.commands.doTask(others, revokeTask(r), timeoutMs);
    const known = !this.applyRevocation({ ...r, at: Date.now() });
    const here: ExecResultJson = { node: this.c.identity.name, ok: true, status: "ok", value: known ? "revoked already" : "revoked", ms: Math.round((performance.now() - t0) * 10) / 10 };
    return { serial: s, results: [here, ...told] };
  }

  /** Records a revocation and enforces it: connections with that certificate close at once. */
  private applyRevocation(r: Revocation): boolean {
    if (!this.c.revocations.add(r)) return false;
    if (r.serial === this.c.identity.cert.serial) {
      this.logRevokedSelf(this.c.revocations.reason(r.serial)!);
      return true;
    }
    log("warn", "certificate revoked", { name: r.name, serial: r.serial, by: r.by, reason: r.reason });
    this.c.backchannel.recheck();
    return true;
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

  /** Stops the exec worker. */
  stop(): void {
    this.worker?.stop();
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
