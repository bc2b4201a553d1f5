import { Runtime, type RunResult } from "../../src/node/runtime.ts";

/**
 * Runs SLP source (checked, as `sup run` does) in a fresh Runtime without SUP_HOME kernels and closes
 * it: for kernel tests, which import sup only through `sup/kernel` and this support folder.
 */
export function runSource(source: string): RunResult {
  const rt = new Runtime({ supHome: null });
  try {
    return rt.run({ source });
  } finally {
    rt.close();
  }
}
