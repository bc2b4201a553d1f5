import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode, encode } from "../lang/codec.ts";
import { Rng } from "../../test/support/rng.ts";
import { certBytes, certFromValue, certValue, clusterIdOf, validityAt } from "./certificate.ts";
import { IdentityFileError, IdentityInputError } from "./errors.ts";
import { acceptCertificate, buildCertificate, issueIdentity, makeRequest, makeRoot, NodeIdentity, signRequest, verifyBy } from "./identity.ts";
import {
  formatCertificateFile,
  formatIdentityFile,
  formatRequestFile,
  formatRootFile,
  identityProblems,
  loadIdentityFile,
  parseIdentityFile,
  parseRequestFile,
  parseRootFile,
} from "./identity-files.ts";
import { CERT_DAYS_MAX, CERT_LIST_ITEMS_MAX, CLOCK_SKEW_MS, IDENTITY_FILE_BYTES_MAX, NODE_NAME_CHARS_MAX } from "./limits.ts";
import { writeIdentityText } from "./text-file.ts";

const SEED = 0x1de;
const dir = mkdtempSync(join(tmpdir(), "sup-net-identity-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = makeRoot();
const NOW = Date.parse("2030-01-01T00:00:00.000Z");
const id = issueIdentity(root, { name: "web-1", roles: ["web", "edge", "web"], labels: [["region", "eu"]], can: ["code"], days: 30 }, NOW);
const text = formatIdentityFile(id);

function readError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof IdentityFileError || e instanceof IdentityInputError) return e.message;
    throw e;
  }
  return "no error";
}

describe("certificates", () => {
  test("are canonical SLP values: sorted lists, one encoding, decoded back exactly", () => {
    const c = id.signed.cert;
    expect(c.roles).toEqual(["edge", "web"]);
    const decoded = decode(encode(certValue(c)));
    expect(decoded.ok).toBe(true);
    const back = certFromValue(decoded.ok ? decoded.value : 0);
    expect(typeof back).toBe("object");
    expect(Buffer.from(certBytes(back as typeof c)).equals(certBytes(c))).toBe(true);
  });

  test("a value of the wrong shape is refused, naming the field", () => {
    const v = certValue(id.signed.cert) as import("../lang/value.ts").List;
    const items = [...v.items];
    items[2] = 7;
    expect(certFromValue(new (v.constructor as typeof import("../lang/value.ts").List)(v.t, items))).toBe("name: not a string");
    expect(certFromValue(0)).toBe("not a certificate value");
  });

  test("validity has CLOCK_SKEW_MS of allowance on each side, exactly", () => {
    const c = id.signed.cert;
    expect(validityAt(c, c.notBefore - CLOCK_SKEW_MS)).toBe("valid");
    expect(validityAt(c, c.notBefore - CLOCK_SKEW_MS - 1)).toBe("not-yet-valid");
    expect(validityAt(c, c.notAfter + CLOCK_SKEW_MS)).toBe("valid");
    expect(validityAt(c, c.notAfter + CLOCK_SKEW_MS + 1)).toBe("expired");
  });

  test("inputs are checked at their limits", () => {
    const name = "a".repeat(NODE_NAME_CHARS_MAX);
    expect(buildCertificate(root, id.signed.cert.publicKey, { name }, NOW).name).toBe(name);
    expect(readError(() => buildCertificate(root, id.signed.cert.publicKey, { name: name + "a" }, NOW))).toContain("must be 1 to 63 characters");
    const roles = Array.from({ length: CERT_LIST_ITEMS_MAX }, (_, i) => `r${i}`);
    expect(buildCertificate(root, id.signed.cert.publicKey, { name: "n", roles }, NOW).roles.length).toBe(CERT_LIST_ITEMS_MAX);
    expect(readError(() => buildCertificate(root, id.signed.cert.publicKey, { name: "n", roles: [...roles, "x"] }, NOW))).toContain(`more than ${CERT_LIST_ITEMS_MAX} items`);
    expect(buildCertificate(root, id.signed.cert.publicKey, { name: "n", days: CERT_DAYS_MAX }, NOW).notAfter).toBe(NOW + CERT_DAYS_MAX * 86_400_000);
    expect(readError(() => buildCertificate(root, id.signed.cert.publicKey, { name: "n", days: CERT_DAYS_MAX + 1 }, NOW))).toContain("Invalid --days 3651");
    expect(readError(() => buildCertificate(root, id.signed.cert.publicKey, { name: "Web_1" }, NOW))).toContain('Invalid node name "Web_1"');
    expect(readError(() => buildCertificate(root, id.signed.cert.publicKey, { name: "n", can: ["root"] }, NOW))).toContain('Unknown permission "root"');
  });

  test("NodeIdentity signs arbitrary bytes that verifyBy accepts, and checks peers against its root", () => {
    const node = new NodeIdentity(id);
    const sig = node.sign(Buffer.from("change-log entry"));
    expect(verifyBy(id.signed.cert, Buffer.from("change-log entry"), sig)).toBe(true);
    expect(verifyBy(id.signed.cert, Buffer.from("change-log entrY"), sig)).toBe(false);
    const other = issueIdentity(makeRoot(), { name: "web-1" }, NOW);
    expect(node.checkPeer(other.signed, NOW)).toMatchObject({ ok: false, reason: "wrong-cluster" });
    const forged = { cert: { ...other.signed.cert, clusterId: root.clusterId }, signature: other.signed.signature };
    expect(node.checkPeer(forged, NOW)).toMatchObject({ ok: false, reason: "bad-certificate" });
    expect(node.checkPeer(id.signed, NOW)).toEqual({ ok: true });
  });
});

describe("identity files", () => {
  test("root, identity, request and certificate files round-trip", () => {
    const r = parseRootFile("root.key", formatRootFile(root));
    expect(r.clusterId).toBe(clusterIdOf(root.publicKey));
    const back = parseIdentityFile("web-1.key", text);
    expect(formatIdentityFile(back)).toBe(text);
    expect(identityProblems(back, back.seed)).toEqual([]);
    const { key, request } = makeRequest("web-2");
    const req = parseRequestFile("web-2.req", formatRequestFile(request));
    const cert = signRequest(root, req, { roles: ["web"] }, NOW);
    expect(formatCertificateFile(cert)).toContain("sup-certificate 1\n");
    expect(acceptCertificate(key, cert).signed.cert.name).toBe("web-2");
    expect(readError(() => acceptCertificate(makeRequest("web-2").key, cert))).toContain("it is for another key");
  });

  test("errors name the file and the field", () => {
    const cases: [string, string][] = [
      [text.replace(/^not-after .*$/m, "not-after tomorrow"), 'Cannot read "f.key": field "not-after" must be a UTC time'],
      [text.replace(/^serial .*\n/m, ""), 'field "serial" is missing'],
      [text.replace(/^roles .*$/m, "role web"), 'unknown field "role"'],
      [text + "name again\n", 'field "name" appears twice'],
      [text.replace(/^secret-key .*$/m, "secret-key abc"), 'field "secret-key" must be 32 bytes in base64'],
      [text.replace("sup-identity 1", "sup-identity 2"), "unsupported sup-identity file version 2"],
      [text.replace("sup-identity 1", "sup-root 1"), 'expected the header "sup-identity 1"'],
      [text.replace(/^can .*$/m, "can everything"), 'field "can" has unknown permission "everything"'],
      [text.replace(/^name .*$/m, "name Web"), 'field "name" must be lowercase letters'],
      ["", "no \"sup-identity 1\" header"],
    ];
    for (const [bad, message] of cases) expect(readError(() => parseIdentityFile("f.key", bad))).toContain(message);
  });

  test("a changed field breaks the root signature, reported on that field", () => {
    const changed = parseIdentityFile("f.key", text.replace(/^roles .*$/m, "roles admin"));
    expect(identityProblems(changed, changed.seed)).toEqual([{ field: "signature", problem: "does not verify against root-key: the certificate was altered or signed by another root" }]);
    const swapped = parseIdentityFile("f.key", text.replace(/^secret-key .*$/m, `secret-key ${Buffer.from(makeRoot().seed).toString("base64")}`));
    expect(identityProblems(swapped, swapped.seed).map((p) => p.field)).toEqual(["secret-key"]);
  });

  test(`every truncation and 400 bit flips of an identity file fail with a file error or a problem, never a crash (seed ${SEED})`, () => {
    let accepted = 0;
    const check = (mutated: string) => {
      try {
        const d = parseIdentityFile("f.key", mutated);
        if (identityProblems(d, d.seed).length === 0) {
          // Only edits that change nothing signed (comments, trailing blank lines) may still load.
          expect(formatIdentityFile(d)).toBe(text);
          accepted++;
        }
      } catch (e) {
        expect(e).toBeInstanceOf(IdentityFileError);
      }
    };
    for (let n = 0; n < text.length; n++) check(text.slice(0, n));
    const rng = new Rng(SEED);
    const bytes = Buffer.from(text);
    for (let i = 0; i < 400; i++) {
      const b = Buffer.from(bytes);
      b[rng.int(b.length)]! ^= 1 << rng.int(8);
      check(b.toString("utf8"));
    }
    expect(accepted).toBeGreaterThan(0); // flips inside the comment lines
  }, 60_000);

  test("a secret file readable by group or others is refused with the chmod to fix it; 0600 loads", () => {
    const f = join(dir, "web-1.key");
    writeIdentityText(f, text);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(loadIdentityFile(f).signed.cert.name).toBe("web-1");
    chmodSync(f, 0o640);
    expect(readError(() => loadIdentityFile(f))).toBe(`Refusing to use "${f}": it holds a secret key and group or others can access it (mode 0640): run chmod 600 ${f}`);
    chmodSync(f, 0o600);
  });

  test("an existing file is never overwritten", () => {
    const f = join(dir, "exists.key");
    writeFileSync(f, "x");
    expect(readError(() => writeIdentityText(f, text))).toContain("the file exists");
  });

  test(`a file of IDENTITY_FILE_BYTES_MAX bytes is read, one more byte is refused unread`, () => {
    const f = join(dir, "big.key");
    const padded = (n: number) => text + "#".repeat(n - Buffer.byteLength(text) - 1) + "\n";
    writeFileSync(f, padded(IDENTITY_FILE_BYTES_MAX), { mode: 0o600 });
    expect(loadIdentityFile(f).signed.cert.name).toBe("web-1");
    writeFileSync(f, padded(IDENTITY_FILE_BYTES_MAX + 1), { mode: 0o600 });
    expect(readError(() => loadIdentityFile(f))).toContain(`${IDENTITY_FILE_BYTES_MAX + 1} bytes is more than the ${IDENTITY_FILE_BYTES_MAX}`);
  });

  test("a request whose proof does not verify is refused", () => {
    const { request } = makeRequest("web-3");
    const t = formatRequestFile(request).replace("name web-3", "name web-4");
    expect(readError(() => parseRequestFile("w.req", t))).toContain('field "proof" does not verify');
  });
});
