import { describe, expect, test } from "bun:test";
import { read } from "../lang/reader.ts";
import { NONE, str, type Value } from "../lang/value.ts";
import { REQUEST_ID_HEADER, errorResponse, valueToResponse } from "./response.ts";

const respond = (v: Value) => {
  const r = valueToResponse(v);
  if (!r.ok) throw new Error(r.reason);
  return r.response;
};

describe("valueToResponse", () => {
  test("a string is 200 text/plain with its bytes", async () => {
    const r = respond(str(Buffer.from("héllo", "utf8").toString("latin1")));
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await r.text()).toBe("héllo");
  });

  test("an http-response value is exactly its status, headers and body", async () => {
    const r = respond(read('{http-response 201 {("content-type" "application/json") ("set-cookie" "a=1") ("set-cookie" "b=2") ("x-a" "b")} "{}"}').value!);
    expect(r.status).toBe(201);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get("x-a")).toBe("b");
    expect(r.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await r.text()).toBe("{}");
  });

  test("with a request id, each error response carries its own, replacing one the handler set; a success carries none", () => {
    const ok = valueToResponse(read('{http-response 200 {("content-type" "application/json") ("x-request-id" "mine")} "{}"}').value!, "id-0");
    expect(ok.ok && ok.response.headers.get(REQUEST_ID_HEADER)).toBe("mine");
    const json = read('{http-response 404 {("content-type" "application/json")} "{}"}').value!;
    const responses = ["id-1", "id-2", "id-3"].map((id) => {
      const r = valueToResponse(json, id);
      if (!r.ok) throw new Error(r.reason);
      return r.response;
    });
    expect(responses.map((r) => r.headers.get(REQUEST_ID_HEADER))).toEqual(["id-1", "id-2", "id-3"]);
    expect(responses.map((r) => r.headers.get("content-type"))).toEqual(["application/json", "application/json", "application/json"]);
    const text = valueToResponse(str("hi"), "id-4");
    expect(text.ok && [...text.response.headers]).toEqual([["content-type", "text/plain; charset=utf-8"]]);
    const own = valueToResponse(read('{http-response 409 {("x-request-id" "mine") ("set-cookie" "a=1") ("set-cookie" "b=2")} ""}').value!, "id-5");
    expect(own.ok && own.response.status).toBe(409);
    expect(own.ok && own.response.headers.get(REQUEST_ID_HEADER)).toBe("id-5");
    expect(own.ok && own.response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });

  test("anything else is not a response, with the reason", () => {
    const rows: [Value, string][] = [
      [5, "handler returned a value of type int, not a string or a response"],
      [NONE, "handler returned a value of type none, not a string or a response"],
      [read("{http-response 700 {} \"\"}").value!, "handler returned a malformed http-response (status 200-599, string header pairs, string body)"],
      [read('{http-response 200 {("bad name" "v")} ""}').value!, "handler returned a malformed http-response (status 200-599, string header pairs, string body)"],
      [read('{("a" 1)}').value!, "handler returned a value of type list-c, not a string or a response"],
      [read("@(oops)").value!, "handler returned a value of type error, not a string or a response"],
    ];
    for (const [v, reason] of rows) expect(valueToResponse(v)).toEqual({ ok: false, reason });
  });
});

describe("errorResponse", () => {
  test("carries the status, the request id header and the id in the text", async () => {
    const r = errorResponse(503, "Service Unavailable", "abc-1");
    expect(r.status).toBe(503);
    expect(r.headers.get(REQUEST_ID_HEADER)).toBe("abc-1");
    expect(await r.text()).toBe("Service Unavailable (request abc-1)\n");
  });
});
