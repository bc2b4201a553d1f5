/**
 * The public kernel API: the one module TypeScript kernels import, as `sup/kernel`. It is the running
 * runtime's own module instance — from source through tsconfig.json's `paths`, in a compiled binary
 * and for every kernel loaded from disk through a Bun plugin that resolves `sup/kernel` to this
 * module (ts-kernel.ts) — so a kernel's values are the runtime's (instanceof works) and its output
 * goes through the runtime. Every export is listed in docs/kernels.md; removing one or changing
 * what it means bumps KERNEL_API_VERSION. Imports lang/, the logger and this folder, nothing else.
 */

// The kernel contract.
export { KERNEL_API_VERSION, type KernelDefinition, type KernelInstance } from "./definition.ts";
export type { CallContext, KernelFn, EagerKernelFn, SessionScope } from "../../lang/host.ts";
export { ScopeKey } from "../../lang/host.ts";
export { SlpException } from "../../lang/errors.ts";

// Values.
export {
  type Value,
  type Int,
  type TypeCode,
  type ListKind,
  type WrapKind,
  Real,
  Str,
  Sym,
  List,
  Wrap,
  Aberrant,
  NONE,
  EMPTY_PAREN,
  T_NONE,
  T_SOME,
  T_PAREN,
  T_BRACE,
  T_STR,
  T_SYMBOL,
  T_INT,
  T_REAL,
  T_BRACKET,
  T_ERROR,
  T_DATUM,
  T_ABERRANT,
  TYPE_NAMES,
  sym,
  str,
  paren,
  errorValue,
  aberrantLiteral,
  typeOf,
  isInt,
  isList,
  intFromBig,
  wrapInt,
  bigOf,
  intAdd,
  intSub,
  intMul,
  latin1FromText,
  textFromLatin1,
  latin1FromBytes,
  bytesFromLatin1,
} from "../../lang/value.ts";
export { valueEquals, parseValue } from "./values.ts";

// Renderings and the codec.
export { fixed6, shortestReal, debugForm, strForm, sourceForm, rebuildList, NoTextForm, realThroughText } from "../../lang/printer.ts";
export { encode as encodeValue, decode as decodeValue, type DecodeResult } from "../../lang/codec.ts";

// Logging (stderr, structured, the level from SUP_LOG).
export { log, type LogLevel } from "../../log.ts";

// Services a node offers through the session scope.
export { CLUSTER, CODE_STORE, KV_TABLE, type ClusterExecResult, type ClusterNodeInfo, type ClusterService, type CodeRefusal, type CodeStoreService, type KvStore, type KvTable, type StoreRead } from "./services.ts";
