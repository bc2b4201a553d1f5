import { describe, expect, test } from "bun:test";
import { defaultAdvertisedHost, isAddress, isUnspecifiedHost, joinAddress, splitAddress } from "./address.ts";

describe("backchannel addresses", () => {
  test("host:port is checked, split and joined, IPv6 in brackets", () => {
    for (const ok of ["a:1", "root.example.com:7000", "10.0.0.1:65535", "[::1]:7000", "::1:7000"]) expect(isAddress(ok)).toBe(true);
    for (const bad of ["", "a", ":7000", "a:0", "a:65536", "a:x", "a b:7000", `${"h".repeat(300)}:1`]) expect(isAddress(bad)).toBe(false);
    expect(splitAddress("[::1]:7000")).toEqual({ host: "::1", port: 7000 });
    expect(splitAddress("10.0.0.1:7000")).toEqual({ host: "10.0.0.1", port: 7000 });
    expect(joinAddress("::1", 7000)).toBe("[::1]:7000");
    expect(joinAddress("10.0.0.1", 7000)).toBe("10.0.0.1:7000");
  });

  test("unspecified hosts are not advertised; the default advertised host is a concrete address", () => {
    for (const h of ["", "0.0.0.0", "::", "[::]"]) expect(isUnspecifiedHost(h)).toBe(true);
    expect(isUnspecifiedHost("127.0.0.1")).toBe(false);
    const host = defaultAdvertisedHost();
    expect(isUnspecifiedHost(host)).toBe(false);
    expect(isAddress(joinAddress(host, 7000))).toBe(true);
  });
});
