import { describe, expect, test } from "bun:test";
import { TENANT_NAME_BYTES_MAX } from "./limits.ts";
import { TenantSelector, isTenantName } from "./tenant.ts";

describe("TenantSelector", () => {
  test("with nothing configured every request is the default tenant", () => {
    const s = new TenantSelector();
    expect(s.select("acme.example.com", "/t/acme/x")).toEqual({ tenant: "default", path: "/t/acme/x" });
  });

  test("by path prefix: /t/<tenant>/… selects and strips the prefix", () => {
    const s = new TenantSelector({ byPath: true });
    expect(s.select(null, "/t/acme/users/7")).toEqual({ tenant: "acme", path: "/users/7" });
    expect(s.select(null, "/t/acme")).toEqual({ tenant: "acme", path: "/" });
    expect(s.select(null, "/t/acme/")).toEqual({ tenant: "acme", path: "/" });
    expect(s.select(null, "/users/7")).toEqual({ tenant: "default", path: "/users/7" });
    // Not a valid tenant name: no selection, the path is left as it is.
    expect(s.select(null, "/t/Bad_Name/x")).toEqual({ tenant: "default", path: "/t/Bad_Name/x" });
    expect(s.select(null, "/t//x")).toEqual({ tenant: "default", path: "/t//x" });
  });

  test("by host without a suffix: the first label of a host with three or more labels", () => {
    const s = new TenantSelector({ byHost: true });
    expect(s.select("acme.example.com", "/x")).toEqual({ tenant: "acme", path: "/x" });
    expect(s.select("ACME.example.com:8080", "/x").tenant).toBe("acme");
    expect(s.select("example.com", "/x").tenant).toBe("default");
    expect(s.select("localhost:3000", "/x").tenant).toBe("default");
    expect(s.select("127.0.0.1:3000", "/x").tenant).toBe("default");
    expect(s.select("[::1]:3000", "/x").tenant).toBe("default");
    expect(s.select(null, "/x").tenant).toBe("default");
  });

  test("by host with a suffix: only <tenant>.<suffix>", () => {
    const s = new TenantSelector({ byHost: "sup.example.com" });
    expect(s.select("acme.sup.example.com", "/").tenant).toBe("acme");
    expect(s.select("acme.sup.example.com.", "/").tenant).toBe("acme");
    expect(s.select("acme.other.com", "/").tenant).toBe("default");
    expect(s.select("a.b.sup.example.com", "/").tenant).toBe("default");
    expect(s.select("sup.example.com", "/").tenant).toBe("default");
    expect(new TenantSelector({ byHost: "localhost" }).select("acme.localhost:8080", "/").tenant).toBe("acme");
  });

  test("both modes: the path prefix wins", () => {
    const s = new TenantSelector({ byHost: true, byPath: true, defaultTenant: "main" });
    expect(s.select("acme.example.com", "/t/beta/x")).toEqual({ tenant: "beta", path: "/x" });
    expect(s.select("acme.example.com", "/x")).toEqual({ tenant: "acme", path: "/x" });
    expect(s.select("example.com", "/x")).toEqual({ tenant: "main", path: "/x" });
  });

  test(`tenant names are DNS labels of at most ${TENANT_NAME_BYTES_MAX} bytes`, () => {
    expect(isTenantName("a".repeat(TENANT_NAME_BYTES_MAX))).toBe(true);
    expect(isTenantName("a".repeat(TENANT_NAME_BYTES_MAX + 1))).toBe(false);
    for (const ok of ["a", "a1", "my-shop", "0"]) expect(isTenantName(ok)).toBe(true);
    for (const bad of ["", "-a", "a-", "A", "a_b", "a.b", "é"]) expect(isTenantName(bad)).toBe(false);
  });
});
