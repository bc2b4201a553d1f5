/**
 * The `io` kernel (kernels spec §6): `put`, a printf-like writer with `%d %f %s` only. The format
 * scan reproduces the original byte for byte: a directive whose argument does not fit is printed as
 * a plain `%` and the argument stays for the next directive; output stops at the first NUL while the
 * result counts the whole built text. Imports only the kernel API.
 */
import { Real, Str, fixed6, type CallContext, type KernelDefinition, type KernelFn, type Value } from "sup/kernel";

/** The failure result of `put` (no format, or a format that is not a string). */
const PUT_FAILED = -1;
const PERCENT = 0x25;

/** Renders `format` against already evaluated arguments (spec §6 step 4). */
export function formatPut(format: string, args: readonly Value[]): string {
  let out = "";
  let next = 0;
  const n = format.length;
  for (let i = 0; i < n; i++) {
    const c = format.charCodeAt(i);
    if (c !== PERCENT || i + 1 >= n || next >= args.length) {
      out += format[i];
      continue;
    }
    const spec = format[i + 1];
    const a = args[next]!;
    if (spec === "d" && (typeof a === "number" || typeof a === "bigint")) out += String(a);
    else if (spec === "f" && a instanceof Real) out += fixed6(a.v);
    else if (spec === "s" && a instanceof Str) out += a.s;
    else {
      // Not a match: print the `%` alone; the specifier byte is scanned again as ordinary text.
      out += "%";
      continue;
    }
    next++;
    i++;
  }
  return out;
}

/** `(io/put format obj…)`: evaluates the format, then every argument, prints, returns the length. */
function put(cx: CallContext, args: readonly Value[]): Value {
  if (args.length < 1) return PUT_FAILED;
  const format = cx.eval(args[0]!);
  if (!(format instanceof Str)) return PUT_FAILED;
  const values: Value[] = [];
  for (let i = 1; i < args.length; i++) values.push(cx.eval(args[i]!));
  const out = formatPut(format.s, values);
  // The original writes with printf("%s"), which stops at the first NUL byte.
  const nul = out.indexOf("\0");
  const printed = nul === -1 ? out : out.slice(0, nul);
  if (printed.length > 0) cx.write(printed);
  return out.length;
}

const io: KernelDefinition = {
  apiVersion: 1,
  create() {
    const functions: Record<string, KernelFn> = { put };
    return { functions };
  },
};

export default io;
