/**
 * A Session is one program run: the kernels, forms, modules and budget its interpreters (the
 * main one and those of imported modules) share. Its kernels are a shared, immutable KernelSet,
 * so opening a session and loading kernels builds no tables; closing it releases each kernel it
 * acquired, once, and recycles its interpreters.
 */
import { BUDGET_CLOCK, budgetClockClose, budgetClockOpen } from "./budget-clock.ts";
import { BudgetExceeded } from "./errors.ts";
import type { Host, KernelFn, LoadedKernel, SessionScope } from "./host.ts";
import type { Interp } from "./interp.ts";
import { KernelSet } from "./kernel-set.ts";
import type { Sym, TypeCode } from "./value.ts";

/** Limits for one run. Defaults are unlimited steps/time and the nesting limit below. */
export interface Budget {
  readonly steps?: number;
  readonly timeMs?: number;
}

/**
 * Most steps between two budget checks. The time budget is watched at every step and kernel call
 * through the budget clock (budget-clock.ts), which costs a memory load; the real clock is read at a
 * check, which happens when the budget clock says the deadline has come or this many steps passed.
 */
export const STEPS_PER_CLOCK_CHECK = 1024;

/** Per-run state shared by the main interpreter and the interpreters of imported modules. */
export class Session {
  /**
   * The kernels this session holds. Sets are immutable and shared between sessions (see
   * kernel-set.ts), so loading kernels builds no tables per session.
   */
  kernelSet: KernelSet = KernelSet.EMPTY;
  private moduleMap: Map<Sym, Interp> | null = null;
  private importedSet: Set<string> | null = null;
  readonly importStack: string[] = [];
  stepsLimit: number;
  stepsUsed = 0;
  deadline: number;
  private readonly timeMs: number;
  /** Forms as the kernel set defines them, until the session's own copy below takes over. */
  private sharedForms: ReadonlyMap<string, readonly TypeCode[]> = KernelSet.EMPTY.forms;
  /**
   * The session's own forms, made on the first change the kernel set does not describe: a
   * `define-form`, or a dropped kernel (whose forms stay defined, as they always have).
   */
  private ownForms: Map<string, readonly TypeCode[]> | null = null;
  /**
   * The budget clock's reading (BUDGET_CLOCK[0]) at or after which the deadline may have come, so the
   * interpreters check the budget; Infinity without a time budget.
   */
  deadlineTick = Infinity;
  /** Interpreters created in this session (the main one, then modules'); recycled when it closes. */
  private main: Interp | null = null;
  private others: Interp[] | null = null;

  constructor(
    readonly host: Host,
    budget: Budget = {},
    /** The tenant and services of the embedding (a node's request or job); null for plain runs. */
    readonly scope: SessionScope | null = null,
  ) {
    this.stepsLimit = budget.steps ?? Infinity;
    this.timeMs = budget.timeMs ?? Infinity;
    this.deadline = budget.timeMs === undefined ? Infinity : performance.now() + budget.timeMs;
    if (this.deadline !== Infinity) {
      budgetClockOpen();
      this.deadlineTick = BUDGET_CLOCK[0]! + Math.ceil(this.timeMs);
    }
  }

  /** Imported modules by the symbol they were imported as (made on first use, like the set below). */
  get modules(): Map<Sym, Interp> {
    return (this.moduleMap ??= new Map());
  }

  /** Files imported so far: a file is imported once per session. */
  get importedFiles(): Set<string> {
    return (this.importedSet ??= new Set());
  }

  /** Loaded kernels by load name. */
  get kernels(): ReadonlyMap<string, LoadedKernel> {
    return this.kernelSet.kernels;
  }

  /**
   * Kernel functions by full name (`load-name/fn`). The map is immutable and replaced whenever the
   * session's kernels change, so call sites cache their resolution against its identity.
   */
  get kernelFns(): ReadonlyMap<string, KernelFn> {
    return this.kernelSet.fns;
  }

  /** Forms defined by the session's kernels and by `define-form`. */
  get forms(): ReadonlyMap<string, readonly TypeCode[]> {
    return this.ownForms ?? this.sharedForms;
  }

  /** Defines (or redefines) a form for the rest of the session. */
  defineForm(name: string, types: readonly TypeCode[]): void {
    (this.ownForms ??= new Map(this.sharedForms)).set(name, types);
  }

  /** Registers a loaded kernel's functions under its load name. */
  addKernel(name: string, k: LoadedKernel): void {
    this.kernelSet = this.kernelSet.with(name, k);
    if (this.ownForms === null) this.sharedForms = this.kernelSet.forms;
    else for (const [form, types] of k.forms) this.ownForms.set(form, types);
  }

  /** Swaps a kernel this session uses for another version (the REPL's reload); releases the old one. */
  replaceKernel(name: string, k: LoadedKernel): void {
    this.dropKernel(name);
    this.addKernel(name, k);
  }

  /** Stops using a kernel: its functions become unknown to this session, and it is released. */
  dropKernel(name: string): void {
    const old = this.kernelSet.kernels.get(name);
    if (old === undefined) return;
    this.ownForms ??= new Map(this.sharedForms);
    this.kernelSet = this.kernelSet.without(name);
    this.host.releaseKernel?.(name, old);
  }

  /** Registers an interpreter of this session (its constructor does). */
  attach(it: Interp): void {
    if (this.main === null) this.main = it;
    else (this.others ??= []).push(it);
  }

  /**
   * Ends the session: every kernel it acquired is released (once, all of them even if one release
   * throws), and its interpreters' binding tables are cleared and recycled.
   */
  close(): void {
    if (this.deadlineTick !== Infinity) {
      this.deadlineTick = Infinity;
      budgetClockClose();
    }
    this.main?.recycle();
    if (this.others !== null) for (const it of this.others) it.recycle();
    const held = this.kernelSet.kernels;
    if (held.size === 0) return;
    this.kernelSet = KernelSet.EMPTY;
    let failure: unknown = null;
    for (const [name, k] of held) {
      try {
        this.host.releaseKernel?.(name, k);
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== null) throw failure;
  }

  /**
   * Steps a new interpreter may take before its first budget check. The session's first
   * interpreter starts as the session does, within its time; a later one (a module's) checks the
   * budget first.
   */
  stepsBeforeCheck(): number {
    if (this.main !== null) return this.checkBudget(0);
    if (this.stepsUsed >= this.stepsLimit) throw new BudgetExceeded("steps", this.stepsLimit);
    return Math.min(STEPS_PER_CLOCK_CHECK, this.stepsLimit - this.stepsUsed);
  }

  /**
   * Called when an interpreter has used the steps the last check granted, or when the budget clock
   * reached deadlineTick, with the steps taken since; throws when a budget is spent, else returns
   * how many steps may pass before the next check (and updates deadlineTick).
   */
  checkBudget(spent: number): number {
    this.stepsUsed += spent;
    if (this.stepsUsed >= this.stepsLimit) throw new BudgetExceeded("steps", this.stepsLimit);
    if (this.deadline !== Infinity) {
      const left = this.deadline - performance.now();
      if (left < 0) throw new BudgetExceeded("time", this.timeMs);
      // The budget clock may lag the real one (it ticks every millisecond, when its thread runs).
      this.deadlineTick = BUDGET_CLOCK[0]! + Math.ceil(left);
    }
    return Math.min(STEPS_PER_CLOCK_CHECK, this.stepsLimit - this.stepsUsed);
  }
}
