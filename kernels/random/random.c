/*
 * random - uniform integers, reals and strings (kernels spec section 7). Value convention
 * (sup_kernel.h): arguments arrive evaluated in one codec list; failures return the integer -1.
 * The generator is xoshiro256** seeded from the OS at kernel_init (getrandom(2), else
 * /dev/urandom, else the clock); results are never asserted by tests, only their ranges.
 */
#include "sup_kernel.h"
#include "sup_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/random.h>
#endif

/* The original's failure result for every function. */
#define RANDOM_FAILED (-1)
/*
 * Longest string `string`/`string_alpha` make; longer requests raise. A program's time budget is
 * watched between kernel calls, so one call must stay a bounded piece of work: 8 MiB takes about a
 * default handler budget (100 ms) on the reference machine, all of it in handing the bytes over.
 */
#define RANDOM_STRING_BYTES_MAX (8u * 1024u * 1024u)

/* The 88-byte pool of `string`: digits, ~!@#$%^&*()_+, `-=<>,./?"';:, A-Z, a-z. */
static const char POOL_ALL[] = "0123456789~!@#$%^&*()_+`-=<>,./?\"';:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/* The 62-byte pool of `string_alpha`. */
static const char POOL_ALPHA[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static const sup_api *g_api;
static uint64_t g_state[4];

static uint64_t rotl64(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t next_u64(void) {
    uint64_t *s = g_state;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* Fills buf with OS randomness; returns 1 on success. */
static int os_random(void *buf, size_t n) {
#ifdef __linux__
    if (getrandom(buf, n, 0) == (ssize_t)n) return 1;
#endif
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL) return 0;
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    return got == n;
}

/* splitmix64, to spread a weak seed over the whole state. */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void seed(void) {
    if (!os_random(g_state, sizeof g_state)) {
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&x;
        for (int k = 0; k < 4; k++) g_state[k] = splitmix64(&x);
    }
    if ((g_state[0] | g_state[1] | g_state[2] | g_state[3]) == 0) g_state[0] = 1;
}

/* Uniform in [0, span) without modulo bias; span 0 means the whole 64-bit range. */
static uint64_t uniform_below(uint64_t span) {
    if (span == 0) return next_u64();
    uint64_t threshold = (0 - span) % span;
    for (;;) {
        uint64_t r = next_u64();
        if (r >= threshold) return r % span;
    }
}

static const uint8_t *fail(sup_ctx ctx) {
    sv_builder b;
    sv_builder_init(&b);
    sv_put_int(&b, RANDOM_FAILED);
    return sv_return(&b, g_api, ctx);
}

/* (int_range min max): uniform in [min, max], both inclusive; bounds swapped when min > max. */
static const uint8_t *random_int_range(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[2];
    int n = sv_args(g_api, ctx, args, len, a, 2);
    if (n < 0) return NULL;
    if (argc < 2 || n < 2 || a[0].tag != SV_INT || a[1].tag != SV_INT) return fail(ctx);
    int64_t lo = a[0].i, hi = a[1].i;
    if (lo > hi) {
        int64_t t = lo;
        lo = hi;
        hi = t;
    }
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1; /* 0 when the range is all of int64 */
    sv_builder b;
    sv_builder_init(&b);
    sv_put_int(&b, (int64_t)((uint64_t)lo + uniform_below(span)));
    return sv_return(&b, g_api, ctx);
}

/* (real_range min max): uniform in [min, max), through FIXED6 like every real the original made. */
static const uint8_t *random_real_range(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    sv_value a[2];
    int n = sv_args(g_api, ctx, args, len, a, 2);
    if (n < 0) return NULL;
    if (argc < 2 || n < 2 || a[0].tag != SV_REAL || a[1].tag != SV_REAL) return fail(ctx);
    double lo = a[0].r, hi = a[1].r;
    double u = (double)(next_u64() >> 11) * (1.0 / 9007199254740992.0); /* [0, 1) with 53 bits */
    sv_builder b;
    sv_builder_init(&b);
    sv_put_real6(&b, lo == hi ? lo : lo + (hi - lo) * u);
    return sv_return(&b, g_api, ctx);
}

static const uint8_t *random_from_pool(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc, const char *pool, uint64_t pool_len, const char *fn) {
    sv_value a[1];
    int n = sv_args(g_api, ctx, args, len, a, 1);
    if (n < 0) return NULL;
    if (argc < 1 || n < 1 || a[0].tag != SV_INT || a[0].i < 0) return fail(ctx);
    if ((uint64_t)a[0].i > RANDOM_STRING_BYTES_MAX) {
        char msg[128];
        snprintf(msg, sizeof msg, "random/%s: length %lld exceeds the limit of %u bytes", fn, (long long)a[0].i, RANDOM_STRING_BYTES_MAX);
        sv_raise(g_api, ctx, msg);
        return NULL;
    }
    size_t count = (size_t)a[0].i;
    uint8_t *bytes = (uint8_t *)malloc(count > 0 ? count : 1);
    if (bytes == NULL) {
        sv_raise(g_api, ctx, "random: out of memory");
        return NULL;
    }
    for (size_t k = 0; k < count; k++) bytes[k] = (uint8_t)pool[uniform_below(pool_len)];
    sv_builder b;
    sv_builder_init(&b);
    sv_put_string(&b, bytes, count);
    free(bytes);
    return sv_return(&b, g_api, ctx);
}

/* (string length): length bytes from the 88-byte pool. */
static const uint8_t *random_string(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    return random_from_pool(ctx, args, len, argc, POOL_ALL, sizeof POOL_ALL - 1, "string");
}

/* (string_alpha length): length bytes from the 62-byte pool. */
static const uint8_t *random_string_alpha(sup_ctx ctx, const uint8_t *args, uint64_t len, int32_t argc) {
    return random_from_pool(ctx, args, len, argc, POOL_ALPHA, sizeof POOL_ALPHA - 1, "string_alpha");
}

int32_t kernel_init(const sup_api *api) {
    if (api->abi_version != SUP_ABI_VERSION) return 1;
    g_api = api;
    seed();
    if (api->register_function(api->host, "int_range", (sup_fn)random_int_range, SUP_CALL_VALUE) != 0) return 2;
    if (api->register_function(api->host, "real_range", (sup_fn)random_real_range, SUP_CALL_VALUE) != 0) return 2;
    if (api->register_function(api->host, "string", (sup_fn)random_string, SUP_CALL_VALUE) != 0) return 2;
    if (api->register_function(api->host, "string_alpha", (sup_fn)random_string_alpha, SUP_CALL_VALUE) != 0) return 2;
    return 0;
}

void kernel_shutdown(const sup_api *api) {
    (void)api;
    sv_release();
    g_api = NULL;
}
