/**
 * `sup code put|ls|show|history|rollback|rm`: reads and changes the code of a running node through
 * its admin socket. Every command takes `--data DIR` (default ./sup-data) and `--tenant T`.
 */
import { readFileSync, existsSync } from "node:fs";
import { admin, dataDirOf, AdminError } from "./admin-client.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError, parse } from "./args.ts";
import { errorLine } from "./output.ts";

export const CODE_USAGE = `Usage: sup code put NAME FILE [--meta JSON]
       sup code ls
       sup code show NAME [--version N]
       sup code history NAME
       sup code rollback NAME [--to N]
       sup code rm NAME
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
  runs?: { at: number; durationMs: number; ok: boolean; result?: string; error?: string }[];
}

const when = (ms: number) => new Date(ms).toISOString();

/** Runs the `code` subcommand. */
export async function codeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    data: { type: "string" },
    tenant: { type: "string" },
    version: { type: "string" },
    to: { type: "string" },
    meta: { type: "string" },
  });
  const [sub, name, file, ...extra] = positionals;
  const data = dataDirOf(values.data);
  const tenant = values.tenant;
  const needName = () => {
    if (name === undefined) throw new UsageError(`"sup code ${sub}" needs a NAME\n${CODE_USAGE}`);
    return name;
  };
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"\n${CODE_USAGE}`);
  try {
    switch (sub) {
      case "put": {
        const n = needName();
        if (file === undefined) throw new UsageError(`"sup code put" needs a FILE\n${CODE_USAGE}`);
        if (!existsSync(file)) throw new UsageError(`Cannot read "${file}": file does not exist`);
        let meta: unknown;
        if (values.meta !== undefined) {
          try {
            meta = JSON.parse(values.meta);
          } catch {
            throw new UsageError(`Invalid --meta: not JSON: ${values.meta}`);
          }
        }
        const v = (await admin(data, "POST", "/code/put", { name: n, tenant, source: readFileSync(file, "utf8"), meta, author: process.env.USER ?? "cli" })) as VersionInfo;
        process.stdout.write(`stored ${v.name} version ${v.version} (${v.hash.slice(0, 12)})\n`);
        return EXIT_OK;
      }
      case "ls": {
        const list = (await admin(data, "GET", `/code/ls${tenant ? `?tenant=${encodeURIComponent(tenant)}` : ""}`)) as VersionInfo[];
        for (const v of list) process.stdout.write(`${v.tenant}\t${v.name}\tv${v.version}\t${v.kind}\t${when(v.createdAt)}\n`);
        return EXIT_OK;
      }
      case "show": {
        const q = new URLSearchParams({ name: needName(), ...(tenant ? { tenant } : {}), ...(values.version ? { version: values.version } : {}) });
        const v = (await admin(data, "GET", `/code/show?${q}`)) as VersionInfo;
        process.stdout.write(`# ${v.tenant} ${v.name} version ${v.version} (${v.kind}, ${v.hash.slice(0, 12)}) by ${v.author} at ${when(v.createdAt)}\n`);
        if (v.meta !== undefined && Object.keys(v.meta as object).length > 0) process.stdout.write(`# meta ${JSON.stringify(v.meta)}\n`);
        for (const r of v.runs ?? []) process.stdout.write(`# run ${when(r.at)} ${r.durationMs} ms ${r.ok ? "ok" : "error"} ${r.ok ? (r.result ?? "") : (r.error ?? "")}\n`);
        process.stdout.write(v.source ?? "");
        return EXIT_OK;
      }
      case "history": {
        const q = new URLSearchParams({ name: needName(), ...(tenant ? { tenant } : {}) });
        for (const v of (await admin(data, "GET", `/code/history?${q}`)) as VersionInfo[]) process.stdout.write(`v${v.version}\t${v.hash.slice(0, 12)}\t${v.author}\t${when(v.createdAt)}\n`);
        return EXIT_OK;
      }
      case "rollback": {
        const to = values.to === undefined ? undefined : Number(values.to);
        if (to !== undefined && (!Number.isSafeInteger(to) || to < 1)) throw new UsageError(`Invalid --to "${values.to}": expected a version number`);
        const v = (await admin(data, "POST", "/code/rollback", { name: needName(), tenant, to, author: process.env.USER ?? "cli" })) as VersionInfo;
        process.stdout.write(`rolled back ${v.name}: now version ${v.version} (${v.hash.slice(0, 12)})\n`);
        return EXIT_OK;
      }
      case "rm":
        await admin(data, "POST", "/code/rm", { name: needName(), tenant, author: process.env.USER ?? "cli" });
        process.stdout.write(`removed ${name}\n`);
        return EXIT_OK;
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
