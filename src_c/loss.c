/*
 * loss.c - the losses a network minimises, value and gradient, for float
 * and double: cross-entropy (log-softmax fused with the negative
 * log-likelihood), the negative log-likelihood alone, squared error and
 * absolute error. The drivers live in loss_impl.h, the cross-entropy of one
 * row in loss_row_impl.h (also compiled for AVX2 by loss_avx2.c); this file
 * holds the checks the element types share and compiles both twice.
 */
#include "internal.h"
#include "loss_exp.h"

/* Elements per block of the elementwise losses: each block's partial sum
 * is a fixed sum, so a reduction does not depend on the thread count. */
#define LOSS_BLOCK 4096

/* Sizes positive, their product within int64 bytes, a known reduction. */
static int loss_check(int64_t N, int64_t C, int reduction)
{
    int64_t tmp;

    if (N < 1 || C < 1) {
        return CNNC_ERR_SHAPE;
    }
    if (!cnnc_mul_ok(N, C, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (reduction != CNNC_REDUCTION_NONE &&
        reduction != CNNC_REDUCTION_MEAN && reduction != CNNC_REDUCTION_SUM) {
        return CNNC_ERR_ARG;
    }
    return CNNC_OK;
}

/* Every target a class index in [0, C). */
static int loss_check_targets(int64_t N, int64_t C, const int64_t *target)
{
    for (int64_t n = 0; n < N; n++) {
        if (target[n] < 0 || target[n] >= C) {
            return CNNC_ERR_ARG;
        }
    }
    return CNNC_OK;
}

/* The baseline builds of the cross-entropy row, float and double. */
#define REAL float
#define ROW_NAME cnnc_ce_row_scalar_f32
#define ROW_ATTR
#define ROW_EXP(x) cnnc_exp_nonpos_f32(x)
#include "loss_row_impl.h"
#undef REAL
#undef ROW_NAME
#undef ROW_ATTR
#undef ROW_EXP

#define REAL double
#define ROW_NAME cnnc_ce_row_f64
#define ROW_ATTR static
#define ROW_EXP(x) cnnc_exp_nonpos_f64(x)
#include "loss_row_impl.h"
#undef REAL
#undef ROW_NAME
#undef ROW_ATTR
#undef ROW_EXP

/* The row kernel each element type runs: float through the SIMD table. */
static inline double ce_row_f32(int64_t C, const float *z, int64_t t,
                                float eps, float scale, float *dz)
{
    return cnnc_simd->cross_entropy_row_f32(C, z, t, eps, scale, dz);
}

static inline double ce_row_f64(int64_t C, const double *z, int64_t t,
                                double eps, double scale, double *dz)
{
    return cnnc_ce_row_f64(C, z, t, eps, scale, dz);
}

static inline float loss_abs_f32(float v)
{
    return fabsf(v);
}

static inline double loss_abs_f64(double v)
{
    return fabs(v);
}

#define REAL float
#define FN(name) name##_f32
#include "loss_impl.h"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include "loss_impl.h"
#undef REAL
#undef FN
