/** Admin requests over the backchannel: round trips, refusals with reasons, and the limits at max and max+1. */
import { describe, expect, test } from "bun:test";
import { List, Str, sym, T_PAREN, type Value } from "../lang/value.ts";
import { ADMIN_WIRE_BODY_BYTES_MAX, ADMIN_WIRE_PATH_BYTES_MAX, adminRequestMessage, adminResponseMessage, readAdminRequest, readAdminResponse } from "./admin-wire.ts";

const msg = (...items: Value[]) => new List(T_PAREN, [sym("admin"), 1, ...items]);

describe("admin wire", () => {
  test("a request and a response read back as sent, UTF-8 text included", () => {
    const r = readAdminRequest(adminRequestMessage(7, "POST", "/code/put?tenant=é", { name: "GET /", source: "(io/put \"héllo\")" }));
    expect(r).toEqual({ ok: true, value: { id: 7, method: "POST", path: "/code/put?tenant=é", body: { name: "GET /", source: '(io/put "héllo")' } } });
    expect(readAdminRequest(adminRequestMessage(1, "GET", "/nodes", undefined))).toEqual({ ok: true, value: { id: 1, method: "GET", path: "/nodes", body: undefined } });
    expect(readAdminResponse(adminResponseMessage(7, 403, { error: { code: "forbidden", message: "no" } }))).toEqual({ ok: true, value: { id: 7, status: 403, body: { error: { code: "forbidden", message: "no" } } } });
  });

  test("malformed messages are reasons, with the request number when it can be read", () => {
    expect(readAdminRequest(msg(sym("request"), 3, new Str("GET"), new Str("nodes"), new Str("")))).toEqual({ ok: false, reason: "the path must start with /", id: 3 });
    expect(readAdminRequest(msg(sym("request"), 3, new Str("GET"), new Str("/x"), new Str("{")))).toEqual({ ok: false, reason: "the request body is not JSON", id: 3 });
    expect(readAdminRequest(msg(sym("request"), -1))).toEqual({ ok: false, reason: "the request number is not a non-negative integer", id: null });
    expect(readAdminRequest(msg(sym("response"), 1))).toEqual({ ok: false, reason: "expected an admin request", id: 1 });
    expect(readAdminRequest(new List(T_PAREN, [sym("admin"), 2, sym("request"), 1]))).toMatchObject({ ok: false, id: 1 });
    expect(readAdminRequest(new Str("x"))).toEqual({ ok: false, reason: "not an admin message", id: null });
    expect(readAdminResponse(msg(sym("response"), 1, 99, new Str("{}")))).toEqual({ ok: false, reason: "a response needs a status and a body text", id: 1 });
  });

  test(`a body of ADMIN_WIRE_BODY_BYTES_MAX (${ADMIN_WIRE_BODY_BYTES_MAX}) bytes is read; one more is refused`, () => {
    const atMax = JSON.stringify("x".repeat(ADMIN_WIRE_BODY_BYTES_MAX - 2));
    expect(readAdminRequest(msg(sym("request"), 1, new Str("POST"), new Str("/x"), new Str(atMax))).ok).toBe(true);
    const over = readAdminRequest(msg(sym("request"), 1, new Str("POST"), new Str("/x"), new Str(atMax + " ")));
    expect(over).toEqual({ ok: false, reason: `the request body is ${ADMIN_WIRE_BODY_BYTES_MAX + 1} bytes, more than ${ADMIN_WIRE_BODY_BYTES_MAX}`, id: 1 });
  });

  test(`a method and path of ADMIN_WIRE_PATH_BYTES_MAX (${ADMIN_WIRE_PATH_BYTES_MAX}) bytes are read; one more is refused`, () => {
    const path = "/" + "p".repeat(ADMIN_WIRE_PATH_BYTES_MAX - 4);
    expect(readAdminRequest(msg(sym("request"), 1, new Str("GET"), new Str(path), new Str(""))).ok).toBe(true);
    expect(readAdminRequest(msg(sym("request"), 1, new Str("GET"), new Str(path + "p"), new Str("")))).toEqual({ ok: false, reason: `method and path are longer than ${ADMIN_WIRE_PATH_BYTES_MAX} bytes`, id: 1 });
  });
});
