/**
 * The commands core on a node (src/cluster/commands.ts), hosted by the core host: `exec` resolves a
 * selector against the members this node knows and gathers the answers; a `run` the core reports is
 * checked (the asker's certificate must hold `admin`, except for this node's own requests, which
 * the admin interface already authorized), run in a fresh session under the node's exec budget,
 * and answered. A local run waits for the next turn of the event loop, so the run messages sent to
 * the peers just before it leave first (the backchannel seals and writes at the end of a turn).
 */
import { type CommandResult, type CommandsEvent, type CommandsRequest, type CommandTarget, type RunAnswer, type RunTicket, parseSelector, select } from "../cluster/mod.ts";
import { latin1FromText, textFromLatin1 } from "../lang/mod.ts";
import { log } from "../log.ts";
import { can, type Certificate } from "../net/mod.ts";
import type { CoreHandle } from "./core-host.ts";
import { EXEC_TIMEOUT_MS_DEFAULT } from "./limits.ts";
import type { MemberInfo } from "./member-json.ts";

/** A client connection's name for the cores: no certificate name (a DNS label) contains `#`. */
export function clientPeerName(id: number): string {
  return `client#${id}`;
}

/** The client number in such a name, or null for a member's name. */
export function clientIdOf(name: string): number | null {
  return name.startsWith("client#") ? Number(name.slice(7)) : null;
}

/** What `sup exec` asks of the node it reaches. */
export interface ExecInput {
  /** Selector text (`all`, `node:NAME`, `role:R`, `label:K=V`, comma lists). */
  readonly on: string;
  /** The program (JS text). */
  readonly code: string;
  readonly tenant: string;
  readonly timeoutMs?: number;
}

/** One node's result as the admin interface returns it (`sup exec --json` prints these). */
export interface ExecResultJson {
  readonly node: string;
  readonly ok: boolean;
  /** `ok`, `error`, `timeout` or `unreachable`. */
  readonly status: CommandResult["outcome"]["status"];
  /** The value in SLP source form, when ok. */
  readonly value?: string;
  /** The error, `timeout` or `unreachable`, when not ok. */
  readonly error?: string;
  /** Why it was unreachable. */
  readonly detail?: string;
  readonly ms: number;
}

/** Runs an exec'd program here (source and answer as latin1 byte strings, as the wire has them); never throws. */
export type ExecRunner = (tenant: string, code: string, budgetMs: number) => RunAnswer;

/** See the file comment. */
export class NodeCommands {
  private nextId = 1;
  private readonly waiting = new Map<number, (results: readonly CommandResult[]) => void>();

  constructor(
    /** This node's name: its own requests need no permission check. */
    private readonly self: string,
    private readonly handle: CoreHandle<CommandsRequest, CommandsEvent>,
    /** The certificate of the peer or client behind a core name, or undefined when it is gone. */
    private readonly certOf: (name: string) => Certificate | undefined,
    private readonly run: ExecRunner,
  ) {
    handle.subscribe((e) => this.event(e));
  }

  /** The members a selector picks (SelectorError for an unknown node or an empty selection). */
  static targets(on: string, members: readonly MemberInfo[]): CommandTarget[] {
    const selector = parseSelector(on);
    // A member that left on purpose is a target only when named; dead ones are (they answer unreachable).
    const named = new Set(selector.terms.flatMap((t) => (t.kind === "node" ? [t.name] : [])));
    const subjects = members
      .filter((m) => m.state !== "left" || named.has(m.name))
      .map((m) => ({ name: m.name, roles: m.roles, labels: Object.entries(m.labels), state: m.state, address: m.backchannel }));
    return select(selector, subjects).map((s) => ({ name: s.name, address: s.address, state: s.state }));
  }

  /** Runs `code` (JS text) on `targets` and resolves with every target's result (JSON) by the deadline. */
  exec(targets: readonly CommandTarget[], tenant: string, code: string, timeoutMs = EXEC_TIMEOUT_MS_DEFAULT): Promise<ExecResultJson[]> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, (results) => resolve(results.map(resultJson)));
      this.handle.request({ type: "exec", id, targets, tenant, code: latin1FromText(code), timeoutMs });
    });
  }

  private event(e: CommandsEvent): void {
    switch (e.type) {
      case "done": {
        const resolve = this.waiting.get(e.id);
        this.waiting.delete(e.id);
        resolve?.(e.results);
        return;
      }
      case "rejected":
        log("warn", "commands message refused", { peer: e.peer, reason: e.reason });
        return;
      case "run":
        setImmediate(() => this.handle.request({ type: "answer", ticket: e.ticket, answer: this.refusal(e.ticket, "run exec") ?? this.run(e.tenant, e.code, e.budgetMs) }));
        return;
    }
  }

  /** Why the asker behind a ticket may not do `what` here (it needs `admin`), or null. Texts as latin1. */
  private refusal(ticket: RunTicket, what: string): RunAnswer | null {
    if (ticket.to === this.self) return null;
    const cert = this.certOf(ticket.to);
    if (cert === undefined) return { ok: false, error: latin1FromText(`refused: "${ticket.to}" is no longer connected`) };
    if (can(cert, "admin")) return null;
    log("warn", "command refused", { from: cert.name, what, reason: "no admin permission" });
    return { ok: false, error: latin1FromText(`refused: "${cert.name}" may not ${what} here: its certificate lacks the "admin" permission`) };
  }
}

/** A result as JSON (texts from the wire's latin1 bytes back to JS text). */
export function resultJson(result: CommandResult): ExecResultJson {
  const r = { ...result, ms: Math.round(result.ms * 10) / 10 };
  const o = r.outcome;
  switch (o.status) {
    case "ok":
      return { node: r.node, ok: true, status: "ok", value: textFromLatin1(o.value), ms: r.ms };
    case "error":
      return { node: r.node, ok: false, status: "error", error: textFromLatin1(o.error), ms: r.ms };
    case "timeout":
      return { node: r.node, ok: false, status: "timeout", error: "timeout", ms: r.ms };
    case "unreachable":
      return { node: r.node, ok: false, status: "unreachable", error: "unreachable", detail: o.detail, ms: r.ms };
  }
}
