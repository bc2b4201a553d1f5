/**
 * The repository's Dockerfile, parsed enough for tests to check its stages and to run its commands
 * without a Docker engine: instructions per stage (comments dropped, `\` continuations joined),
 * exec-form arguments and ENV values.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** One instruction: `COPY --from=build /out/sup /usr/local/bin/sup` is { op: "COPY", args: "--from=build …" }. */
export interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Dockerfile instructions by stage, in order. */
export function stages(text: string): Instruction[][] {
  const out: Instruction[][] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    // Comment lines are dropped even inside a continued instruction, as Docker does.
    if (line.startsWith("#") || (pending === "" && line === "")) continue;
    pending += (pending === "" ? "" : " ") + line.replace(/\\$/, "").trim();
    if (line.endsWith("\\")) continue;
    const m = /^(\w+)\s+(.*)$/.exec(pending);
    if (m === null) throw new Error(`Cannot parse Dockerfile instruction: ${pending}`);
    pending = "";
    const ins = { op: m[1]!.toUpperCase(), args: m[2]! };
    if (ins.op === "FROM") out.push([]);
    const stage = out.at(-1);
    if (stage === undefined) throw new Error(`Dockerfile instruction before FROM: ${ins.op}`);
    stage.push(ins);
  }
  return out;
}

/** The arguments of the only `op` instruction of a stage; throws when there is none or several. */
export function only(stage: readonly Instruction[], op: string): string {
  const found = stage.filter((i) => i.op === op);
  if (found.length !== 1) throw new Error(`Expected one ${op} in the stage, found ${found.length}`);
  return found[0]!.args;
}

/** An exec-form (JSON array) argument list. */
export function execForm(args: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) throw new Error(`Not an exec-form list: ${args}`);
  return parsed;
}

/** The command of a HEALTHCHECK instruction (exec form). */
export function healthcheckCommand(args: string): string[] {
  const m = /\bCMD\s+(\[.*\])$/.exec(args);
  if (m === null) throw new Error(`HEALTHCHECK without an exec-form CMD: ${args}`);
  return execForm(m[1]!);
}

/** The ENV values (`A=1 B=2` forms) a stage sets. */
export function envOf(stage: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.filter((s) => s.op === "ENV")) for (const m of i.args.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!;
  return env;
}

/** The repository's Dockerfile, by stage. */
export const DOCKERFILE: readonly (readonly Instruction[])[] = stages(readFileSync(join(import.meta.dir, "..", "..", "Dockerfile"), "utf8"));
/** Its final stage: the image that ships. */
export const FINAL_STAGE: readonly Instruction[] = DOCKERFILE.at(-1)!;
