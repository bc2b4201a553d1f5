/**
 * A millisecond clock for time budgets that costs one memory load to read, so an interpreter can
 * look at it at every step and kernel call. Reading performance.now() costs about 65 ns on the
 * reference machine, too much for every step; and reading it every so many steps cannot bound
 * time, since one step may cost a microsecond or a second (a loop turn that adds two numbers, one
 * that builds a list of a million items). A worker thread advances the clock every millisecond
 * while budgeted runs are open and sleeps BUDGET_CLOCK_IDLE_MS after the last one closed, so an idle
 * process pays nothing. The clock only says when to read the real one: Session.checkBudget decides
 * with performance.now(), so a late or stale tick can delay a stop by a tick, never cause one.
 */

/** How often the worker advances the clock: the granularity of a time budget's stop. */
const BUDGET_CLOCK_TICK_MS = 1;
/** With no budgeted run open for this long, the worker sleeps until the next one starts. */
const BUDGET_CLOCK_IDLE_MS = 1000;

// Slots of the shared state.
const NOW = 0; // milliseconds since the worker started
const OPEN = 1; // budgeted runs open now
const LAST_USE = 2; // NOW when a budgeted run was last open
const WAKE = 3; // bumped at every start: the word a sleeping worker waits on
const SLEEPING = 4; // 1 while the worker sleeps

const state = new Int32Array(new SharedArrayBuffer(5 * Int32Array.BYTES_PER_ELEMENT));

/** The worker's whole program: advance NOW; with no run open for a while, sleep on WAKE. */
const WORKER_SOURCE = `
self.onmessage = (e) => {
  const s = e.data, t0 = performance.now(), pause = new Int32Array(new SharedArrayBuffer(4));
  const now = () => Math.floor(performance.now() - t0);
  for (;;) {
    Atomics.wait(pause, 0, 0, ${BUDGET_CLOCK_TICK_MS});
    const t = now();
    Atomics.store(s, ${NOW}, t);
    if (Atomics.load(s, ${OPEN}) > 0) Atomics.store(s, ${LAST_USE}, t);
    else if (t - Atomics.load(s, ${LAST_USE}) >= ${BUDGET_CLOCK_IDLE_MS}) {
      const wake = Atomics.load(s, ${WAKE});
      Atomics.store(s, ${SLEEPING}, 1);
      if (Atomics.load(s, ${OPEN}) === 0) Atomics.wait(s, ${WAKE}, wake);
      Atomics.store(s, ${SLEEPING}, 0);
      const woke = now();
      Atomics.store(s, ${NOW}, woke);
      Atomics.store(s, ${LAST_USE}, woke);
    }
  }
};`;

let started = false;

/** The clock, for direct reads in the interpreter's hot paths: `BUDGET_CLOCK[0]` is now, in ms. */
export const BUDGET_CLOCK: Int32Array = state;

/** Opens a budgeted run: the clock runs (the worker is started or woken) until it is closed. */
export function budgetClockOpen(): void {
  if (!started) {
    started = true;
    const worker = new Worker(URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" })));
    worker.postMessage(state);
    // The clock must never keep a process alive.
    worker.unref();
  }
  Atomics.add(state, OPEN, 1);
  Atomics.add(state, WAKE, 1);
  if (Atomics.load(state, SLEEPING) === 1) Atomics.notify(state, WAKE);
}

/** Closes a budgeted run opened with budgetClockOpen. */
export function budgetClockClose(): void {
  Atomics.sub(state, OPEN, 1);
}
