/**
 * SLP, the language: values, reader, printer, codec, checker, evaluator and modules.
 * Invariants: pure – no I/O of its own (everything external comes through the Host interface);
 * imports nothing from kernel/, node/ or cli/.
 */
export * from "./value.ts";
export { read, lineCol, NESTING_DEPTH_MAX, type ParseDiagnostic, type ParseResult } from "./reader.ts";
export { debugForm, fixed6, shortestReal, strForm, sourceForm, rebuildList, realThroughText } from "./printer.ts";
export { SlpException, BudgetExceeded, stackExhausted, type BudgetKind } from "./errors.ts";
export type { CallContext, KernelFn, LoadedKernel, Host, SourceFile, SessionScope } from "./host.ts";
export { IMPORTS, ScopeKey } from "./host.ts";
export { parseManifest, type Manifest, type ManifestFunction, type ManifestResult } from "./manifest.ts";
export { Interp, CALL_DEPTH_MAX, type Code } from "./interp.ts";
export { Session, type Budget } from "./session.ts";
export { KernelSet } from "./kernel-set.ts";
export { compile } from "./compile.ts";
export { setTierMode, tierMode, tierStats, unitOf, TIER_MODES, PROMOTE_AFTER, type TierMode, type UnitKind } from "./tier.ts";
export { generateUnit, compileUnit } from "./jit-unit.ts";
export { INTRINSICS, fixed6Round, type Intrinsic } from "./intrinsics.ts";
export { VALUE_INTRINSICS, pureMismatch, type ValueIntrinsic, type ValueEquivalent } from "./pure.ts";
export { runUnit, runProgram, parseFile, locate, formatDiagnostic, type RunOutcome, type SourceDiagnostic } from "./run.ts";
