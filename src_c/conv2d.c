/*
 * conv2d.c - 2-D convolution, forward and backward, for float and double.
 * The algorithm lives in conv2d_impl.h; this file holds the geometry checks
 * and helpers both element types share, then compiles the algorithm twice.
 */
#include "internal.h"

/* Integer division rounding up, for b > 0. */
static inline int64_t ceil_div(int64_t a, int64_t b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

int cnnc_conv2d_check(const cnnc_conv2d_geom *g)
{
    int64_t span_h, span_w, tmp;

    if (g == NULL) {
        return CNNC_ERR_ARG;
    }

    /* Every size positive, padding not negative. */
    if (g->N < 1 || g->C < 1 || g->H < 1 || g->W < 1 || g->K < 1 ||
        g->R < 1 || g->S < 1 || g->P < 1 || g->Q < 1 || g->G < 1 ||
        g->stride_h < 1 || g->stride_w < 1 || g->dil_h < 1 ||
        g->dil_w < 1 || g->pad_h < 0 || g->pad_w < 0) {
        return CNNC_ERR_SHAPE;
    }
    if (g->C % g->G != 0 || g->K % g->G != 0) {
        return CNNC_ERR_SHAPE;
    }

    /* The output size the lecture's formula gives must be P x Q. */
    if (!cnnc_mul_ok(g->dil_h, g->R - 1, &span_h) ||
        !cnnc_mul_ok(g->dil_w, g->S - 1, &span_w) ||
        g->pad_h > INT64_MAX / 4 || g->pad_w > INT64_MAX / 4 ||
        g->H > INT64_MAX / 4 || g->W > INT64_MAX / 4) {
        return CNNC_ERR_OVERFLOW;
    }
    tmp = g->H + 2 * g->pad_h - span_h - 1;
    if (tmp < 0 || tmp / g->stride_h + 1 != g->P) {
        return CNNC_ERR_SHAPE;
    }
    tmp = g->W + 2 * g->pad_w - span_w - 1;
    if (tmp < 0 || tmp / g->stride_w + 1 != g->Q) {
        return CNNC_ERR_SHAPE;
    }

    /* Products the kernels form, each within int64 (and size_t bytes). */
    if (!cnnc_mul_ok(g->N, g->C, &tmp) ||
        !cnnc_mul_ok(tmp, g->H, &tmp) || !cnnc_mul_ok(tmp, g->W, &tmp) ||
        !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (!cnnc_mul_ok(g->N, g->K, &tmp) || !cnnc_mul_ok(tmp, g->P, &tmp) ||
        !cnnc_mul_ok(tmp, g->Q, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (!cnnc_mul_ok(g->C, g->R, &tmp) || !cnnc_mul_ok(tmp, g->S, &tmp) ||
        !cnnc_mul_ok(tmp, g->K, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    /* Work counts: N K P Q C R S multiply-adds, and a tile's workspace. */
    if (!cnnc_mul_ok(g->N, g->K, &tmp) ||
        !cnnc_mul_ok(tmp, g->P, &tmp) || !cnnc_mul_ok(tmp, g->Q, &tmp) ||
        !cnnc_mul_ok(tmp, g->C, &tmp) || !cnnc_mul_ok(tmp, g->R, &tmp) ||
        !cnnc_mul_ok(tmp, g->S, &tmp) || !cnnc_mul_ok(tmp, 64, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    return CNNC_OK;
}

/* A 1x1 filter at stride 1 without padding reads the image as it is. */
static inline int cnnc_conv_is_pointwise(const cnnc_conv2d_geom *g)
{
    return g->R == 1 && g->S == 1 && g->stride_h == 1 &&
           g->stride_w == 1 && g->pad_h == 0 && g->pad_w == 0;
}

/*
 * Output pixels per tile: as many as keep one col tile (CRS x nt) within
 * about 256 KiB, so it stays in L2 while the GEMM packs it, in multiples
 * of 16 (the float register tile's width), between 16 and 1024.
 */
static inline int64_t cnnc_conv_tile_width(int64_t CRS, int64_t PQ,
                                           int64_t elem_size)
{
    int64_t nt = (256 * 1024) / (CRS * elem_size);
    int64_t whole = (PQ + 15) / 16 * 16;

    nt = nt / 16 * 16;
    if (nt < 16) {
        nt = 16;
    }
    if (nt > 1024) {
        nt = 1024;
    }
    return nt < whole ? nt : whole;
}

/*
 * For one filter column offset off = s * dil_w - pad_w: output columns q
 * in [q_lo, q_hi) read inside the image (0 <= q * stride + off < W); the
 * others read padding. Both ends are clamped to [0, Q].
 */
static inline void cnnc_conv_valid_range(int64_t off, int64_t stride,
                                         int64_t W, int64_t Q, int64_t *q_lo,
                                         int64_t *q_hi)
{
    int64_t lo = off >= 0 ? 0 : ceil_div(-off, stride);
    int64_t hi = W - 1 - off < 0 ? 0 : (W - 1 - off) / stride + 1;

    lo = lo > Q ? Q : lo;
    hi = hi > Q ? Q : hi;
    *q_lo = lo;
    *q_hi = hi < lo ? lo : hi;
}

/*
 * At stride 1 the input gradient is a convolution of dy with the weights
 * flipped in space and with input and output channels swapped, padded by
 * dil*(R-1) - pad: possible when that padding is not negative.
 */
static inline int cnnc_conv_transposable(const cnnc_conv2d_geom *g)
{
    return g->stride_h == 1 && g->stride_w == 1 &&
           g->pad_h <= g->dil_h * (g->R - 1) &&
           g->pad_w <= g->dil_w * (g->S - 1);
}

static inline cnnc_conv2d_geom cnnc_conv_transposed_geom(
    const cnnc_conv2d_geom *g)
{
    cnnc_conv2d_geom t = *g;

    t.C = g->K;
    t.H = g->P;
    t.W = g->Q;
    t.K = g->C;
    t.P = g->H;
    t.Q = g->W;
    t.pad_h = g->dil_h * (g->R - 1) - g->pad_h;
    t.pad_w = g->dil_w * (g->S - 1) - g->pad_w;
    return t;
}

#define REAL float
#define NR CNNC_GEMM_NR_F32
#define FN(name) name##_f32
#include "conv2d_direct_impl.h"
#include "conv2d_impl.h"
#undef REAL
#undef NR
#undef FN

#define REAL double
#define NR CNNC_GEMM_NR_F64
#define FN(name) name##_f64
#include "conv2d_direct_impl.h"
#include "conv2d_impl.h"
#undef REAL
#undef NR
#undef FN
