/*
 * sup_value.c - the codec reader/builder and rendering helpers declared in sup_value.h.
 *
 * Linked into every native kernel (each kernel gets its own copy, so the static result slot and
 * scratch buffer below are per kernel). Uses only the C standard library.
 */
#include "sup_value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_MAGIC 0x53
#define SV_VERSION 0x01
/* Bytes before the first value of a builder: blob length (8), magic, version. */
#define SV_BUILDER_HEAD (SUP_BLOB_HEADER_BYTES + 2)
/* A varint never takes more than 10 bytes: 10 x 7 bits covers 64 bits. */
#define SV_VARINT_BYTES_MAX 10
/* Largest lambda id the TypeScript decoder can hold exactly (2^53 - 1); larger ids are rejected
 * there, so they are rejected here too and both decoders accept the same inputs. */
#define SV_LAMBDA_ID_MAX 9007199254740991ULL
/* Levels of nesting the validator tracks on the C stack before it moves to the heap. */
#define SV_STACK_LEVELS_LOCAL 64
/* First allocation of a builder; most results are a few bytes. */
#define SV_BUILDER_BYTES_INITIAL 256
/* Largest result buffer kept for the next result; a larger one is freed rather than held forever. */
#define SV_RESULT_REUSE_BYTES_MAX (64u * 1024u)
/* Longest FIXED6 text: 309 integer digits of DBL_MAX, sign, point, 6 decimals, NUL. */
#define SV_FIXED6_TEXT_MAX 330
/* Below this magnitude x * 1e6 stays under 2^53, so FIXED6 rounding can be done exactly in
 * doubles; at or above it the rounded text always parses back to x itself (see sv_fixed6). */
#define SV_FIXED6_FAST_LIMIT 9.0e9

/* ---------------------------------------------------------------------------------------------
 * Validation (the rules of src/lang/codec.ts, same codes and offsets).
 */

typedef struct sv_reader {
    const uint8_t *b;
    size_t n;
    size_t p;
} sv_reader;

static int sv_fail(sv_error *err, int code, size_t offset) {
    if (err != NULL) {
        err->code = code;
        err->offset = offset;
    }
    return code;
}

/* Reads a canonical unsigned LEB128 varint. */
static int sv_read_varint(sv_reader *r, uint64_t *out, sv_error *err) {
    if (r->p >= r->n) return sv_fail(err, SV_E_TRUNCATED, r->n);
    uint8_t byte = r->b[r->p++];
    if (byte < 0x80) {
        *out = byte;
        return SV_OK;
    }
    uint64_t v = byte & 0x7f;
    for (int i = 1; i < SV_VARINT_BYTES_MAX; i++) {
        if (r->p >= r->n) return sv_fail(err, SV_E_TRUNCATED, r->n);
        byte = r->b[r->p++];
        if (i == SV_VARINT_BYTES_MAX - 1) {
            /* The 10th byte holds only bit 63, so it must be exactly 1. */
            if (byte != 1) return sv_fail(err, SV_E_BAD_VARINT, r->p - 1);
        } else if (byte == 0) {
            return sv_fail(err, SV_E_BAD_VARINT, r->p - 1); /* not minimal */
        }
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (byte < 0x80) {
            *out = v;
            return SV_OK;
        }
    }
    return sv_fail(err, SV_E_BAD_VARINT, r->p - 1); /* unreachable: the 10th byte returns above */
}

/* Reads a count or length that must fit in the bytes left after it. */
static int sv_read_size(sv_reader *r, uint64_t *out, sv_error *err) {
    int rc = sv_read_varint(r, out, err);
    if (rc != SV_OK) return rc;
    if (*out > (uint64_t)(r->n - r->p)) return sv_fail(err, SV_E_TRUNCATED, r->n);
    return SV_OK;
}

/* Checks that b[2..n) holds exactly one valid value. Iterative: depth costs memory, not stack. */
static int sv_validate(const uint8_t *b, size_t n, sv_error *err) {
    uint64_t local[SV_STACK_LEVELS_LOCAL];
    uint64_t *left = local;
    size_t cap = SV_STACK_LEVELS_LOCAL;
    size_t depth = 0;
    sv_reader r = {b, n, 2};
    int rc = SV_OK;
    for (;;) {
        if (r.p >= n) {
            rc = sv_fail(err, SV_E_TRUNCATED, n);
            break;
        }
        size_t tag_at = r.p;
        uint8_t tag = b[r.p++];
        uint64_t v = 0;
        int container = 0;
        switch (tag) {
        case SV_NONE:
            break;
        case SV_INT:
            rc = sv_read_varint(&r, &v, err);
            break;
        case SV_REAL:
            if (r.p + 8 > n) rc = sv_fail(err, SV_E_TRUNCATED, n);
            else r.p += 8;
            break;
        case SV_STR:
            rc = sv_read_size(&r, &v, err);
            if (rc == SV_OK) r.p += (size_t)v;
            break;
        case SV_SYMBOL:
            rc = sv_read_size(&r, &v, err);
            if (rc == SV_OK && v == 0) rc = sv_fail(err, SV_E_BAD_SYMBOL, tag_at);
            if (rc == SV_OK) r.p += (size_t)v;
            break;
        case SV_LAMBDA:
            rc = sv_read_varint(&r, &v, err);
            if (rc == SV_OK && (v == 0 || v > SV_LAMBDA_ID_MAX)) rc = sv_fail(err, SV_E_BAD_LAMBDA_ID, tag_at);
            break;
        case SV_PAREN:
        case SV_BRACE:
        case SV_BRACKET:
            if (depth >= SV_DEPTH_MAX) {
                rc = sv_fail(err, SV_E_TOO_DEEP, tag_at);
                break;
            }
            rc = sv_read_size(&r, &v, err);
            if (rc == SV_OK && v > 0) container = 1;
            break;
        case SV_SOME:
        case SV_ERROR:
        case SV_DATUM:
        case SV_ABERRANT:
            if (depth >= SV_DEPTH_MAX) {
                rc = sv_fail(err, SV_E_TOO_DEEP, tag_at);
                break;
            }
            v = 1;
            container = 1;
            break;
        default:
            rc = sv_fail(err, SV_E_BAD_TAG, tag_at);
            break;
        }
        if (rc != SV_OK) break;
        if (container) {
            if (depth == cap) {
                size_t next_cap = SV_DEPTH_MAX;
                uint64_t *next = (uint64_t *)malloc(next_cap * sizeof(uint64_t));
                if (next == NULL) {
                    rc = sv_fail(err, SV_E_NO_MEMORY, tag_at);
                    break;
                }
                memcpy(next, left, depth * sizeof(uint64_t));
                left = next;
                cap = next_cap;
            }
            left[depth++] = v;
            continue;
        }
        /* A value is complete: close every container it completes. */
        while (depth > 0) {
            if (--left[depth - 1] > 0) break;
            depth--;
        }
        if (depth == 0) {
            if (r.p != n) rc = sv_fail(err, SV_E_TRAILING_BYTES, r.p);
            break;
        }
    }
    if (left != local) free(left);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Accessors. They run on validated buffers but still never read at or past limit.
 */

/* Reads a varint without the canonical checks (the buffer was validated); 0 on overrun. */
static int sv_get_varint(const uint8_t **pp, const uint8_t *limit, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int i = 0; i < SV_VARINT_BYTES_MAX; i++) {
        if (p >= limit) return 0;
        uint8_t byte = *p++;
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (byte < 0x80) {
            *out = v;
            *pp = p;
            return 1;
        }
    }
    return 0;
}

/* Returns the end of the value at p (nested values included), or NULL on overrun. */
static const uint8_t *sv_skip(const uint8_t *p, const uint8_t *limit) {
    uint64_t pending = 1;
    while (pending > 0) {
        if (p >= limit) return NULL;
        uint8_t tag = *p++;
        uint64_t v;
        pending--;
        switch (tag) {
        case SV_NONE:
            break;
        case SV_INT:
        case SV_LAMBDA:
            if (!sv_get_varint(&p, limit, &v)) return NULL;
            break;
        case SV_REAL:
            if ((size_t)(limit - p) < 8) return NULL;
            p += 8;
            break;
        case SV_STR:
        case SV_SYMBOL:
            if (!sv_get_varint(&p, limit, &v) || v > (uint64_t)(limit - p)) return NULL;
            p += v;
            break;
        case SV_PAREN:
        case SV_BRACE:
        case SV_BRACKET:
            if (!sv_get_varint(&p, limit, &v) || v > (uint64_t)(limit - p)) return NULL;
            pending += v;
            break;
        case SV_SOME:
        case SV_ERROR:
        case SV_DATUM:
        case SV_ABERRANT:
            pending += 1;
            break;
        default:
            return NULL;
        }
    }
    return p;
}

/* Reads the header of the value at p into *out; 0 on overrun or a bad tag. end is where the value
 * is known to end (the root of a validated buffer), or NULL to find it by skipping. */
static int sv_read_at(const uint8_t *p, const uint8_t *limit, sv_value *out, const uint8_t *end) {
    out->i = 0;
    out->r = 0.0;
    out->bytes = NULL;
    out->len = 0;
    out->count = 0;
    out->lambda_id = 0;
    out->body = NULL;
    if (p >= limit) return 0;
    if (end == NULL) end = sv_skip(p, limit);
    if (end == NULL) return 0;
    out->start = p;
    out->size = (size_t)(end - p);
    out->limit = limit;
    out->tag = *p++;
    uint64_t v = 0;
    switch (out->tag) {
    case SV_INT:
        if (!sv_get_varint(&p, limit, &v)) return 0;
        out->i = (int64_t)((v >> 1) ^ (0 - (v & 1)));
        break;
    case SV_REAL: {
        uint64_t bits = 0;
        for (int k = 7; k >= 0; k--) bits = (bits << 8) | p[k];
        memcpy(&out->r, &bits, sizeof out->r);
        break;
    }
    case SV_STR:
    case SV_SYMBOL:
        if (!sv_get_varint(&p, limit, &v)) return 0;
        out->bytes = p;
        out->len = (size_t)v;
        break;
    case SV_LAMBDA:
        if (!sv_get_varint(&p, limit, &v)) return 0;
        out->lambda_id = v;
        break;
    case SV_PAREN:
    case SV_BRACE:
    case SV_BRACKET:
        if (!sv_get_varint(&p, limit, &v)) return 0;
        out->count = v;
        out->body = p;
        break;
    case SV_SOME:
    case SV_ERROR:
    case SV_DATUM:
    case SV_ABERRANT:
        out->count = 1;
        out->body = p;
        break;
    default:
        break;
    }
    return 1;
}

int sv_decode(const uint8_t *buf, size_t len, sv_value *root, sv_error *err) {
    if (buf == NULL || len < 1) return sv_fail(err, SV_E_TRUNCATED, len);
    if (buf[0] != SV_MAGIC) return sv_fail(err, SV_E_BAD_MAGIC, 0);
    if (len < 2) return sv_fail(err, SV_E_TRUNCATED, len);
    if (buf[1] != SV_VERSION) return sv_fail(err, SV_E_BAD_VERSION, 1);
    int rc = sv_validate(buf, len, err);
    if (rc != SV_OK) return rc;
    if (!sv_read_at(buf + 2, buf + len, root, buf + len)) return sv_fail(err, SV_E_TRUNCATED, len);
    return SV_OK;
}

uint64_t sv_blob_len(const uint8_t *blob) {
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--) n = (n << 8) | blob[k];
    return n;
}

int sv_decode_blob(const uint8_t *blob, sv_value *root, sv_error *err) {
    if (blob == NULL) return sv_fail(err, SV_E_TRUNCATED, 0);
    return sv_decode(blob + SUP_BLOB_HEADER_BYTES, (size_t)sv_blob_len(blob), root, err);
}

const char *sv_error_name(int code) {
    switch (code) {
    case SV_OK: return "ok";
    case SV_E_TRUNCATED: return "truncated";
    case SV_E_BAD_MAGIC: return "bad-magic";
    case SV_E_BAD_VERSION: return "bad-version";
    case SV_E_BAD_TAG: return "bad-tag";
    case SV_E_BAD_VARINT: return "bad-varint";
    case SV_E_TOO_DEEP: return "too-deep";
    case SV_E_TRAILING_BYTES: return "trailing-bytes";
    case SV_E_BAD_SYMBOL: return "bad-symbol";
    case SV_E_BAD_LAMBDA_ID: return "bad-lambda-id";
    case SV_E_NO_MEMORY: return "no-memory";
    default: return "unknown";
    }
}

sv_iter sv_items(const sv_value *v) {
    sv_iter it = {NULL, NULL, 0};
    if (v->body != NULL) {
        it.p = v->body;
        it.limit = v->limit;
        it.left = v->count;
    }
    return it;
}

int sv_next(sv_iter *it, sv_value *out) {
    if (it->left == 0) return 0;
    if (!sv_read_at(it->p, it->limit, out, NULL)) {
        it->left = 0;
        return 0;
    }
    it->p += out->size;
    it->left--;
    return 1;
}

int sv_inner(const sv_value *v, sv_value *out) {
    if (v->tag != SV_SOME && v->tag != SV_ERROR && v->tag != SV_DATUM && v->tag != SV_ABERRANT) return 0;
    return sv_read_at(v->body, v->limit, out, NULL);
}

int sv_is_list(const sv_value *v) {
    return v->tag == SV_PAREN || v->tag == SV_BRACE || v->tag == SV_BRACKET;
}

int64_t sv_as_int(const sv_value *v) {
    return v->tag == SV_INT ? v->i : 0;
}

double sv_as_real(const sv_value *v) {
    return v->tag == SV_REAL ? v->r : 0.0;
}

int sv_equal(const sv_value *a, const sv_value *b) {
    if (a->tag != b->tag) return 0;
    switch (a->tag) {
    case SV_INT: return a->i == b->i;
    case SV_REAL: return a->r == b->r;
    case SV_SYMBOL:
    case SV_STR: return a->len == b->len && (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
    case SV_NONE: return 1;
    default: return 0;
    }
}

int sv_is_text(const sv_value *v, const char *s) {
    if (v->tag != SV_SYMBOL && v->tag != SV_STR) return 0;
    size_t n = strlen(s);
    return v->len == n && (n == 0 || memcmp(v->bytes, s, n) == 0);
}

/* ---------------------------------------------------------------------------------------------
 * FIXED6.
 */

double sv_fixed6(double x) {
    if (x != x || x == INFINITY || x == -INFINITY) return x;
    double ax = fabs(x);
    if (ax >= SV_FIXED6_FAST_LIMIT) {
        /* Here ulp(x) >= 2^-19 > 2 * 5e-7, so the 6-decimal text (within 5e-7 of x) parses back
         * to x itself; a power of two at a binade edge is an integer and prints exactly. */
        return x;
    }
    /* The exact product ax * 1e6 is p + err (fma gives the rounding error exactly). Round it half
     * to even: f = floor(p); the sign of (p - f - 0.5) + err decides. p - f is exact, and so is
     * p - f - 0.5 whenever it is near zero (Sterbenz), which is the only case where the sign of
     * the sum could be in doubt. */
    double p = ax * 1e6;
    double err = fma(ax, 1e6, -p);
    double f = floor(p);
    double s = ((p - f) - 0.5) + err;
    double n;
    if (s > 0) n = f + 1;
    else if (s < 0) n = f;
    else n = (((int64_t)f) & 1) ? f + 1 : f;
    /* printf prints -0.000000 for negative values that round to zero; it parses back as -0.0. */
    if (n == 0) return x < 0 || (x == 0 && signbit(x)) ? -0.0 : 0.0;
    /* n and 1e6 are exact, so IEEE division gives the double nearest n / 10^6, as strtod would. */
    double r = n / 1e6;
    return x < 0 ? -r : r;
}

int sv_fixed6_text(double x, char *out, size_t cap) {
    const char *special = NULL;
    if (x != x) special = signbit(x) ? "-nan" : "nan";
    else if (x == INFINITY) special = "inf";
    else if (x == -INFINITY) special = "-inf";
    if (special != NULL) return snprintf(out, cap, "%s", special);
    int n = snprintf(out, cap, "%f", x);
    /* A locale may print another one-byte decimal point; the reader only knows '.'. */
    if (n >= 8 && (size_t)n < cap && out[n - 7] != '.') out[n - 7] = '.';
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * Building.
 */

static int sv_reserve(sv_builder *b, size_t more) {
    if (b->failed) return 0;
    if (b->len + more <= b->cap) return 1;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < b->len + more) {
        if (cap > ((size_t)-1) / 2) {
            b->failed = 1;
            return 0;
        }
        cap *= 2;
    }
    uint8_t *next = (uint8_t *)realloc(b->data, cap);
    if (next == NULL) {
        b->failed = 1;
        return 0;
    }
    b->data = next;
    b->cap = cap;
    return 1;
}

static void sv_put_byte(sv_builder *b, uint8_t byte) {
    if (sv_reserve(b, 1)) b->data[b->len++] = byte;
}

static void sv_put_bytes(sv_builder *b, const void *bytes, size_t n) {
    if (n == 0) return;
    if (sv_reserve(b, n)) {
        memcpy(b->data + b->len, bytes, n);
        b->len += n;
    }
}

static void sv_put_varint(sv_builder *b, uint64_t v) {
    if (!sv_reserve(b, SV_VARINT_BYTES_MAX)) return;
    while (v > 0x7f) {
        b->data[b->len++] = (uint8_t)((v & 0x7f) | 0x80);
        v >>= 7;
    }
    b->data[b->len++] = (uint8_t)v;
}

/* The last result handed to the host; it has copied it by the time the kernel is entered again. */
static uint8_t *sv_result_slot = NULL;
static size_t sv_result_slot_cap = 0;

void sv_builder_init(sv_builder *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
    /* Reuse the previous result's buffer: the host copied it before entering the kernel again,
     * and a nested call (through eval) only ever finds the slot empty or holding its own result. */
    if (sv_result_slot != NULL && sv_result_slot_cap > 0) {
        b->data = sv_result_slot;
        b->cap = sv_result_slot_cap;
        sv_result_slot = NULL;
        sv_result_slot_cap = 0;
    }
    if (!sv_reserve(b, SV_BUILDER_BYTES_INITIAL)) return;
    memset(b->data, 0, SUP_BLOB_HEADER_BYTES);
    b->data[SUP_BLOB_HEADER_BYTES] = SV_MAGIC;
    b->data[SUP_BLOB_HEADER_BYTES + 1] = SV_VERSION;
    b->len = SV_BUILDER_HEAD;
}

void sv_builder_free(sv_builder *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void sv_put_none(sv_builder *b) {
    sv_put_byte(b, SV_NONE);
}

void sv_put_int(sv_builder *b, int64_t n) {
    uint64_t u = (uint64_t)n;
    sv_put_byte(b, SV_INT);
    sv_put_varint(b, (u << 1) ^ (0 - (u >> 63)));
}

void sv_put_real(sv_builder *b, double x) {
    uint64_t bits;
    uint8_t le[8];
    memcpy(&bits, &x, sizeof bits);
    for (int k = 0; k < 8; k++) le[k] = (uint8_t)(bits >> (8 * k));
    sv_put_byte(b, SV_REAL);
    sv_put_bytes(b, le, 8);
}

void sv_put_real6(sv_builder *b, double x) {
    if (x != x) {
        if (signbit(x)) sv_put_symbol(b, "-nan", 4);
        else sv_put_symbol(b, "nan", 3);
    } else if (x == INFINITY) {
        sv_put_symbol(b, "inf", 3);
    } else if (x == -INFINITY) {
        sv_put_symbol(b, "-inf", 4);
    } else {
        sv_put_real(b, sv_fixed6(x));
    }
}

void sv_put_string(sv_builder *b, const uint8_t *bytes, size_t len) {
    sv_put_byte(b, SV_STR);
    sv_put_varint(b, len);
    sv_put_bytes(b, bytes, len);
}

void sv_put_symbol(sv_builder *b, const char *name, size_t len) {
    if (len == 0) {
        b->failed = 1;
        return;
    }
    sv_put_byte(b, SV_SYMBOL);
    sv_put_varint(b, len);
    sv_put_bytes(b, name, len);
}

void sv_put_list(sv_builder *b, uint8_t kind, uint64_t count) {
    sv_put_byte(b, kind);
    sv_put_varint(b, count);
}

void sv_put_wrap(sv_builder *b, uint8_t tag) {
    sv_put_byte(b, tag);
}

void sv_put_value(sv_builder *b, const sv_value *v) {
    sv_put_bytes(b, v->start, v->size);
}

void sv_put_raw(sv_builder *b, const uint8_t *bytes, size_t n) {
    sv_put_bytes(b, bytes, n);
}

void sv_put_empty(sv_builder *b) {
    sv_put_list(b, SV_PAREN, 0);
}

void sv_put_error_message(sv_builder *b, const char *msg) {
    uint64_t words = 0;
    for (const char *p = msg; *p != '\0';) {
        while (*p == ' ') p++;
        if (*p == '\0') break;
        words++;
        while (*p != ' ' && *p != '\0') p++;
    }
    sv_put_wrap(b, SV_ERROR);
    sv_put_list(b, SV_PAREN, words);
    for (const char *p = msg; *p != '\0';) {
        while (*p == ' ') p++;
        if (*p == '\0') break;
        const char *w = p;
        while (*p != ' ' && *p != '\0') p++;
        sv_put_symbol(b, w, (size_t)(p - w));
    }
}

void sv_put_textform_item(sv_builder *b, const sv_value *item) {
    switch (item->tag) {
    case SV_INT:
    case SV_SYMBOL:
    case SV_STR:
        sv_put_value(b, item);
        break;
    case SV_REAL:
        sv_put_real6(b, item->r);
        break;
    default:
        sv_put_empty(b);
        break;
    }
}

/* True when a string item would read back differently from TEXT-FORM text (it is not escaped). */
static int sv_textform_needs_text(const sv_value *item) {
    if (item->tag != SV_STR) return 0;
    for (size_t k = 0; k < item->len; k++) {
        if (item->bytes[k] == '"' || item->bytes[k] == '\\') return 1;
    }
    return 0;
}

/* Appends the TEXT-FORM text of one item to a text buffer (a builder used for raw bytes). */
static void sv_textform_text(sv_builder *t, const sv_value *item) {
    char num[SV_FIXED6_TEXT_MAX];
    int n;
    switch (item->tag) {
    case SV_INT:
        n = snprintf(num, sizeof num, "%lld", (long long)item->i);
        sv_put_bytes(t, num, (size_t)n);
        break;
    case SV_REAL:
        n = sv_fixed6_text(item->r, num, sizeof num);
        sv_put_bytes(t, num, (size_t)n);
        break;
    case SV_SYMBOL:
        sv_put_bytes(t, item->bytes, item->len);
        break;
    case SV_STR:
        sv_put_byte(t, '"');
        sv_put_bytes(t, item->bytes, item->len);
        sv_put_byte(t, '"');
        break;
    default:
        sv_put_bytes(t, "()", 2);
        break;
    }
}

int sv_put_textform_list(sv_builder *b, const sup_api *api, sup_ctx ctx, uint8_t kind, const sv_value *items, size_t n) {
    size_t k;
    for (k = 0; k < n && !sv_textform_needs_text(&items[k]); k++) {
    }
    if (k == n) {
        sv_put_list(b, kind, n);
        for (k = 0; k < n; k++) sv_put_textform_item(b, &items[k]);
        return b->failed ? -1 : 0;
    }
    /* Some string changes meaning when printed unescaped: print the list and read it back. */
    sv_builder text = {NULL, 0, 0, 0};
    sv_put_byte(&text, kind == SV_PAREN ? '(' : kind == SV_BRACE ? '{' : '[');
    for (k = 0; k < n; k++) {
        if (k > 0) sv_put_byte(&text, ' ');
        sv_textform_text(&text, &items[k]);
    }
    sv_put_byte(&text, kind == SV_PAREN ? ')' : kind == SV_BRACE ? '}' : ']');
    if (text.failed) {
        sv_builder_free(&text);
        b->failed = 1;
        return -1;
    }
    const uint8_t *reply = api->read(ctx, (const char *)text.data, text.len);
    sv_builder_free(&text);
    sv_value parsed;
    if (reply != NULL && sv_decode_blob(reply, &parsed, NULL) == SV_OK && sv_is_list(&parsed)) {
        sv_put_value(b, &parsed);
    } else {
        sv_put_list(b, kind, 0);
    }
    return b->failed ? -1 : 0;
}

void sv_put_string_from_items(sv_builder *b, const sv_value *items, size_t n) {
    /* First pass: the length up to the first NUL byte. */
    size_t total = 0;
    int cut = 0;
    for (size_t k = 0; k < n && !cut; k++) {
        const sv_value *it = &items[k];
        if (it->tag == SV_INT) {
            if ((uint8_t)it->i == 0) cut = 1;
            else total++;
        } else if (it->tag == SV_SYMBOL || it->tag == SV_STR) {
            const void *nul = it->len > 0 ? memchr(it->bytes, 0, it->len) : NULL;
            if (nul != NULL) {
                total += (size_t)((const uint8_t *)nul - it->bytes);
                cut = 1;
            } else {
                total += it->len;
            }
        }
    }
    sv_put_byte(b, SV_STR);
    sv_put_varint(b, total);
    if (!sv_reserve(b, total)) return;
    size_t left = total;
    for (size_t k = 0; k < n && left > 0; k++) {
        const sv_value *it = &items[k];
        if (it->tag == SV_INT) {
            b->data[b->len++] = (uint8_t)it->i;
            left--;
        } else if (it->tag == SV_SYMBOL || it->tag == SV_STR) {
            size_t m = it->len < left ? it->len : left;
            if (m > 0) memcpy(b->data + b->len, it->bytes, m);
            b->len += m;
            left -= m;
        }
    }
}

uint8_t *sv_finish(sv_builder *b) {
    if (b->failed || b->data == NULL) {
        sv_builder_free(b);
        return NULL;
    }
    uint64_t n = (uint64_t)(b->len - SUP_BLOB_HEADER_BYTES);
    for (int k = 0; k < 8; k++) b->data[k] = (uint8_t)(n >> (8 * k));
    uint8_t *blob = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return blob;
}

const uint8_t *sv_return(sv_builder *b, const sup_api *api, sup_ctx ctx) {
    size_t cap = b->cap;
    uint8_t *blob = sv_finish(b);
    if (blob == NULL) {
        sv_raise(api, ctx, "native kernel could not build its result: out of memory or an invalid value");
        return NULL;
    }
    free(sv_result_slot);
    sv_result_slot = blob;
    /* A huge buffer is not kept for reuse: it is freed with the next result instead. */
    sv_result_slot_cap = cap <= SV_RESULT_REUSE_BYTES_MAX ? cap : 0;
    /* Small results go to the host's buffer: the host then reads its own memory, not ours. */
    if (api != NULL && api->size >= 80 && api->result_buf != NULL) {
        uint64_t total = 8;
        for (int i = 0; i < 8; i++) total += (uint64_t)blob[i] << (8 * i);
        if (total <= api->result_cap) {
            memcpy(api->result_buf, blob, (size_t)total);
            return api->result_buf;
        }
    }
    return blob;
}

/* Scratch envelope for sv_eval; the host decodes it before it evaluates, so nested calls may reuse it. */
static sv_builder sv_scratch = {NULL, 0, 0, 0};

void sv_release(void) {
    free(sv_result_slot);
    sv_result_slot = NULL;
    sv_result_slot_cap = 0;
    sv_builder_free(&sv_scratch);
    sv_scratch.failed = 0;
}

void sv_raise(const sup_api *api, sup_ctx ctx, const char *msg) {
    api->raise(ctx, msg, strlen(msg));
}

int sv_eval(const sup_api *api, sup_ctx ctx, const sv_value *expr, sv_value *out) {
    sv_scratch.failed = 0;
    sv_scratch.len = 0;
    sv_put_byte(&sv_scratch, SV_MAGIC);
    sv_put_byte(&sv_scratch, SV_VERSION);
    sv_put_value(&sv_scratch, expr);
    if (sv_scratch.failed) {
        sv_raise(api, ctx, "native kernel could not encode a value to evaluate: out of memory");
        return -2;
    }
    const uint8_t *reply = api->eval(ctx, sv_scratch.data, sv_scratch.len);
    if (reply == NULL) return -1;
    sv_error err;
    if (sv_decode_blob(reply, out, &err) != SV_OK) {
        sv_raise(api, ctx, "native kernel received a malformed value from eval");
        return -2;
    }
    return 0;
}

int sv_args(const sup_api *api, sup_ctx ctx, const uint8_t *args, uint64_t args_len, sv_value *out, int max) {
    sv_value root;
    sv_error err;
    if (sv_decode(args, (size_t)args_len, &root, &err) != SV_OK || root.tag != SV_PAREN) {
        sv_raise(api, ctx, "native kernel received malformed arguments");
        return -1;
    }
    sv_iter it = sv_items(&root);
    int n = 0;
    while (n < max && sv_next(&it, &out[n])) n++;
    return n;
}
