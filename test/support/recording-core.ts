/**
 * A protocol core for tests of drivers: it records every input, and does what its requests say
 * (send a text, connect, set its timer, emit), so a test can make any effect happen and see what
 * the driver fed back. Messages are `(CHANNEL 1 TEXT)`; each one received is emitted as an event.
 */
import type { CoreEffect, CoreInput, ProtocolCore } from "../../src/cluster/mod.ts";
import { isList, List, Str, str, sym, T_PAREN, type Sym } from "../../src/lang/value.ts";

export type RecordingRequest =
  | { readonly type: "send"; readonly to: string; readonly text: string }
  | { readonly type: "connect"; readonly address: string; readonly peer: string | null }
  | { readonly type: "wake"; readonly at: number }
  | { readonly type: "emit"; readonly text: string }
  | { readonly type: "throw" };

export type RecordingEvent = { readonly from: string; readonly text: string } | { readonly said: string };

/** See the file comment. */
export class RecordingCore implements ProtocolCore<RecordingRequest, RecordingEvent> {
  readonly channel: Sym;
  readonly inputs: CoreInput<RecordingRequest>[] = [];
  private wakeAt = Infinity;

  constructor(channel: string) {
    this.channel = sym(channel);
  }

  /** The inputs of one type, in order. */
  of<T extends CoreInput<RecordingRequest>["type"]>(type: T): Extract<CoreInput<RecordingRequest>, { type: T }>[] {
    return this.inputs.filter((i): i is Extract<CoreInput<RecordingRequest>, { type: T }> => i.type === type);
  }

  message(text: string): List {
    return new List(T_PAREN, [this.channel, 1, str(text)]);
  }

  step(input: CoreInput<RecordingRequest>): CoreEffect<RecordingEvent>[] {
    this.inputs.push(input);
    const out: CoreEffect<RecordingEvent>[] = [];
    if (input.type === "message" && isList(input.message) && input.message.items[2] instanceof Str) {
      out.push({ type: "emit", event: { from: input.from, text: input.message.items[2].s } });
    }
    if (input.type === "tick" && input.now >= this.wakeAt) this.wakeAt = Infinity;
    if (input.type === "request") {
      const r = input.request;
      if (r.type === "throw") throw new Error("recording core was asked to throw");
      if (r.type === "send") out.push({ type: "send", to: r.to, message: this.message(r.text) });
      if (r.type === "connect") out.push({ type: "connect", address: r.address, peer: r.peer });
      if (r.type === "wake") this.wakeAt = r.at;
      if (r.type === "emit") out.push({ type: "emit", event: { said: r.text } });
    }
    out.push({ type: "timer", at: this.wakeAt });
    return out;
  }
}
