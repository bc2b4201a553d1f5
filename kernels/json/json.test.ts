import { describe, expect, test } from "bun:test";
import { encodeValue as codecEncode, sourceForm, parseValue, List, NONE, Real, Sym, T_BRACE, T_BRACKET, T_ERROR, T_PAREN, T_SOME, Wrap, aberrantLiteral, intFromBig, str, sym, wrapInt, type Value } from "sup/kernel";
import { fakeContext } from "../../test/support/fake-context.ts";
import { runSource } from "../../test/support/run-source.ts";
import { Rng } from "../../test/support/rng.ts";
import jsonKernel, { JSON_NESTING_MAX, decodeJson, encodeJson } from "./mod.ts";

const brace = (...items: Value[]) => new List(T_BRACE, items);
const bracket = (...items: Value[]) => new List(T_BRACKET, items);
const pair = (k: string, v: Value) => new List(T_PAREN, [str(k), v]);
/** Values are equal when their canonical codec encodings are (bit-exact for reals). */
const same = (a: Value, b: Value) => expect(Buffer.from(codecEncode(a)).toString("hex")).toBe(Buffer.from(codecEncode(b)).toString("hex"));
/** The source text of an error value, e.g. `@(json: unexpected end of input)`. */
const errText = (v: Value | string) => (typeof v === "string" ? `not an error: ${v}` : sourceForm(v));
const enc = (v: Value): string => {
  const r = encodeJson(v);
  if (typeof r !== "string") throw new Error(`expected JSON, got ${sourceForm(r)}`);
  return r;
};

describe("json mapping", () => {
  const rows: [string, Value, string][] = [
    ["object", brace(pair("a", 1), pair("b", str("x"))), '{"a":1,"b":"x"}'],
    ["empty object", brace(), "{}"],
    ["array", bracket(1, 2, 3), "[1,2,3]"],
    ["empty array", bracket(), "[]"],
    ["string", str("hi"), '"hi"'],
    ["int", 42, "42"],
    ["negative int", -7, "-7"],
    ["real", new Real(2.5), "2.5"],
    ["integral real keeps .0", new Real(1), "1.0"],
    ["negative zero real", new Real(-0), "-0.0"],
    ["large integral real", new Real(1e20), "100000000000000000000.0"],
    ["real with exponent", new Real(1e21), "1e+21"],
    ["tiny real", new Real(5e-324), "5e-324"],
    ["max real", new Real(1.7976931348623157e308), "1.7976931348623157e+308"],
    ["true", sym("true"), "true"],
    ["false", sym("false"), "false"],
    ["null", sym("null"), "null"],
    ["nested", brace(pair("xs", bracket(brace(pair("k", sym("null"))), bracket()))), '{"xs":[{"k":null},[]]}'],
    ["duplicate keys kept in order", brace(pair("a", 1), pair("a", 2)), '{"a":1,"a":2}'],
  ];
  for (const [what, value, text] of rows) {
    test(`${what}: encodes as ${text} and decodes back`, () => {
      expect(enc(value)).toBe(text);
      same(decodeJson(text), value);
    });
  }

  test("keys and strings escape quote, backslash and control bytes only", () => {
    const s = '"\\\b\f\n\r\t\x00\x1f\x7f/';
    expect(enc(str(s))).toBe('"\\"\\\\\\b\\f\\n\\r\\t\\u0000\\u001f\x7f/"');
    expect(enc(brace(pair("a\nb", 1)))).toBe('{"a\\nb":1}');
  });

  test("every byte string round-trips; bytes from 0x80 pass through unchanged", () => {
    let all = "";
    for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
    const text = enc(str(all));
    expect(text.slice(-129, -1)).toBe(all.slice(128));
    same(decodeJson(text), str(all));
    // UTF-8 text (é, 😀) stays UTF-8 bytes.
    const utf8 = Buffer.from("é😀", "utf8").toString("latin1");
    expect(enc(str(utf8))).toBe(`"${utf8}"`);
  });

  test("\\u escapes decode to UTF-8, surrogate pairs to one code point, lone surrogates to WTF-8", () => {
    const latin1 = (t: string) => Buffer.from(t, "utf8").toString("latin1");
    same(decodeJson('"\\u00e9\\u4e2d\\ud83d\\ude00\\u0041\\/"'), str(latin1("é中😀A/")));
    same(decodeJson('"\\ud800x"'), str("\xed\xa0\x80x"));
    same(decodeJson('"\\udc00"'), str("\xed\xb0\x80"));
    same(decodeJson('"\\u0000"'), str("\0"));
  });
});

describe("json integers are exact int64", () => {
  const ints: [string, Value][] = [
    ["0", 0],
    ["-0", 0],
    ["9007199254740991", 9007199254740991],
    ["9007199254740992", intFromBig(9007199254740992n)],
    ["9007199254740993", intFromBig(9007199254740993n)],
    ["-9007199254740993", intFromBig(-9007199254740993n)],
    ["9223372036854775807", intFromBig(9223372036854775807n)],
    ["-9223372036854775808", intFromBig(-9223372036854775808n)],
    ["123456789012345678", intFromBig(123456789012345678n)],
  ];
  for (const [text, v] of ints) {
    test(`${text} decodes to the exact int and encodes back`, () => {
      same(decodeJson(text), v);
      expect(enc(v)).toBe(text === "-0" ? "0" : text);
    });
  }

  test("integers beyond int64 become reals", () => {
    same(decodeJson("9223372036854775808"), new Real(9223372036854775808));
    same(decodeJson("-9223372036854775809"), new Real(-9223372036854775809));
    same(decodeJson("100000000000000000000000"), new Real(1e23));
  });

  test("a fraction or an exponent makes a real even when integral", () => {
    same(decodeJson("1.0"), new Real(1));
    same(decodeJson("1e2"), new Real(100));
    same(decodeJson("-0.0"), new Real(-0));
    same(decodeJson("2.5E-3"), new Real(0.0025));
  });
});

describe("json round trips", () => {
  const seed = 20261123;
  test(`random values encode and decode to themselves (seed ${seed})`, () => {
    const rng = new Rng(seed);
    const atom = (): Value => {
      switch (rng.int(6)) {
        case 0:
          return wrapInt(BigInt.asIntN(64, rng.u64()));
        case 1:
          return rng.int(2000) - 1000;
        case 2: {
          // Any finite double, from random bits.
          const b = Buffer.alloc(8);
          b.writeBigUInt64LE(rng.u64());
          const x = b.readDoubleLE(0);
          return new Real(Number.isFinite(x) ? x : rng.next());
        }
        case 3: {
          let s = "";
          for (let i = rng.int(12); i > 0; i--) s += String.fromCharCode(rng.int(256));
          return str(s);
        }
        case 4:
          return rng.pick([sym("true"), sym("false"), sym("null")]);
        default:
          return new Real(rng.int(1000));
      }
    };
    const value = (depth: number): Value => {
      const k = depth > 4 ? 0 : rng.int(3);
      if (k === 0) return atom();
      const items: Value[] = [];
      for (let i = rng.int(5); i > 0; i--) items.push(k === 1 ? value(depth + 1) : pair(String.fromCharCode(97 + rng.int(26)), value(depth + 1)));
      return new List(k === 1 ? T_BRACKET : T_BRACE, items);
    };
    for (let i = 0; i < 500; i++) {
      const v = value(0);
      const text = enc(v);
      same(decodeJson(text), v);
      expect(enc(decodeJson(text))).toBe(text);
    }
  });

  test("canonical JSON texts decode and encode to the same text", () => {
    for (const t of ['{"a":[1,-2,3.25,1.0,-0.0,"x",true,false,null,{}],"b":{"c":[]}}', "[9223372036854775807,-9223372036854775808]", '"\\u0001\\n"', "1.5e-7", "1e+21"]) {
      expect(enc(decodeJson(t))).toBe(t);
    }
  });

  test("whitespace around and between tokens is ignored", () => {
    same(decodeJson(' \t\r\n{ "a" : [ 1 , 2 ] }\n'), brace(pair("a", bracket(1, 2))));
  });

  test(`nesting: ${JSON_NESTING_MAX} levels both ways, one more is an error`, () => {
    let v: Value = 1;
    for (let i = 0; i < JSON_NESTING_MAX; i++) v = bracket(v);
    const text = enc(v);
    same(decodeJson(text), v);
    expect(errText(encodeJson(bracket(v)))).toBe(`@(json: cannot encode nesting deeper than ${JSON_NESTING_MAX})`);
    expect(errText(decodeJson("[" + text + "]"))).toBe(`@(json: nesting deeper than ${JSON_NESTING_MAX} at ${JSON_NESTING_MAX})`);
  });
});

describe("json errors", () => {
  test("values without a JSON form name their type", () => {
    const rows: [Value, string][] = [
      [NONE, "none"],
      [sym("maybe"), "symbol"],
      [new List(T_PAREN, [1]), "list-p"],
      [brace(1), "list-c"],
      [brace(new List(T_PAREN, [sym("k"), 1])), "list-c"],
      [brace(new List(T_PAREN, [str("k"), 1, 2])), "list-c"],
      [new Wrap(T_ERROR, str("x")), "error"],
      [aberrantLiteral(1), "aberrant"],
      [new Real(Number.NaN), "real"],
      [new Real(Number.POSITIVE_INFINITY), "real"],
      [bracket(1, bracket(NONE)), "none"],
    ];
    for (const [v, type] of rows) expect(errText(encodeJson(v))).toBe(`@(json: cannot encode ${type})`);
  });

  test("malformed texts give the reason and byte offset", () => {
    const rows: [string, string][] = [
      ["", "unexpected end of input"],
      ["   ", "unexpected end of input"],
      ["[1,", "unexpected end of input"],
      ['"abc', "unexpected end of input"],
      ["x", "unexpected character at 0"],
      ["[1 2]", "expected comma or closing bracket at 3"],
      ['{"a" 1}', "expected colon at 5"],
      ['{"a":1 "b":2}', "expected comma or closing brace at 7"],
      ["{1:2}", "expected string key at 1"],
      ["[1,]", "unexpected character at 3"],
      ['"\\x"', "invalid escape at 1"],
      ['"\\u12g4"', "invalid escape at 1"],
      ['"a\nb"', "control character in string at 2"],
      ["01", "unexpected data after value at 1"],
      ["1.", "unexpected data after value at 1"],
      ["-", "malformed number at 0"],
      ["-x", "malformed number at 0"],
      ["+1", "unexpected character at 0"],
      ["1e400", "number out of range at 0"],
      ["NaN", "unexpected character at 0"],
      ["tru", "unexpected character at 0"],
      ["true false", "unexpected data after value at 5"],
    ];
    for (const [text, reason] of rows) expect(errText(decodeJson(text))).toBe(`@(json: ${reason})`);
  });

  test("error values equal what the reader makes of their text", () => {
    const v = decodeJson("[1 2]");
    same(v, parseValue("@(json: expected comma or closing bracket at 3)")!);
  });

  test("every truncation of a document is an error", () => {
    const doc = '{"a":[1,2.5,"x\\n\\u00e9",true,null,{"b":false}],"c":-12}';
    for (let n = 0; n < doc.length; n++) {
      const r = decodeJson(doc.slice(0, n));
      expect(r instanceof Wrap && r.t === T_ERROR).toBe(true);
    }
    expect(decodeJson(doc) instanceof List).toBe(true);
  });
});

describe("json kernel functions", () => {
  const fns = jsonKernel.create().functions;
  const call = (name: string, ...args: Value[]) => fns[name]!(fakeContext().cx, args);

  test("encode and decode evaluate their argument", () => {
    const f = fakeContext({ vars: new Map([[sym("v"), bracket(1, str("a"))]]) });
    expect(sourceForm(fns["encode"]!(f.cx, [sym("v")]))).toBe('"[1,\\"a\\"]"');
    expect(sourceForm(fns["decode"]!(f.cx, [str("[true]")]))).toBe("[true]");
  });

  test("eager forms agree with the general forms", () => {
    // The general form evaluates its argument, so it gets the value quoted.
    const quote = (v: Value) => new Wrap(T_SOME, v);
    for (const v of [bracket(1), str("x"), NONE]) expect(sourceForm(fns["encode"]!.eager!.call(v, NONE, NONE, fakeContext().cx))).toBe(sourceForm(call("encode", quote(v))));
    for (const v of [str("[1]"), str("{"), 5]) expect(sourceForm(fns["decode"]!.eager!.call(v, NONE, NONE, fakeContext().cx))).toBe(sourceForm(call("decode", quote(v))));
  });

  test("wrong arguments are error values", () => {
    expect(errText(call("encode"))).toBe("@(json: encode requires 1 argument)");
    expect(errText(call("decode", str("1"), str("2")))).toBe("@(json: decode requires 1 argument)");
    expect(errText(call("decode", 5))).toBe("@(json: decode requires a string)");
  });

  test("object and array build from evaluated values", () => {
    const f = fakeContext({ vars: new Map<Sym, Value>([[sym("n"), 7]]) });
    const obj = fns["object"]!(f.cx, [str("n"), sym("n"), str("xs"), new List(T_PAREN, [sym("trace"), 1])]);
    expect(sourceForm(obj)).toBe('{("n" 7) ("xs" 1)}');
    expect(f.trace).toEqual([1]);
    expect(sourceForm(fns["array"]!(f.cx, [sym("n"), str("s")]))).toBe('[7 "s"]');
    expect(sourceForm(fns["object"]!(f.cx, []))).toBe("{}");
    expect(errText(fns["object"]!(f.cx, [str("a")]))).toBe("@(json: object requires key value pairs)");
    expect(errText(fns["object"]!(f.cx, [5, 1]))).toBe("@(json: object keys must be strings)");
  });

  test("a checked SLP program uses the kernel through a runtime", () => {
    const r = runSource(`[ #(load "json")
          (def v (json/decode "{\\"a\\":[1,2.5,true],\\"big\\":9223372036854775807}"))
          (debug (json/encode v))
          (debug (json/encode (json/object "n" 1 "xs" (json/array 1.0 "b"))))
          (debug (eq (json/decode "[1,") @(json: unexpected end of input)))
          (json/encode (json/decode "1.0")) ]`);
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(sourceForm(r.value)).toBe('"1.0"');
    expect(r.output).toBe('[DEBUG] "{"a":[1,2.5,true],"big":9223372036854775807}"\n[DEBUG] "{"n":1,"xs":[1.0,"b"]}"\n[DEBUG] 1\n');
  });
});
