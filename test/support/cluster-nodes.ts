/**
 * Real cluster nodes for black-box tests: identity files issued by one test root, `sup start` with
 * an identity on a free backchannel port of 127.0.0.1, member lists read straight from a node's
 * admin socket (no CLI process per poll, so polling is cheap and timely), and waiting for a
 * condition with a deadline.
 */
import { join } from "node:path";
import { formatIdentityFile, issueIdentity, makeRoot, writeIdentityText, type IssueInput, type RootKey } from "../../src/net/mod.ts";
import type { MemberInfo } from "../../src/node/member-json.ts";
import type { NodeProcess, NodeSandbox, StartOptions } from "./node-process.ts";

/** A started cluster node. */
export interface ClusterNode extends NodeProcess {
  readonly name: string;
  /** Its backchannel address, `127.0.0.1:PORT`. */
  readonly bc: string;
  readonly port: number;
  /** Its certificate serial. */
  readonly serial: string;
}

/** Issues identities under one root and starts nodes with them in a sandbox. */
export class TestFleet {
  readonly root: RootKey = makeRoot();
  private files = 0;

  constructor(readonly box: NodeSandbox) {}

  /** Writes an identity file for `name` (0600); returns its path and certificate serial. */
  identity(name: string, input: Omit<IssueInput, "name"> = {}): { file: string; serial: string } {
    const data = issueIdentity(this.root, { name, ...input }, Date.now());
    const file = this.box.file(`${name}-${this.files++}.key`, "");
    writeIdentityText(file, formatIdentityFile(data), true);
    return { file, serial: data.signed.cert.serial };
  }

  /**
   * Starts a node in data directory `data` (named `name` unless `data` is given); `args` are extra
   * flags (--identity, --join …); `prefix` wraps the command (see NodeSandbox.start).
   */
  async start(name: string, args: string[], options: StartOptions & { data?: string; serial?: string } = {}): Promise<ClusterNode> {
    const data = options.data ?? this.box.dataDir(name);
    const n = await this.box.start(data, ["--listen", "127.0.0.1:0", ...args], { SUP_LOG: "info" }, options);
    const bc = /backchannel (127\.0\.0\.1:\d+)/.exec(n.stderr())?.[1];
    if (bc === undefined) throw new Error(`no backchannel address in:\n${n.stderr()}`);
    return { ...n, name, bc, port: Number(bc.split(":")[1]), serial: options.serial ?? "" };
  }
}

/** Restarts a node that stopped, in its data directory with no flags (all from its store). */
export async function restarted(box: NodeSandbox, node: ClusterNode, prefix: readonly string[] = []): Promise<ClusterNode> {
  const n = await box.start(node.data, [], { SUP_LOG: "info" }, { prefix });
  const bc = /backchannel (127\.0\.0\.1:\d+)/.exec(n.stderr())?.[1];
  if (bc === undefined) throw new Error(`no backchannel address in:\n${n.stderr()}`);
  return { ...n, name: node.name, bc, port: Number(bc.split(":")[1]), serial: node.serial };
}

/** GET `path` on the admin socket of the node in `data`. */
export async function adminGet<T>(data: string, path: string): Promise<T> {
  const r = await fetch(`http://localhost${path}`, { unix: join(data, "admin.sock") });
  const body = (await r.json()) as { ok?: T; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`GET ${path} failed: ${body.error.message}`);
  return body.ok as T;
}

/** The member list of the node in `data` (`sup nodes --json`). */
export function membersOf(data: string): Promise<MemberInfo[]> {
  return adminGet<MemberInfo[]>(data, "/nodes");
}

/** `name:state` of every member, sorted: equal on two nodes when they agree. */
export async function membershipView(data: string): Promise<string> {
  return (await membersOf(data)).map((m) => `${m.name}:${m.state}`).join(" ");
}

/**
 * Polls `cond` every 25 ms until it holds; throws naming `what` after `ms`, with what `explain`
 * says about the state then (member lists, say).
 */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000, explain?: () => Promise<string> | string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${explain === undefined ? "" : `:\n${await explain()}`}`);
    await Bun.sleep(25);
  }
}
