/*
 * warp.c - affine warps of image batches, the kernel behind every
 * geometric augmentation (shift, rotation, skew, zoom, crop), for float
 * and double. The sampling loop lives in warp_impl.h; this file holds the
 * checks and the per-pixel sampling setup both element types share, then
 * compiles the loop twice.
 *
 * The rule, written out in NumPy in cnnc/data/warp.py: output pixel (p, q)
 * of image n reads the input at
 *
 *   sx = t[0] * q + t[1] * p + t[2]     (a column)
 *   sy = t[3] * q + t[4] * p + t[5]     (a row)
 *
 * with t = theta + 6 n, pixel centres at integer coordinates, and every
 * input point outside the image worth `fill`.
 */
#include <math.h>

#include "internal.h"

/*
 * Below this many output values a warp runs on one thread. A batch of
 * 64 x 3 x 32 x 32 takes about 1 ms on one core, while waking an idle
 * OpenMP pool, as each augmentation call does after the Python work
 * between calls, costs several ms on this kind of machine (BUILD-NOTES):
 * measured here, 1.2 ms on one thread against a 4.8 ms median on two.
 * 2^21 values are about 10 ms of serial work.
 */
#define CNNC_WARP_PARALLEL_MIN_OUTPUTS ((int64_t)1 << 21)

int cnnc_warp_check(const cnnc_warp_geom *g, const double *theta, int mode)
{
    int64_t tmp;

    if (g == NULL || theta == NULL) {
        return CNNC_ERR_ARG;
    }
    if (g->N < 1 || g->C < 1 || g->H < 1 || g->W < 1 || g->P < 1 ||
        g->Q < 1) {
        return CNNC_ERR_SHAPE;
    }
    if (mode != CNNC_WARP_BILINEAR && mode != CNNC_WARP_NEAREST) {
        return CNNC_ERR_ARG;
    }

    /* Element and byte counts of x, y and theta fit in int64. */
    if (!cnnc_mul_ok(g->N, g->C, &tmp) || !cnnc_mul_ok(tmp, g->H, &tmp) ||
        !cnnc_mul_ok(tmp, g->W, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (!cnnc_mul_ok(g->N, g->C, &tmp) || !cnnc_mul_ok(tmp, g->P, &tmp) ||
        !cnnc_mul_ok(tmp, g->Q, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (!cnnc_mul_ok(g->N, 6 * 8, &tmp) || g->H > INT64_MAX / 4 ||
        g->W > INT64_MAX / 4) {
        return CNNC_ERR_OVERFLOW;
    }

    /* A NaN or infinite matrix has no pixel to sample. */
    for (int64_t i = 0; i < 6 * g->N; i++) {
        if (!isfinite(theta[i])) {
            return CNNC_ERR_ARG;
        }
    }
    return CNNC_OK;
}

/*
 * Where one output pixel samples the input: the offsets of up to four
 * pixels in an H x W plane (-1 for a pixel outside the image, which reads
 * as the fill) and the fractions fx, fy that weigh them.
 */
typedef struct {
    int64_t off[4];     /* top-left, top-right, bottom-left, bottom-right */
    double fx, fy;
} cnnc_warp_taps;

/* Points far outside only ever see the fill; clamping them just beyond
 * the edge keeps the conversion to an integer defined for any value (a
 * NaN, which no checked theta produces, lands at -2 too). Comparisons,
 * not fmin/fmax, so that no libm call sits in the pixel loop. */
static inline double cnnc_warp_clamp(double s, int64_t size)
{
    if (!(s >= -2.0)) {
        return -2.0;
    }
    return s > (double)size + 1.0 ? (double)size + 1.0 : s;
}

/* floor() of a clamped coordinate, exactly: truncate toward zero, then
 * step down for negative non-integers. Baseline x86-64 has no rounding
 * instruction, so floor() itself would be a function call per pixel. */
static inline int64_t cnnc_warp_floor(double s)
{
    int64_t i = (int64_t)s;

    return i - (s < (double)i);
}

static inline int64_t cnnc_warp_offset(int64_t r, int64_t c, int64_t H,
                                       int64_t W)
{
    return (r >= 0 && r < H && c >= 0 && c < W) ? r * W + c : -1;
}

/* Nearest pixel: round(s) = floor(s + 0.5); only off[0] is used. */
static inline void cnnc_warp_nearest_taps(double sx, double sy, int64_t H,
                                          int64_t W, cnnc_warp_taps *t)
{
    int64_t c = cnnc_warp_floor(cnnc_warp_clamp(sx, W) + 0.5);
    int64_t r = cnnc_warp_floor(cnnc_warp_clamp(sy, H) + 0.5);

    t->off[0] = cnnc_warp_offset(r, c, H, W);
}

/* The four pixels around (sx, sy) and how far past the top-left one the
 * point lies, fx and fy in [0, 1). */
static inline void cnnc_warp_bilinear_taps(double sx, double sy, int64_t H,
                                           int64_t W, cnnc_warp_taps *t)
{
    double cx = cnnc_warp_clamp(sx, W), cy = cnnc_warp_clamp(sy, H);
    int64_t c0 = cnnc_warp_floor(cx), r0 = cnnc_warp_floor(cy);

    t->fx = cx - (double)c0;
    t->fy = cy - (double)r0;
    t->off[0] = cnnc_warp_offset(r0, c0, H, W);
    t->off[1] = cnnc_warp_offset(r0, c0 + 1, H, W);
    t->off[2] = cnnc_warp_offset(r0 + 1, c0, H, W);
    t->off[3] = cnnc_warp_offset(r0 + 1, c0 + 1, H, W);
}

#define REAL float
#define FN(name) name##_f32
#include "warp_impl.h"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include "warp_impl.h"
#undef REAL
#undef FN
