import { describe, expect, test } from "bun:test";
import { matches, parseSelector, select, SELECTOR_TERMS_MAX, SelectorError, type SelectorSubject } from "./selector.ts";

const nodes: SelectorSubject[] = [
  { name: "root-1", roles: ["control"], labels: [["region", "eu"]] },
  { name: "web-1", roles: ["web"], labels: [["region", "eu"]] },
  { name: "web-2", roles: ["web", "edge"], labels: [["region", "us"]] },
  { name: "db-1", roles: ["db"], labels: [] },
];
const names = (text: string) => select(parseSelector(text), nodes).map((n) => n.name);

describe("selectors", () => {
  test("each kind of term selects what it names", () => {
    expect(names("all")).toEqual(["root-1", "web-1", "web-2", "db-1"]);
    expect(names("node:web-2")).toEqual(["web-2"]);
    expect(names("role:web")).toEqual(["web-1", "web-2"]);
    expect(names("label:region=eu")).toEqual(["root-1", "web-1"]);
  });

  test("a comma list is a union, in the known set's order, and its canonical text drops duplicates", () => {
    expect(names("node:db-1,role:edge")).toEqual(["web-2", "db-1"]);
    expect(names(" role:web , node:web-1 ")).toEqual(["web-1", "web-2"]);
    expect(parseSelector("role:web,role:web,node:db-1").text).toBe("role:web,node:db-1");
  });

  test("an unknown node or an empty selection is an error naming it", () => {
    expect(() => names("node:web-9")).toThrow('Unknown node "web-9" in selector "node:web-9"');
    expect(() => names("role:cache")).toThrow('Selector "role:cache" selects no node: 4 members known');
    expect(() => names("label:region=ap")).toThrow(SelectorError);
  });

  test("malformed terms are refused with the term and the forms", () => {
    for (const [text, message] of [
      ["", 'Invalid selector ""'],
      ["web-1", 'Invalid selector term "web-1": expected all, node:NAME'],
      ["host:web-1", 'Invalid selector term "host:web-1": unknown kind "host"'],
      ["node:Web_1", 'Invalid selector term "node:Web_1"'],
      ["node:", 'Invalid selector term "node:"'],
      ["role:", 'Invalid selector term "role:"'],
      ["label:region", 'Invalid selector term "label:region": expected label:KEY=VALUE'],
      ["label:=eu", 'Invalid selector term "label:=eu"'],
      ["role:web,", 'Invalid selector term ""'],
    ] as const) {
      expect(() => parseSelector(text)).toThrow(message);
    }
  });

  test(`at most ${SELECTOR_TERMS_MAX} terms`, () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `node:n${i}`).join(",");
    expect(parseSelector(terms(SELECTOR_TERMS_MAX)).terms.length).toBe(SELECTOR_TERMS_MAX);
    expect(() => parseSelector(terms(SELECTOR_TERMS_MAX + 1))).toThrow(`${SELECTOR_TERMS_MAX + 1} terms, at most ${SELECTOR_TERMS_MAX}`);
  });

  test("matches answers for one subject", () => {
    expect(matches(parseSelector("role:db,label:region=us"), nodes[2]!)).toBe(true);
    expect(matches(parseSelector("role:db,label:region=us"), nodes[1]!)).toBe(false);
  });
});
