/**
 * The node's own backchannel messages (version 1 of each), codec values like every message:
 *
 *   (node-info 1 BACKCHANNEL HTTP)      where this node listens; a host of 0.0.0.0 (or ::) means
 *                                       "the address you see me at"; HTTP "" when off
 *   (members 1 [(NAME ADDRESS) …])      peers the sender knows, with their backchannel addresses
 *   (leave 1)                           the sender is stopping on purpose (mark it left, not dead)
 *
 * Reading never throws: a message of another kind is `unknown` and one of these kinds with the
 * wrong shape is `malformed`; the node logs both and carries on.
 */
import { List, Str, str, Sym, sym, T_BRACKET, T_PAREN } from "../lang/value.ts";
import { MEMBERS_MESSAGE_ITEMS_MAX } from "../net/mod.ts";
import { isAddress } from "./address.ts";

const NODE_INFO = sym("node-info");
const MEMBERS = sym("members");
const LEAVE = sym("leave");

export type PeerMessage =
  | { readonly kind: "node-info"; readonly backchannel: string; readonly http: string }
  | { readonly kind: "members"; readonly members: readonly { name: string; address: string }[] }
  | { readonly kind: "leave" }
  | { readonly kind: "unknown"; readonly name: string }
  | { readonly kind: "malformed"; readonly why: string };

/** `(node-info 1 BACKCHANNEL HTTP)` */
export function nodeInfoMessage(backchannel: string, http: string): List {
  return new List(T_PAREN, [NODE_INFO, 1, str(backchannel), str(http)]);
}

/** `(members 1 [(NAME ADDRESS) …])`, cut at MEMBERS_MESSAGE_ITEMS_MAX entries. */
export function membersMessage(members: readonly { name: string; address: string }[]): List {
  const items = members.slice(0, MEMBERS_MESSAGE_ITEMS_MAX).map((m) => new List(T_PAREN, [str(m.name), str(m.address)]));
  return new List(T_PAREN, [MEMBERS, 1, new List(T_BRACKET, items)]);
}

/** `(leave 1)` */
export function leaveMessage(): List {
  return new List(T_PAREN, [LEAVE, 1]);
}

/** Reads a message from a peer; see the file comment. */
export function readPeerMessage(msg: List): PeerMessage {
  const [head, version] = msg.items;
  const kind = head instanceof Sym ? head.name : null;
  if (kind === null) return { kind: "malformed", why: "message does not start with a kind symbol" };
  if (head !== NODE_INFO && head !== MEMBERS && head !== LEAVE) return { kind: "unknown", name: kind };
  if (version !== 1) return { kind: "malformed", why: `${kind} version ${typeof version === "number" ? version : "?"} is not supported (this node reads 1)` };
  if (head === LEAVE) return msg.items.length === 2 ? { kind: "leave" } : { kind: "malformed", why: "leave takes no fields" };
  if (head === NODE_INFO) {
    const [, , bc, http] = msg.items;
    if (msg.items.length !== 4 || !(bc instanceof Str) || !(http instanceof Str) || !isAddress(bc.s) || (http.s !== "" && !isAddress(http.s))) {
      return { kind: "malformed", why: "node-info needs a backchannel and an HTTP address (HOST:PORT)" };
    }
    return { kind: "node-info", backchannel: bc.s, http: http.s };
  }
  const list = msg.items[2];
  if (msg.items.length !== 3 || !(list instanceof List) || list.t !== T_BRACKET || list.items.length > MEMBERS_MESSAGE_ITEMS_MAX) {
    return { kind: "malformed", why: `members needs a list of at most ${MEMBERS_MESSAGE_ITEMS_MAX} (name address) pairs` };
  }
  const members: { name: string; address: string }[] = [];
  for (const item of list.items) {
    if (!(item instanceof List) || item.items.length !== 2 || !(item.items[0] instanceof Str) || !(item.items[1] instanceof Str) || !isAddress(item.items[1].s)) {
      return { kind: "malformed", why: "members entries must be (name \"host:port\")" };
    }
    members.push({ name: item.items[0].s, address: item.items[1].s });
  }
  return { kind: "members", members };
}

export { isAddress, splitAddress } from "./address.ts";
