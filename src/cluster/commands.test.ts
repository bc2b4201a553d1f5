/**
 * The commands core on its own: fan-out, answers, unreachable at once (dead, left, failed dial,
 * lost connection), timeouts at the deadline, late and foreign answers ignored, malformed input
 * refused (and a refused run still answered), and every limit at its maximum and one past it.
 */
import { describe, expect, test } from "bun:test";
import { encode } from "../lang/codec.ts";
import { List, Str, sym, T_PAREN, type Value } from "../lang/value.ts";
import { boundedAnswer, decodeCommandMessage, resultMessage, runMessage } from "./command-messages.ts";
import { CommandsCore, type CommandResult, type CommandsEvent, type CommandTarget } from "./commands.ts";
import type { CoreEffect } from "./core.ts";
import { COMMANDS_PROTOCOL_VERSION, EXEC_CODE_BYTES_MAX, EXEC_ERROR_BYTES_MAX, EXEC_PENDING_MAX, EXEC_TIMEOUT_MS_MAX, EXEC_VALUE_BYTES_MAX, execAnswerMarginMs, MESSAGE_BYTES_MAX } from "./limits.ts";
import { Prng } from "./prng.ts";

type Effect = CoreEffect<CommandsEvent>;

function core(name: string, seed = 1): CommandsCore {
  return new CommandsCore({ name, now: 0, random: new Prng(seed) });
}

const target = (name: string, state: CommandTarget["state"] = "alive", address: string | null = `${name}:7000`): CommandTarget => ({ name, address, state });
const sends = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { type: "send" }> => e.type === "send");
const events = (effects: Effect[]) => effects.filter((e): e is Extract<Effect, { type: "emit" }> => e.type === "emit").map((e) => e.event);
const done = (effects: Effect[]) => events(effects).find((e): e is Extract<CommandsEvent, { type: "done" }> => e.type === "done");
const runs = (effects: Effect[]) => events(effects).filter((e): e is Extract<CommandsEvent, { type: "run" }> => e.type === "run");
const timer = (effects: Effect[]) => (effects.at(-1) as Extract<Effect, { type: "timer" }>).at;
const statuses = (results: readonly CommandResult[]) => results.map((r) => `${r.node}:${r.outcome.status}`);

function exec(c: CommandsCore, now: number, targets: CommandTarget[], code = "(+ 1 2)", timeoutMs = 1000, id = 1): Effect[] {
  return c.step({ type: "request", now, request: { type: "exec", id, targets, tenant: "default", code, timeoutMs } });
}

function connect(c: CommandsCore, ...peers: string[]): void {
  for (const p of peers) c.step({ type: "connected", now: 0, peer: p, dialed: null });
}

describe("commands core: fan-out and answers", () => {
  test("one run message per connected target, the local run last; answers complete the request in target order", () => {
    const a = core("a");
    connect(a, "b", "c");
    const out = exec(a, 10, [target("c"), target("a"), target("b")]);
    expect(sends(out).map((s) => s.to)).toEqual(["c", "b"]);
    const local = runs(out);
    expect(local.map((r) => r.ticket.to)).toEqual(["a"]);
    expect(out.findIndex((e) => e.type === "emit")).toBeGreaterThan(out.findLastIndex((e) => e.type === "send"));
    expect(timer(out)).toBe(1010);
    // The peers' cores turn the message into a run event and send back what their node answered.
    const b = core("b", 2);
    const bRun = runs(b.step({ type: "message", now: 0, from: "a", message: sends(out)[1]!.message }))[0]!;
    expect(bRun).toMatchObject({ tenant: "default", code: "(+ 1 2)", budgetMs: 1000 - execAnswerMarginMs(1000) });
    const bAnswer = sends(b.step({ type: "request", now: 1, request: { type: "answer", ticket: bRun.ticket, answer: { ok: true, value: "3" } } }))[0]!;
    expect(bAnswer.to).toBe("a");
    expect(done(a.step({ type: "message", now: 14, from: "b", message: bAnswer.message }))).toBeUndefined();
    expect(done(a.step({ type: "request", now: 20, request: { type: "answer", ticket: local[0]!.ticket, answer: { ok: true, value: "3" } } }))).toBeUndefined();
    const finished = done(a.step({ type: "message", now: 25, from: "c", message: resultMessage(a.session, 1, { ok: false, error: "Exception during execution: boom" }) }))!;
    expect(finished.id).toBe(1);
    expect(finished.results).toEqual([
      { node: "c", outcome: { status: "error", error: "Exception during execution: boom" }, ms: 15 },
      { node: "a", outcome: { status: "ok", value: "3" }, ms: 10 },
      { node: "b", outcome: { status: "ok", value: "3" }, ms: 4 },
    ]);
    expect(a.pendingCount).toBe(0);
  });

  test("dead and left members are unreachable at once; a request of only those is done in the same step", () => {
    const a = core("a");
    const out = exec(a, 0, [target("b", "dead"), target("c", "left")]);
    expect(sends(out)).toEqual([]);
    expect(done(out)!.results).toEqual([
      { node: "b", outcome: { status: "unreachable", detail: "member is dead" }, ms: 0 },
      { node: "c", outcome: { status: "unreachable", detail: "member is left" }, ms: 0 },
    ]);
  });

  test("an unconnected target is dialed and sent to; a failed dial makes it unreachable before the deadline", () => {
    const a = core("a");
    connect(a, "b");
    const out = exec(a, 0, [target("b"), target("c"), target("d", "suspect", null)]);
    expect(out.filter((e) => e.type === "connect")).toEqual([{ type: "connect", address: "c:7000", peer: "c" }]);
    expect(sends(out).map((s) => s.to)).toEqual(["b", "c"]);
    a.step({ type: "message", now: 3, from: "b", message: resultMessage(a.session, 1, { ok: true, value: "3" }) });
    const failed = done(a.step({ type: "connect-failed", now: 40, address: "c:7000", reason: "refused" }))!;
    expect(failed.results.map((r) => [r.node, r.outcome, r.ms])).toEqual([
      ["b", { status: "ok", value: "3" }, 3],
      ["c", { status: "unreachable", detail: "cannot connect to c:7000: refused" }, 40],
      ["d", { status: "unreachable", detail: "its backchannel address is unknown" }, 0],
    ]);
  });

  test("a connection lost before the answer makes its target unreachable; the others still answer", () => {
    const a = core("a");
    connect(a, "b", "c");
    exec(a, 0, [target("b"), target("c")]);
    expect(done(a.step({ type: "disconnected", now: 5, peer: "c", local: false }))).toBeUndefined();
    const d = done(a.step({ type: "message", now: 7, from: "b", message: resultMessage(a.session, 1, { ok: true, value: "1" }) }))!;
    expect(statuses(d.results)).toEqual(["b:ok", "c:unreachable"]);
  });

  test("a silent target is a timeout at the deadline, not before; a late answer is ignored", () => {
    const a = core("a");
    connect(a, "b", "c");
    exec(a, 100, [target("b"), target("c")], "1", 500);
    a.step({ type: "message", now: 110, from: "b", message: resultMessage(a.session, 1, { ok: true, value: "1" }) });
    const early = a.step({ type: "tick", now: 599 });
    expect(done(early)).toBeUndefined();
    expect(timer(early)).toBe(600);
    const d = done(a.step({ type: "tick", now: 600 }))!;
    expect(d.results).toEqual([
      { node: "b", outcome: { status: "ok", value: "1" }, ms: 10 },
      { node: "c", outcome: { status: "timeout" }, ms: 500 },
    ]);
    expect(events(a.step({ type: "message", now: 700, from: "c", message: resultMessage(a.session, 1, { ok: true, value: "1" }) }))).toEqual([]);
  });

  test("an answer from another session (a former life of this node) or from a non-target is ignored", () => {
    const a = core("a");
    connect(a, "b");
    exec(a, 0, [target("b")]);
    expect(done(a.step({ type: "message", now: 1, from: "b", message: resultMessage(a.session ^ 1, 1, { ok: true, value: "old" }) }))).toBeUndefined();
    expect(done(a.step({ type: "message", now: 1, from: "x", message: resultMessage(a.session, 1, { ok: true, value: "x" }) }))).toBeUndefined();
    expect(done(a.step({ type: "message", now: 2, from: "b", message: resultMessage(a.session, 1, { ok: true, value: "new" }) }))!.results[0]!.outcome).toEqual({ status: "ok", value: "new" });
  });

  test("duplicate targets are asked once and reported once", () => {
    const a = core("a");
    connect(a, "b");
    const out = exec(a, 0, [target("b"), target("b")]);
    expect(sends(out).length).toBe(1);
    expect(done(a.step({ type: "message", now: 1, from: "b", message: resultMessage(a.session, 1, { ok: true, value: "1" }) }))!.results.length).toBe(1);
  });

  test("the same inputs give the same effects and the same session", () => {
    const run = () => {
      const a = core("a", 9);
      connect(a, "b");
      return JSON.stringify([a.session, exec(a, 0, [target("b"), target("a"), target("c", "dead")])], (_k, v) => (v instanceof List ? v.items : v instanceof Str ? v.s : v));
    };
    expect(run()).toBe(run());
  });
});

describe("commands core: refusals", () => {
  const msg = (...items: Value[]) => new List(T_PAREN, [sym("command"), COMMANDS_PROTOCOL_VERSION, ...items]);

  test("a malformed run is refused with a reason and still answered, so its asker does not wait", () => {
    const b = core("b");
    const out = b.step({ type: "message", now: 0, from: "a", message: msg(sym("run"), 7, 3, new Str("default"), 42, 100) });
    expect(events(out)).toEqual([{ type: "rejected", peer: "a", reason: "code is not a string" }]);
    const answer = decodeCommandMessage(sends(out)[0]!.message);
    expect(answer.ok && answer.message).toEqual({ kind: "result", session: 7, id: 3, answer: { ok: false, error: "refused by b: code is not a string" } });
  });

  test("other malformed messages are refused without an answer", () => {
    const b = core("b");
    for (const [m, reason] of [
      [msg(sym("result"), 1, 1, sym("maybe"), new Str("x")), "result needs ok or error and a text"],
      [msg(sym("shout"), 1, 1), "unknown commands message kind shout"],
      [msg(sym("run"), -1, 1), "session and id must be non-negative integers"],
      [new List(T_PAREN, [sym("command"), 2, sym("run")]), "commands version 2 is not supported (this node speaks 1)"],
    ] as const) {
      const out = b.step({ type: "message", now: 0, from: "a", message: m });
      expect(events(out)).toEqual([{ type: "rejected", peer: "a", reason }]);
      expect(sends(out)).toEqual([]);
    }
  });
});

describe("commands core: limits at their maximum and one past", () => {
  test(`EXEC_PENDING_MAX (${EXEC_PENDING_MAX}) requests gather at once; one more is busy for every target at once`, () => {
    const a = core("a");
    connect(a, "b");
    for (let i = 1; i <= EXEC_PENDING_MAX; i++) expect(done(exec(a, 0, [target("b")], "1", 1000, i))).toBeUndefined();
    expect(a.pendingCount).toBe(EXEC_PENDING_MAX);
    const busy = done(exec(a, 0, [target("b")], "1", 1000, EXEC_PENDING_MAX + 1))!;
    expect(busy.results[0]!.outcome).toEqual({ status: "error", error: `busy: ${EXEC_PENDING_MAX} exec requests are in flight on a` });
  });

  test(`a program of EXEC_CODE_BYTES_MAX (${EXEC_CODE_BYTES_MAX}) bytes is sent and read; one byte more is refused on both sides`, () => {
    const a = core("a");
    connect(a, "b");
    const atMax = "1" + " ".repeat(EXEC_CODE_BYTES_MAX - 1);
    const out = exec(a, 0, [target("b")], atMax);
    const m = sends(out)[0]!.message;
    expect(encode(m).length).toBeLessThanOrEqual(MESSAGE_BYTES_MAX);
    expect(runs(core("b").step({ type: "message", now: 0, from: "a", message: m }))[0]!.code.length).toBe(EXEC_CODE_BYTES_MAX);
    expect(done(exec(a, 0, [target("b")], atMax + " ", 1000, 2))!.results[0]!.outcome.status).toBe("error");
    const over = core("b").step({ type: "message", now: 0, from: "a", message: runMessage(1, 1, "default", atMax + " ", 100) });
    expect(events(over)[0]).toEqual({ type: "rejected", peer: "a", reason: `program is ${EXEC_CODE_BYTES_MAX + 1} bytes, more than ${EXEC_CODE_BYTES_MAX}` });
  });

  test(`a value of EXEC_VALUE_BYTES_MAX (${EXEC_VALUE_BYTES_MAX}) bytes goes back whole; a longer one is cut to it and marked`, () => {
    const atMax = "x".repeat(EXEC_VALUE_BYTES_MAX);
    expect(boundedAnswer({ ok: true, value: atMax })).toEqual({ ok: true, value: atMax });
    const cut = boundedAnswer({ ok: true, value: atMax + "y" });
    expect(cut.ok && cut.value.length).toBe(EXEC_VALUE_BYTES_MAX);
    expect(cut.ok && cut.value).toEndWith(`…(cut: ${EXEC_VALUE_BYTES_MAX + 1} bytes)`);
    const err = boundedAnswer({ ok: false, error: "e".repeat(EXEC_ERROR_BYTES_MAX + 1) });
    expect(!err.ok && err.error.length).toBe(EXEC_ERROR_BYTES_MAX);
    // The whole result message fits a core message; a peer's result over the limit is refused.
    expect(encode(resultMessage(0xffff_ffff, Number.MAX_SAFE_INTEGER, { ok: true, value: atMax })).length).toBeLessThanOrEqual(MESSAGE_BYTES_MAX);
    const over = core("a").step({ type: "message", now: 0, from: "b", message: resultMessage(1, 1, { ok: true, value: atMax + "y" }) });
    expect(events(over)[0]).toMatchObject({ type: "rejected", reason: `result text is ${EXEC_VALUE_BYTES_MAX + 1} bytes, more than ${EXEC_VALUE_BYTES_MAX}` });
  });

  test(`a timeout of EXEC_TIMEOUT_MS_MAX (${EXEC_TIMEOUT_MS_MAX} ms) is kept; a longer one is cut to it`, () => {
    const a = core("a");
    connect(a, "b");
    expect(timer(exec(a, 0, [target("b")], "1", EXEC_TIMEOUT_MS_MAX, 1))).toBe(EXEC_TIMEOUT_MS_MAX);
    expect(timer(exec(a, 0, [target("b")], "1", EXEC_TIMEOUT_MS_MAX + 1, 2))).toBe(EXEC_TIMEOUT_MS_MAX);
    const budget = (t: number) => decodeCommandMessage(runMessage(1, 1, "default", "1", t));
    expect(budget(EXEC_TIMEOUT_MS_MAX).ok).toBe(true);
    expect(budget(EXEC_TIMEOUT_MS_MAX + 1)).toMatchObject({ ok: false, reason: `budget must be an integer in 1..${EXEC_TIMEOUT_MS_MAX} ms` });
  });
});
