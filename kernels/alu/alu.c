/*
 * alu - arithmetic (kernels spec section 5). Every function uses the scalar convention
 * (sup_kernel.h): the host has already evaluated both arguments and passes as-int / as-real of
 * each, with argc the number of arguments written in the call. Fewer than 2 arguments give 0 or
 * 0.0. No function allocates or keeps a pointer.
 */
#include "sup_kernel.h"
#include "sup_value.h"

/* Integer arithmetic goes through uint64_t so overflow wraps (signed overflow is undefined in C). */
static int64_t alu_add(int32_t argc, int64_t a, int64_t b) {
    return argc < 2 ? 0 : (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t alu_sub(int32_t argc, int64_t a, int64_t b) {
    return argc < 2 ? 0 : (int64_t)((uint64_t)a - (uint64_t)b);
}

static int64_t alu_mul(int32_t argc, int64_t a, int64_t b) {
    return argc < 2 ? 0 : (int64_t)((uint64_t)a * (uint64_t)b);
}

/* Truncates toward zero. INT64_MIN / -1 overflows (SIGFPE in the original): sup returns INT64_MIN. */
static int64_t alu_div(int32_t argc, int64_t a, int64_t b) {
    if (argc < 2 || b == 0) return 0;
    if (b == -1) return (int64_t)(0 - (uint64_t)a);
    return a / b;
}

/* Remainder with the sign of a. INT64_MIN % -1 (SIGFPE in the original) is 0 in sup. */
static int64_t alu_mod(int32_t argc, int64_t a, int64_t b) {
    if (argc < 2 || b == 0 || b == -1) return 0;
    return a % b;
}

static double alu_add_r(int32_t argc, double a, double b) {
    return argc < 2 ? 0.0 : sv_fixed6(a + b);
}

static double alu_sub_r(int32_t argc, double a, double b) {
    return argc < 2 ? 0.0 : sv_fixed6(a - b);
}

static double alu_mul_r(int32_t argc, double a, double b) {
    return argc < 2 ? 0.0 : sv_fixed6(a * b);
}

static double alu_div_r(int32_t argc, double a, double b) {
    if (argc < 2 || b == 0.0) return 0.0;
    return sv_fixed6(a / b);
}

static int64_t alu_eq(int32_t argc, int64_t a, int64_t b) {
    return argc >= 2 && a == b;
}

/* Exact comparison, no rounding. */
static int64_t alu_eq_r(int32_t argc, double a, double b) {
    return argc >= 2 && a == b;
}

int32_t kernel_init(const sup_api *api) {
    if (api->abi_version != SUP_ABI_VERSION) return 1;
    static const struct {
        const char *name;
        sup_fn fn;
    } fns[] = {
        {"add", (sup_fn)alu_add},     {"sub", (sup_fn)alu_sub},     {"mul", (sup_fn)alu_mul},
        {"div", (sup_fn)alu_div},     {"mod", (sup_fn)alu_mod},     {"add_r", (sup_fn)alu_add_r},
        {"sub_r", (sup_fn)alu_sub_r}, {"mul_r", (sup_fn)alu_mul_r}, {"div_r", (sup_fn)alu_div_r},
        {"eq", (sup_fn)alu_eq},       {"eq_r", (sup_fn)alu_eq_r},
    };
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
        if (api->register_function(api->host, fns[k].name, fns[k].fn, SUP_CALL_SCALAR) != 0) return 2;
    }
    return 0;
}
