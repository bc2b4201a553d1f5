/**
 * The checker's directives: `load` registers kernel signatures from manifests (spec §7.6),
 * `import` checks another file with a fresh checker and binds its exports (§7.7, with the cycle
 * detection the original lacked, §6.5), and `define-form` adds R2 form types (§5.5).
 */
import type { Checker } from "./checker.ts";
import { parseManifest, type Manifest } from "./manifest.ts";
import { read } from "./reader.ts";
import { List, Str, Sym, T_BRACE, T_NONE, typeSymbolCode } from "./value.ts";
import { CheckFailure, NONE_T, typeFor, type Signature, type StaticType } from "./checker-types.ts";
import type { Rule } from "./checker-rules.ts";

export const ruleLoad: Rule = (cx, call) => {
  for (let i = 1; i < call.items.length; i++) {
    const name = call.items[i]!;
    if (!(name instanceof Str)) return cx.fail("load: all arguments must be strings (kernel names)", name, call);
    const manifest = readManifest(cx, name.s, call);
    for (const form of manifest.forms.keys()) cx.forms.add(form);
    for (const fn of manifest.functions) cx.kernels.set(`${name.s}/${fn.name}`, signatureOf(fn, manifest));
  }
  return NONE_T;
};

/** Finds and leniently parses a kernel's manifest (kernels spec §2.3). */
function readManifest(cx: Checker, name: string, call: List): Manifest {
  const host = cx.session.host;
  const file = host.findManifest(name);
  if (file === null) return cx.fail(`load: could not resolve kernel: ${name}`, call, call);
  const parsed = parseManifest(file.text, "lenient");
  for (const w of parsed.warnings) host.log("warn", `${file.path}: ${w}`);
  if (!parsed.ok) {
    host.log("error", `${file.path}: ${parsed.error}`);
    return cx.fail(`load: failed to load kernel types for ${name}`, call, call);
  }
  return parsed.manifest;
}

function signatureOf(fn: Manifest["functions"][number], manifest: Manifest): Signature {
  // The lenient parser only keeps entries whose type symbols are valid, so T_NONE is never used.
  const type = (symbol: string): StaticType => typeFor(typeSymbolCode(symbol, manifest.forms) ?? T_NONE);
  return { params: fn.params.map((p) => type(p.type)), ret: type(fn.ret), variadic: fn.variadic };
}

export const ruleImport: Rule = (cx, call) => {
  const argc = call.items.length - 1;
  if (argc % 2 !== 0) cx.fail("import requires pairs of arguments: symbol file_path [symbol file_path ...]", call, call);
  for (let i = 1; i < call.items.length; i += 2) {
    const prefix = call.items[i]!;
    const path = call.items[i + 1]!;
    if (!(prefix instanceof Sym)) return cx.fail("import: symbol arguments must be symbols", prefix, call);
    if (!(path instanceof Str)) return cx.fail("import: file path arguments must be strings", path, call);
    importFile(cx, prefix.name, path.s, call);
  }
  return NONE_T;
};

/** Checks one imported file (unless this checker already did) and binds `prefix/<export>`. */
function importFile(cx: Checker, prefix: string, path: string, call: List): void {
  const { host, stack, memo } = cx.session;
  const file = host.readImport(path);
  if (file === null) return cx.fail(`import: could not resolve file: ${path}`, call, call);
  if (cx.checkedFiles.has(file.path)) return;
  if (stack.includes(file.path)) throw cycleFailure(cx, stack, file.path, call);
  let exports = memo.get(file.path);
  if (exports === undefined) {
    const parsed = read(file.text);
    if (parsed.value === null) return cx.fail(`import: parse error in ${file.path}: ${parsed.diagnostics[0]?.message ?? ""}`, call, call);
    const module = cx.forImport(file);
    stack.push(file.path);
    try {
      module.check(parsed.value);
    } catch (e) {
      // A cycle is reported as itself, where it closes, however deep it was found.
      if (!(e instanceof CheckFailure) || e.cycle) throw e;
      cx.fail(`import: type checking failed for ${file.path}: ${e.message}`, call, call);
    } finally {
      stack.pop();
    }
    exports = module.exports;
    memo.set(file.path, exports);
  }
  cx.checkedFiles.add(file.path);
  for (const [name, t] of exports) cx.define(`${prefix}/${name}`, t);
}

/** The §6.5 message: every file on the import chain, then the one that closes the cycle. */
function cycleFailure(cx: Checker, stack: readonly string[], path: string, call: List): CheckFailure {
  const lines = ["Circular import detected:", ...stack.map((p) => `  ${p} imports`), `  ${path} (cycle detected)`];
  return new CheckFailure(lines.join("\n"), cx.file, Math.max(call.pos, 0), true);
}

export const ruleDefineForm: Rule = (cx, call) => {
  const name = call.items[1] as Sym;
  const elements = call.items[2]!;
  if (!(elements instanceof List) || elements.t !== T_BRACE) {
    return cx.fail("define-form: second argument must be a brace list of type symbols", elements, call);
  }
  for (const e of elements.items) {
    if (!(e instanceof Sym)) return cx.fail("define-form: all elements must be type symbols", elements, call);
    cx.requireType(e.name, `define-form: invalid type symbol: ${e.name}`, e, elements);
  }
  // Redefinition replaces silently; the checker only needs the name (forms compare as `:list-c`).
  cx.forms.add(name.name);
  return NONE_T;
};
