/**
 * The `cluster` kernel: code running in a cluster node sees the cluster and commands it.
 *
 *   (cluster/self)                 this node: {("name" "web-1") ("state" "alive") ("roles" ["web"])
 *                                  ("labels" {("region" "eu")}) ("backchannel" "10.0.0.5:7000")
 *                                  ("http" "10.0.0.5:8080") ("kernels" ["http" "json"])}
 *   (cluster/nodes)                every member this node knows, itself first: [NODE …]
 *   (cluster/exec SELECTOR CODE)   CODE run on each node SELECTOR picks: {("web-1" VALUE) …}, a
 *                                  failed node's VALUE an error value: @(cluster: timeout),
 *                                  @(cluster: unreachable "member is dead"), @(cluster: error "…")
 *
 * The shapes are the json kernel's objects and arrays (string keys, brace lists of pairs, bracket
 * lists), so `(http/json 200 (cluster/nodes))` serves them as JSON. Addresses not known are "", a
 * kernel set not known is the symbol `null`. An exec'd value comes back as the
 * value itself when its source form reads back (numbers, strings, symbols, lists, NONE), else as
 * its text. Every failure is an error value `@(cluster: …)`, never an exception: outside a cluster node
 * every call answers `@(cluster: no cluster here)`; exec without the node's `admin` permission or
 * with a bad selector answers `@(cluster: "why")`. `exec` waits at most the caller's remaining time
 * budget (capped by the node; docs/node.md says what the wait costs). Imports only the kernel API.
 */
import {
  CLUSTER,
  List,
  NONE,
  Str,
  T_BRACE,
  T_BRACKET,
  T_ERROR,
  T_PAREN,
  Wrap,
  latin1FromText,
  parseValue,
  sym,
  textFromLatin1,
  type CallContext,
  type ClusterExecResult,
  type ClusterNodeInfo,
  type ClusterService,
  type KernelDefinition,
  type KernelFn,
  type Value,
} from "sup/kernel";

/** The error value `@(cluster: w1 w2 … "s")`: words become symbols, Str parts stay strings. */
export function clusterError(...parts: readonly (string | Str)[]): Wrap {
  const items: Value[] = [sym("cluster:")];
  for (const p of parts) {
    if (p instanceof Str) items.push(p);
    else for (const w of p.split(" ")) if (w.length > 0) items.push(sym(w));
  }
  return new Wrap(T_ERROR, new List(T_PAREN, items));
}

const text = (s: string) => new Str(latin1FromText(s));
const pair = (key: string, v: Value) => new List(T_PAREN, [text(key), v]);
const brace = (items: Value[]) => new List(T_BRACE, items);
const bracket = (items: Value[]) => new List(T_BRACKET, items);

/** A node as an SLP value (see the file comment). */
export function nodeValue(n: ClusterNodeInfo): List {
  return brace([
    pair("name", text(n.name)),
    pair("state", text(n.state)),
    pair("roles", bracket(n.roles.map(text))),
    pair("labels", brace(n.labels.map(([k, v]) => new List(T_PAREN, [text(k), text(v)])))),
    pair("backchannel", text(n.backchannel ?? "")),
    pair("http", text(n.http ?? "")),
    pair("kernels", n.kernels === null ? sym("null") : bracket(n.kernels.map(text))),
  ]);
}

/** A node's exec result as the value paired with its name. */
export function resultValue(r: ClusterExecResult): Value {
  switch (r.status) {
    case "ok": {
      if (r.value === "<none>") return NONE;
      const source = latin1FromText(r.value);
      return parseValue(source) ?? new Str(source);
    }
    case "error":
      return clusterError("error", text(r.error));
    case "timeout":
      return clusterError("timeout");
    case "unreachable":
      return clusterError("unreachable", text(r.detail));
  }
}

/** A kernel function that needs the scope's cluster service. */
function withCluster(fn: string, arity: number, body: (c: ClusterService, cx: CallContext, args: readonly Value[]) => Value): KernelFn {
  return (cx, args) => {
    const c = cx.scope?.service(CLUSTER);
    if (c === undefined) return clusterError("no cluster here");
    if (args.length !== arity) return clusterError(`${fn} requires ${arity} argument${arity === 1 ? "" : "s"}`);
    return body(c, cx, args);
  };
}

const functions: Record<string, KernelFn> = {
  self: withCluster("self", 0, (c) => nodeValue(c.self())),
  nodes: withCluster("nodes", 0, (c) => bracket(c.nodes().map(nodeValue))),
  exec: withCluster("exec", 2, (c, cx, args) => {
    const selector = cx.eval(args[0]!);
    const code = cx.eval(args[1]!);
    if (!(selector instanceof Str) || !(code instanceof Str)) return clusterError("exec requires a selector string and a code string");
    const r = c.exec(textFromLatin1(selector.s), textFromLatin1(code.s), cx.remainingMs());
    if ("refused" in r) return clusterError(text(r.refused));
    return brace(r.map((x) => new List(T_PAREN, [text(x.node), resultValue(x)])));
  }),
};

const cluster: KernelDefinition = { apiVersion: 1, create: () => ({ functions }) };

export default cluster;
