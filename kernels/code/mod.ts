/**
 * The `code` kernel: programs running in a node read and write their tenant's code, so behaviour can
 * change from SLP itself — `(code/put "GET /hi" src)` checks and stores a new version exactly as
 * `sup code put` does, and the next request runs it; `(code/put-meta name src "{…}")` also sets its
 * meta (a job's `intervalMs`, a route's budget). Every function works on the tenant of the
 * running request or job only (the scope decides; there is no tenant argument). Invariants: every
 * failure is an error value `@(code: …)`, never an exception; outside a node every call answers
 * `@(code: no code store here)`. Imports only the kernel API, whose CODE_STORE the node offers.
 */
import {
  CODE_STORE,
  List,
  Str,
  T_BRACE,
  T_ERROR,
  T_PAREN,
  Wrap,
  latin1FromText,
  sym,
  textFromLatin1,
  type CallContext,
  type CodeRefusal,
  type CodeStoreService,
  type KernelDefinition,
  type KernelFn,
  type Value,
} from "sup/kernel";

/** The error value `@(code: w1 w2 … "s")`: text words become symbols, Str parts stay strings. */
export function codeError(...parts: readonly (string | Str)[]): Wrap {
  const items: Value[] = [sym("code:")];
  for (const p of parts) {
    if (p instanceof Str) items.push(p);
    else for (const w of p.split(" ")) if (w.length > 0) items.push(sym(w));
  }
  return new Wrap(T_ERROR, new List(T_PAREN, items));
}

const isRefusal = (r: unknown): r is CodeRefusal => typeof r === "object" && r !== null && "refused" in r;

/** Evaluates `count` string arguments, or says which is wrong. */
function strings(cx: CallContext, fn: string, args: readonly Value[], count: number): string[] | Wrap {
  if (args.length !== count) return codeError(`${fn} requires ${count} argument${count === 1 ? "" : "s"}`);
  const out: string[] = [];
  for (const a of args) {
    const v = cx.eval(a);
    if (!(v instanceof Str)) return codeError(`${fn} requires string arguments`);
    out.push(textFromLatin1(v.s));
  }
  return out;
}

/** A kernel function that needs the scope's code store and `count` string arguments. */
function withStore(fn: string, count: number, body: (store: CodeStoreService, args: string[]) => Value): KernelFn {
  return (cx, args) => {
    const store = cx.scope?.service(CODE_STORE);
    if (store === undefined) return codeError("no code store here");
    const strs = strings(cx, fn, args, count);
    return strs instanceof Wrap ? strs : body(store, strs);
  };
}

/** A JSON object text as meta, or null when it is not one. */
function metaObject(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const versionOrError = (r: number | CodeRefusal): Value => (isRefusal(r) ? codeError(r.refused) : r);

const functions: Record<string, KernelFn> = {
  put: withStore("put", 2, (s, [name, source]) => versionOrError(s.put(name!, source!))),
  "put-meta": withStore("put-meta", 3, (s, [name, source, meta]) => {
    const parsed = metaObject(meta!);
    return parsed === null ? codeError("put-meta requires meta as a JSON object text") : versionOrError(s.put(name!, source!, parsed));
  }),
  get: withStore("get", 1, (s, [name]) => {
    const c = s.get(name!);
    return c === null ? codeError("no code named", new Str(latin1FromText(name!))) : new Str(latin1FromText(c.source));
  }),
  version: withStore("version", 1, (s, [name]) => s.get(name!)?.version ?? codeError("no code named", new Str(latin1FromText(name!)))),
  ls: withStore("ls", 0, (s) => new List(T_BRACE, s.list().map((n) => new Str(latin1FromText(n))))),
  rollback: withStore("rollback", 1, (s, [name]) => versionOrError(s.rollback(name!))),
  rm: withStore("rm", 1, (s, [name]) => {
    const r = s.remove(name!);
    return r === null ? 0 : codeError(r.refused);
  }),
};

const code: KernelDefinition = { apiVersion: 1, create: () => ({ functions }) };

export default code;
