/**
 * Control tasks: what the commands core's `do` carries to the nodes a command selects, and how a
 * node carries each out. A task is an SLP list headed by its kind:
 *
 *   (kernel load NAME) | (kernel unload NAME)     change this node's kernel set (kept in its store)
 *   (revoke SERIAL NAME REASON BY)                refuse that certificate from now on
 *
 * The answer is data: what the node's state is now, or why the task failed there (a kernel that
 * does not load leaves the node as it was). Only askers holding `admin` get here (node-commands.ts).
 */
import type { RunAnswer } from "../cluster/mod.ts";
import { SupError } from "../errors.ts";
import { latin1FromText, List, Str, str, Sym, sym, T_PAREN, textFromLatin1 } from "../lang/mod.ts";
import type { Revocation } from "./revocations.ts";

/** What a task may change on a node. */
export interface TaskNode {
  loadKernel(name: string): Promise<void>;
  unloadKernel(name: string): Promise<void>;
  kernelSet(): string[];
  /** Records and enforces a revocation; false when it was known already. */
  revoke(r: Revocation): boolean;
}

const KERNEL = sym("kernel");
const REVOKE = sym("revoke");

/** `(kernel load|unload NAME)` */
export function kernelTask(op: "load" | "unload", name: string): List {
  return new List(T_PAREN, [KERNEL, sym(op), str(latin1FromText(name))]);
}

/** `(revoke SERIAL NAME REASON BY)` */
export function revokeTask(r: Omit<Revocation, "at">): List {
  return new List(T_PAREN, [REVOKE, ...[r.serial, r.name, r.reason, r.by].map((x) => str(latin1FromText(x)))]);
}

const ok = (text: string): RunAnswer => ({ ok: true, value: latin1FromText(text) });
const fail = (text: string): RunAnswer => ({ ok: false, error: latin1FromText(text) });
const texts = (items: readonly unknown[]): string[] | null => (items.every((x) => x instanceof Str) ? (items as Str[]).map((x) => textFromLatin1(x.s)) : null);

/** Carries out a task on this node; never throws for a failure the task can meet. */
export async function runTask(node: TaskNode, task: List, now: number): Promise<RunAnswer> {
  const [head, ...rest] = task.items;
  try {
    if (head === KERNEL) {
      const op = rest[0] instanceof Sym ? rest[0].name : "";
      const name = texts(rest.slice(1));
      if ((op !== "load" && op !== "unload") || name === null || name.length !== 1) return fail("refused: a kernel task is (kernel load|unload NAME)");
      if (op === "load") await node.loadKernel(name[0]!);
      else await node.unloadKernel(name[0]!);
      return ok(`kernel set: ${node.kernelSet().join(" ")}`);
    }
    if (head === REVOKE) {
      const f = texts(rest);
      if (f === null || f.length !== 4) return fail("refused: a revoke task is (revoke SERIAL NAME REASON BY)");
      const [serial, name, reason, by] = f as [string, string, string, string];
      return ok(node.revoke({ serial, name, reason, by, at: now }) ? "revoked" : "revoked already");
    }
  } catch (e) {
    if (e instanceof SupError || e instanceof RangeError) return fail(e.message);
    throw e;
  }
  return fail(`refused: unknown task ${head instanceof Sym ? head.name : "?"}`);
}
