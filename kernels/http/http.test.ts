import { describe, expect, test } from "bun:test";
import { sourceForm, parseValue, List, NONE, Real, Str, Sym, T_BRACE, T_PAREN, T_SOME, Wrap, str, sym, type Value } from "sup/kernel";
import { fakeContext } from "../../test/support/fake-context.ts";
import { runSource } from "../../test/support/run-source.ts";
import httpKernel, { REQUEST_SYMBOL, readResponse, requestValue, responseValue } from "./mod.ts";

const fns = httpKernel.create().functions;
const request = requestValue({
  method: "POST",
  path: "/users/7",
  params: [["id", "7"]],
  query: [
    ["q", "x y"],
    ["q", "second"],
  ],
  headers: [
    ["host", "example.com"],
    ["x-token", "abc"],
  ],
  body: '{"a":1}',
});
/** A context in which `$request` is bound (as the handler runner binds it). */
const inHandler = () => fakeContext({ vars: new Map<Sym, Value>([[REQUEST_SYMBOL, request]]) });
const call = (name: string, ...args: Value[]) => fns[name]!(inHandler().cx, args);
/** The value the reader makes of source text (to compare error values with `@(…)` literals). */
const lit = (text: string) => sourceForm(parseValue(text)!);
const quote = (v: Value) => new Wrap(T_SOME, v);

describe("http readers", () => {
  test("method, path and body are the request's", () => {
    expect(sourceForm(call("method"))).toBe('"POST"');
    expect(sourceForm(call("path"))).toBe('"/users/7"');
    expect(sourceForm(call("body"))).toBe('"{\\"a\\":1}"');
  });

  test("param, query and header find their entry; a repeated query name gives the first", () => {
    expect(sourceForm(call("param", str("id")))).toBe('"7"');
    expect(sourceForm(call("query", str("q")))).toBe('"x y"');
    expect(sourceForm(call("header", str("x-token")))).toBe('"abc"');
  });

  test("header names are case-insensitive; param and query names are not", () => {
    expect(sourceForm(call("header", str("X-Token")))).toBe('"abc"');
    expect(sourceForm(call("header", str("HOST")))).toBe('"example.com"');
    expect(sourceForm(call("param", str("ID")))).toBe(lit('@(http: no param "ID")'));
  });

  test("missing entries are error values naming what is missing", () => {
    expect(sourceForm(call("param", str("name")))).toBe(lit('@(http: no param "name")'));
    expect(sourceForm(call("query", str("page")))).toBe(lit('@(http: no query "page")'));
    expect(sourceForm(call("header", str("cookie")))).toBe(lit('@(http: no header "cookie")'));
  });

  test("the name argument is evaluated", () => {
    const f = fakeContext({ vars: new Map<Sym, Value>([[REQUEST_SYMBOL, request], [sym("which"), str("id")]]) });
    expect(sourceForm(fns["param"]!(f.cx, [sym("which")]))).toBe('"7"');
  });

  test("outside a handler there is no request", () => {
    const cx = fakeContext().cx;
    expect(sourceForm(fns["method"]!(cx, []))).toBe(lit("@(http: no request)"));
    expect(sourceForm(fns["param"]!(cx, [str("id")]))).toBe(lit("@(http: no request)"));
  });

  test("wrong arguments are error values", () => {
    expect(sourceForm(call("method", str("x")))).toBe(lit("@(http: method takes no arguments)"));
    expect(sourceForm(call("param"))).toBe(lit("@(http: param requires 1 argument)"));
    expect(sourceForm(call("query", 5))).toBe(lit("@(http: query requires a string)"));
  });
});

describe("http response builders", () => {
  test("respond: a string is text, anything else JSON", () => {
    expect(sourceForm(call("respond", 201, str("made")))).toBe('{http-response 201 {("content-type" "text/plain; charset=utf-8")} "made"}');
    const j = call("respond", 200, quote(new List(T_BRACE, [new List(T_PAREN, [str("n"), new Real(1)])])));
    expect(sourceForm(j)).toBe('{http-response 200 {("content-type" "application/json")} "{\\"n\\":1.0}"}');
  });

  test("text and json", () => {
    expect(readResponse(call("text", 404, str("nope")))).toEqual({ status: 404, headers: [["content-type", "text/plain; charset=utf-8"]], body: "nope" });
    expect(readResponse(call("json", 200, str("s")))).toEqual({ status: 200, headers: [["content-type", "application/json"]], body: '"s"' });
  });

  test("a value without a JSON form gives the json kernel's error", () => {
    expect(sourceForm(call("json", 200, quote(sym("maybe"))))).toBe(lit("@(json: cannot encode symbol)"));
    expect(sourceForm(call("respond", 200, NONE))).toBe(lit("@(json: cannot encode none)"));
  });

  test("status must be an int from 200 to 599", () => {
    expect(sourceForm(call("text", 199, str("")))).toBe(lit("@(http: invalid status 199)"));
    expect(sourceForm(call("text", 600, str("")))).toBe(lit("@(http: invalid status 600)"));
    expect(sourceForm(call("json", str("200"), 1))).toBe(lit("@(http: invalid status)"));
    expect(readResponse(call("text", 200, str("")))?.status).toBe(200);
    expect(readResponse(call("text", 599, str("")))?.status).toBe(599);
    expect(sourceForm(call("text", 200, 5))).toBe(lit("@(http: text requires a string body)"));
  });

  test("with-header adds, replaces by name case-insensitively, and appends set-cookie", () => {
    let r = call("text", 200, str("x"));
    r = fns["with-header"]!.eager!.call(r, str("X-Trace"), str("1"), fakeContext().cx);
    r = fns["with-header"]!.eager!.call(r, str("x-trace"), str("2"), fakeContext().cx);
    r = fns["with-header"]!.eager!.call(r, str("Content-Type"), str("text/html"), fakeContext().cx);
    r = fns["with-header"]!.eager!.call(r, str("Set-Cookie"), str("a=1"), fakeContext().cx);
    r = fns["with-header"]!.eager!.call(r, str("set-cookie"), str("b=2"), fakeContext().cx);
    expect(readResponse(r)?.headers).toEqual([
      ["x-trace", "2"],
      ["content-type", "text/html"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
    ]);
  });

  test("with-header refuses header injection, bad names and non-responses", () => {
    const r = call("text", 200, str("x"));
    const wh = (a: Value, b: Value, c: Value) => fns["with-header"]!.eager!.call(a, b, c, fakeContext().cx);
    expect(sourceForm(wh(r, str("x-a"), str("v\r\nset-cookie: evil")))).toBe(lit('@(http: invalid header "x-a")'));
    expect(sourceForm(wh(r, str("bad name"), str("v")))).toBe(lit('@(http: invalid header "bad name")'));
    expect(sourceForm(wh(str("x"), str("a"), str("b")))).toBe(lit("@(http: with-header requires a response)"));
    expect(sourceForm(wh(r, sym("a"), str("b")))).toBe(lit("@(http: with-header requires string name and value)"));
  });

  test("eager forms agree with the general forms", () => {
    for (const [name, args] of [
      ["respond", [200, str("a")]],
      ["text", [700, str("a")]],
      ["json", [200, new Real(2)]],
    ] as [string, Value[]][]) {
      const [a, b] = args as [Value, Value];
      expect(sourceForm(fns[name]!.eager!.call(a, b, b, fakeContext().cx))).toBe(sourceForm(call(name, ...args)));
    }
    expect(sourceForm(call("respond", 200))).toBe(lit("@(http: respond requires 2 arguments)"));
    expect(sourceForm(call("with-header", 1, 2))).toBe(lit("@(http: with-header requires 3 arguments)"));
  });
});

describe("http response values", () => {
  test("readResponse accepts exactly the documented shape", () => {
    const ok = responseValue(200, [["a", "b"]], "body");
    expect(readResponse(ok)).toEqual({ status: 200, headers: [["a", "b"]], body: "body" });
    const bad = [
      "{http-response 200 {} body}",
      "{http-response 200 {}}",
      "{http-response 99 {} \"\"}",
      '{http-response 200 {("a")} ""}',
      '{http-response 200 {(a "b")} ""}',
      '{http-response 200 ("a" "b") ""}',
      '{response 200 {} ""}',
      '(http-response 200 {} "")',
    ];
    for (const text of bad) expect(readResponse(parseValue(text)!)).toBeNull();
    expect(readResponse(parseValue('{http-response 200 {("X-A" "b")} ""}')!)).toEqual({ status: 200, headers: [["x-a", "b"]], body: "" });
  });
});

describe("http kernel in a checked program", () => {
  test("a program reads a request bound to $request and builds a response", () => {
    const r = runSource(`[ #(load "http" "json")
          (def $request {(method "GET") (path "/u/9") (params {("id" "9")}) (query {}) (headers {("accept" "*/*")}) (body "")})
          (def q (try (http/query "q") "none"))
          (http/with-header (http/json 200 (json/object "id" (http/param "id") "q" q "accept" (http/header "Accept"))) "cache-control" "no-store") ]`);
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(readResponse(r.value)).toEqual({
      status: 200,
      headers: [
        ["content-type", "application/json"],
        ["cache-control", "no-store"],
      ],
      body: '{"id":"9","q":"none","accept":"*/*"}',
    });
    expect(r.value instanceof List && r.value.items[3] instanceof Str).toBe(true);
  });
});
