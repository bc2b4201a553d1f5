/**
 * Error values of the `json` kernel: `@(json: <reason>)` built directly as a paren list (symbols for
 * words, integers for offsets), so it equals what the reader makes of the same text and a program can
 * compare it with `eq`. Built directly rather than parsed because no reason text needs the reader.
 */
import { List, T_ERROR, T_PAREN, Wrap, sym, type Value } from "sup/kernel";

/** The error value `@(json: w1 w2 …)`; decimal words become integers, as the reader would read them. */
export function jsonError(...words: readonly (string | number)[]): Wrap {
  const items: Value[] = [sym("json:")];
  for (const w of words) {
    if (typeof w === "number") items.push(w);
    else for (const part of w.split(" ")) if (part.length > 0) items.push(/^\d{1,15}$/.test(part) ? Number(part) : sym(part));
  }
  return new Wrap(T_ERROR, new List(T_PAREN, items));
}
