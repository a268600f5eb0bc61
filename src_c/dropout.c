/*
 * dropout.c - applying a dropout mask, for float and double.
 *
 * The mask itself is drawn by the caller (cnnc.functional draws it from a
 * NumPy Generator), so the core holds no random number generator and a
 * seed gives the same mask whatever the thread count. The kernels live in
 * dropout_impl.h, compiled here once per element type.
 */
#include "internal.h"

/* Rows of the geometry checked: sizes not negative, their product (and
 * its size in bytes) within int64, no NULL buffer for a non-empty array. */
static int dropout_check(int64_t rows, int64_t inner, int64_t elem_size,
                         const void *x, const void *mask, const void *y)
{
    int64_t total;

    if (rows < 0 || inner < 0) {
        return CNNC_ERR_SHAPE;
    }
    if (!cnnc_mul_ok(rows, inner, &total) ||
        !cnnc_mul_ok(total, elem_size, &total)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (total > 0 && (x == NULL || mask == NULL || y == NULL)) {
        return CNNC_ERR_ARG;
    }
    return CNNC_OK;
}

#define REAL float
#define FN(name) name##_f32
#include "dropout_impl.h"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include "dropout_impl.h"
#undef REAL
#undef FN
