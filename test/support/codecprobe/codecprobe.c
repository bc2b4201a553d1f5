/*
 * codecprobe - a test fixture kernel: it feeds bytes chosen by a test to the C codec decoder
 * (sv_decode, sv_decode_blob) and walks every value the decoder accepts with the accessors
 * (sv_items, sv_next, sv_inner, sv_as_*, sv_equal) and builders of native/sup_value.c.
 *
 * The bytes are copied into a heap buffer of exactly their length before decoding, so that under
 * AddressSanitizer (scripts/sanitize) a read one byte past the end of the input is reported; the
 * host's argument buffer is not instrumented memory.
 */
#include "sup_kernel.h"
#include "sup_value.h"

#include <stdlib.h>
#include <string.h>

/* The walk keeps one iterator per open list or wrapper; the decoder accepts this many levels. */
#define PROBE_WALK_LEVELS_MAX (SV_DEPTH_MAX + 1)

/* The host's API table: owned by the host, valid from kernel_init until kernel_shutdown returns. */
static const sup_api *g_api;

/* The walk's iterator stack (PROBE_WALK_LEVELS_MAX entries): ours, allocated by kernel_init and
 * freed by kernel_shutdown, so a call costs no large allocation (slow under AddressSanitizer). */
static sv_iter *g_open;

/*
 * Appends one value's own encoding, rebuilt from what the accessors report (not copied), to t:
 * a canonical decoder and builder must give back the bytes they were handed. v points into the
 * probe's input copy (owned by probe_decode). Also renders the value through the TEXT-FORM and
 * string helpers into scratch, which only checks that they stay inside their buffers.
 */
static void rebuild_one(sv_builder *t, sv_builder *scratch, const sv_value *v) {
    sv_put_textform_item(scratch, v);
    sv_put_string_from_items(scratch, v, 1);
    /* "equal" holds for an atom and itself (but a NaN), never for lists, wrappers or lambdas. */
    int atom = v->tag == SV_NONE || v->tag == SV_INT || v->tag == SV_STR || v->tag == SV_SYMBOL || (v->tag == SV_REAL && v->r == v->r);
    if (sv_equal(v, v) != atom) t->failed = 1;
    switch (v->tag) {
    case SV_NONE: sv_put_none(t); break;
    case SV_INT: sv_put_int(t, sv_as_int(v)); break;
    case SV_REAL: sv_put_real(t, sv_as_real(v)); break;
    case SV_STR: sv_put_string(t, v->bytes, v->len); break;
    case SV_SYMBOL: sv_put_symbol(t, (const char *)v->bytes, v->len); break;
    case SV_LAMBDA: sv_put_value(t, v); break; /* no builder for lambda ids: copy */
    case SV_PAREN:
    case SV_BRACE:
    case SV_BRACKET: sv_put_list(t, v->tag, v->count); break;
    default: {
        sv_value inner;
        if (!sv_inner(v, &inner)) t->failed = 1;
        sv_put_wrap(t, v->tag);
        break;
    }
    }
}

/*
 * Rebuilds root (and everything in it) into t, iteratively: depth costs g_open, not C stack.
 * root points into the caller's buffer. Returns 0, or -1 when memory ran out.
 */
static int rebuild(sv_builder *t, const sv_value *root) {
    sv_builder scratch = {NULL, 0, 0, 0};
    sv_iter *open = g_open;
    size_t depth = 0;
    sv_value item = *root;
    int have = 1;
    while (have || depth > 0) {
        if (have) {
            rebuild_one(t, &scratch, &item);
            /* sv_items yields a list's items and a wrapper's one inner value. */
            if (item.count > 0 && depth < PROBE_WALK_LEVELS_MAX) open[depth++] = sv_items(&item);
            else if (item.count > 0) t->failed = 1;
            /* Keep the scratch rendering small: its content is never looked at. */
            scratch.len = 0;
        }
        have = depth > 0 && sv_next(&open[depth - 1], &item);
        if (!have && depth > 0) depth--;
    }
    sv_builder_free(&scratch);
    return t->failed ? -1 : 0;
}

/*
 * (codecprobe/decode bytes) -> {code offset rebuilt}: sv_decode's verdict on the string's bytes
 * (code 0 = accepted, else SV_E_*; offset -1 when accepted) and, when accepted, the envelope
 * rebuilt from the accessors as a string (else ""). sv_decode_blob must give the same verdict.
 * args: the host's, valid until we return; the input copy and the blob copy are ours and freed here.
 */
static const uint8_t *probe_decode(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[1];
    if (argc < 1 || sv_args(g_api, ctx, args, len, a, 1) < 1 || a[0].tag != SV_STR) {
        sv_raise(g_api, ctx, "codecprobe/decode: expected a string");
        return NULL;
    }
    size_t n = a[0].len;
    /* Exactly n bytes (malloc(0) included): a read past the input is a read past the allocation. */
    uint8_t *copy = (uint8_t *)malloc(n);
    uint8_t *blob = (uint8_t *)malloc(SUP_BLOB_HEADER_BYTES + n);
    if ((copy == NULL && n > 0) || blob == NULL) {
        free(copy);
        free(blob);
        sv_raise(g_api, ctx, "codecprobe/decode: out of memory");
        return NULL;
    }
    if (n > 0) memcpy(copy, a[0].bytes, n);
    for (int k = 0; k < 8; k++) blob[k] = (uint8_t)((uint64_t)n >> (8 * k));
    if (n > 0) memcpy(blob + SUP_BLOB_HEADER_BYTES, a[0].bytes, n);

    sv_value root, root_blob;
    sv_error err = {SV_OK, 0}, err_blob = {SV_OK, 0};
    int code = sv_decode(copy, n, &root, &err);
    int code_blob = sv_decode_blob(blob, &root_blob, &err_blob);
    sv_builder text = {NULL, 0, 0, 0};
    int agree = code == code_blob && (code == SV_OK || err.offset == err_blob.offset);
    if (code == SV_OK) {
        sv_put_raw(&text, copy, 2); /* the envelope: magic and version */
        if (rebuild(&text, &root) != 0 || root.size != n - 2 || root_blob.size != root.size) agree = 0;
    }
    free(copy);
    free(blob);
    if (!agree) {
        sv_builder_free(&text);
        sv_raise(g_api, ctx, "codecprobe/decode: sv_decode and sv_decode_blob disagree, or the walk failed");
        return NULL;
    }
    sv_builder b;
    sv_builder_init(&b);
    sv_put_list(&b, SV_BRACE, 3);
    sv_put_int(&b, code);
    sv_put_int(&b, code == SV_OK ? -1 : (int64_t)err.offset);
    sv_put_string(&b, text.data, text.len);
    sv_builder_free(&text);
    return sv_return(&b, g_api, ctx);
}

/*
 * (codecprobe/echo x) -> x, unevaluated (:raw): the host encodes any value it likes into args, the
 * kernel decodes it with sv_args and copies it back with sv_put_value. args: the host's, valid
 * until we return; the result blob is ours (sv_return).
 */
static const uint8_t *probe_echo(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[1];
    int n = argc < 1 ? 0 : sv_args(g_api, ctx, args, len, a, 1);
    if (n < 0) return NULL; /* sv_args has raised */
    sv_builder b;
    sv_builder_init(&b);
    if (n < 1) sv_put_none(&b);
    else sv_put_value(&b, &a[0]);
    return sv_return(&b, g_api, ctx);
}

int32_t kernel_init(const sup_api *api) {
    if (api->abi_version != SUP_ABI_VERSION) return 1;
    g_api = api;
    if (g_open == NULL) g_open = (sv_iter *)malloc(PROBE_WALK_LEVELS_MAX * sizeof(sv_iter)); /* a second load shares the instance */
    if (g_open == NULL) return 3;
    /* Names are ours (string literals); the host copies them during the call. */
    if (api->register_function(api->host, "decode", (sup_fn)probe_decode, SUP_CALL_VALUE) != 0) return 2;
    if (api->register_function(api->host, "echo", (sup_fn)probe_echo, SUP_CALL_VALUE) != 0) return 2;
    return 0;
}

void kernel_shutdown(const sup_api *api) {
    (void)api;
    sv_release(); /* frees the last result blob; after this the library is closed */
    free(g_open);
    g_open = NULL;
    g_api = NULL;
}
