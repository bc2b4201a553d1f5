/** Running code with most of the engine's stack already used, for tests of deep input. */

let reached = 0;
function down(n: number, at: () => void): void {
  reached++;
  if (n === 0) at();
  else down(n - 1, at);
}

let capacity = 0;

/** How many frames of `down` fit on this thread's stack (measured once, after warming `down` up so its frame size has settled). */
function framesThatFit(): number {
  if (capacity > 0) return capacity;
  for (let i = 0; i < 200; i++) down(500, () => {});
  reached = 0;
  try {
    down(1e9, () => {});
  } catch {
    // RangeError: the stack is full; `reached` is how deep it got.
  }
  capacity = reached;
  return capacity;
}

/** Calls `fn` from a recursion that has used about `fraction` of the stack, and returns what it returned. */
export function withStackUsed<T>(fraction: number, fn: () => T): T {
  let out: { v: T } | null = null;
  down(Math.floor(framesThatFit() * fraction), () => (out = { v: fn() }));
  return out!.v;
}
