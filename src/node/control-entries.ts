/**
 * Kernel sets and revocations as the control plane issues them: change-log entries (issue 14,
 * docs/cluster.md "Entries"), `(kernel load|unload NAME)` aimed at a selector and `(revoke SERIAL
 * NAME UP-TO REASON)` for every node. This node commits and signs the entry (its identity must hold
 * `admin`), replication pushes it to every member and every node stores it; the nodes it selects
 * apply it now, or when they come back if they were down (they catch up), and it survives
 * restarts because it is in every store. A command waits for the receipts of the live nodes it
 * selects and reports one result per node, as `sup exec` does: applied → ok, error → error (that
 * node's reason; nothing changed there), down → unreachable (it applies the entry when it is back),
 * lagging → timeout.
 */
import type { EntryBody, Selector } from "../cluster/mod.ts";
import type { ExecResultJson } from "./node-commands.ts";
import type { ReceiptReport } from "./receipts.ts";
import type { WriteResult } from "./replication.ts";

/** How the control plane commits entries and waits for them (the node's replication). */
export interface ControlEntries {
  /** Commits a change as an entry signed by this node; throws WriteRefusedError (starting with `action`) when its identity lacks the permission. */
  write(body: EntryBody, target: Selector | null, author: string, action: string): WriteResult;
  /** Waits until every live member the entry selects has applied it, or `timeoutMs` passes. */
  wait(w: WriteResult, timeoutMs: number): Promise<ReceiptReport>;
  /** The highest sequence of an origin's entries this node holds. */
  high(origin: string): number;
}

/** One result per node in `names` (in the report's order); `okValue` for those that applied the entry. */
export function entryResults(report: ReceiptReport, names: ReadonlySet<string>, okValue: string, timeoutMs: number): ExecResultJson[] {
  return report.receipts
    .filter((r) => names.has(r.node))
    .map((r): ExecResultJson => {
      const ms = r.ms ?? 0;
      switch (r.state) {
        case "applied":
          return { node: r.node, ok: true, status: "ok", value: okValue, ms };
        case "skipped":
          // Its own certificate does not match the selector (membership's copy of it was older).
          return { node: r.node, ok: true, status: "ok", value: "skipped: not selected by its certificate", ms };
        case "error":
          return { node: r.node, ok: false, status: "error", error: r.detail ?? "error", ms };
        case "down":
          return { node: r.node, ok: false, status: "unreachable", error: "unreachable", detail: "member is down: it applies the entry when it is back", ms: 0 };
        case "lagging":
          return { node: r.node, ok: false, status: "timeout", error: "timeout", ms: timeoutMs };
      }
    });
}
