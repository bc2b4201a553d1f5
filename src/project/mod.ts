/**
 * Projects: a directory with `init.sxs`, its own native kernels under `kernels/`, modules under
 * `modules/`, and a build cache `.sup-cache/` (see the README a new project gets, and
 * native/README.md). This subsystem creates projects from a template, builds their kernels into
 * the project's cache, lists their dependencies and cleans the cache. Running a project is the
 * CLI's job (it owns the program host).
 *
 * Invariants: nothing here runs SLP code; a build never leaves a library a run would load unless it
 * compiled completely (native-build's atomic rename); a failed `new` leaves no directory behind.
 * Imports kernel/ and lang/ only; never node/ or cli/.
 */
export { buildProject, buildSucceeded, projectKernels, type KernelOutcome, type ProjectBuildOptions, type ProjectKernel } from "./build.ts";
export { cleanProject, directorySize, type CleanResult } from "./clean.ts";
export { projectDeps, type KernelDep, type KernelState, type ModuleDep, type ProjectDeps } from "./deps.ts";
export {
  checkProjectName,
  createProject,
  openProject,
  PROJECT_ENTRY_FILE,
  PROJECT_NAME_LENGTH_MAX,
  projectIncludePaths,
  ProjectError,
  type Project,
} from "./project-dir.ts";
export { projectTemplate, TEMPLATE_MODULE, templateOutput } from "./template.ts";
export { PROJECT_CACHE_DIR_NAME, type BuildEvent, type KernelBuildReport } from "../kernel/native-build.ts";
