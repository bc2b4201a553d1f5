/*
 * sup_value.h - read and build sup codec values (docs/codec.md) in C, plus the renderings the
 * original kernels' helpers applied to their results (FIXED6 reals, TEXT-FORM lists, byte strings).
 *
 * Reading never trusts its input: sv_decode() and sv_decode_blob() check a whole buffer (bounds,
 * canonical varints, depth, trailing bytes; exactly the rules of src/lang/codec.ts) before any
 * accessor touches it, and the accessors re-check bounds anyway. An sv_value never owns memory: it
 * points into the buffer it was read from and is valid exactly as long as that buffer.
 *
 * Building appends to an sv_builder, a malloc'ed growable buffer that starts with a blob header and
 * the codec envelope. sv_return() hands a finished builder to the host as a value function's result.
 *
 * Not thread-safe: one kernel runs on one thread (sup_kernel.h).
 */
#ifndef SUP_VALUE_H
#define SUP_VALUE_H

#include "sup_kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Codec tags (the SLP type codes, language spec section 2.1). */
enum {
    SV_NONE = 0x00,
    SV_SOME = 0x01,
    SV_PAREN = 0x02,
    SV_BRACE = 0x04,
    SV_STR = 0x05,
    SV_SYMBOL = 0x07,
    SV_INT = 0x09,
    SV_REAL = 0x0A,
    SV_BRACKET = 0x0B,
    SV_ERROR = 0x0C,
    SV_DATUM = 0x0D,
    SV_ABERRANT = 0x0E,
    SV_LAMBDA = 0x8E
};

/* Decode failures; the same codes (and offsets) as src/lang/codec.ts reports. */
enum {
    SV_OK = 0,
    SV_E_TRUNCATED = 1,
    SV_E_BAD_MAGIC = 2,
    SV_E_BAD_VERSION = 3,
    SV_E_BAD_TAG = 4,
    SV_E_BAD_VARINT = 5,
    SV_E_TOO_DEEP = 6,
    SV_E_TRAILING_BYTES = 7,
    SV_E_BAD_SYMBOL = 8,
    SV_E_BAD_LAMBDA_ID = 9,
    SV_E_NO_MEMORY = 10
};

/* Deepest nesting of lists and wrappers a decoder accepts; the same as the reader's and codec.ts's. */
#define SV_DEPTH_MAX 10000

/* A decoded value header. Points into the buffer it was read from; owns nothing. */
typedef struct sv_value {
    uint8_t tag;          /* SV_* */
    int64_t i;            /* SV_INT: the integer */
    double r;             /* SV_REAL: the double, bit-exact */
    const uint8_t *bytes; /* SV_STR, SV_SYMBOL: the bytes (not NUL-terminated) */
    size_t len;           /* SV_STR, SV_SYMBOL: their count */
    uint64_t count;       /* lists: number of items; wrappers: 1 */
    uint64_t lambda_id;   /* SV_LAMBDA */
    const uint8_t *body;  /* lists: the first item; wrappers: the inner value */
    const uint8_t *start; /* the value's own encoding (its tag byte) */
    size_t size;          /* bytes of that encoding, nested values included */
    const uint8_t *limit; /* end of the buffer: no accessor reads at or past it */
} sv_value;

/* Where a decode failed. */
typedef struct sv_error {
    int code;      /* SV_E_* */
    size_t offset; /* byte offset into the decoded buffer */
} sv_error;

/*
 * Checks a codec envelope buf[0..len) completely and reads its root value into *root (which then
 * points into buf). Returns SV_OK, or an SV_E_* code with *err filled (err may be NULL).
 * buf is borrowed for the call; *root is valid as long as buf is.
 */
int sv_decode(const uint8_t *buf, size_t len, sv_value *root, sv_error *err);

/* As sv_decode for a blob (8-byte little-endian length, then the envelope); NULL blob = truncated. */
int sv_decode_blob(const uint8_t *blob, sv_value *root, sv_error *err);

/* Reads the blob's byte count (the envelope's length). */
uint64_t sv_blob_len(const uint8_t *blob);

/* A short English name for an SV_E_* code ("truncated", "bad-varint", ...); static storage. */
const char *sv_error_name(int code);

/* Iterates a list's items (or a wrapper's one inner value). The iterator points into the buffer. */
typedef struct sv_iter {
    const uint8_t *p;
    const uint8_t *limit;
    uint64_t left;
} sv_iter;

/* Starts iterating v's items; a non-list, non-wrapper yields nothing. */
sv_iter sv_items(const sv_value *v);

/* Reads the next item into *out; returns 1, or 0 at the end (or on a malformed buffer). */
int sv_next(sv_iter *it, sv_value *out);

/* Reads a wrapper's inner value into *out; returns 1, or 0 when v is not a wrapper. */
int sv_inner(const sv_value *v, sv_value *out);

/* 1 for paren, brace and bracket lists. */
int sv_is_list(const sv_value *v);

/* as-int (kernels spec section 4): the integer, or 0 for any other type. */
int64_t sv_as_int(const sv_value *v);

/* as-real: the double, or 0.0 for any other type. */
double sv_as_real(const sv_value *v);

/*
 * The "equal" of the standard kernels (forge replace/drop_match): same type and INTEGER equal,
 * REAL ==, SYMBOL same name, string same bytes, NONE vs NONE; other types are never equal.
 */
int sv_equal(const sv_value *a, const sv_value *b);

/* True when the symbol or string v has exactly the NUL-terminated text s. */
int sv_is_text(const sv_value *v, const char *s);

/* ---------------------------------------------------------------------------------------------
 * FIXED6 (language spec 2.6.2): C printf("%f"), then parsed back, as the original's make-real did.
 */

/* The value FIXED6 text of x parses back to (exact, ties to even); non-finite x is returned as is. */
double sv_fixed6(double x);

/* Writes FIXED6 text of x (inf, -inf, nan, -nan for non-finite) into out; returns its length, or
 * the length needed when cap is too small (as snprintf). out is the caller's. */
int sv_fixed6_text(double x, char *out, size_t cap);

/* ---------------------------------------------------------------------------------------------
 * Building.
 */

/* A growable output buffer: blob header, envelope, then values. data is malloc'ed and owned by the
 * builder until sv_finish/sv_return passes it on; sv_builder_free releases it. */
typedef struct sv_builder {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed; /* set when an allocation failed; further puts do nothing */
} sv_builder;

/* Starts a builder (blob header and envelope written), reusing the previous result's memory when
 * it can. Never fails: failure shows in b->failed. */
void sv_builder_init(sv_builder *b);

/* Frees the builder's buffer (if it still owns one). */
void sv_builder_free(sv_builder *b);

void sv_put_none(sv_builder *b);
void sv_put_int(sv_builder *b, int64_t n);
/* Exact real (no rounding). */
void sv_put_real(sv_builder *b, double x);
/* A real as the original's make-real built it: sv_fixed6(x), and the symbols inf, -inf, nan, -nan
 * for non-finite x. */
void sv_put_real6(sv_builder *b, double x);
void sv_put_string(sv_builder *b, const uint8_t *bytes, size_t len);
/* A symbol; len must be at least 1 (no symbol has an empty name: len 0 sets b->failed). */
void sv_put_symbol(sv_builder *b, const char *name, size_t len);
/* A list header with a known count; the caller then puts exactly count values. */
void sv_put_list(sv_builder *b, uint8_t kind, uint64_t count);
/* A wrapper tag (SV_SOME, SV_ERROR, SV_DATUM, SV_ABERRANT); the caller then puts one value. */
void sv_put_wrap(sv_builder *b, uint8_t tag);
/* Copies v's encoding (nested values included) as it is. */
void sv_put_value(sv_builder *b, const sv_value *v);
/* Appends bytes that already are complete encoded values (e.g. collected with a second builder
 * that was zero-initialised instead of sv_builder_init'ed). bytes is read during the call only. */
void sv_put_raw(sv_builder *b, const uint8_t *bytes, size_t n);
/* The empty paren list (), the standard kernels' "none" (make-none). */
void sv_put_empty(sv_builder *b);
/* An error value @(<words of msg>), each word a symbol, as value.ts errorValue builds them (the
 * original parsed the text, so a numeric word became a number there; no standard kernel has one). */
void sv_put_error_message(sv_builder *b, const char *msg);

/*
 * TEXT-FORM item (language spec 2.6.3) in a kernel-built list: integers and symbols as they are,
 * reals through sv_put_real6, strings as they are, every other value as ().
 */
void sv_put_textform_item(sv_builder *b, const sv_value *item);

/*
 * A list of kind (SV_PAREN, SV_BRACE, SV_BRACKET) built from items the way the original did: each
 * item printed in TEXT-FORM, joined by spaces, bracketed, and parsed again. Without a string that
 * holds '"' or '\' the re-parse changes nothing but what sv_put_textform_item does, so the list is
 * built directly; otherwise the text is built and parsed with api->read (a syntax error gives an
 * empty list of kind). items is borrowed. Returns 0, or -1 on allocation failure.
 */
int sv_put_textform_list(sv_builder *b, const sup_api *api, sup_ctx ctx, uint8_t kind, const sv_value *items, size_t n);

/*
 * A string built from items the way the original built string results: an integer gives one byte
 * (its low 8 bits), a symbol its name, a string its bytes, anything else nothing; the result is cut
 * at the first NUL byte.
 */
void sv_put_string_from_items(sv_builder *b, const sv_value *items, size_t n);

/*
 * Finishes the builder and returns its blob; ownership passes to the caller (free() it), and the
 * builder is left empty. Returns NULL (and frees) when an allocation failed.
 */
uint8_t *sv_finish(sv_builder *b);

/*
 * Finishes the builder and returns its blob as a value function's result. The blob is kept in this
 * library's result slot until the kernel is entered again (the host has copied it by then, see
 * sup_kernel.h): the next sv_builder_init reuses its memory (up to 64 KiB, larger is freed by the
 * next sv_return), and sv_release() frees it. On allocation failure raises and returns NULL.
 */
const uint8_t *sv_return(sv_builder *b, const sup_api *api, sup_ctx ctx);

/* Frees the result slot; call from kernel_shutdown. */
void sv_release(void);

/*
 * Evaluates *expr with api->eval and reads the reply into *out (valid until the next eval/read on
 * ctx or until the kernel function returns). Returns 0; -1 when the evaluation threw (return NULL
 * from the kernel function at once); -2 when the host's reply is not a valid value (an exception
 * has been raised; return NULL).
 */
int sv_eval(const sup_api *api, sup_ctx ctx, const sv_value *expr, sv_value *out);

/* Raises a language exception with a NUL-terminated message (api->raise). */
void sv_raise(const sup_api *api, sup_ctx ctx, const char *msg);

/*
 * Reads the arguments of a value function: decodes args and stores up to max items in out (in
 * order). Returns how many were stored, or -1 when args is not a paren list envelope (an exception
 * has been raised; return NULL).
 */
int sv_args(const sup_api *api, sup_ctx ctx, const uint8_t *args, uint64_t args_len, sv_value *out, int max);

#ifdef __cplusplus
}
#endif

#endif /* SUP_VALUE_H */
