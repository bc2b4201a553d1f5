/**
 * Change-log entries (docs/cluster.md, "Change-log replication"): what one node changed, signed by
 * it. An entry is the SLP value
 *
 *   (sup-entry 1 ORIGIN SEQ HLC-MS HLC-N CERT AUTHOR TARGET BODY)
 *
 * ORIGIN the certificate name of the node that made it; SEQ its sequence number at that origin
 * (1, 2, 3…); HLC-MS and HLC-N its hybrid logical clock stamp; CERT the sha256 (hex) of the signed
 * certificate that signs it ("" for a local entry of a node without identity); AUTHOR who asked for
 * the change (a user, `slp`); TARGET a selector ("" for every node); BODY one of
 *
 *   (code-put TENANT NAME KIND NUMBER OP SOURCE-HASH PROGRAM-HASH META FROM)
 *        KIND route|job|module, OP put|rollback|split, META JSON text, FROM () or (NUMBER ORIGIN)
 *   (code-rm TENANT NAME)
 *   (kernel load|unload NAME)
 *   (setting TENANT KEY JSON)
 *   (revoke SERIAL NAME UP-TO REASON)
 *
 * The origin signs the codec encoding of that value; the codec is canonical, so the bytes are the
 * entry. Text fields are UTF-8 held as byte strings. Decoding is total: a malformed entry is a
 * reason, never an exception.
 */
import { decode } from "../lang/codec.ts";
import { bytesFromLatin1, isList, latin1FromBytes, latin1FromText, List, Str, Sym, sym, T_PAREN, textFromLatin1, type Value } from "../lang/value.ts";
import { NAME_BYTES_MAX } from "./limits.ts";
import { AUTHOR_BYTES_MAX, CODE_NAME_BYTES_MAX, ENTRY_BYTES_MAX, HASH_HEX, KERNEL_NAME_BYTES_MAX, META_BYTES_MAX, REASON_BYTES_MAX, SETTING_KEY_BYTES_MAX, TENANT_BYTES_MAX } from "./replication-limits.ts";
import { parseSelector, SelectorError, type Selector } from "./selector.ts";

/** The layout version after `sup-entry`. */
export const ENTRY_VERSION = 1;

const ENTRY_TAG = sym("sup-entry");

/**
 * Every symbol an entry can hold, interned when this module loads and held here for the life of the
 * process: entries from peers are decoded with knownSymbolsOnly (a peer must not grow the symbol
 * table), so a node must know them before the first entry of a kind it never wrote itself arrives,
 * and a symbol nothing references may be swept from the table.
 */
export const ENTRY_SYMBOLS: readonly Sym[] = ["sup-entry", "code-put", "code-rm", "kernel", "setting", "revoke", "route", "job", "module", "put", "rollback", "split", "load", "unload"].map(sym);

/** A stamp of the hybrid logical clock. */
export interface Stamp {
  readonly ms: number;
  readonly n: number;
}

/** What an entry changes. */
export type EntryBody =
  | {
      readonly kind: "code-put";
      readonly tenant: string;
      readonly name: string;
      readonly codeKind: "route" | "job" | "module";
      readonly number: number;
      readonly op: "put" | "rollback" | "split";
      readonly sourceHash: string;
      readonly programHash: string;
      /** JSON text of the version's meta. */
      readonly meta: string;
      /** The version a rollback or split copied. */
      readonly from: { readonly number: number; readonly origin: string } | null;
    }
  | { readonly kind: "code-rm"; readonly tenant: string; readonly name: string }
  | { readonly kind: "kernel"; readonly op: "load" | "unload"; readonly name: string }
  | { readonly kind: "setting"; readonly tenant: string; readonly key: string; readonly json: string }
  | { readonly kind: "revoke"; readonly serial: string; readonly name: string; readonly upTo: number; readonly reason: string };

export type EntryKind = EntryBody["kind"];

/** A decoded entry (not verified yet: see the replication core). */
export interface Entry {
  readonly origin: string;
  readonly seq: number;
  readonly hlc: Stamp;
  /** Certificate hash; "" for a local entry of a node without identity. */
  readonly cert: string;
  readonly author: string;
  /** Null: every node. */
  readonly target: Selector | null;
  readonly body: EntryBody;
}

/** The identity permission an entry's signer must hold: `code` for code and tenant settings, `admin` for kernel sets and revocations. */
export function permissionFor(kind: EntryKind): "code" | "admin" {
  return kind === "kernel" || kind === "revoke" ? "admin" : "code";
}

/** The blob (source text, by its hash) an entry needs before it can be applied, or null. */
export function blobOf(body: EntryBody): string | null {
  return body.kind === "code-put" ? body.sourceHash : null;
}

const s = (t: string) => new Str(latin1FromText(t));
const p = (items: readonly Value[]) => new List(T_PAREN, items);

function bodyValue(b: EntryBody): List {
  switch (b.kind) {
    case "code-put":
      return p([sym("code-put"), s(b.tenant), s(b.name), sym(b.codeKind), b.number, sym(b.op), s(b.sourceHash), s(b.programHash), s(b.meta), p(b.from === null ? [] : [b.from.number, s(b.from.origin)])]);
    case "code-rm":
      return p([sym("code-rm"), s(b.tenant), s(b.name)]);
    case "kernel":
      return p([sym("kernel"), sym(b.op), s(b.name)]);
    case "setting":
      return p([sym("setting"), s(b.tenant), s(b.key), s(b.json)]);
    case "revoke":
      return p([sym("revoke"), s(b.serial), s(b.name), b.upTo, s(b.reason)]);
  }
}

/** The entry as the value its origin signs. */
export function entryValue(e: Entry): List {
  return p([ENTRY_TAG, ENTRY_VERSION, s(e.origin), e.seq, e.hlc.ms, e.hlc.n, s(e.cert), s(e.author), s(e.target?.text ?? ""), bodyValue(e.body)]);
}

type Read<T> = T | { readonly bad: string };
function isBad<T>(x: Read<T>): x is { readonly bad: string } {
  return typeof x === "object" && x !== null && "bad" in x;
}

function text(v: Value | undefined, what: string, max: number, min = 1): Read<string> {
  if (!(v instanceof Str)) return { bad: `${what} is not a string` };
  if (v.s.length < min || v.s.length > max) return { bad: `${what} is ${v.s.length} bytes, expected ${min} to ${max}` };
  return textFromLatin1(v.s);
}

function count(v: Value | undefined, what: string, min: number): Read<number> {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) return { bad: `${what} is not an integer of at least ${min}` };
  return v;
}

function hash(v: Value | undefined, what: string, allowEmpty = false): Read<string> {
  const t = text(v, what, 64, allowEmpty ? 0 : 64);
  if (isBad(t)) return t;
  return (allowEmpty && t === "") || HASH_HEX.test(t) ? t : { bad: `${what} is not a sha256 in hex` };
}

function choice<T extends string>(v: Value | undefined, what: string, options: readonly T[]): Read<T> {
  const name = v instanceof Sym ? v.name : null;
  return name !== null && (options as readonly string[]).includes(name) ? (name as T) : { bad: `${what} is not one of ${options.join(", ")}` };
}

function readBody(v: Value | undefined): Read<EntryBody> {
  if (v === undefined || !isList(v) || v.items.length === 0 || !(v.items[0] instanceof Sym)) return { bad: "the body is not a list headed by a kind" };
  const f = v.items;
  const kind = (f[0] as Sym).name;
  const need = (n: number) => (f.length < n ? { bad: `a ${kind} body has ${n - 1} fields, this one ${f.length - 1}` } : null);
  switch (kind) {
    case "code-put": {
      const short = need(10);
      if (short) return short;
      const parts = [
        text(f[1], "tenant", TENANT_BYTES_MAX),
        text(f[2], "name", CODE_NAME_BYTES_MAX),
        choice(f[3], "code kind", ["route", "job", "module"] as const),
        count(f[4], "version number", 1),
        choice(f[5], "op", ["put", "rollback", "split"] as const),
        hash(f[6], "source hash"),
        hash(f[7], "program hash"),
        text(f[8], "meta", META_BYTES_MAX),
      ] as const;
      const bad = parts.find((x) => isBad<unknown>(x));
      if (bad !== undefined) return bad as { bad: string };
      const from = f[9];
      let fromRef: { number: number; origin: string } | null = null;
      if (from === undefined || !isList(from) || (from.items.length !== 0 && from.items.length !== 2)) return { bad: "from is not () or (NUMBER ORIGIN)" };
      if (from.items.length === 2) {
        const n = count(from.items[0], "from number", 1);
        const o = text(from.items[1], "from origin", NAME_BYTES_MAX);
        if (isBad(n)) return n;
        if (isBad(o)) return o;
        fromRef = { number: n, origin: o };
      }
      const [tenant, name, codeKind, number, op, sourceHash, programHash, meta] = parts as unknown as [string, string, "route" | "job" | "module", number, "put" | "rollback" | "split", string, string, string];
      return { kind, tenant, name, codeKind, number, op, sourceHash, programHash, meta, from: fromRef };
    }
    case "code-rm": {
      const short = need(3);
      if (short) return short;
      const tenant = text(f[1], "tenant", TENANT_BYTES_MAX);
      const name = text(f[2], "name", CODE_NAME_BYTES_MAX);
      if (isBad(tenant)) return tenant;
      if (isBad(name)) return name;
      return { kind, tenant, name };
    }
    case "kernel": {
      const short = need(3);
      if (short) return short;
      const op = choice(f[1], "kernel op", ["load", "unload"] as const);
      const name = text(f[2], "kernel name", KERNEL_NAME_BYTES_MAX);
      if (isBad(op)) return op;
      if (isBad(name)) return name;
      return { kind, op, name };
    }
    case "setting": {
      const short = need(4);
      if (short) return short;
      const tenant = text(f[1], "tenant", TENANT_BYTES_MAX);
      const key = text(f[2], "setting key", SETTING_KEY_BYTES_MAX);
      const json = text(f[3], "setting value", META_BYTES_MAX);
      for (const x of [tenant, key, json]) if (isBad(x)) return x;
      return { kind, tenant: tenant as string, key: key as string, json: json as string };
    }
    case "revoke": {
      const short = need(5);
      if (short) return short;
      const serial = text(f[1], "serial", 64);
      const name = text(f[2], "revoked name", NAME_BYTES_MAX);
      const upTo = count(f[3], "up-to", 0);
      const reason = text(f[4], "reason", REASON_BYTES_MAX, 0);
      for (const x of [serial, name, upTo, reason]) if (isBad(x)) return x;
      return { kind, serial: serial as string, name: name as string, upTo: upTo as number, reason: reason as string };
    }
    default:
      return { bad: `unknown entry kind "${kind.slice(0, 40)}"` };
  }
}

/** Reads an entry value; a string says what is wrong with it. Extra trailing fields are ignored. */
export function readEntry(v: Value): Entry | string {
  if (!isList(v) || v.items[0] !== ENTRY_TAG) return "not a sup-entry";
  const f = v.items;
  if (f[1] !== ENTRY_VERSION) return `entry layout version ${typeof f[1] === "number" ? f[1] : "?"} is not ${ENTRY_VERSION}`;
  if (f.length < 10) return `an entry has 10 fields, this one ${f.length}`;
  const origin = text(f[2], "origin", NAME_BYTES_MAX);
  const seq = count(f[3], "sequence", 1);
  const ms = count(f[4], "HLC time", 0);
  const n = count(f[5], "HLC counter", 0);
  const cert = hash(f[6], "certificate hash", true);
  const author = text(f[7], "author", AUTHOR_BYTES_MAX, 0);
  const targetText = text(f[8], "target", 4096, 0);
  const body = readBody(f[9]);
  for (const x of [origin, seq, ms, n, cert, author, targetText, body]) if (isBad(x)) return x.bad;
  let target: Selector | null = null;
  if (targetText !== "") {
    try {
      target = parseSelector(targetText as string);
    } catch (e) {
      return e instanceof SelectorError ? e.message : "bad target";
    }
    if (target.text !== targetText) return `target "${targetText as string}" is not in canonical form ("${target.text}")`;
    if ((body as EntryBody).kind === "revoke") return "a revocation cannot have a target: every node must apply it";
  }
  return { origin: origin as string, seq: seq as number, hlc: { ms: ms as number, n: n as number }, cert: cert as string, author: author as string, target, body: body as EntryBody };
}

/** Decodes and reads entry bytes (from a peer or the store); a string says what is wrong. */
export function decodeEntry(bytes: Uint8Array): { entry: Entry; value: Value } | string {
  if (bytes.length > ENTRY_BYTES_MAX) return `entry is ${bytes.length} bytes, over ${ENTRY_BYTES_MAX}`;
  const d = decode(bytes, { knownSymbolsOnly: true });
  if (!d.ok) return `entry does not decode: ${d.error.message}`;
  const entry = readEntry(d.value);
  return typeof entry === "string" ? entry : { entry, value: d.value };
}

/** `origin:seq`, how entries are named in logs and events. */
export function entryId(origin: string, seq: number): string {
  return `${origin}:${seq}`;
}

/** Bytes as a byte string value, and back (signatures, blobs and encodings travel as strings). */
export function bytesValue(b: Uint8Array): Str {
  return new Str(latin1FromBytes(b));
}

export function valueBytesOf(v: Value | undefined): Uint8Array | null {
  return v instanceof Str ? bytesFromLatin1(v.s) : null;
}
