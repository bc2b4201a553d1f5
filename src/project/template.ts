/**
 * The files of a new project: an entry point, one native kernel named after the project, one
 * module, a README and a .gitignore. A fresh project builds and runs with no edits; its expected
 * output is PROJECT_TEMPLATE_OUTPUT.
 */

/** The module every new project gets (`modules/<name>/<name>.sxs`, imported under this name). */
export const TEMPLATE_MODULE = "greeting";

/** What `sup project run` prints for a fresh project called `name`. */
export function templateOutput(name: string): string {
  return `Hello from ${name}!\n8 readings: min 1, max 9, mean 3.875000\nclamp 250 into 0..100: 100\n`;
}

/** The files of a new project called `name`, by path relative to the project directory. */
export function projectTemplate(name: string): Record<string, string> {
  const cName = name.replace(/-/g, "_");
  return {
    "init.sxs": initSxs(name),
    [`kernels/${name}/kernel.sxs`]: kernelSxs(name),
    [`kernels/${name}/${name}.c`]: kernelC(name, cName),
    [`modules/${TEMPLATE_MODULE}/${TEMPLATE_MODULE}.sxs`]: moduleSxs(),
    "README.md": readme(name),
    ".gitignore": ".sup-cache/\n",
  };
}

function initSxs(name: string): string {
  return `; ${name}: the project's entry point. \`sup project run\` builds the kernels in kernels/, then runs
; this file with the project directory as working directory, so #(load "${name}") finds
; kernels/${name} and import paths are relative to the project.
[
  #(load "io" "${name}")
  #(import ${TEMPLATE_MODULE} "modules/${TEMPLATE_MODULE}/${TEMPLATE_MODULE}.sxs")

  (${TEMPLATE_MODULE}/hello "${name}")

  (def readings {3 1 4 1 5 9 2 6})
  (def stats (${name}/stats readings))
  (io/put "%d readings: min %d, max %d, mean %f\\n" (at 0 stats) (at 1 stats) (at 2 stats) (at 3 stats))
  (io/put "clamp 250 into 0..100: %d\\n" (${name}/clamp 250 0 100))
]
`;
}

function kernelSxs(name: string): string {
  return `; ${name}: the project's native kernel, written in C (${name}.c, built by \`sup project build\`).
; clamp uses the scalar convention: only :int and :real, which cross bun:ffi directly.
; stats takes and returns a list, so it uses the value convention: codec buffers both ways.
; See native/README.md in the sup repository for the ABI.
#(define-kernel ${name} "libkernel_${name}.so" [
    (define-function clamp (x :int lo :int hi :int) :int)
    (define-function stats (xs :list-c) :list-c)
])
`;
}

function kernelC(name: string, cName: string): string {
  return `/*
 * ${name} - the project's native kernel (ABI: sup_kernel.h; values: sup_value.h).
 *
 * kernel_init registers each function declared in kernel.sxs; the host binds them with the
 * calling convention their signature implies. Nothing here keeps a pointer the host owns.
 */
#include "sup_kernel.h"
#include "sup_value.h"

/* The host's API table: owned by the host, valid from kernel_init until kernel_shutdown returns. */
static const sup_api *g_api;

/*
 * Scalar: (${name}/clamp x lo hi) -> x limited to lo..hi. The host has evaluated the arguments and
 * passes them as int64_t; argc is the number written, so a short call returns 0.
 */
static int64_t ${cName}_clamp(int32_t argc, int64_t x, int64_t lo, int64_t hi) {
    if (argc < 3) return 0;
    if (x < lo) return lo;
    if (x > hi) return hi;
    return x;
}

/*
 * Value: (${name}/stats {3 1 4}) -> {count min max mean}, mean a real. args is a codec buffer
 * owned by the host and valid until this function returns; the result built here is kept by
 * sv_return until the kernel is next entered (the host copies it at once).
 */
static const uint8_t *${cName}_stats(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[1], item;
    int n = argc < 1 ? 0 : sv_args(g_api, ctx, args, len, a, 1);
    if (n < 0) return NULL; /* sv_args has raised */
    if (n < 1 || !sv_is_list(&a[0])) {
        sv_raise(g_api, ctx, "${name}/stats: expected a list of integers");
        return NULL;
    }
    int64_t count = 0, min = 0, max = 0;
    double sum = 0.0;
    sv_iter it = sv_items(&a[0]);
    while (sv_next(&it, &item)) {
        if (item.tag != SV_INT) {
            sv_raise(g_api, ctx, "${name}/stats: expected a list of integers");
            return NULL;
        }
        if (count == 0 || item.i < min) min = item.i;
        if (count == 0 || item.i > max) max = item.i;
        sum += (double)item.i;
        count++;
    }
    sv_builder b;
    sv_builder_init(&b);
    sv_put_list(&b, SV_BRACE, 4);
    sv_put_int(&b, count);
    sv_put_int(&b, min);
    sv_put_int(&b, max);
    sv_put_real6(&b, count > 0 ? sum / (double)count : 0.0);
    return sv_return(&b, g_api, ctx);
}

int32_t kernel_init(const sup_api *api) {
    if (api->abi_version != SUP_ABI_VERSION) return 1;
    g_api = api;
    if (api->register_function(api->host, "clamp", (sup_fn)${cName}_clamp, SUP_CALL_SCALAR) != 0) return 2;
    if (api->register_function(api->host, "stats", (sup_fn)${cName}_stats, SUP_CALL_VALUE) != 0) return 2;
    return 0;
}

void kernel_shutdown(const sup_api *api) {
    (void)api;
    sv_release(); /* frees the last result blob; the library is closed next */
}
`;
}

function moduleSxs(): string {
  return `; ${TEMPLATE_MODULE}: a module of the project. init.sxs imports it as \`${TEMPLATE_MODULE}\` and calls
; (${TEMPLATE_MODULE}/hello "name"). A module runs in its own interpreter and loads the kernels it uses;
; \`export\` makes a function known to the type checker. Arguments cross modules as text, so pass
; numbers, strings and symbols.
[
  #(load "io")
  (export hello (fn (who :str) :int [ (io/put "Hello from %s!\\n" who) ]))
]
`;
}

function readme(name: string): string {
  return `# ${name}

A sup project.

\`\`\`
${name}/
├── init.sxs                 entry point: loads the kernels, imports the module, runs
├── kernels/
│   └── ${name}/
│       ├── kernel.sxs       manifest: the functions the kernel provides, with their types
│       └── ${name}.c        the kernel's C source (C++ works too: .cpp, .cc, .cxx)
├── modules/
│   └── ${TEMPLATE_MODULE}/
│       └── ${TEMPLATE_MODULE}.sxs       a module imported by init.sxs
└── .sup-cache/              build output (created by build/run, removed by clean; not committed)
\`\`\`

## Commands

| command | what it does |
|---|---|
| \`sup project build\` | compiles every kernel in \`kernels/\` (a cached kernel is not compiled again) |
| \`sup project run\` | builds, then runs \`init.sxs\` with this directory as working directory |
| \`sup project clean\` | removes \`.sup-cache/\` |
| \`sup deps\` | lists the kernels and modules \`init.sxs\` uses, where each comes from, and its build state |

Each command takes the project directory as an optional argument (default: the current directory).

## Kernels

A kernel is a folder with a manifest \`kernel.sxs\` and its sources. \`#(load "${name}")\` in
\`init.sxs\` finds \`kernels/${name}\`; standard kernels (\`io\`, \`alu\`, \`kv\`, \`fs\`, \`random\`,
\`forge\`) need no folder. Kernels are compiled with the system C compiler (\`cc\`), C++ kernels
with \`c++\`; without a C compiler, C kernels are compiled in memory by Bun's built-in TinyCC.
Builds are cached by a hash of the sources, manifest, compiler and flags: change a source and
only that kernel is rebuilt. The C ABI is described in \`native/README.md\` of sup.

To add a kernel, create \`kernels/<name>/kernel.sxs\` and \`kernels/<name>/<name>.c\` (copy
\`kernels/${name}\`), then \`#(load "<name>")\` it in \`init.sxs\`.

## Modules

\`#(import m "modules/m/m.sxs")\` runs that file once and makes its functions callable as
\`(m/fn …)\`. Paths are relative to the project directory.
`;
}
