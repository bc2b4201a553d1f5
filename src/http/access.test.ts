import { afterEach, describe, expect, test } from "bun:test";
import { captureStderr } from "../../test/support/log-capture.ts";
import { setLogLevel } from "../log.ts";
import { accessFields, hundredths, logAccess, nextRequest, requestId } from "./access.ts";

/** Runs `fn` with info lines on and returns what reached stderr. */
function captured(fn: () => void): string {
  setLogLevel("info");
  return captureStderr(fn);
}

afterEach(() => setLogLevel("warn"));

describe("access lines", () => {
  test("are written byte by byte exactly as the text would be, from shared bytes or text", () => {
    const fields = accessFields("GET", "/été/x y", ` tenant=default route="GET /:a" version=7`);
    const encoded = Buffer.from(fields);
    const want: string[] = [];
    const got = captured(() => {
      for (let i = 0; i < 5_000; i++) {
        const n = i === 4_999 ? 2 ** 53 - 1 : nextRequest();
        const ms = i === 0 ? 0 : i === 1 ? 1e9 + 0.005 : (i * 7.123) % 2500;
        const status = 200 + (i % 400);
        logAccess(n, i % 2 === 0 ? encoded : fields, status, ms);
        want.push(`info request id=${requestId(n)}${fields}${status} ms=${hundredths(ms)}\n`);
      }
    });
    expect(got).toBe(want.join(""));
    expect(fields).toBe(' method=GET path="/été/x y" tenant=default route="GET /:a" version=7 status=');
  });

  test("are not written when info lines are off", () => {
    const got = captured(() => {
      setLogLevel("warn");
      logAccess(nextRequest(), "x", 200, 1);
    });
    expect(got).toBe("");
  });
});
