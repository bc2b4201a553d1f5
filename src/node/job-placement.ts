/**
 * Which node of a cluster runs a job (docs/cluster.md, "Jobs in a cluster"). Jobs replicate to every
 * node like all code; unless its meta says `eachNode`, a job runs on one node: the alive member
 * with every kernel the job loads that ranks first by rendezvous hashing (highest wyhash of tenant,
 * job name and member name). Every node computes the same owner from the same member list, with no
 * coordination, and when the owner dies only its jobs move (each to the next in its own ranking).
 * Each node decides from its own view: during a partition, or until a death is detected, each side
 * may run the job once (at least once, never a run lost to a dead owner for long).
 */

/** A member as job placement sees it. */
export interface Candidate {
  readonly name: string;
  readonly alive: boolean;
  readonly kernels: readonly string[];
}

/** Kernel names a program loads (`#(load "x")`): the owner must have them all. */
export function kernelsLoaded(source: string): string[] {
  return [...new Set([...source.matchAll(/#\(\s*load\s+"([^"\\]+)"/g)].map((m) => m[1]!))];
}

/** The member that runs a job, or null when no alive member has the kernels it loads. */
export function jobOwner(tenant: string, name: string, source: string, members: readonly Candidate[]): string | null {
  const needs = kernelsLoaded(source);
  let best: { name: string; score: bigint } | null = null;
  for (const m of members) {
    if (!m.alive || !needs.every((k) => m.kernels.includes(k))) continue;
    const score = BigInt(Bun.hash.wyhash(`${tenant}\0${name}\0${m.name}`));
    if (best === null || score > best.score || (score === best.score && m.name < best.name)) best = { name: m.name, score };
  }
  return best?.name ?? null;
}
