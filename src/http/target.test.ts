import { describe, expect, test } from "bun:test";
import { parseTarget, queryPairs } from "./target.ts";
import { Rng } from "../../test/support/rng.ts";

/** What the URL parser makes of a URL: the reference parseTarget must match. */
function viaUrl(url: string): { path: string; query: [string, string][] } {
  const u = new URL(url);
  return { path: u.pathname, query: [...u.searchParams] };
}

function fast(url: string): { path: string; query: [string, string][] } {
  const t = parseTarget(url);
  return { path: t.path, query: [...queryPairs(t.search)].map(([k, v]) => [k, v] as [string, string]) };
}

const CASES = [
  "http://127.0.0.1:8080/hello",
  "http://127.0.0.1/",
  "http://h/users/caf%C3%A9?q=x%20y&q=2&e=%C3%A9",
  "http://h/a?",
  "http://h/a?&&a=&=b&c",
  "http://h/a?x=1+2&y=%2B",
  "http://h/a/./b/../c",
  "http://h/a/%2e%2E/b",
  "http://h/a/.well-known/x",
  "http://h/a b?c d",
  "http://h/a\\b",
  "http://h/é?é=è",
  "http://h/a#frag?x=1",
  "http://h/a?x=1#frag",
  "http://h/a?x='q'&y=\"z\"",
  "http://h/%zz/%?%zz=%",
  "http://h/a\tb",
  "http://h/{x}/<y>/`z`/^|",
  "http://[::1]:80/v6?x=1",
  "http://user@h/p",
  "http://h:81//double//slash",
  "http:///x",
  "http://h",
  "http://h?x=1",
  "http://a?b/path",
  "http://a#b/path",
  "http://a b/path",
  "http://h/a.b/c./.d",
  "http://h/a%2",
  "http://h/a%2E",
  "http://h/q?x=/./%2e",
];

describe("parseTarget", () => {
  for (const url of CASES) {
    test(`matches URL for ${JSON.stringify(url)}`, () => {
      let expected: ReturnType<typeof viaUrl> | "throws";
      try {
        expected = viaUrl(url);
      } catch {
        expected = "throws";
      }
      if (expected === "throws") expect(() => fast(url)).toThrow();
      else expect(fast(url)).toEqual(expected);
    });
  }

  test("matches URL on random targets over the characters that matter", () => {
    const rng = new Rng(0x5eed);
    const alphabet = "ab/.%2eE?&=+#\\ :@'\"é\t-_~";
    for (let i = 0; i < 20_000; i++) {
      let target = "/";
      const n = rng.int(12);
      for (let k = 0; k < n; k++) target += alphabet[rng.int(alphabet.length)];
      const url = `http://h${target}`;
      let expected: ReturnType<typeof viaUrl>;
      try {
        expected = viaUrl(url);
      } catch {
        continue;
      }
      expect({ url, ...fast(url) }).toEqual({ url, ...expected });
    }
  });
});
