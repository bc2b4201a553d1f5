/**
 * Selectors: which nodes a command, a targeted change-log entry or an exec is for. The text form is
 * what users type after `--on` and what targeted entries carry: `all`, `node:NAME`, `role:R`,
 * `label:K=V`, or a comma-separated list of these (a node matches the list when it matches any
 * term). Parsing is strict and total: every malformed selector is a typed error naming the term.
 */
import { SupError } from "../errors.ts";
import { NAME_BYTES_MAX, ROLE_BYTES_MAX } from "./limits.ts";

/** One term of a selector. */
export type SelectorTerm =
  | { readonly kind: "all" }
  | { readonly kind: "node"; readonly name: string }
  | { readonly kind: "role"; readonly role: string }
  | { readonly kind: "label"; readonly key: string; readonly value: string };

/** A parsed selector: its terms (at least one) and its canonical text. */
export interface Selector {
  readonly terms: readonly SelectorTerm[];
  /** Terms in the order given, duplicates dropped, joined by commas: what entries carry. */
  readonly text: string;
}

/** What a selector is matched against: a member's name, roles and labels. */
export interface SelectorSubject {
  readonly name: string;
  readonly roles: readonly string[];
  readonly labels: readonly (readonly [string, string])[];
}

/** A selector's text is malformed; the message names the term and what is wrong with it. */
export class SelectorError extends SupError {
  constructor(message: string) {
    super("selector", message);
  }
}

/**
 * Most terms in one selector: a list of a few dozen node names is the longest a person types or a
 * script builds, and the cap bounds what a targeted entry from a peer makes every node evaluate.
 */
export const SELECTOR_TERMS_MAX = 64;

/** Label keys and values: the words roles and certificate labels are made of. */
const WORD = /^[A-Za-z0-9._-]+$/;
const NODE_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const SELECTOR_FORMS = "all, node:NAME, role:R, label:K=V, or a comma-separated list of these";

/** The canonical text of one term. */
function termText(t: SelectorTerm): string {
  switch (t.kind) {
    case "all":
      return "all";
    case "node":
      return `node:${t.name}`;
    case "role":
      return `role:${t.role}`;
    case "label":
      return `label:${t.key}=${t.value}`;
  }
}

function parseTerm(raw: string): SelectorTerm {
  const term = raw.trim();
  const bad = (why: string) => new SelectorError(`Invalid selector term "${term}": ${why}`);
  if (term === "all") return { kind: "all" };
  const colon = term.indexOf(":");
  if (colon < 0) throw bad(`expected ${SELECTOR_FORMS}`);
  const kind = term.slice(0, colon);
  const rest = term.slice(colon + 1);
  switch (kind) {
    case "node":
      if (rest.length > NAME_BYTES_MAX || !NODE_NAME.test(rest)) throw bad("a node name is lower-case letters, digits and inner hyphens");
      return { kind: "node", name: rest };
    case "role":
      if (rest.length > ROLE_BYTES_MAX || !WORD.test(rest)) throw bad("a role is letters, digits, '.', '_' and '-'");
      return { kind: "role", role: rest };
    case "label": {
      const eq = rest.indexOf("=");
      const key = eq < 0 ? rest : rest.slice(0, eq);
      const value = eq < 0 ? "" : rest.slice(eq + 1);
      if (eq < 0 || !WORD.test(key) || !WORD.test(value)) throw bad("expected label:KEY=VALUE, each letters, digits, '.', '_' and '-'");
      return { kind: "label", key, value };
    }
    default:
      throw bad(`unknown kind "${kind}": expected ${SELECTOR_FORMS}`);
  }
}

/** Parses a selector's text; throws SelectorError naming the first malformed term. */
export function parseSelector(text: string): Selector {
  if (text.trim() === "") throw new SelectorError(`Invalid selector "": expected ${SELECTOR_FORMS}`);
  const parts = text.split(",");
  if (parts.length > SELECTOR_TERMS_MAX) throw new SelectorError(`Invalid selector: ${parts.length} terms, at most ${SELECTOR_TERMS_MAX}`);
  const terms: SelectorTerm[] = [];
  const seen = new Set<string>();
  for (const p of parts) {
    const t = parseTerm(p);
    const key = termText(t);
    if (seen.has(key)) continue;
    seen.add(key);
    terms.push(t);
  }
  return { terms, text: terms.map(termText).join(",") };
}

function matchesTerm(t: SelectorTerm, s: SelectorSubject): boolean {
  switch (t.kind) {
    case "all":
      return true;
    case "node":
      return s.name === t.name;
    case "role":
      return s.roles.includes(t.role);
    case "label":
      return s.labels.some(([k, v]) => k === t.key && v === t.value);
  }
}

/** True when the subject is selected (it matches any term). */
export function matches(selector: Selector, subject: SelectorSubject): boolean {
  return selector.terms.some((t) => matchesTerm(t, subject));
}

/**
 * The subjects a selector picks out of a known set, in the set's order. Throws SelectorError when a
 * `node:NAME` term names no known node or when nothing is selected: a command that reaches no node
 * is a mistake to report, not an empty success.
 */
export function select<S extends SelectorSubject>(selector: Selector, known: readonly S[]): S[] {
  for (const t of selector.terms) {
    if (t.kind === "node" && !known.some((s) => s.name === t.name)) throw new SelectorError(`Unknown node "${t.name}" in selector "${selector.text}": it is not a member this node knows`);
  }
  const picked = known.filter((s) => matches(selector, s));
  if (picked.length === 0) throw new SelectorError(`Selector "${selector.text}" selects no node: ${known.length} member${known.length === 1 ? "" : "s"} known`);
  return picked;
}
