/**
 * `sup code put|ls|show|history|rollback|rm`: reads and changes the code of a running node through
 * its admin socket. Every command takes `--data DIR` (default ./sup-data) and `--tenant T`.
 */
import { admin, dataDirOf, AdminError } from "./admin-client.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, parse } from "./args.ts";
import { jobInterval, jobPutWarning, jobShowLines, metaWithEachNode, metaWithEvery, type JobRunInfo, type JobScheduleInfo } from "./code-jobs.ts";
import { parseDuration } from "./duration.ts";
import { readTextFile } from "./input.ts";
import { errorLine, writeOut } from "./output.ts";

export const CODE_USAGE = `Usage: sup code put NAME FILE [--meta JSON] [--on SELECTOR] [--every DURATION (jobs: 500ms, 10s, 5m, 1h)] [--each-node]
       sup code ls
       sup code show NAME [--version N|N@ORIGIN]
       sup code history NAME
       sup code rollback NAME [--to N|N@ORIGIN]
       sup code rm NAME
       sup code split NAME V=W[,V=W...] [--sticky] [--sticky-key ip|header:H|cookie:C]
       sup code split NAME off
Options: --data DIR (default ./sup-data), --tenant T (default "default")
         --wait [all|N] [--timeout DURATION]: return once every targeted live member (or N nodes,
         this one included) applied the change; one line per node with its apply latency; exit 1
         when the timeout (default 10s) passes first. Writes: put, rollback, rm, split.`;

/** What a write answers with when it waited (see node/receipts.ts). */
interface ReceiptReport {
  complete: boolean;
  receipts: { node: string; state: string; ms: number | null; detail?: string }[];
}

/** `--wait` takes an optional value: `--wait`, `--wait all`, `--wait 3` (the parser needs `--wait=all` for the first). */
export function normalizeWait(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--wait") {
      const v = argv[i + 1];
      if (v !== undefined && /^(all|\d+)$/.test(v)) {
        out.push(`--wait=${v}`);
        i++;
      } else out.push("--wait=all");
    } else out.push(a);
  }
  return out;
}

/** The wait fields of an admin write, from `--wait` and `--timeout`. */
function waitFields(wait: string | undefined, timeout: string | undefined): Record<string, unknown> {
  if (wait === undefined) {
    if (timeout !== undefined) throw new UsageError("Invalid --timeout: it goes with --wait");
    return {};
  }
  const w = wait === "all" ? "all" : Number(wait);
  if (w !== "all" && (!Number.isSafeInteger(w) || w < 1)) throw new UsageError(`Invalid --wait "${wait}": expected all or a number of nodes`);
  return { wait: w, timeoutMs: timeout === undefined ? 10_000 : parseDuration(timeout, "--timeout") };
}

/** Prints one line per node of a wait; false when it timed out. */
function printReceipts(r: ReceiptReport | undefined): boolean {
  if (r === undefined) return true;
  const width = Math.max(...r.receipts.map((x) => x.node.length));
  for (const x of r.receipts) {
    const ms = x.ms === null ? "" : `  ${x.ms.toFixed(1)} ms`;
    const state = x.state === "lagging" ? "lagging (no receipt before the timeout)" : x.state === "error" ? `error: ${x.detail ?? ""}` : x.state;
    writeOut(`  ${x.node.padEnd(width)}  ${state}${ms}\n`);
  }
  if (!r.complete) errorLine(`error: timed out waiting for receipts: ${r.receipts.filter((x) => x.state === "lagging").length} lagging, ${r.receipts.filter((x) => x.state === "down").length} down`);
  return r.complete;
}

/** `v3`, or `v3@web-2` when another version of the same name has the same number. */
function label(v: { version: number; origin?: string }, all: readonly { version: number }[]): string {
  return all.filter((x) => x.version === v.version).length > 1 ? `v${v.version}@${v.origin}` : `v${v.version}`;
}

interface VersionInfo {
  tenant: string;
  name: string;
  version: number;
  hash: string;
  kind: string;
  author: string;
  origin?: string;
  createdAt: number;
  source?: string;
  entry?: { origin: string; seq: number; result: string; target: string | null };
  receipts?: ReceiptReport;
  meta?: unknown;
  runs?: JobRunInfo[];
  schedule?: JobScheduleInfo;
}

const when = (ms: number) => new Date(ms).toISOString();

/** How many arguments each subcommand takes after its name (`put NAME FILE`: 2). */
const ARGUMENTS: Record<string, number> = { put: 2, ls: 0, show: 1, history: 1, rollback: 1, rm: 1, split: 2 };

/** Reads `1=90,2=10` (or `3@web-2=50` for one of several versions numbered 3) into split arms. */
export function parseSplitSpec(spec: string): { version: number; origin?: string; weight: number }[] {
  return spec.split(",").map((part) => {
    const m = /^v?(\d+)(?:@([a-z0-9][a-z0-9-]*))?=(\d+(?:\.\d+)?)$/.exec(part.trim());
    if (m === null) throw new UsageError(`Invalid split "${part}": expected VERSION=WEIGHT, e.g. 1=90,2=10`);
    return m[2] === undefined ? { version: Number(m[1]), weight: Number(m[3]) } : { version: Number(m[1]), origin: m[2], weight: Number(m[3]) };
  });
}

/** Runs the `code` subcommand. */
export async function codeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(normalizeWait(argv), {
    data: { type: "string" },
    tenant: { type: "string" },
    version: { type: "string" },
    to: { type: "string" },
    meta: { type: "string" },
    every: { type: "string" },
    "each-node": { type: "boolean" },
    on: { type: "string" },
    wait: { type: "string" },
    timeout: { type: "string" },
    sticky: { type: "boolean" },
    "sticky-key": { type: "string" },
  });
  const [sub, name, file, ...extra] = positionals;
  const data = dataDirOf(values.data);
  const tenant = values.tenant;
  const needName = () => {
    if (name === undefined) throw new UsageError(`"sup code ${sub}" needs a NAME\n${CODE_USAGE}`);
    return name;
  };
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"\n${CODE_USAGE}`);
  const arity = sub === undefined || !Object.hasOwn(ARGUMENTS, sub) ? undefined : ARGUMENTS[sub];
  if (arity !== undefined && positionals.length > arity + 1) throw new UsageError(`Unexpected argument "${positionals[arity + 1]}": "sup code ${sub}" takes ${arity === 0 ? "no arguments" : arity === 1 ? "one argument" : `${arity} arguments`}\n${CODE_USAGE}`);
  const waiting = waitFields(values.wait, values.timeout);
  if (values.wait !== undefined && !["put", "rollback", "rm", "split"].includes(sub ?? "")) throw new UsageError(`Invalid --wait: "sup code ${sub}" makes no change to wait for`);
  try {
    switch (sub) {
      case "put": {
        const n = needName();
        if (file === undefined) throw new UsageError(`"sup code put" needs a FILE\n${CODE_USAGE}`);
        const source = readTextFile(file);
        let meta: unknown;
        if (values.meta !== undefined) {
          try {
            meta = JSON.parse(values.meta);
          } catch {
            throw new UsageError(`Invalid --meta: not JSON: ${values.meta}`);
          }
        }
        if (values.every !== undefined) meta = metaWithEvery(n, meta, values.every);
        if (values["each-node"] === true) meta = metaWithEachNode(n, meta);
        const v = (await admin(data, "POST", "/code/put", { name: n, tenant, source, meta, author: process.env.USER ?? "cli", on: values.on, ...waiting })) as VersionInfo;
        const where = v.entry?.target ? ` for ${v.entry.target}` : "";
        if (v.version === undefined) writeOut(`stored ${n} (entry ${v.entry?.origin}:${v.entry?.seq}${where}; not applied on this node)\n`);
        else writeOut(`stored ${v.name} version ${v.version} (${v.hash.slice(0, 12)})${where}${v.kind === "job" ? `, ${jobInterval(v.meta)}` : ""}\n`);
        const warning = v.kind === "job" ? jobPutWarning(v.name, v.meta) : null;
        if (warning !== null) errorLine(warning);
        return printReceipts(v.receipts) ? EXIT_OK : EXIT_FAILURE;
      }
      case "ls": {
        const list = (await admin(data, "GET", `/code/ls${tenant ? `?tenant=${encodeURIComponent(tenant)}` : ""}`)) as VersionInfo[];
        for (const v of list) writeOut(`${v.tenant}\t${v.name}\tv${v.version}\t${v.kind}\t${when(v.createdAt)}${v.kind === "job" ? `\t${jobInterval(v.meta)}` : ""}\n`);
        return EXIT_OK;
      }
      case "show": {
        const q = new URLSearchParams({ name: needName(), ...(tenant ? { tenant } : {}), ...(values.version ? { version: values.version } : {}) });
        const v = (await admin(data, "GET", `/code/show?${q}`)) as VersionInfo;
        writeOut(`# ${v.tenant} ${v.name} version ${v.version} (${v.kind}, ${v.hash.slice(0, 12)}) by ${v.author} at ${when(v.createdAt)}\n`);
        if (v.meta !== undefined && Object.keys(v.meta as object).length > 0) writeOut(`# meta ${JSON.stringify(v.meta)}\n`);
        if (v.kind === "job") writeOut(jobShowLines(v.schedule ?? null, v.runs ?? []));
        writeOut(v.source ?? "");
        return EXIT_OK;
      }
      case "history": {
        const q = new URLSearchParams({ name: needName(), ...(tenant ? { tenant } : {}) });
        const all = (await admin(data, "GET", `/code/history?${q}`)) as VersionInfo[];
        for (const v of all) writeOut(`${label(v, all)}\t${v.hash.slice(0, 12)}\t${v.author}\t${v.origin ?? ""}\t${when(v.createdAt)}\n`);
        return EXIT_OK;
      }
      case "rollback": {
        const to = values.to;
        if (to !== undefined && (!/^v?\d+(@[a-z0-9][a-z0-9-]*)?$/.test(to) || Number(/\d+/.exec(to)![0]) < 1)) throw new UsageError(`Invalid --to "${to}": expected a version number, or N@ORIGIN for one of several versions with that number`);
        const v = (await admin(data, "POST", "/code/rollback", { name: needName(), tenant, to, author: process.env.USER ?? "cli", ...waiting })) as VersionInfo;
        writeOut(`rolled back ${v.name}: now version ${v.version} (${v.hash.slice(0, 12)})\n`);
        return printReceipts(v.receipts) ? EXIT_OK : EXIT_FAILURE;
      }
      case "rm": {
        const v = (await admin(data, "POST", "/code/rm", { name: needName(), tenant, author: process.env.USER ?? "cli", ...waiting })) as VersionInfo;
        writeOut(`removed ${name}\n`);
        return printReceipts(v.receipts) ? EXIT_OK : EXIT_FAILURE;
      }
      case "split": {
        const n = needName();
        if (file === undefined) throw new UsageError(`"sup code split" needs the split, e.g. 1=90,2=10 (or off)\n${CODE_USAGE}`);
        const arms = file === "off" ? [] : parseSplitSpec(file);
        const v = (await admin(data, "POST", "/code/split", { name: n, tenant, arms, sticky: values.sticky === true, stickyKey: values["sticky-key"], author: process.env.USER ?? "cli", ...waiting })) as VersionInfo;
        writeOut(arms.length === 0 ? `split of ${v.name} off: version ${v.version}\n` : `split ${v.name} ${arms.map((a) => `v${a.version}${a.origin === undefined ? "" : `@${a.origin}`} ${a.weight}`).join(" / ")}${values.sticky === true ? " (sticky)" : ""}: version ${v.version}\n`);
        return printReceipts(v.receipts) ? EXIT_OK : EXIT_FAILURE;
      }
      default:
        throw new UsageError(sub === undefined ? CODE_USAGE : `Unknown code command "${sub}"\n${CODE_USAGE}`);
    }
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    errorLine(`error: ${e.message}`);
    for (const d of e.diagnostics) errorLine(`  ${name}:${d.line}:${d.col}: ${d.message}`);
    return EXIT_FAILURE;
  }
}
