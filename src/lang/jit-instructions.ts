/**
 * The instructions the JS tier writes inline (jit.ts): `if`, `def`, `do`/`done`, `eq`, `at`, `try`,
 * `assert`, `cast` to a built-in type and `debug`, each doing exactly what its closure in
 * instructions.ts does, in the same order and with the same exception texts. Any other shape is
 * left to that closure (the caller falls back when this returns null).
 */
import type { Gen } from "./jit.ts";
import { List, NONE, Sym, T_BRACKET, T_ERROR, errorValue, sym, typeSymbolCode, type Value } from "./value.ts";

const S_ITERATIONS = sym("$iterations");
const S_ERROR = sym("$error");
const OUT_OF_BOUNDS = errorValue("index out of bounds");

function isBracket(v: Value | undefined): v is List {
  return v instanceof List && v.t === T_BRACKET;
}

/** An instruction generated inline, its value's expression; null leaves a call to the closure code (others, or bad shapes). */
export function generateInstruction(g: Gen, name: string, pos: number, args: readonly Value[]): string | null {
  const n = args.length;
  switch (name) {
    case "if": {
      if (n !== 3) return null;
      const c = g.expr(args[0]!);
      const r = g.t();
      g.emit(`if (${c} === 0) {`);
      g.branch(
        () => g.emit(`${r} = ${g.expr(args[2]!)};`),
        () => {
          g.emit("} else {");
          g.emit(`${r} = ${g.expr(args[1]!)};`);
        },
      );
      g.emit("}");
      return r;
    }
    case "def": {
      const s = args[0];
      if (n !== 2 || !(s instanceof Sym)) return null;
      const ks = g.k(s);
      g.observe();
      g.emit(`if (it.definedHere(${ks})) throw alreadyDefined(${ks}.name, ${pos});`);
      g.emit(`it.define(${ks}, ${g.expr(args[1]!)});`);
      return g.k(NONE);
    }
    case "do":
      return n === 1 && isBracket(args[0]) ? loop(g, args[0]) : null;
    case "done": {
      if (n !== 1) return null;
      const c = g.t();
      g.emit(`${c} = it.loops[it.loops.length - 1];`);
      g.emit(`if (${c} === undefined) throw fail("done called outside of do loop", ${pos});`);
      g.emit(`${c}.value = ${g.expr(args[0]!)};`);
      g.emit(`${c}.done = true;`);
      return g.k(NONE);
    }
    case "eq": {
      if (n !== 2) return null;
      const a = g.expr(args[0]!);
      const b = g.expr(args[1]!);
      const r = g.t();
      g.emit(`${r} = typeof ${a} === "number" ? (${a} === ${b} ? 1 : 0) : valuesEq(${a}, ${b}) ? 1 : 0;`);
      return r;
    }
    case "at":
      return n === 2 ? at(g, args[0]!, args[1]!, pos) : null;
    case "try":
      return n === 2 ? tryInstr(g, args[0]!, args[1]!) : null;
    case "assert": {
      if (n !== 2) return null;
      const c = g.expr(args[0]!);
      const m = g.expr(args[1]!);
      g.emit(`if (typeof ${c} !== "number" && typeof ${c} !== "bigint") throw fail("assert: condition must evaluate to an integer", ${pos});`);
      g.emit(`if (!(${m} instanceof Str)) throw fail("assert: message must be a string", ${pos});`);
      g.emit(`if (${c} === 0) throw fail(${m}.s, ${pos});`);
      return g.k(NONE);
    }
    case "cast": {
      const ts = args[0];
      const code = n === 2 && ts instanceof Sym ? typeSymbolCode(ts.name) : undefined;
      if (code === undefined) return null; // forms and bad type symbols depend on the session
      const v = g.expr(args[1]!);
      const r = g.t();
      g.emit(`${r} = castValue(${code}, false, ${v}, ${pos});`);
      return r;
    }
    case "debug": {
      const h = g.t();
      g.emit(`${h} = S.host;`);
      g.emit(`${h}.write("[DEBUG]");`);
      for (const a of args) g.emit(`${h}.write(" " + debugForm(${g.expr(a)}));`);
      g.emit(`${h}.write("\\n");`);
      return g.k(NONE);
    }
    default:
      return null;
  }
}

/** `(do [body])` (spec §4.14) as a JS loop, with the same steps, scopes and loop context. */
function loop(g: Gen, body: List): string {
  g.observe(); // its turns' scopes go above the body's
  const c = g.t();
  const i = g.t();
  g.emit(`${c} = { done: false, value: NONE };`);
  g.emit(`it.loops.push(${c});`);
  g.emit(`for (${i} = 1; ; ${i}++) {`);
  // A turn may start after another turn's end.
  g.loopHead();
  g.emit("it.step();");
  g.emit("it.pushScope();");
  g.emit(`it.define(${g.k(S_ITERATIONS)}, ${i});`);
  g.sequence(body.items);
  g.emit("it.popScope();");
  g.emit(`if (${c}.done) break;`);
  g.emit("}");
  g.emit("it.loops.pop();");
  const r = g.t();
  g.emit(`${r} = ${c}.value;`);
  return r;
}

/** `(at index coll)` (spec §4.15). */
function at(g: Gen, index: Value, coll: Value, pos: number): string {
  const i = g.expr(index);
  const r = g.t();
  const oob = g.k(OUT_OF_BOUNDS);
  g.emit(`if (typeof ${i} !== "number" && typeof ${i} !== "bigint") throw fail("at: index must be an integer", ${pos});`);
  g.emit(`if (${i} < 0) ${r} = ${oob}; else {`);
  // The collection is evaluated on one path only.
  g.branch(
    () => {},
    () => {
      const c = g.expr(coll);
      g.emit(`if (${c} instanceof Str) ${r} = typeof ${i} === "number" && ${i} < ${c}.s.length ? ${c}.s.charCodeAt(${i}) : ${oob};`);
      g.emit(`else if (${c} instanceof List) ${r} = typeof ${i} === "number" && ${i} < ${c}.items.length ? ${c}.items[${i}] : ${oob};`);
      g.emit(`else throw fail("at: collection must be a list or string type", ${pos});`);
    },
  );
  g.emit("}");
  return r;
}

/** `(try body handler)` (spec §4.7). */
function tryInstr(g: Gen, body: Value, handler: Value): string {
  const v = g.expr(body);
  const r = g.t();
  g.emit(`if (${v} instanceof Wrap && ${v}.t === ${T_ERROR}) {`);
  // The handler runs on one path only.
  g.branch(
    () => {
      if (isBracket(handler)) {
        g.observe();
        g.emit("it.pushScope();");
        g.emit(`it.define(${g.k(S_ERROR)}, ${v}.inner);`);
        g.emit(`${r} = ${g.expr(handler)};`);
        g.emit("it.popScope();");
      } else g.emit(`${r} = ${g.expr(handler)};`);
    },
    () => {},
  );
  g.emit(`} else ${r} = ${v};`);
  return r;
}
