/**
 * Interning symbols (value.ts's Sym): one table of weak references by name, with a cache of the
 * names interned lately in front of it. value.ts re-exports what is public here.
 */
import { Sym } from "./value.ts";

/**
 * The symbol table. Interning is weak: the table refers to each symbol through a WeakRef, so a
 * symbol that no value, program or binding refers to any more is collected, and the next sweep of
 * the table drops its entry and puts its id on a free list. Code that makes symbols from request
 * data (`eval` of a string, decoded kv values) therefore leaves nothing behind once its values are
 * gone. A sweep runs when a new symbol needs an id, none is free, and the table has grown by half
 * since the last one, so its cost is a constant per symbol made.
 *
 * Ids index the per-interpreter binding tables (interp.ts), which are sized by symbolCount(): ids
 * are reused from the free list, so that count follows the number of symbols alive at once (plus
 * those the collector has not taken yet) instead of growing with every symbol ever made. An id is
 * only meaningful while its symbol is alive; anything keyed by id must hold the symbol itself (an
 * interpreter's trail does, for every binding it has), so a reused id never meets a stale binding.
 * An entry is the weak reference itself, carrying the id to free once its symbol is collected (one
 * object per symbol rather than a reference and a record).
 */
class SymbolEntry extends WeakRef<Sym> {
  declare readonly id: number;
  constructor(s: Sym, id: number) {
    super(s);
    this.id = id;
  }
}
const symbols = new Map<string, SymbolEntry>();
/** Ids of collected symbols, to be given to new ones. */
const freeIds: number[] = [];
/** One more than the highest id given out: the size binding tables need. */
let idsInUse = 0;
/** Smallest table that is swept: below it, a sweep would free too little to be worth its time. */
const SWEEP_TABLE_SIZE_MIN = 1024;
/**
 * How much the table must grow past what the last sweep left before the next one runs: a sweep
 * visits every entry, so the growth it waits for keeps its cost a constant per symbol made.
 */
const SWEEP_GROWTH = 1.5;
let sweepAt = SWEEP_TABLE_SIZE_MIN;
/**
 * Set by a sweep, cleared when the current task ends. A WeakRef keeps its target alive until the
 * end of the task that made or read it, so a second sweep in one task (reading a large file makes
 * many symbols) could only find symbols older tasks left, which the first one already looked at:
 * it waits for the next task instead.
 */
let sweptThisTask = false;

/**
 * Symbols interned lately, by a hash of their name. Most lookups are of a few names (kernel
 * functions, a program's variables, read again with every `eval`ed text), and a slot here costs
 * far less than a probe of the large table (hashing the name, cache misses). The cache holds the
 * symbols in it alive, at most SYMBOL_CACHE_SIZE of them, which bounds what it keeps from the
 * collector.
 */
const SYMBOL_CACHE_SIZE = 512;
const recent: (Sym | undefined)[] = new Array<Sym | undefined>(SYMBOL_CACHE_SIZE).fill(undefined);

/**
 * The slot in `recent` of the name src[start, end), from its length, first byte and last four
 * bytes: names made in sequence (`key1`, `key2`, …) differ at the end.
 */
function recentSlot(src: string, start: number, end: number): number {
  const n = end - start;
  let h = (n * 31 + src.charCodeAt(start)) | 0;
  for (let i = n > 4 ? end - 4 : start; i < end; i++) h = (h * 31 + src.charCodeAt(i)) | 0;
  return (h ^ (h >>> 9)) & (SYMBOL_CACHE_SIZE - 1);
}

/** Interns a symbol name (a latin1 byte string). */
export function sym(name: string): Sym {
  const slot = recentSlot(name, 0, name.length);
  const c = recent[slot];
  if (c !== undefined && c.name === name) return c;
  return symSlow(name, slot);
}

/**
 * Interns the name src[start, end) (the reader's atoms): a name interned lately is found without
 * cutting it out of the source first.
 */
export function symIn(src: string, start: number, end: number): Sym {
  const slot = recentSlot(src, start, end);
  const c = recent[slot];
  if (c !== undefined && c.name.length === end - start && src.startsWith(c.name, start)) return c;
  return symSlow(src.slice(start, end), slot);
}

/** Interns a name not found in `recent` at its slot. */
function symSlow(name: string, slot: number): Sym {
  const e = symbols.get(name);
  let s = e?.deref();
  if (s === undefined) s = internNew(name, e);
  recent[slot] = s;
  return s;
}

/** Makes a symbol; `dead` is the table's entry for a collected symbol of this name, if any. */
function internNew(name: string, dead: SymbolEntry | undefined): Sym {
  // A collected symbol of this name, not yet swept: its id is free now.
  if (dead !== undefined) freeIds.push(dead.id);
  else if (freeIds.length === 0 && symbols.size >= sweepAt && !sweptThisTask) {
    sweepSymbols();
    sweptThisTask = true;
    queueMicrotask(() => {
      sweptThisTask = false;
    });
  }
  const s = new Sym(name, freeIds.length > 0 ? freeIds.pop()! : idsInUse++);
  symbols.set(name, new SymbolEntry(s, s.id));
  return s;
}

/** Drops the entries of collected symbols and frees their ids (after a collection, all of them). */
export function sweepSymbols(): void {
  for (const [name, e] of symbols) {
    if (e.deref() !== undefined) continue;
    symbols.delete(name);
    freeIds.push(e.id);
  }
  sweepAt = Math.max(SWEEP_TABLE_SIZE_MIN, Math.ceil(SWEEP_GROWTH * symbols.size));
}

/**
 * The symbol of this name if it is interned already, else undefined: lets a decoder of untrusted
 * input refuse unknown symbols instead of interning them.
 */
export function internedSym(name: string): Sym | undefined {
  return symbols.get(name)?.deref();
}

/** One more than the highest symbol id in use: the size binding tables grow to. */
export function symbolCount(): number {
  return idsInUse;
}

/**
 * The symbol table's size, for a node's memory report: symbols in the table (alive, or collected
 * since the last sweep) and ids given out.
 */
export function symbolStats(): { readonly live: number; readonly ids: number } {
  return { live: symbols.size, ids: idsInUse };
}
