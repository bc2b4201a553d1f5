/**
 * The commands core: runs a program on a set of nodes and gathers their answers by a deadline, the
 * way Erlang's rpc:multicall does — one message per target, all sent at once, every answer matched
 * to its request, whatever has not answered by the deadline is `timeout`. A ProtocolCore (core.ts):
 * fed inputs, answering with effects, deterministic.
 *
 * Kernel sets and revocations do not travel here: they are change-log entries (replication.ts), so
 * a node that is down when they are issued applies them when it comes back.
 *
 * Both sides live in one core. Asking: an `exec` request names the targets (with their membership
 * state and address, which the driver reads from membership); dead and left members are
 * `unreachable` at once, connected ones get the run message, others a `connect` first (the driver
 * holds the message until the dial is answered), and a failed dial or a connection lost before the
 * answer makes that target `unreachable` without waiting for the deadline. The core itself as a
 * target is answered through the same path as a peer: a `run` event, then an `answer` request.
 * Answering: a run message becomes a `run` event; the driver runs the program under its own
 * budget rules and feeds the `answer` back, which the core sends. The core never evaluates code
 * and never decides who may run what: the driver checks the asker's permission before it runs.
 */
import { SupError } from "../errors.ts";
import type { CoreEffect, CoreInput, PeerName, ProtocolCore, Random } from "./core.ts";
import { boundedAnswer, COMMAND_CHANNEL, decodeCommandMessage, resultMessage, runMessage, SESSION_MAX, type RunAnswer } from "./command-messages.ts";
import { EXEC_CODE_BYTES_MAX, EXEC_PENDING_MAX, EXEC_TENANT_BYTES_MAX, EXEC_TIMEOUT_MS_MAX, execAnswerMarginMs } from "./limits.ts";
import type { MemberState } from "./member.ts";
import type { Value } from "../lang/value.ts";

/** Ticks asked for while nothing is pending: the core has nothing to do, but the contract wants a timer. */
const IDLE_TICK_MS = 60_000;

/** A node an exec is for: its name, where to dial it, and its state as membership knows it. */
export interface CommandTarget {
  readonly name: string;
  /** Backchannel address (`host:port`) to dial when not connected; null when unknown. */
  readonly address: string | null;
  readonly state: MemberState;
}

/** What became of one target. */
export type CommandOutcome =
  | { readonly status: "ok"; readonly value: string }
  | { readonly status: "error"; readonly error: string }
  | { readonly status: "timeout" }
  | { readonly status: "unreachable"; readonly detail: string };

/** One target's result: its outcome and the time from the request to it, on the asker's clock. */
export interface CommandResult {
  readonly node: string;
  readonly outcome: CommandOutcome;
  readonly ms: number;
}

/** Where an answer goes: the asker, its session and its request number (opaque to the driver). */
export interface RunTicket {
  readonly to: PeerName;
  readonly session: number;
  readonly id: number;
}

/** What the node asks of the commands core. */
export type CommandsRequest =
  /** Run `code` on every target, gathering by `timeoutMs`; `id` names the request in its `done`. */
  | { readonly type: "exec"; readonly id: number; readonly targets: readonly CommandTarget[]; readonly tenant: string; readonly code: string; readonly timeoutMs: number }
  /** The answer to a `run` event. */
  | { readonly type: "answer"; readonly ticket: RunTicket; readonly answer: RunAnswer };

/** What the commands core tells its node. */
export type CommandsEvent =
  /** Run this program here, in `tenant`, within `budgetMs`, and answer with the ticket. */
  | { readonly type: "run"; readonly ticket: RunTicket; readonly tenant: string; readonly code: string; readonly budgetMs: number }
  /** An exec request is complete: one result per target, in the order they were given. */
  | { readonly type: "done"; readonly id: number; readonly results: readonly CommandResult[] }
  /** A message was refused (malformed, over a limit); logged and counted by the node. */
  | { readonly type: "rejected"; readonly peer: PeerName; readonly reason: string };

/** How a commands core starts. */
export interface CommandsOptions {
  /** This node's name (its certificate's): a target of that name is run here. */
  readonly name: string;
  readonly now: number;
  /** Draws the session number that tells this core's answers from a former life's. */
  readonly random: Random;
}

/** A commands core cannot start with these options. */
export class CommandsOptionsError extends SupError {
  constructor(message: string) {
    super("commands-options", message);
  }
}

interface Pending {
  readonly id: number;
  readonly startedAt: number;
  readonly deadline: number;
  readonly order: readonly string[];
  readonly results: Map<string, CommandResult>;
  /** Targets sent a run and not answered yet, with the address dialed for them (null: was connected). */
  readonly waiting: Map<string, string | null>;
}

/** The commands protocol core; see the file comment. */
export class CommandsCore implements ProtocolCore<CommandsRequest, CommandsEvent> {
  readonly channel = COMMAND_CHANNEL;
  readonly name: string;
  /** This life's session number, carried in every run message and echoed by every answer. */
  readonly session: number;
  private readonly connected = new Set<PeerName>();
  private readonly pending = new Map<number, Pending>();
  private out: CoreEffect<CommandsEvent>[] = [];

  constructor(options: CommandsOptions) {
    if (options.name === "") throw new CommandsOptionsError("Cannot start the commands core: the node has no name");
    this.name = options.name;
    this.session = Math.floor(options.random.next() * SESSION_MAX);
  }

  /** Exec requests still gathering. */
  get pendingCount(): number {
    return this.pending.size;
  }

  step(input: CoreInput<CommandsRequest>): CoreEffect<CommandsEvent>[] {
    this.out = [];
    const now = input.now;
    switch (input.type) {
      case "tick":
        break;
      case "message":
        this.message(input.from, input.message, now);
        break;
      case "connected":
        this.connected.add(input.peer);
        break;
      case "disconnected":
        this.connected.delete(input.peer);
        this.lost((name) => name === input.peer, "the connection was lost before it answered", now);
        break;
      case "connect-failed":
        this.lost((name, dialed) => dialed === input.address && !this.connected.has(name), `cannot connect to ${input.address}: ${input.reason}`, now);
        break;
      case "request":
        if (input.request.type === "answer") this.answer(input.request.ticket, input.request.answer, now);
        else this.fanOut(input.request, now);
        break;
    }
    this.expire(now);
    let next = now + IDLE_TICK_MS;
    for (const p of this.pending.values()) next = Math.min(next, p.deadline);
    this.out.push({ type: "timer", at: next });
    return this.out;
  }

  private fanOut(r: Extract<CommandsRequest, { type: "exec" }>, now: number): void {
    const timeoutMs = Math.min(EXEC_TIMEOUT_MS_MAX, Math.max(1, Math.floor(r.timeoutMs)));
    const p: Pending = { id: r.id, startedAt: now, deadline: now + timeoutMs, order: [...new Set(r.targets.map((t) => t.name))], results: new Map(), waiting: new Map() };
    const refuse = (error: string) => {
      for (const t of r.targets) p.results.set(t.name, { node: t.name, outcome: { status: "error", error }, ms: 0 });
    };
    if (this.pending.has(r.id)) refuse(`request ${r.id} is already pending (a bug in the driver)`);
    else if (this.pending.size >= EXEC_PENDING_MAX) refuse(`busy: ${EXEC_PENDING_MAX} exec requests are in flight on ${this.name}`);
    else if (r.code.length > EXEC_CODE_BYTES_MAX) refuse(`program is ${r.code.length} bytes, more than ${EXEC_CODE_BYTES_MAX}: store it as a module and import it`);
    else if ((r.tenant.length === 0 || r.tenant.length > EXEC_TENANT_BYTES_MAX)) refuse(`tenant must be a name of 1 to ${EXEC_TENANT_BYTES_MAX} bytes`);
    if (p.results.size > 0 || r.targets.length === 0) return this.emit({ type: "done", id: r.id, results: p.order.map((n) => p.results.get(n)!) });
    this.pending.set(r.id, p);
    const budgetMs = Math.max(1, timeoutMs - execAnswerMarginMs(timeoutMs));
    const message = runMessage(this.session, r.id, r.tenant, r.code, budgetMs);
    let self = false;
    for (const t of r.targets) {
      if (p.results.has(t.name) || p.waiting.has(t.name)) continue;
      if (t.name === this.name) {
        self = true;
        p.waiting.set(t.name, null);
      } else if (t.state === "dead" || t.state === "left") {
        p.results.set(t.name, { node: t.name, outcome: { status: "unreachable", detail: `member is ${t.state}` }, ms: 0 });
      } else if (this.connected.has(t.name)) {
        p.waiting.set(t.name, null);
        this.out.push({ type: "send", to: t.name, message });
      } else if (t.address !== null) {
        p.waiting.set(t.name, t.address);
        this.out.push({ type: "connect", address: t.address, peer: t.name });
        this.out.push({ type: "send", to: t.name, message });
      } else {
        p.results.set(t.name, { node: t.name, outcome: { status: "unreachable", detail: "its backchannel address is unknown" }, ms: 0 });
      }
    }
    // Sent first, run here last: the local run blocks this node's thread, the peers need not wait for it.
    if (self) {
      const ticket = { to: this.name, session: this.session, id: r.id };
      this.emit({ type: "run", ticket, tenant: r.tenant, code: r.code, budgetMs });
    }
    this.completeIfDone(p);
  }

  private answer(ticket: RunTicket, answer: RunAnswer, now: number): void {
    if (ticket.to !== this.name) {
      this.out.push({ type: "send", to: ticket.to, message: resultMessage(ticket.session, ticket.id, boundedAnswer(answer)) });
      return;
    }
    if (ticket.session === this.session) this.resolve(ticket.id, this.name, answer, now);
  }

  private message(from: PeerName, value: Value, now: number): void {
    const d = decodeCommandMessage(value);
    if (!d.ok) {
      this.emit({ type: "rejected", peer: from, reason: d.reason });
      // A run we cannot read is still answered, so its asker need not wait for its deadline.
      if (d.session !== undefined && d.id !== undefined) this.out.push({ type: "send", to: from, message: resultMessage(d.session, d.id, boundedAnswer({ ok: false, error: `refused by ${this.name}: ${d.reason}` })) });
      return;
    }
    const m = d.message;
    if (m.kind === "run") {
      this.emit({ type: "run", ticket: { to: from, session: m.session, id: m.id }, tenant: m.tenant, code: m.code, budgetMs: m.budgetMs });
      return;
    }
    // An answer for another life of this node, or after its deadline, is simply late.
    if (m.session === this.session) this.resolve(m.id, from, m.answer, now);
  }

  private resolve(id: number, node: string, answer: RunAnswer, now: number): void {
    const p = this.pending.get(id);
    if (p === undefined || !p.waiting.has(node)) return;
    p.waiting.delete(node);
    p.results.set(node, { node, outcome: answer.ok ? { status: "ok", value: answer.value } : { status: "error", error: answer.error }, ms: now - p.startedAt });
    this.completeIfDone(p);
  }

  /** Every waiting target `which` picks becomes unreachable. */
  private lost(which: (name: string, dialed: string | null) => boolean, detail: string, now: number): void {
    for (const p of [...this.pending.values()]) {
      for (const [name, dialed] of [...p.waiting]) {
        if (name === this.name || !which(name, dialed)) continue;
        p.waiting.delete(name);
        p.results.set(name, { node: name, outcome: { status: "unreachable", detail }, ms: now - p.startedAt });
      }
      this.completeIfDone(p);
    }
  }

  private expire(now: number): void {
    for (const p of [...this.pending.values()]) {
      if (now < p.deadline) continue;
      for (const name of p.waiting.keys()) p.results.set(name, { node: name, outcome: { status: "timeout" }, ms: p.deadline - p.startedAt });
      p.waiting.clear();
      this.completeIfDone(p);
    }
  }

  private completeIfDone(p: Pending): void {
    if (p.waiting.size > 0 || !this.pending.has(p.id)) return;
    this.pending.delete(p.id);
    this.emit({ type: "done", id: p.id, results: p.order.map((n) => p.results.get(n)!) });
  }

  private emit(event: CommandsEvent): void {
    this.out.push({ type: "emit", event });
  }
}
