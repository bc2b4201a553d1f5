/**
 * `sup code put|ls|show|history|rollback|rm`: reads and changes the code of a running node through
 * its admin socket. Every command takes `--data DIR` (default ./sup-data) and `--tenant T`.
 */
import { admin, dataDirOf, AdminError } from "./admin-client.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, parse } from "./args.ts";
import { jobInterval, jobPutWarning, jobShowLines, metaWithEvery, type JobRunInfo, type JobScheduleInfo } from "./code-jobs.ts";
import { readTextFile } from "./input.ts";
import { errorLine, writeOut } from "./output.ts";

export const CODE_USAGE = `Usage: sup code put NAME FILE [--meta JSON] [--every DURATION (jobs: 500ms, 10s, 5m, 1h)]
       sup code ls
       sup code show NAME [--version N]
       sup code history NAME
       sup code rollback NAME [--to N]
       sup code rm NAME
       sup code split NAME V=W[,V=W...] [--sticky] [--sticky-key ip|header:H|cookie:C]
       sup code split NAME off
Options: --data DIR (default ./sup-data), --tenant T (default "default")`;

interface VersionInfo {
  tenant: string;
  name: string;
  version: number;
  hash: string;
  kind: string;
  author: string;
  createdAt: number;
  source?: string;
  meta?: unknown;
  runs?: JobRunInfo[];
  schedule?: JobScheduleInfo;
}

const when = (ms: number) => new Date(ms).toISOString();

/** How many arguments each subcommand takes after its name (`put NAME FILE`: 2). */
const ARGUMENTS: Record<string, number> = { put: 2, ls: 0, show: 1, history: 1, rollback: 1, rm: 1, split: 2 };

/** Reads `1=90,2=10` into split arms. */
export function parseSplitSpec(spec: string): { version: number; weight: number }[] {
  return spec.split(",").map((part) => {
    const m = /^v?(\d+)=(\d+(?:\.\d+)?)$/.exec(part.trim());
    if (m === null) throw new UsageError(`Invalid split "${part}": expected VERSION=WEIGHT, e.g. 1=90,2=10`);
    return { version: Number(m[1]), weight: Number(m[2]) };
  });
}

/** Runs the `code` subcommand. */
export async function codeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    data: { type: "string" },
    tenant: { type: "string" },
    version: { type: "string" },
    to: { type: "string" },
    meta: { type: "string" },
    every: { type: "string" },
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
        const v = (await admin(data, "POST", "/code/put", { name: n, tenant, source, meta, author: process.env.USER ?? "cli" })) as VersionInfo;
        writeOut(`stored ${v.name} version ${v.version} (${v.hash.slice(0, 12)})${v.kind === "job" ? `, ${jobInterval(v.meta)}` : ""}\n`);
        const warning = v.kind === "job" ? jobPutWarning(v.name, v.meta) : null;
        if (warning !== null) errorLine(warning);
        return EXIT_OK;
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
        for (const v of (await admin(data, "GET", `/code/history?${q}`)) as VersionInfo[]) writeOut(`v${v.version}\t${v.hash.slice(0, 12)}\t${v.author}\t${when(v.createdAt)}\n`);
        return EXIT_OK;
      }
      case "rollback": {
        const to = values.to === undefined ? undefined : Number(values.to);
        if (to !== undefined && (!Number.isSafeInteger(to) || to < 1)) throw new UsageError(`Invalid --to "${values.to}": expected a version number`);
        const v = (await admin(data, "POST", "/code/rollback", { name: needName(), tenant, to, author: process.env.USER ?? "cli" })) as VersionInfo;
        writeOut(`rolled back ${v.name}: now version ${v.version} (${v.hash.slice(0, 12)})\n`);
        return EXIT_OK;
      }
      case "rm":
        await admin(data, "POST", "/code/rm", { name: needName(), tenant, author: process.env.USER ?? "cli" });
        writeOut(`removed ${name}\n`);
        return EXIT_OK;
      case "split": {
        const n = needName();
        if (file === undefined) throw new UsageError(`"sup code split" needs the split, e.g. 1=90,2=10 (or off)\n${CODE_USAGE}`);
        const arms = file === "off" ? [] : parseSplitSpec(file);
        const v = (await admin(data, "POST", "/code/split", { name: n, tenant, arms, sticky: values.sticky === true, stickyKey: values["sticky-key"], author: process.env.USER ?? "cli" })) as VersionInfo;
        writeOut(arms.length === 0 ? `split of ${v.name} off: version ${v.version}\n` : `split ${v.name} ${arms.map((a) => `v${a.version} ${a.weight}`).join(" / ")}${values.sticky === true ? " (sticky)" : ""}: version ${v.version}\n`);
        return EXIT_OK;
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
