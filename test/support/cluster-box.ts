/**
 * Real cluster nodes for black-box tests of the control plane: identity files issued by one test
 * root (0600, in the sandbox), nodes started with them on 127.0.0.1 (HTTP and backchannel on free
 * ports), the CLI against a node's data directory or, with `--connect`, over the backchannel as an
 * operator. Everything lives in one NodeSandbox: `cleanup` kills every node and removes the files.
 */
import { formatIdentityFile, issueIdentity, makeRoot, writeIdentityText, type IssueInput, type RootKey } from "../../src/net/mod.ts";
import { NodeSandbox, SUP, type NodeProcess } from "./node-process.ts";

/** A started cluster node. */
export interface ClusterNode extends NodeProcess {
  readonly name: string;
  /** Its backchannel address, `127.0.0.1:PORT`. */
  readonly bc: string;
}

/** The result of one CLI run. */
export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** See the file comment. */
export class ClusterBox {
  readonly box = new NodeSandbox();
  readonly root: RootKey = makeRoot();
  private serial = 0;

  /** Writes an identity file for `name` (issued by this box's root unless `root` is given) and returns its path. */
  identity(name: string, input: Omit<IssueInput, "name"> = {}, root: RootKey = this.root): string {
    const file = this.box.file(`${name}-${this.serial++}.key`, "");
    writeIdentityText(file, formatIdentityFile(issueIdentity(root, { name, ...input }, Date.now())), true);
    return file;
  }

  /** Starts a node named after its identity file's certificate, with `args` (e.g. `--join`, `--kernels`). */
  async node(name: string, identityFile: string, args: string[] = [], data = this.box.dataDir(name)): Promise<ClusterNode> {
    const listen = args.includes("--listen") ? [] : ["--listen", "127.0.0.1:0"];
    const n = await this.box.start(data, ["--identity", identityFile, ...listen, ...args], { SUP_LOG: "info" });
    const bc = /backchannel (127\.0\.0\.1:\d+)/.exec(n.stderr())?.[1];
    if (bc === undefined) throw new Error(`no backchannel address in:\n${n.stderr()}`);
    return { ...n, name, bc };
  }

  /** Restarts a node on its data directory with no flags (everything comes from its store). */
  async restart(n: ClusterNode): Promise<ClusterNode> {
    const again = await this.box.start(n.data, [], { SUP_LOG: "info" });
    const bc = /backchannel (127\.0\.0\.1:\d+)/.exec(again.stderr())?.[1] ?? n.bc;
    return { ...again, name: n.name, bc };
  }

  /** Runs the CLI against a node's data directory. */
  cli(n: ClusterNode, args: string[]): CliRun {
    return this.box.cli(n.data, args);
  }

  /** Runs the CLI from "another machine": `sup --connect ADDRESS --identity FILE ARGS…`, no data directory. */
  remote(address: string, identityFile: string, args: string[]): CliRun {
    const r = Bun.spawnSync([SUP, "--connect", address, "--identity", identityFile, ...args], { stdout: "pipe", stderr: "pipe", cwd: this.box.dir, env: { ...process.env, SUP_DATA: "/nonexistent-sup-data" } });
    return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
  }

  /** Kills every node and removes the sandbox. */
  cleanup(): void {
    this.box.cleanup();
  }
}

/** A TCP port free right now on 127.0.0.1 (for a node that must keep its address across restarts). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Waits until `cond` holds, polling; throws naming `what` after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}
