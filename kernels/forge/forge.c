/*
 * forge - list manipulation (kernels spec section 8), with every quirk of the original:
 *   - a non-list target is "upcast" to a one-element paren list by evaluating it a second time;
 *   - a string target keeps the string kind but has no elements (only count reads its bytes);
 *   - list results are rebuilt through TEXT-FORM (nested values become (), reals get 6 decimals);
 *   - string results are built from the items' bytes and cut at the first NUL;
 *   - drop_match and from_bits evaluate each item.
 * Value convention (sup_kernel.h), eager: when enough arguments are written the host passes their
 * values; otherwise nothing was evaluated and the function returns its "missing argument" result.
 *
 * Memory: item arrays (sv_value) point into the host's argument buffer (valid for the whole call)
 * or into blobs this file copies and frees itself (upcast and evaluated items), never into an eval
 * reply, which the next eval or read would invalidate.
 */
#include "sup_kernel.h"
#include "sup_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Largest result any forge function builds, in items and in encoded bytes; past either it raises.
 * A program's time budget is watched between kernel calls, so one call must stay a bounded piece
 * of work: a result this large takes about a default handler budget (100 ms) to build on the
 * reference machine (docs/node.md), and no program can double a list into gigabytes.
 */
#define FORGE_ITEMS_MAX (256u * 1024u)
#define FORGE_RESULT_BYTES_MAX (8u * 1024u * 1024u)
/* Bits in an integer (to_bits, from_bits). */
#define FORGE_BITS 64

static const sup_api *g_api;

/* The elements L of a target and the kind of the result. */
typedef struct elems {
    uint8_t kind;   /* SV_PAREN, SV_BRACE, SV_BRACKET, or SV_STR for a string target */
    sv_value *v;    /* malloc'ed items, NULL when n == 0 */
    size_t n;
    uint8_t *owned; /* a copied blob holding an upcast value, or NULL */
} elems;

static void elems_free(elems *e) {
    free(e->v);
    free(e->owned);
    e->v = NULL;
    e->owned = NULL;
    e->n = 0;
}

/*
 * Evaluates *expr and stores a copy of the result in *owned (a blob, freed by the caller) and its
 * header in *out. Returns 0, or -1 when an exception is pending (return NULL at once).
 */
static int eval_owned(sup_ctx ctx, const sv_value *expr, uint8_t **owned, sv_value *out) {
    sv_value reply;
    if (sv_eval(g_api, ctx, expr, &reply) != 0) return -1;
    sv_builder b;
    sv_builder_init(&b);
    sv_put_value(&b, &reply);
    *owned = sv_finish(&b);
    if (*owned == NULL || sv_decode_blob(*owned, out, NULL) != SV_OK) {
        sv_raise(g_api, ctx, "forge: out of memory");
        return -1;
    }
    return 0;
}

static sv_value *alloc_items(sup_ctx ctx, size_t n) {
    sv_value *v = (sv_value *)malloc((n > 0 ? n : 1) * sizeof(sv_value));
    if (v == NULL) sv_raise(g_api, ctx, "forge: out of memory");
    return v;
}

/* Fills e with L(t): a list's items, nothing for a string, else the upcast [eval(t)]. -1 on exception. */
static int get_elems(sup_ctx ctx, const sv_value *t, elems *e) {
    memset(e, 0, sizeof *e);
    if (sv_is_list(t)) {
        e->kind = t->tag;
        if (t->count == 0) return 0;
        e->v = alloc_items(ctx, (size_t)t->count);
        if (e->v == NULL) return -1;
        sv_iter it = sv_items(t);
        while (e->n < t->count && sv_next(&it, &e->v[e->n])) e->n++;
        return 0;
    }
    if (t->tag == SV_STR) {
        e->kind = SV_STR;
        return 0;
    }
    e->kind = SV_PAREN;
    e->v = alloc_items(ctx, 1);
    if (e->v == NULL) return -1;
    if (eval_owned(ctx, t, &e->owned, &e->v[0]) != 0) {
        elems_free(e);
        return -1;
    }
    e->n = 1;
    return 0;
}

/* Returns the result of kind made of items: a string from their bytes, or a TEXT-FORM list. */
static const uint8_t *build(sup_ctx ctx, uint8_t kind, const sv_value *items, size_t n) {
    size_t bytes = 0;
    for (size_t k = 0; k < n; k++) bytes += items[k].size;
    if (n > FORGE_ITEMS_MAX || bytes > FORGE_RESULT_BYTES_MAX) {
        char msg[160];
        snprintf(msg, sizeof msg, "forge: a result of %zu items and %zu bytes exceeds the limit of %u items or %u bytes", n, bytes, FORGE_ITEMS_MAX, FORGE_RESULT_BYTES_MAX);
        sv_raise(g_api, ctx, msg);
        return NULL;
    }
    sv_builder b;
    sv_builder_init(&b);
    if (kind == SV_STR) sv_put_string_from_items(&b, items, n);
    else sv_put_textform_list(&b, g_api, ctx, kind, items, n);
    return sv_return(&b, g_api, ctx);
}

/* Builds from e's items [from, from + n) and frees e. */
static const uint8_t *build_slice(sup_ctx ctx, elems *e, size_t from, size_t n) {
    const uint8_t *r = build(ctx, e->kind, n > 0 ? e->v + from : NULL, n);
    elems_free(e);
    return r;
}

static const uint8_t *return_empty_paren(sup_ctx ctx) {
    sv_builder b;
    sv_builder_init(&b);
    sv_put_empty(&b);
    return sv_return(&b, g_api, ctx);
}

static const uint8_t *return_value(sup_ctx ctx, const sv_value *v) {
    sv_builder b;
    sv_builder_init(&b);
    sv_put_value(&b, v);
    return sv_return(&b, g_api, ctx);
}

static const uint8_t *return_int(sup_ctx ctx, int64_t n) {
    sv_builder b;
    sv_builder_init(&b);
    sv_put_int(&b, n);
    return sv_return(&b, g_api, ctx);
}

static const uint8_t *return_real6(sup_ctx ctx, double x) {
    sv_builder b;
    sv_builder_init(&b);
    sv_put_real6(&b, x);
    return sv_return(&b, g_api, ctx);
}

static const uint8_t *return_empty_brace(sup_ctx ctx) {
    sv_builder b;
    sv_builder_init(&b);
    sv_put_list(&b, SV_BRACE, 0);
    return sv_return(&b, g_api, ctx);
}

/* Reads exactly `need` evaluated arguments; returns 0 when the call has fewer (the fallback case),
 * 1 when a[] is filled, -1 on malformed arguments (an exception is pending). */
static int args_of(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc, sv_value *a, int need) {
    if (argc < need) return 0;
    int n = sv_args(g_api, ctx, args, len, a, need);
    if (n < 0) return -1;
    return n == need ? 1 : 0;
}

#define ARGS(need, fallback)                                         \
    sv_value a[need];                                                \
    {                                                                \
        int got_ = args_of(ctx, args, len, argc, a, need);           \
        if (got_ < 0) return NULL;                                   \
        if (got_ == 0) return fallback;                              \
    }

#define FORGE_FN(name) static const uint8_t *forge_##name(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc)

/* (resize t size d): the first size items of L, padded with copies of d. */
FORGE_FN(resize) {
    ARGS(3, return_empty_paren(ctx));
    if (a[1].tag != SV_INT) return return_empty_paren(ctx);
    int64_t want = a[1].i < 0 ? 0 : a[1].i;
    if ((uint64_t)want > FORGE_ITEMS_MAX) {
        char msg[128];
        snprintf(msg, sizeof msg, "forge/resize: size %lld exceeds the limit of %u items", (long long)want, FORGE_ITEMS_MAX);
        sv_raise(g_api, ctx, msg);
        return NULL;
    }
    elems e;
    if (get_elems(ctx, &a[0], &e) != 0) return NULL;
    size_t size = (size_t)want;
    sv_value *out = alloc_items(ctx, size);
    if (out == NULL) {
        elems_free(&e);
        return NULL;
    }
    for (size_t k = 0; k < size; k++) out[k] = k < e.n ? e.v[k] : a[2];
    const uint8_t *r = build(ctx, e.kind, out, size);
    free(out);
    elems_free(&e);
    return r;
}

/* L with x added at the front (front = 1) or the back. */
static const uint8_t *add_one(sup_ctx ctx, const sv_value *t, const sv_value *x, int front) {
    elems e;
    if (get_elems(ctx, t, &e) != 0) return NULL;
    sv_value *out = alloc_items(ctx, e.n + 1);
    if (out == NULL) {
        elems_free(&e);
        return NULL;
    }
    if (e.n > 0) memcpy(out + (front ? 1 : 0), e.v, e.n * sizeof(sv_value));
    out[front ? 0 : e.n] = *x;
    const uint8_t *r = build(ctx, e.kind, out, e.n + 1);
    free(out);
    elems_free(&e);
    return r;
}

/* (pf t x): x prepended. */
FORGE_FN(pf) {
    ARGS(2, return_empty_paren(ctx));
    return add_one(ctx, &a[0], &a[1], 1);
}

/* (pb t x): x appended. */
FORGE_FN(pb) {
    ARGS(2, return_empty_paren(ctx));
    return add_one(ctx, &a[0], &a[1], 0);
}

/* (rf t): L without its first item. */
FORGE_FN(rf) {
    ARGS(1, return_empty_paren(ctx));
    elems e;
    if (get_elems(ctx, &a[0], &e) != 0) return NULL;
    return e.n == 0 ? build_slice(ctx, &e, 0, 0) : build_slice(ctx, &e, 1, e.n - 1);
}

/* (rb t): L without its last item. */
FORGE_FN(rb) {
    ARGS(1, return_empty_paren(ctx));
    elems e;
    if (get_elems(ctx, &a[0], &e) != 0) return NULL;
    return build_slice(ctx, &e, 0, e.n == 0 ? 0 : e.n - 1);
}

/* Shared part of lsh/rsh/rotr/rotl: c checks, then L and k = c mod n. Returns 1 with e and *k set
 * when the caller should build, else 0 with *r set to the result (or NULL on exception). */
static int shift_prepare(sup_ctx ctx, const sv_value *a, elems *e, size_t *k, const uint8_t **r) {
    if (a[1].tag != SV_INT) {
        *r = return_empty_paren(ctx);
        return 0;
    }
    if (a[1].i <= 0) {
        *r = return_value(ctx, &a[0]); /* the target unchanged, any type, not upcast */
        return 0;
    }
    if (get_elems(ctx, &a[0], e) != 0) {
        *r = NULL;
        return 0;
    }
    *k = e->n == 0 ? 0 : (size_t)((uint64_t)a[1].i % e->n);
    return 1;
}

/* (lsh t c): L without its first c mod n items. */
FORGE_FN(lsh) {
    ARGS(2, return_empty_paren(ctx));
    elems e;
    size_t k;
    const uint8_t *r;
    if (!shift_prepare(ctx, a, &e, &k, &r)) return r;
    return build_slice(ctx, &e, k, e.n - k);
}

/* (rsh t c): L without its last c mod n items. */
FORGE_FN(rsh) {
    ARGS(2, return_empty_paren(ctx));
    elems e;
    size_t k;
    const uint8_t *r;
    if (!shift_prepare(ctx, a, &e, &k, &r)) return r;
    return build_slice(ctx, &e, 0, e.n - k);
}

/* L rotated left by k (right by k is left by n - k). */
static const uint8_t *rotate_left(sup_ctx ctx, elems *e, size_t k) {
    if (e->n <= 1 || k == 0) return build_slice(ctx, e, 0, e->n);
    sv_value *out = alloc_items(ctx, e->n);
    if (out == NULL) {
        elems_free(e);
        return NULL;
    }
    for (size_t j = 0; j < e->n; j++) out[j] = e->v[(j + k) % e->n];
    const uint8_t *r = build(ctx, e->kind, out, e->n);
    free(out);
    elems_free(e);
    return r;
}

/* (rotr t c): rotated right by c mod n. */
FORGE_FN(rotr) {
    ARGS(2, return_empty_paren(ctx));
    elems e;
    size_t k;
    const uint8_t *r;
    if (!shift_prepare(ctx, a, &e, &k, &r)) return r;
    return rotate_left(ctx, &e, k == 0 ? 0 : e.n - k);
}

/* (rotl t c): rotated left by c mod n. */
FORGE_FN(rotl) {
    ARGS(2, return_empty_paren(ctx));
    elems e;
    size_t k;
    const uint8_t *r;
    if (!shift_prepare(ctx, a, &e, &k, &r)) return r;
    return rotate_left(ctx, &e, k);
}

/* (rev t): L reversed. */
FORGE_FN(rev) {
    ARGS(1, return_empty_paren(ctx));
    elems e;
    if (get_elems(ctx, &a[0], &e) != 0) return NULL;
    for (size_t j = 0; j < e.n / 2; j++) {
        sv_value t = e.v[j];
        e.v[j] = e.v[e.n - 1 - j];
        e.v[e.n - 1 - j] = t;
    }
    return build_slice(ctx, &e, 0, e.n);
}

/* (count t): a string's byte length, else n after upcast. */
FORGE_FN(count) {
    ARGS(1, return_int(ctx, 0));
    if (a[0].tag == SV_STR) return return_int(ctx, (int64_t)a[0].len);
    if (sv_is_list(&a[0])) return return_int(ctx, (int64_t)a[0].count);
    elems e;
    if (get_elems(ctx, &a[0], &e) != 0) return NULL;
    size_t n = e.n;
    elems_free(&e);
    return return_int(ctx, (int64_t)n);
}

/* (concat t o): L followed by o's elements (o upcast; a string o adds nothing); kind of t. */
FORGE_FN(concat) {
    ARGS(2, return_empty_paren(ctx));
    elems e, o;
    if (get_elems(ctx, &a[0], &e) != 0) return NULL;
    if (get_elems(ctx, &a[1], &o) != 0) {
        elems_free(&e);
        return NULL;
    }
    sv_value *out = alloc_items(ctx, e.n + o.n);
    const uint8_t *r = NULL;
    if (out != NULL) {
        if (e.n > 0) memcpy(out, e.v, e.n * sizeof(sv_value));
        if (o.n > 0) memcpy(out + e.n, o.v, o.n * sizeof(sv_value));
        r = build(ctx, e.kind, out, e.n + o.n);
        free(out);
    }
    elems_free(&e);
    elems_free(&o);
    return r;
}

/* (replace t m r): every item equal to m replaced by r. */
FORGE_FN(replace) {
    ARGS(3, return_empty_paren(ctx));
    elems e;
    if (get_elems(ctx, &a[0], &e) != 0) return NULL;
    for (size_t j = 0; j < e.n; j++) {
        if (sv_equal(&e.v[j], &a[1])) e.v[j] = a[2];
    }
    return build_slice(ctx, &e, 0, e.n);
}

/* (drop_match t m): each item is evaluated; the evaluated items not equal to m are kept. */
FORGE_FN(drop_match) {
    ARGS(2, return_empty_paren(ctx));
    elems e;
    if (get_elems(ctx, &a[0], &e) != 0) return NULL;
    /* Kept values are copied as they come: the next eval invalidates the previous reply. */
    sv_builder kept = {NULL, 0, 0, 0};
    uint64_t count = 0;
    for (size_t j = 0; j < e.n; j++) {
        sv_value ev;
        if (sv_eval(g_api, ctx, &e.v[j], &ev) != 0) {
            sv_builder_free(&kept);
            elems_free(&e);
            return NULL;
        }
        if (!sv_equal(&ev, &a[1])) {
            sv_put_value(&kept, &ev);
            count++;
        }
    }
    uint8_t kind = e.kind;
    elems_free(&e);
    sv_builder list;
    sv_builder_init(&list);
    sv_put_list(&list, SV_PAREN, count);
    sv_put_raw(&list, kept.data, kept.len);
    if (kept.failed) list.failed = 1;
    sv_builder_free(&kept);
    uint8_t *blob = sv_finish(&list);
    sv_value root;
    if (blob == NULL || sv_decode_blob(blob, &root, NULL) != SV_OK) {
        free(blob);
        sv_raise(g_api, ctx, "forge: out of memory");
        return NULL;
    }
    sv_value *items = alloc_items(ctx, (size_t)count);
    if (items == NULL) {
        free(blob);
        return NULL;
    }
    sv_iter it = sv_items(&root);
    size_t n = 0;
    while (n < count && sv_next(&it, &items[n])) n++;
    const uint8_t *r = build(ctx, kind, items, n);
    free(items);
    free(blob);
    return r;
}

/* (drop_period t s p): removes items with index i >= s and (i - s) mod p = 0. */
FORGE_FN(drop_period) {
    ARGS(3, return_empty_paren(ctx));
    if (a[1].tag != SV_INT || a[2].tag != SV_INT) return return_empty_paren(ctx);
    if (a[2].i <= 0) return return_value(ctx, &a[0]);
    elems e;
    if (get_elems(ctx, &a[0], &e) != 0) return NULL;
    int64_t s = a[1].i;
    uint64_t p = (uint64_t)a[2].i;
    size_t n = 0;
    for (size_t j = 0; j < e.n; j++) {
        int64_t i = (int64_t)j;
        /* i - s as unsigned is exact when i >= s (it is below 2^64). */
        int dropped = i >= s && ((uint64_t)i - (uint64_t)s) % p == 0;
        if (!dropped) e.v[n++] = e.v[j];
    }
    return build_slice(ctx, &e, 0, n);
}

static const uint8_t *bits_list(sup_ctx ctx, uint64_t bits) {
    sv_builder b;
    sv_builder_init(&b);
    sv_put_list(&b, SV_BRACE, FORGE_BITS);
    for (int k = FORGE_BITS - 1; k >= 0; k--) sv_put_int(&b, (int64_t)((bits >> k) & 1));
    return sv_return(&b, g_api, ctx);
}

/* (to_bits v): 64 integers 0/1, most significant bit first. */
FORGE_FN(to_bits) {
    ARGS(1, return_empty_brace(ctx));
    if (a[0].tag != SV_INT) return return_empty_brace(ctx);
    return bits_list(ctx, (uint64_t)a[0].i);
}

/* (to_bits_r v): the 64 bits of the IEEE double. */
FORGE_FN(to_bits_r) {
    ARGS(1, return_empty_brace(ctx));
    if (a[0].tag != SV_REAL) return return_empty_brace(ctx);
    uint64_t bits;
    memcpy(&bits, &a[0].r, sizeof bits);
    return bits_list(ctx, bits);
}

/*
 * Evaluates the first 64 items of list b; a nonzero integer at index j sets bit (count - 1 - j),
 * where count is the length of the whole list, and a bit number of 64 or more sets nothing
 * (kernels spec section 8.3: 70 ones give -64). The bit number is checked before the shift,
 * because shifting a 64-bit value by 64 or more is undefined in C.
 * b points into the host's argument buffer (valid for the whole call); each eval reply is read
 * before the next eval replaces it. Returns 0 with *bits set, or -1 on exception.
 */
static int gather_bits(sup_ctx ctx, const sv_value *b, uint64_t *bits) {
    *bits = 0;
    size_t evaluated = b->count < FORGE_BITS ? (size_t)b->count : FORGE_BITS;
    sv_iter it = sv_items(b);
    sv_value item;
    for (size_t j = 0; j < evaluated && sv_next(&it, &item); j++) {
        sv_value ev;
        if (sv_eval(g_api, ctx, &item, &ev) != 0) return -1;
        uint64_t bit = b->count - 1 - (uint64_t)j;
        if (ev.tag == SV_INT && ev.i != 0 && bit < FORGE_BITS) *bits |= (uint64_t)1 << bit;
    }
    return 0;
}

/* (from_bits b): the integer whose bits the list holds; 0 for a non-list. */
FORGE_FN(from_bits) {
    ARGS(1, return_int(ctx, 0));
    if (!sv_is_list(&a[0])) return return_int(ctx, 0);
    uint64_t bits;
    if (gather_bits(ctx, &a[0], &bits) != 0) return NULL;
    return return_int(ctx, (int64_t)bits);
}

/* (from_bits_r b): as from_bits, reinterpreted as a double and rounded through FIXED6. */
FORGE_FN(from_bits_r) {
    ARGS(1, return_real6(ctx, 0.0));
    if (!sv_is_list(&a[0])) return return_real6(ctx, 0.0);
    uint64_t bits;
    if (gather_bits(ctx, &a[0], &bits) != 0) return NULL;
    double x;
    memcpy(&x, &bits, sizeof x);
    return return_real6(ctx, x);
}

int32_t kernel_init(const sup_api *api) {
    if (api->abi_version != SUP_ABI_VERSION) return 1;
    g_api = api;
    static const struct {
        const char *name;
        sup_value_fn fn;
    } fns[] = {
        {"resize", forge_resize},
        {"pf", forge_pf},
        {"pb", forge_pb},
        {"rf", forge_rf},
        {"rb", forge_rb},
        {"lsh", forge_lsh},
        {"rsh", forge_rsh},
        {"rotr", forge_rotr},
        {"rotl", forge_rotl},
        {"rev", forge_rev},
        {"count", forge_count},
        {"concat", forge_concat},
        {"replace", forge_replace},
        {"drop_match", forge_drop_match},
        {"drop_period", forge_drop_period},
        {"to_bits", forge_to_bits},
        {"from_bits", forge_from_bits},
        {"to_bits_r", forge_to_bits_r},
        {"from_bits_r", forge_from_bits_r},
    };
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
        if (api->register_function(api->host, fns[k].name, (sup_fn)fns[k].fn, SUP_CALL_VALUE) != 0) return 2;
    }
    return 0;
}

void kernel_shutdown(const sup_api *api) {
    (void)api;
    sv_release();
    g_api = NULL;
}
