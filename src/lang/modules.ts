/**
 * R1 imports (spec §6): each module runs once in its own interpreter that shares the session's
 * kernels; `m/name` reads a module binding and `(m/f …)` calls into the module by re-parsing the
 * call as text, exactly as the original does (reals lose digits, strings are not escaped).
 */
import { runUnit } from "./run.ts";
import { IMPORTS, type SourceFile } from "./host.ts";
import { SlpException } from "./errors.ts";
import { Interp } from "./interp.ts";
import { textFormElement } from "./printer.ts";
import { read, type ParseResult } from "./reader.ts";
import { Str, Sym, sym, type Value } from "./value.ts";

/**
 * Parsed modules by file: an embedder that hands out the same SourceFile for the same version (a
 * node does, per tenant) gets each version parsed once, and its closures and JS code kept on it.
 */
const parsedModules = new WeakMap<SourceFile, ParseResult>();

function parseModule(file: SourceFile): ParseResult {
  let r = parsedModules.get(file);
  if (r === undefined) parsedModules.set(file, (r = read(file.text)));
  return r;
}

/** Runs `#(import sym "path" …)` pairs; throws `import: failed to import …` on any failure. */
export function importModules(it: Interp, args: readonly Value[], pos: number): void {
  const session = it.session;
  const host = session.host;
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i];
    const path = args[i + 1];
    if (!(name instanceof Sym)) throw new SlpException("import: symbol arguments must be symbols", pos);
    if (!(path instanceof Str)) throw new SlpException("import: file path arguments must be strings", pos);
    const failed = new SlpException(`import: failed to import ${name.name} from ${path.s}`, pos);
    const resolve = session.scope?.service(IMPORTS);
    const file = resolve !== undefined ? resolve(path.s) : host.readImport(path.s);
    if (file === null) {
      host.log("error", `Could not resolve import file: ${path.s}`);
      throw failed;
    }
    if (session.importStack.includes(file.path)) {
      const lines = [...session.importStack.map((p) => `  ${p} imports`), `  ${file.path} (cycle detected)`];
      host.log("error", `Circular import detected:\n${lines.join("\n")}`);
      throw failed;
    }
    if (session.importedFiles.has(file.path)) continue; // already imported: the second symbol is not bound (spec §6.2)
    const parsed = parseModule(file);
    if (parsed.value === null) {
      host.log("error", `Parse error in import ${file.path}: ${parsed.diagnostics[0]!.message}`);
      throw failed;
    }
    const mod = new Interp(session, file.path);
    session.importStack.push(file.path);
    try {
      runUnit(parsed.value, "module", mod);
    } catch (e) {
      if (!(e instanceof SlpException)) throw e;
      host.log("error", `Error executing import ${file.path}: ${e.text}`);
      throw failed;
    } finally {
      session.importStack.pop();
    }
    session.importedFiles.add(file.path);
    session.modules.set(name, mod);
  }
}

/** The value of an unbound `prefix/rest` symbol when prefix names a module, else undefined. */
export function moduleValue(it: Interp, prefix: string, rest: string): Value | undefined {
  const mod = it.session.modules.get(sym(prefix));
  if (mod === undefined) return undefined;
  const parsed = read(rest).value;
  if (rest.length === 0 || parsed === null) throw new SlpException("Failed to parse import symbol suffix");
  return mod.evalValue(parsed);
}

/** Calls `(prefix/fname args…)` in a module, or returns undefined when prefix is not a module. */
export function moduleCall(it: Interp, prefix: string, fname: string, args: readonly Value[], pos: number): Value | undefined {
  const mod = it.session.modules.get(sym(prefix));
  if (mod === undefined) return undefined;
  const parts = [fname];
  for (const a of args) {
    const v = it.evalValue(a);
    const text = typeof v === "object" && !(v instanceof Str) && !(v instanceof Sym) && v.t !== 10 ? null : textFormElement(v);
    if (text === null) throw new SlpException("Unsupported argument type for cross-context call", pos);
    parts.push(text);
  }
  const call = read("(" + parts.join(" ") + ")").value;
  if (call === null) throw new SlpException("Failed to construct call for import context", pos);
  return mod.evalValue(call);
}
