/*
 * sup_kernel.h - the C ABI (version 1) between sup and a native kernel.
 *
 * A native kernel is a shared library (or, without a system C compiler, code compiled in memory by
 * Bun's TinyCC) that exports two C symbols:
 *
 *   int32_t kernel_init(const sup_api *api);       required; 0 = success, anything else = failure
 *   void    kernel_shutdown(const sup_api *api);   optional
 *
 * During kernel_init the kernel registers each of its functions with api->register_function. The
 * host binds every function declared in kernel.sxs with bun:ffi, using the calling convention the
 * manifest implies (see SUP_CALL_SCALAR and SUP_CALL_VALUE below); a declared function that was not
 * registered fails the load.
 *
 * Threads: every entry point and every api callback runs on the thread that runs the SLP program
 * (the JavaScript thread). A kernel must not call the api from any other thread.
 *
 * Instances: a library file is loaded once per process. Loading the same kernel again (another
 * runtime in the same process) shares the instance, its globals and the first load's api table;
 * kernel_shutdown runs when the last load is unloaded. Code compiled by TinyCC is not shared.
 *
 * Ownership summary (details at each declaration):
 *   - the api table and the strings it points to belong to the host; valid from kernel_init until
 *     kernel_shutdown returns;
 *   - argument buffers belong to the host; valid until the kernel function returns;
 *   - a value function's result blob belongs to the kernel; it must stay valid until the kernel's
 *     next entry (any function, or kernel_shutdown) - the host copies it before that;
 *   - eval/read replies belong to the host; valid until the next eval/read on the same context or
 *     until the kernel function returns, whichever is first.
 *
 * Codec: values cross the boundary in the sup value codec (docs/codec.md): an envelope 0x53 0x01
 * followed by one value. native/sup_value.h reads and builds it.
 */
#ifndef SUP_KERNEL_H
#define SUP_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version this header describes; api->abi_version must equal it. */
#define SUP_ABI_VERSION 1

/* Calling conventions (the fourth argument of register_function). */

/*
 * Scalar: every parameter and the return type are :int or :real and the function is not variadic.
 * The C function takes the number of arguments written in the call, then one int64_t (for :int) or
 * double (for :real) per parameter, and returns int64_t or double:
 *
 *   int64_t add(int32_t argc, int64_t a, int64_t b);
 *   double  add_r(int32_t argc, double a, double b);
 *   int64_t eq_r(int32_t argc, double a, double b);
 *
 * When argc >= the number of parameters the host evaluates the first arguments, in order, and
 * passes as-int / as-real of each value (a non-integer for an :int parameter arrives as 0, a
 * non-real for a :real parameter as 0.0; kernels spec section 4). When argc is smaller, the host
 * evaluates nothing and passes zeros, so the function can return its "missing argument" fallback
 * exactly as the original's count-first check did. Extra arguments are never evaluated.
 * A :real result is taken as returned; non-finite results become the symbols inf, -inf, nan, -nan.
 * Rounding through FIXED6 (as the original's make-real did) is the kernel's choice: sv_fixed6().
 * A scalar function has no context: it may call api->raise with ctx NULL, but not eval or read.
 */
#define SUP_CALL_SCALAR 1

/*
 * Value: any other signature, or a signature marked :value or :raw in kernel.sxs.
 *
 *   const uint8_t *fn(sup_ctx ctx, const uint8_t *args, uint64_t args_len, int32_t argc);
 *
 * args/args_len: a codec envelope holding one paren list. Owned by the host, valid until fn returns.
 *   - default (eager): when argc >= the required count (the number of parameters; one less for a
 *     variadic function) the list holds the values of the first arguments, evaluated in order (all
 *     of them for a variadic function); otherwise the host evaluated nothing and the list is empty.
 *   - :raw in the manifest: the list holds all argument expressions unevaluated; the kernel
 *     evaluates what it needs with api->eval (this is the original's model).
 * argc: the number of arguments written in the call (the head is not counted).
 * Returns a blob (see sup_blob below) holding one codec envelope: the call's value. The blob is
 * owned by the kernel and must stay valid until the kernel is next entered; sv_return() in
 * sup_value.h implements that rule. Return NULL after api->raise, or after an eval that returned
 * NULL (the host then rethrows the evaluation's exception).
 */
#define SUP_CALL_VALUE 2

/*
 * A blob: a little-endian uint64_t byte count followed by that many bytes (a codec envelope),
 * starting at an 8-byte-aligned address (the host reads small blobs in aligned 4-byte words).
 * Results of value functions and replies of eval/read have this layout; the count lets the host
 * read a result with one pointer and no extra call.
 */
#define SUP_BLOB_HEADER_BYTES 8

/* The context of one value-function call: an opaque handle, valid only until that call returns. */
typedef struct sup_ctx_s *sup_ctx;

typedef const uint8_t *(*sup_value_fn)(sup_ctx ctx, const uint8_t *args, uint64_t args_len, int32_t argc);

/* Any kernel function, as register_function takes it: cast with (sup_fn) (ISO C allows casts
 * between function pointer types; the host calls it with the signature of its convention). */
typedef void (*sup_fn)(void);

typedef struct sup_api {
    /* SUP_ABI_VERSION of the host. A kernel built for another version must fail kernel_init. */
    uint32_t abi_version;
    /* sizeof(sup_api) as the host knows it; later versions only append fields. */
    uint32_t size;

    /* Opaque host handle for register_function; valid only during kernel_init. */
    void *host;

    /*
     * Registers fn as <load-name>/<name>. name: NUL-terminated, owned by the kernel, read during the
     * call only. fn: a sup_value_fn or a scalar function, cast to sup_fn, matching convention.
     * Only valid during kernel_init. Returns 0, or -1 for a bad call (NULL or empty name, NULL fn,
     * unknown convention, called outside kernel_init). A later registration of the same name
     * replaces the earlier one. The convention must match what kernel.sxs implies, or the load fails.
     */
    int32_t (*register_function)(void *host, const char *name, sup_fn fn, int32_t convention);

    /*
     * Evaluates a value in the caller's scope with full language semantics (the original's eval).
     * expr/len: a codec envelope, owned by the kernel, read during the call only.
     * Returns a blob owned by the host, valid until the next eval/read on the same ctx or until the
     * kernel function returns. Returns NULL when the evaluation threw (a language exception, a
     * budget): the kernel must then return NULL promptly; the host rethrows the exception.
     */
    const uint8_t *(*eval)(sup_ctx ctx, const uint8_t *expr, uint64_t len);

    /*
     * Raises a language exception (catchable by `recover`) with the given message bytes, owned by
     * the kernel and read during the call only. ctx may be NULL (scalar functions). The exception
     * is thrown when the kernel function returns; the function should return at once (a value
     * function returns NULL; a scalar function's return value is ignored).
     */
    void (*raise)(sup_ctx ctx, const char *message, uint64_t len);

    /*
     * Parses SLP source text with the host's reader (language spec section 1) without evaluating
     * it, as the original's helpers did when they rebuilt lists through text (TEXT-FORM).
     * text/len: owned by the kernel, read during the call only. Returns a blob with the first
     * object, owned by the host with the same lifetime as an eval reply, or NULL when the text has
     * a syntax error (nothing is raised).
     */
    const uint8_t *(*read)(sup_ctx ctx, const char *text, uint64_t len);

    /* Writes program output (the bytes as they are), like `io/put` does. bytes: read during the call. */
    void (*write)(sup_ctx ctx, const uint8_t *bytes, uint64_t len);

    /*
     * System info: the program's working directory (-w, default the current directory at start),
     * NUL-terminated bytes. Owned by the host, valid until kernel_shutdown returns.
     */
    const char *working_dir;

    /*
     * A host-owned buffer for small results (present when size >= 80). A value function may copy a
     * result blob of at most result_cap bytes here and return result_buf instead of a blob of its
     * own; the host reads it as soon as the function returns, before anything else can run, so
     * nested calls may all use it. sv_return() does this. Valid until kernel_shutdown returns.
     */
    uint8_t *result_buf;
    uint64_t result_cap;
} sup_api;

/* Entry points a kernel exports (declared here so the compiler checks their signatures). */
int32_t kernel_init(const sup_api *api);
void kernel_shutdown(const sup_api *api);

#ifdef __cplusplus
}
#endif

#endif /* SUP_KERNEL_H */
