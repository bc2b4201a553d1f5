import { describe, expect, test } from "bun:test";
import { sourceForm } from "../lang/printer.ts";
import { RequestBodyTooLargeError } from "./errors.ts";
import { REQUEST_BODY_BYTES_MAX } from "./limits.ts";
import { readBody, requestToValue } from "./request.ts";

/** A request whose body arrives as a stream in the given chunks (no content-length). */
const streamed = (chunks: Uint8Array[]) =>
  new Request("http://x/", {
    method: "POST",
    body: new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(ch);
        c.close();
      },
    }),
  });

describe("readBody", () => {
  test("no body is empty; a body is its bytes", async () => {
    expect((await readBody(new Request("http://x/"))).byteLength).toBe(0);
    expect(Buffer.from(await readBody(new Request("http://x/", { method: "POST", body: "héllo" }))).toString("utf8")).toBe("héllo");
  });

  test(`exactly ${REQUEST_BODY_BYTES_MAX} bytes is read; one more is refused`, async () => {
    const max = new Uint8Array(REQUEST_BODY_BYTES_MAX).fill(97);
    expect((await readBody(new Request("http://x/", { method: "POST", body: max }))).byteLength).toBe(REQUEST_BODY_BYTES_MAX);
    const over = new Uint8Array(REQUEST_BODY_BYTES_MAX + 1);
    await expect(readBody(new Request("http://x/", { method: "POST", body: over }))).rejects.toBeInstanceOf(RequestBodyTooLargeError);
  });

  test("a streamed body is counted as it arrives, at the limit and one past it", async () => {
    const half = REQUEST_BODY_BYTES_MAX / 2;
    expect((await readBody(streamed([new Uint8Array(half), new Uint8Array(half)]))).byteLength).toBe(REQUEST_BODY_BYTES_MAX);
    await expect(readBody(streamed([new Uint8Array(half), new Uint8Array(half), new Uint8Array(1)]))).rejects.toBeInstanceOf(RequestBodyTooLargeError);
  });

  test("a declared length over the limit is refused before reading", async () => {
    const req = new Request("http://x/", { method: "POST", body: "small", headers: { "content-length": String(REQUEST_BODY_BYTES_MAX + 1) } });
    await expect(readBody(req)).rejects.toBeInstanceOf(RequestBodyTooLargeError);
  });

  test("a custom limit applies", async () => {
    expect((await readBody(new Request("http://x/", { method: "POST", body: "abcd" }), 4)).byteLength).toBe(4);
    await expect(readBody(new Request("http://x/", { method: "POST", body: "abcde" }), 4)).rejects.toBeInstanceOf(RequestBodyTooLargeError);
  });
});

describe("requestToValue", () => {
  test("builds the documented $request shape with byte strings", () => {
    const req = new Request("http://acme.example.com/users/caf%C3%A9?q=x%20y&q=2&e=%C3%A9", { method: "PUT", headers: { "X-Token": "abc" } });
    const url = new URL(req.url);
    const body = Buffer.from("é", "utf8");
    const v = requestToValue(req, url, url.pathname, new Map([["id", "café"]]), body);
    expect(sourceForm(v)).toBe(
      '{(method "PUT") (path "/users/caf%C3%A9") (params {("id" "caf\xc3\xa9")}) (query {("q" "x y") ("q" "2") ("e" "\xc3\xa9")}) (headers {("x-token" "abc")}) (body "\xc3\xa9")}',
    );
  });
});
