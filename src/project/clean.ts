/**
 * Cleaning a project: removes its build cache (`<project>/.sup-cache`) and nothing else.
 */
import { existsSync, lstatSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_CACHE_DIR_NAME } from "../kernel/native-build.ts";
import { ProjectError } from "./project-dir.ts";

/** What a clean removed. */
export interface CleanResult {
  /** The cache directory (absolute). */
  readonly cacheDir: string;
  /** False when there was no cache. */
  readonly existed: boolean;
  readonly files: number;
  readonly bytes: number;
}

/** Totals of the files under `dir` (symbolic links are counted, not followed). */
export function directorySize(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        files++;
        bytes += lstatSync(p).size;
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return { files, bytes };
}

/** Removes the build cache of the project at `root`. */
export function cleanProject(root: string): CleanResult {
  const cacheDir = join(root, PROJECT_CACHE_DIR_NAME);
  if (!existsSync(cacheDir)) return { cacheDir, existed: false, files: 0, bytes: 0 };
  const { files, bytes } = directorySize(cacheDir);
  try {
    rmSync(cacheDir, { recursive: true, force: true });
  } catch (e) {
    throw new ProjectError("project-clean", `Cannot clean project "${root}": ${(e as Error).message}`);
  }
  return { cacheDir, existed: true, files, bytes };
}
