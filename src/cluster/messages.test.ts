import { describe, expect, test } from "bun:test";
import { decode, encode } from "../lang/codec.ts";
import { List, NONE, Str, sym, T_PAREN, type Value } from "../lang/value.ts";
import { Rng } from "../../test/support/rng.ts";
import { recordsField, testMessage, testMeta, testRecord } from "../../test/support/membership.ts";
import {
  ADDRESS_BYTES_MAX,
  DIGEST_ENTRIES_MAX,
  KERNEL_BYTES_MAX,
  LABEL_KEY_BYTES_MAX,
  LABEL_VALUE_BYTES_MAX,
  ROLE_BYTES_MAX,
  SERIAL_BYTES_MAX,
  VERSION_BYTES_MAX,
  INCARNATION_MAX,
  KERNELS_MAX,
  LABELS_MAX,
  MEMBERSHIP_PROTOCOL_VERSION,
  NAME_BYTES_MAX,
  PIGGYBACK_CLAIMS_MAX,
  RECORDS_PER_MESSAGE_MAX,
  ROLES_MAX,
  WANT_NAMES_MAX,
} from "./limits.ts";
import { decodeMessage, digestFields, digestValue, isMemberName, MEMBER_CHANNEL, metaProblem, type Claim } from "./messages.ts";

const p = (items: Value[]): List => new List(T_PAREN, items);

function reason(v: Value): string {
  const d = decodeMessage(v);
  if (d.ok) throw new Error("expected the message to be refused");
  return d.reason;
}

describe("membership messages", () => {
  test("every kind survives the codec and decodes to what was sent", () => {
    const claims: Claim[] = [
      { kind: "alive", name: "a", incarnation: 3, meta: testMeta("a") },
      { kind: "suspect", name: "b", incarnation: 1, from: "c" },
      { kind: "dead", name: "d", incarnation: 0, from: "e" },
      { kind: "left", name: "f", incarnation: 9 },
    ];
    const messages = [
      testMessage("ping", [7], claims),
      testMessage("ack", [7]),
      testMessage("nack", [8]),
      testMessage("ping-req", [9, new Str("t")]),
      testMessage("gossip", [], claims),
      testMessage("sync-digest", digestFields("a", null, [digestValue({ name: "b", incarnation: 2, state: "suspect" })])),
      testMessage("sync-update", [recordsField([testRecord("x", 4, "dead")])]),
      testMessage("sync-want", [p([new Str("x"), new Str("y")])]),
    ];
    for (const m of messages) {
      const bytes = decode(encode(m));
      expect(bytes.ok).toBe(true);
      const d = decodeMessage(bytes.ok ? bytes.value : NONE);
      expect(d.ok).toBe(true);
    }
    const d = decodeMessage(messages[0]!);
    if (!d.ok) throw new Error(d.reason);
    expect(d.message.kind).toBe("ping");
    expect(d.message.claims).toEqual(claims);
    const digest = decodeMessage(messages[5]!);
    expect(digest.ok && digest.message.kind === "sync-digest" && digest.message).toMatchObject({ lo: "a", hi: null, entries: [{ name: "b", incarnation: 2, state: "suspect" }] });
  });

  test("another protocol version, another channel or an unknown kind is refused with the reason", () => {
    const ok = testMessage("ping", [1]);
    const withItem = (i: number, v: Value): List => p(ok.items.map((x, j) => (j === i ? v : x)));
    expect(reason(withItem(1, MEMBERSHIP_PROTOCOL_VERSION + 1))).toContain(`protocol version ${MEMBERSHIP_PROTOCOL_VERSION + 1} is not ${MEMBERSHIP_PROTOCOL_VERSION}`);
    expect(reason(withItem(0, sym("other")))).toContain("not on the member channel");
    expect(reason(withItem(2, sym("shout")))).toContain("message kind is not one of");
    expect(reason(NONE)).toContain("message is not a list");
  });

  test("trailing fields are ignored, so a minor revision can add some", () => {
    const m = testMessage("ping", [1, new Str("a later field")]);
    expect(decodeMessage(m).ok).toBe(true);
  });

  test("member names: up to NAME_BYTES_MAX printable bytes", () => {
    expect(isMemberName("a".repeat(NAME_BYTES_MAX))).toBe(true);
    expect(isMemberName("a".repeat(NAME_BYTES_MAX + 1))).toBe(false);
    expect(isMemberName("")).toBe(false);
    expect(isMemberName("a b")).toBe(false);
    expect(reason(testMessage("ping-req", [1, new Str("a".repeat(NAME_BYTES_MAX + 1))]))).toContain(`more than ${NAME_BYTES_MAX}`);
    expect(decodeMessage(testMessage("ping-req", [1, new Str("a".repeat(NAME_BYTES_MAX))])).ok).toBe(true);
  });

  const claimsOf = (n: number): Claim[] => Array.from({ length: n }, (_, i) => ({ kind: "left", name: `m${i}`, incarnation: 1 }));
  const names = (n: number): List => p(Array.from({ length: n }, (_, i) => new Str(`m${i}`)));

  test.each([
    ["claims", (n: number) => testMessage("gossip", [], claimsOf(n)), PIGGYBACK_CLAIMS_MAX],
    ["digest entries", (n: number) => testMessage("sync-digest", digestFields(null, null, Array.from({ length: n }, (_, i) => digestValue({ name: `m${i}`, incarnation: 0, state: "alive" })))), DIGEST_ENTRIES_MAX],
    ["records", (n: number) => testMessage("sync-update", [recordsField(Array.from({ length: n }, (_, i) => testRecord(`m${i}`)))]), RECORDS_PER_MESSAGE_MAX],
    ["wanted names", (n: number) => testMessage("sync-want", [names(n)]), WANT_NAMES_MAX],
  ] as const)("%s: the maximum is accepted, one more is refused", (what, make, max) => {
    expect(decodeMessage(make(max)).ok).toBe(true);
    expect(reason(make(max + 1))).toContain(`more than ${max}`);
    void what;
  });

  test("metadata lists at their maximum and one past", () => {
    const meta = testMeta("a");
    const roles = Array.from({ length: ROLES_MAX }, (_, i) => `r${i}`);
    const labels = Array.from({ length: LABELS_MAX }, (_, i) => [`k${String(i).padStart(3, "0")}`, "v"] as const);
    const kernels = Array.from({ length: KERNELS_MAX }, (_, i) => `k${i}`);
    expect(metaProblem({ ...meta, roles })).toBeNull();
    expect(metaProblem({ ...meta, roles: [...roles, "x"] })).toContain(`more than ${ROLES_MAX}`);
    expect(metaProblem({ ...meta, labels })).toBeNull();
    expect(metaProblem({ ...meta, labels: [...labels, ["zzz", "v"]] })).toContain(`more than ${LABELS_MAX}`);
    expect(metaProblem({ ...meta, kernels })).toBeNull();
    expect(metaProblem({ ...meta, kernels: [...kernels, "x"] })).toContain(`more than ${KERNELS_MAX}`);
    expect(metaProblem({ ...meta, labels: [["b", "1"], ["a", "2"]] })).toContain("not sorted");
  });

  test.each([
    ["serial", SERIAL_BYTES_MAX, (s: string) => ({ serial: s })],
    ["backchannel address", ADDRESS_BYTES_MAX, (s: string) => ({ backchannel: s })],
    ["http address", ADDRESS_BYTES_MAX, (s: string) => ({ http: s })],
    ["version", VERSION_BYTES_MAX, (s: string) => ({ version: s })],
    ["role", ROLE_BYTES_MAX, (s: string) => ({ roles: [s] })],
    ["kernel", KERNEL_BYTES_MAX, (s: string) => ({ kernels: [s] })],
    ["label key", LABEL_KEY_BYTES_MAX, (s: string) => ({ labels: [[s, "v"] as const] })],
    ["label value", LABEL_VALUE_BYTES_MAX, (s: string) => ({ labels: [["k", s] as const] })],
  ] as const)("metadata %s: %d bytes are accepted, one more is refused", (_what, max, field) => {
    const meta = testMeta("a");
    expect(metaProblem({ ...meta, ...field("x".repeat(max)) })).toBeNull();
    expect(metaProblem({ ...meta, ...field("x".repeat(max + 1)) })).toContain(`more than ${max}`);
  });

  test("incarnations up to INCARNATION_MAX; negative, fractional and bigger ones are refused", () => {
    const alive = (inc: Value): List => p([sym("alive"), new Str("a"), inc, p([])]);
    const withClaim = (c: List): List => {
      const m = testMessage("gossip");
      return p([...m.items.slice(0, 4), p([c])]);
    };
    expect(decodeMessage(withClaim(p([sym("left"), new Str("a"), INCARNATION_MAX]))).ok).toBe(true);
    expect(reason(withClaim(p([sym("left"), new Str("a"), INCARNATION_MAX + 1])))).toContain("incarnation");
    expect(reason(withClaim(p([sym("left"), new Str("a"), -1])))).toContain("incarnation");
    expect(reason(withClaim(alive(1)))).toContain("meta has 0 items");
  });

  test("no input makes the decoder throw: random values, and every valid message mutated (seeded)", () => {
    const rng = new Rng(1234);
    const atoms = (): Value => rng.pick<() => Value>([() => rng.int(1000) - 10, () => new Str("x".repeat(rng.int(80))), () => sym(rng.pick(["alive", "ping", "member", "dead", "zz"])), () => NONE, () => MEMBER_CHANNEL])();
    const randomValue = (depth: number): Value => (depth <= 0 || rng.next() < 0.3 ? atoms() : p(Array.from({ length: rng.int(8) }, () => randomValue(depth - 1))));
    const valid = [testMessage("ping", [1], [{ kind: "alive", name: "a", incarnation: 1, meta: testMeta("a") }]), testMessage("sync-update", [recordsField([testRecord("b")])])];
    /** Replaces one random node of the tree with a random value. */
    const mutate = (v: Value, depth = 0): Value => {
      if (!(v instanceof List) || v.items.length === 0 || rng.next() < 0.15 || depth > 6) return randomValue(3);
      const i = rng.int(v.items.length);
      return p(v.items.map((x, j) => (j === i ? mutate(x, depth + 1) : x)));
    };
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const v = i % 2 === 0 ? randomValue(5) : mutate(valid[i % 4 === 1 ? 0 : 1]!);
      const d = decodeMessage(v);
      if (!d.ok) refused++;
    }
    // Bytes too: flips and truncations of a valid encoding, through the codec first.
    const bytes = encode(valid[0]!);
    for (let i = 0; i < 3000; i++) {
      const b = bytes.slice(0, rng.int(bytes.length + 1));
      if (b.length > 2) b[2 + rng.int(b.length - 2)]! ^= 1 << rng.int(8);
      const c = decode(b);
      if (c.ok && !decodeMessage(c.value).ok) refused++;
    }
    expect(refused).toBeGreaterThan(4000);
  });
});
