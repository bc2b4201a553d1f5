/**
 * A real network partition between `sup` processes on 127.0.0.1, with iptables. Ports alone cannot
 * tell two processes' connections apart (the dialing end has a random port), so each node runs under
 * its own group id (`setpriv --regid`), the first packet of every connection marks the connection
 * with its dialer's group (CONNMARK), and a cut drops every packet of the connections between a
 * dialer on one side and a listener port on the other, both ways. Healing removes the drops; the
 * marks stay. Everything lives in chains of this process's own (named with its pid, every rule
 * commented), hooked into OUTPUT for the loopback interface only, and `remove()` takes it all away.
 */

/** Group ids handed to nodes: far from system and user groups. */
const GID_BASE = 47_000;

/** Connection marks: a recognisable high half, the node's index in the low half. */
const MARK_BASE = 0x5355_0000;

function iptables(args: readonly string[]): { ok: boolean; err: string } {
  const r = Bun.spawnSync(["iptables", "-w", ...args], { stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, err: r.stderr.toString().trim() };
}

function must(args: readonly string[]): void {
  const r = iptables(args);
  if (!r.ok) throw new Error(`iptables ${args.join(" ")} failed: ${r.err}`);
}

/** A node as the partition sees it: its group and its backchannel listen port. */
export interface PartitionMember {
  readonly index: number;
  readonly port: number;
}

/** See the file comment. */
export class LoopbackPartition {
  private readonly markChain: string;
  private readonly cutChain: string;
  private readonly comment: string;
  private installed = false;

  constructor(tag: string) {
    this.markChain = `SUP-${tag}-${process.pid}`.slice(0, 28);
    this.cutChain = `SUPCUT-${tag}-${process.pid}`.slice(0, 28);
    this.comment = `sup-test-${tag}-${process.pid}`;
  }

  /** Why partitions cannot be made here (not root, no iptables, no setpriv, no owner/connmark match), or null. */
  static unavailable(): string | null {
    if (process.getuid?.() !== 0) return "not running as root";
    if (Bun.which("iptables") === null) return "iptables is not installed";
    if (Bun.which("setpriv") === null) return "setpriv (util-linux) is not installed";
    const probe = new LoopbackPartition("probe");
    try {
      probe.install();
      probe.markNode(0);
      return null;
    } catch (e) {
      return `iptables cannot match owners or connection marks here: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      probe.remove();
    }
  }

  /** The command prefix that runs a node as partition member `index`. */
  static prefix(index: number): string[] {
    return ["setpriv", `--regid=${GID_BASE + index}`, "--clear-groups"];
  }

  /** Creates the chains; call before starting the nodes, so every connection gets its mark. */
  install(): void {
    must(["-N", this.markChain]);
    this.installed = true;
    must(["-N", this.cutChain]);
    must(["-I", "OUTPUT", "-o", "lo", "-m", "comment", "--comment", this.comment, "-j", this.markChain]);
  }

  /** Marks connections dialed by member `index` (call once per member, before it starts). */
  markNode(index: number): void {
    must(["-A", this.markChain, "-p", "tcp", "-m", "conntrack", "--ctstate", "NEW", "-m", "owner", "--gid-owner", String(GID_BASE + index), "-m", "comment", "--comment", this.comment, "-j", "CONNMARK", "--set-mark", String(MARK_BASE + index)]);
  }

  /** Cuts every connection between a member of `a` and a member of `b`, both ways. */
  cut(a: readonly PartitionMember[], b: readonly PartitionMember[]): void {
    if (iptables(["-C", this.markChain, "-m", "comment", "--comment", this.comment, "-j", this.cutChain]).ok === false) {
      must(["-A", this.markChain, "-m", "comment", "--comment", this.comment, "-j", this.cutChain]);
    }
    for (const [x, y] of [...a.flatMap((x) => b.map((y) => [x, y] as const)), ...b.flatMap((y) => a.map((x) => [y, x] as const))]) {
      must(["-A", this.cutChain, "-p", "tcp", "-m", "connmark", "--mark", String(MARK_BASE + x.index), "-m", "multiport", "--ports", String(y.port), "-m", "comment", "--comment", this.comment, "-j", "DROP"]);
    }
  }

  /** Removes every cut; connections carry on (or are dialed again). */
  heal(): void {
    must(["-F", this.cutChain]);
  }

  /** Removes the hook and both chains; safe to call more than once, and after a failed install. */
  remove(): void {
    if (!this.installed) return;
    while (iptables(["-D", "OUTPUT", "-o", "lo", "-m", "comment", "--comment", this.comment, "-j", this.markChain]).ok);
    iptables(["-F", this.markChain]);
    iptables(["-F", this.cutChain]);
    iptables(["-X", this.markChain]);
    iptables(["-X", this.cutChain]);
    this.installed = false;
  }
}
