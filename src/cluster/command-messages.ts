/**
 * The commands core's messages as SLP values, and their decoding from untrusted peers (every field
 * type- and range-checked, nothing throws, a bad message is refused whole with a reason):
 *
 *   (command 1 run SESSION ID TENANT CODE BUDGET-MS)     run CODE here, answer within BUDGET-MS
 *   (command 1 result SESSION ID ok VALUE-TEXT)          it ran; its value in SLP source form
 *   (command 1 result SESSION ID error TEXT)             it failed (exception, budget, refusal…)
 *
 * SESSION is a number the asking core drew when it started and ID its request's number: an answer
 * is matched by both, so a late answer meant for an earlier life of the asking node is ignored.
 * Extra trailing fields are ignored, so a minor revision can add some.
 */
import { isList, List, Str, Sym, sym, T_PAREN, type Value } from "../lang/value.ts";
import { COMMANDS_PROTOCOL_VERSION, EXEC_CODE_BYTES_MAX, EXEC_ERROR_BYTES_MAX, EXEC_TENANT_BYTES_MAX, EXEC_TIMEOUT_MS_MAX, EXEC_VALUE_BYTES_MAX } from "./limits.ts";

/** The channel symbol of commands messages. */
export const COMMAND_CHANNEL = sym("command");

const RUN = sym("run");
const RESULT = sym("result");
const OK = sym("ok");
const ERROR = sym("error");

/** Largest session number: 32 bits, drawn once per core. */
export const SESSION_MAX = 0xffff_ffff;

/** What a node answers about one run: the value's text, or why it failed. */
export type RunAnswer = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };

/** A decoded commands message. */
export type CommandMessage =
  | { readonly kind: "run"; readonly session: number; readonly id: number; readonly tenant: string; readonly code: string; readonly budgetMs: number }
  | { readonly kind: "result"; readonly session: number; readonly id: number; readonly answer: RunAnswer };

/** `(command 1 run SESSION ID TENANT CODE BUDGET-MS)` */
export function runMessage(session: number, id: number, tenant: string, code: string, budgetMs: number): List {
  return new List(T_PAREN, [COMMAND_CHANNEL, COMMANDS_PROTOCOL_VERSION, RUN, session, id, new Str(tenant), new Str(code), budgetMs]);
}

/** `(command 1 result SESSION ID ok|error TEXT)` */
export function resultMessage(session: number, id: number, answer: RunAnswer): List {
  return new List(T_PAREN, [COMMAND_CHANNEL, COMMANDS_PROTOCOL_VERSION, RESULT, session, id, answer.ok ? OK : ERROR, new Str(answer.ok ? answer.value : answer.error)]);
}

/** Cuts a text to `max` bytes, saying so at the end (the text is latin1 bytes, one char each). */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const mark = ` …(cut: ${text.length} bytes)`;
  return text.slice(0, max - mark.length) + mark;
}

/** An answer cut to the limits of the wire. */
export function boundedAnswer(answer: RunAnswer): RunAnswer {
  return answer.ok ? { ok: true, value: cutText(answer.value, EXEC_VALUE_BYTES_MAX) } : { ok: false, error: cutText(answer.error, EXEC_ERROR_BYTES_MAX) };
}

type Decoded = { readonly ok: true; readonly message: CommandMessage } | { readonly ok: false; readonly reason: string; readonly session?: number; readonly id?: number };

const int = (v: Value | undefined, max: number): number | null => (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= max ? v : null);

/** Decodes a message on the commands channel; never throws. A refused `run` keeps its ids so it can be answered. */
export function decodeCommandMessage(v: Value): Decoded {
  if (!isList(v) || v.t !== T_PAREN || v.items[0] !== COMMAND_CHANNEL) return { ok: false, reason: "not a commands message" };
  const [, version, kind, s, i, ...rest] = v.items;
  if (version !== COMMANDS_PROTOCOL_VERSION) return { ok: false, reason: `commands version ${typeof version === "number" ? version : "?"} is not supported (this node speaks ${COMMANDS_PROTOCOL_VERSION})` };
  const session = int(s, SESSION_MAX);
  const id = int(i, Number.MAX_SAFE_INTEGER);
  if (session === null || id === null) return { ok: false, reason: "session and id must be non-negative integers" };
  if (kind === RUN) {
    const [tenant, code, budget] = rest;
    const bad = (reason: string): Decoded => ({ ok: false, reason, session, id });
    if (!(tenant instanceof Str) || tenant.s.length === 0 || tenant.s.length > EXEC_TENANT_BYTES_MAX) return bad(`tenant must be a name of 1 to ${EXEC_TENANT_BYTES_MAX} bytes`);
    if (!(code instanceof Str)) return bad("code is not a string");
    if (code.s.length > EXEC_CODE_BYTES_MAX) return bad(`program is ${code.s.length} bytes, more than ${EXEC_CODE_BYTES_MAX}`);
    const budgetMs = int(budget, EXEC_TIMEOUT_MS_MAX);
    if (budgetMs === null || budgetMs === 0) return bad(`budget must be an integer in 1..${EXEC_TIMEOUT_MS_MAX} ms`);
    return { ok: true, message: { kind: "run", session, id, tenant: tenant.s, code: code.s, budgetMs } };
  }
  if (kind === RESULT) {
    const [status, text] = rest;
    if ((status !== OK && status !== ERROR) || !(text instanceof Str)) return { ok: false, reason: "result needs ok or error and a text" };
    const max = status === OK ? EXEC_VALUE_BYTES_MAX : EXEC_ERROR_BYTES_MAX;
    if (text.s.length > max) return { ok: false, reason: `result text is ${text.s.length} bytes, more than ${max}` };
    return { ok: true, message: { kind: "result", session, id, answer: status === OK ? { ok: true, value: text.s } : { ok: false, error: text.s } } };
  }
  return { ok: false, reason: `unknown commands message kind ${kind instanceof Sym ? kind.name : "?"}` };
}
