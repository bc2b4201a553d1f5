/**
 * A project directory: finding one, checking a new project's name, and creating a project from the
 * template. A project is a directory with `init.sxs`; `kernels/` and `modules/` are optional.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { SupError } from "../errors.ts";
import { STANDARD_KERNEL_DIR } from "../kernel/mod.ts";
import { projectTemplate } from "./template.ts";

/** The file that makes a directory a project, and the folder of its kernels. */
export const PROJECT_ENTRY_FILE = "init.sxs";
export const PROJECT_KERNELS_DIR = "kernels";

/**
 * The kernel include paths of a project: its `kernels/` (projects spec §5, R2), searched before the
 * standard kernels, so a project kernel may take a standard kernel's name (with a warning).
 */
export function projectIncludePaths(root: string): string[] {
  const dir = join(root, PROJECT_KERNELS_DIR);
  return existsSync(dir) && statSync(dir).isDirectory() ? [dir] : [];
}

/**
 * Longest project name. The name becomes a directory, a kernel load name and part of a library
 * file name (`libkernel_<name>.so` inside a `<name>-<hash>` cache folder); 64 keeps all of them far
 * below the 255-byte file-name limit and readable in `sup deps`.
 */
export const PROJECT_NAME_LENGTH_MAX = 64;
const PROJECT_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** A project could not be created, found or used; `code` says which (`project-name` is a usage error). */
export class ProjectError extends SupError {}

/** An opened project: its absolute root and its name (the directory's name). */
export interface Project {
  readonly root: string;
  readonly name: string;
}

/** Throws ProjectError("project-name") unless `name` can name a project and its kernel. */
export function checkProjectName(name: string): void {
  const fail = (why: string) => new ProjectError("project-name", `Invalid project name "${name}": ${why}`);
  if (name.length === 0) throw fail("the name is empty");
  if (name.length > PROJECT_NAME_LENGTH_MAX) throw fail(`longer than ${PROJECT_NAME_LENGTH_MAX} characters`);
  if (!PROJECT_NAME.test(name)) throw fail('use letters, digits, "-" and "_", starting with a letter');
  // The project's kernel is loaded by this name; a project kernel would shadow the standard one.
  if (existsSync(join(STANDARD_KERNEL_DIR, name, "kernel.sxs"))) throw fail(`"${name}" is a standard kernel's name`);
}

/** Finds the project in `dir` (default: the current directory); throws ProjectError when it is not one. */
export function openProject(dir = "."): Project {
  const root = resolve(dir);
  const fail = (why: string) => new ProjectError("project-missing", `Cannot open project "${dir}": ${why}`);
  if (!existsSync(root)) throw fail("directory does not exist");
  if (!statSync(root).isDirectory()) throw fail("not a directory");
  if (!existsSync(join(root, PROJECT_ENTRY_FILE))) throw fail(`${PROJECT_ENTRY_FILE} not found in ${root}`);
  return { root, name: basename(root) };
}

/**
 * Creates project `name` in `parentDir/name` from the template and returns its root. The files are
 * written into a hidden sibling directory that is renamed into place, so an interrupted or failed
 * creation leaves no half-made project.
 */
export function createProject(name: string, parentDir = "."): Project {
  checkProjectName(name);
  const root = resolve(parentDir, name);
  if (existsSync(root)) throw new ProjectError("project-exists", `Cannot create project "${name}": "${root}" already exists`);
  const staging = join(dirname(root), `.${name}.new-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    mkdirSync(staging, { recursive: true });
    for (const [path, text] of Object.entries(projectTemplate(name))) {
      mkdirSync(dirname(join(staging, path)), { recursive: true });
      writeFileSync(join(staging, path), text);
    }
    renameSync(staging, root);
  } catch (e) {
    try {
      rmSync(staging, { recursive: true, force: true });
    } catch {
      // Nothing was made to clean up (the parent is not a directory, or cannot be written).
    }
    throw new ProjectError("project-create", `Cannot create project "${name}" in "${dirname(root)}": ${(e as Error).message}`);
  }
  return { root, name };
}
