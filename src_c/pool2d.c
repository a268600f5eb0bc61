/*
 * pool2d.c - max, average and adaptive average pooling, forward and
 * backward, for float and double. The kernels live in pool2d_impl.h; this
 * file holds the geometry rules and checks both element types share, then
 * compiles the kernels twice.
 *
 * Every operation pools each of the N x C planes on its own, so OpenMP
 * splits the work by plane and no two threads ever write the same pixel.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* Integer division rounding toward minus infinity, for b > 0. */
static inline int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Integer division rounding up, for a >= 0 and b > 0. */
static inline int64_t ceil_div_pos(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* One axis of the output-size rule in cnnc.h (PyTorch's). The caller has
 * made sure no term overflows. May return zero or less: an empty output. */
static int64_t pool_output_length(int64_t in, int64_t k, int64_t stride,
                                  int64_t pad, int64_t dil, int ceil_mode)
{
    int64_t numerator = in + 2 * pad - dil * (k - 1) - 1;
    int64_t out;

    if (ceil_mode) {
        numerator += stride - 1;
    }
    out = floor_div(numerator, stride) + 1;

    /* In ceil mode the last window must start inside the input or the
     * left padding, never wholly in the right padding. */
    if (ceil_mode && (out - 1) * stride >= in + pad) {
        out--;
    }
    return out;
}

/* 1 when each of the `out` windows along one axis has a tap inside the
 * input. Only dilation can break this: taps may straddle a small input. */
static int pool_axis_windows_hit(int64_t in, int64_t k, int64_t stride,
                                 int64_t pad, int64_t dil, int64_t out)
{
    for (int64_t o = 0; o < out; o++) {
        int64_t start = o * stride - pad;
        int64_t first = start;

        if (start < 0) {
            first = start + ceil_div_pos(-start, dil) * dil;
        }
        if (first >= in || first > start + (k - 1) * dil) {
            return 0;
        }
    }
    return 1;
}

/* Checks every size and the output size rule; see cnnc.h. */
int cnnc_pool2d_check(const cnnc_pool2d_geom *g)
{
    const int64_t big = INT64_MAX / 8;
    int64_t span_h, span_w, tmp;

    if (g == NULL) {
        return CNNC_ERR_ARG;
    }

    /* Every size positive, padding not negative nor beyond half a window. */
    if (g->N < 1 || g->C < 1 || g->H < 1 || g->W < 1 || g->R < 1 ||
        g->S < 1 || g->P < 1 || g->Q < 1 || g->stride_h < 1 ||
        g->stride_w < 1 || g->dil_h < 1 || g->dil_w < 1 || g->pad_h < 0 ||
        g->pad_w < 0) {
        return CNNC_ERR_SHAPE;
    }
    if (g->ceil_mode != 0 && g->ceil_mode != 1) {
        return CNNC_ERR_ARG;
    }
    if (g->pad_h > g->R / 2 || g->pad_w > g->S / 2) {
        return CNNC_ERR_ARG;
    }

    /* Terms of the output-size rule, each far from overflowing. */
    if (!cnnc_mul_ok(g->dil_h, g->R - 1, &span_h) ||
        !cnnc_mul_ok(g->dil_w, g->S - 1, &span_w) || span_h > big ||
        span_w > big || g->H > big || g->W > big || g->pad_h > big ||
        g->pad_w > big || g->stride_h > big || g->stride_w > big) {
        return CNNC_ERR_OVERFLOW;
    }
    if (pool_output_length(g->H, g->R, g->stride_h, g->pad_h, g->dil_h,
                           (int)g->ceil_mode) != g->P ||
        pool_output_length(g->W, g->S, g->stride_w, g->pad_w, g->dil_w,
                           (int)g->ceil_mode) != g->Q) {
        return CNNC_ERR_SHAPE;
    }
    if (!pool_axis_windows_hit(g->H, g->R, g->stride_h, g->pad_h, g->dil_h,
                               g->P) ||
        !pool_axis_windows_hit(g->W, g->S, g->stride_w, g->pad_w, g->dil_w,
                               g->Q)) {
        return CNNC_ERR_SHAPE;
    }

    /* Element counts (in bytes of the widest type) within int64. */
    if (!cnnc_mul_ok(g->N, g->C, &tmp) || !cnnc_mul_ok(tmp, g->H, &tmp) ||
        !cnnc_mul_ok(tmp, g->W, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (!cnnc_mul_ok(g->N, g->C, &tmp) || !cnnc_mul_ok(tmp, g->P, &tmp) ||
        !cnnc_mul_ok(tmp, g->Q, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    return CNNC_OK;
}

/* The checks of the kernels that read only N, C, H, W, P and Q (adaptive
 * pooling, max pooling backward): sizes positive, products in range (the
 * adaptive window bounds form p * H and q * W). */
static int pool_planes_check(const cnnc_pool2d_geom *g)
{
    int64_t tmp;

    if (g == NULL) {
        return CNNC_ERR_ARG;
    }
    if (g->N < 1 || g->C < 1 || g->H < 1 || g->W < 1 || g->P < 1 ||
        g->Q < 1) {
        return CNNC_ERR_SHAPE;
    }
    if (!cnnc_mul_ok(g->H, g->P + 1, &tmp) ||
        !cnnc_mul_ok(g->W, g->Q + 1, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (!cnnc_mul_ok(g->N, g->C, &tmp) || !cnnc_mul_ok(tmp, g->H, &tmp) ||
        !cnnc_mul_ok(tmp, g->W, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (!cnnc_mul_ok(g->N, g->C, &tmp) || !cnnc_mul_ok(tmp, g->P, &tmp) ||
        !cnnc_mul_ok(tmp, g->Q, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    return CNNC_OK;
}

/*
 * The taps of one window along one axis that fall inside the input:
 * window o starts at o * stride - pad; its taps are start + t * dil for
 * t in [t_lo, t_hi), t_hi <= k. cnnc_pool2d_check guarantees t_lo < t_hi.
 */
static inline void pool_taps(int64_t o, int64_t in, int64_t k,
                             int64_t stride, int64_t pad, int64_t dil,
                             int64_t *start, int64_t *t_lo, int64_t *t_hi)
{
    int64_t s = o * stride - pad;
    int64_t lo, hi;

    /* Without dilation the taps are adjacent: no division needed. */
    if (dil == 1) {
        lo = s < 0 ? -s : 0;
        hi = in - s;
    } else {
        lo = s < 0 ? ceil_div_pos(-s, dil) : 0;
        hi = ceil_div_pos(in - s, dil);  /* first tap at or past in */
    }
    *start = s;
    *t_lo = lo;
    *t_hi = hi < k ? hi : k;
}

/*
 * An average window along one axis, as PyTorch clips it: [lo, hi) inside
 * the input, and `padded`, its length clipped to the padded input
 * [-pad, in + pad) only, which count_include_pad divides by.
 */
static inline void avg_window(int64_t o, int64_t in, int64_t k,
                              int64_t stride, int64_t pad, int64_t *lo,
                              int64_t *hi, int64_t *padded)
{
    int64_t a = o * stride - pad;
    int64_t b = a + k < in + pad ? a + k : in + pad;

    *padded = b - a;
    *lo = a > 0 ? a : 0;
    *hi = b < in ? b : in;
}

/* Adaptive window [floor(o * in / out), ceil((o + 1) * in / out)). */
static inline void adaptive_window(int64_t o, int64_t in, int64_t out,
                                   int64_t *lo, int64_t *hi)
{
    *lo = o * in / out;
    *hi = ceil_div_pos((o + 1) * in, out);
}

/*
 * The run of outputs [lo, hi) along one axis whose windows lie wholly
 * inside the input: no tap in the padding, none past the end. Outputs
 * before lo and from hi on are the border.
 */
static inline void pool_interior(int64_t out, int64_t in, int64_t k,
                                 int64_t stride, int64_t pad, int64_t dil,
                                 int64_t *lo, int64_t *hi)
{
    int64_t last = in - 1 - dil * (k - 1) + pad;  /* largest o * stride */
    int64_t a = ceil_div_pos(pad, stride);
    int64_t b = last < 0 ? 0 : last / stride + 1;

    b = b < out ? b : out;
    *lo = a < b ? a : b;
    *hi = b;
}

/* Which row kernel pools the interior: the two common windows get copies
 * compiled for their constants, everything else the general one. */
enum { POOL_ROW_ANY, POOL_ROW_K2S2, POOL_ROW_K3S2 };

/* How a geometry is split: outputs [p_lo, p_hi) x [q_lo, q_hi) have whole
 * windows and go to the row kernel `row`; the rest, one by one, to the
 * border code. */
typedef struct {
    int64_t p_lo, p_hi, q_lo, q_hi;
    int row;
} pool_plan;

static pool_plan pool_make_plan(const cnnc_pool2d_geom *g)
{
    pool_plan plan;

    pool_interior(g->P, g->H, g->R, g->stride_h, g->pad_h, g->dil_h,
                  &plan.p_lo, &plan.p_hi);
    pool_interior(g->Q, g->W, g->S, g->stride_w, g->pad_w, g->dil_w,
                  &plan.q_lo, &plan.q_hi);

    /* The row kernels keep a tap's offset from its window's corner in an
     * int32: windows that span more go to the border code. A window that
     * fits inside the plane spans less than H * W, which cannot overflow. */
    if (plan.p_lo < plan.p_hi && plan.q_lo < plan.q_hi) {
        int64_t span = (g->R - 1) * g->dil_h * g->W + (g->S - 1) * g->dil_w;
        if (span > INT32_MAX) {
            plan.p_hi = plan.p_lo;
        }
    }

    plan.row = POOL_ROW_ANY;
    if (g->dil_h == 1 && g->dil_w == 1 && g->stride_w == 2) {
        if (g->R == 2 && g->S == 2) {
            plan.row = POOL_ROW_K2S2;
        } else if (g->R == 3 && g->S == 3) {
            plan.row = POOL_ROW_K3S2;
        }
    }
    return plan;
}

/* 2 x 2 windows at stride 2 from the top-left pixel, none past the edge:
 * each pixel lies in one window at most. */
static inline int pool_tiles_k2s2(const cnnc_pool2d_geom *g)
{
    return g->R == 2 && g->S == 2 && g->stride_h == 2 &&
           g->stride_w == 2 && g->pad_h == 0 && g->pad_w == 0 &&
           2 * g->P <= g->H && 2 * g->Q <= g->W;
}

/* Row kernels are written once with the window as arguments; inlining
 * them into a call with constants gives the common windows their own
 * unrolled, vectorised copies. */
#if defined(__GNUC__) || defined(__clang__)
#define POOL_INLINE static inline __attribute__((always_inline))
#else
#define POOL_INLINE static inline
#endif

/* TAP holds a tap's offset from its window's corner while a maximum is
 * sought. It is as wide as REAL so that selects on values and on offsets
 * vectorise together: int32 beside float; beside double, double itself
 * (exact for offsets below 2^53), since GCC does not vectorise 64-bit
 * integer selects on baseline x86-64. */
#define REAL float
#define TAP int32_t
#define FN(name) name##_f32
#include "pool2d_impl.h"
#undef REAL
#undef TAP
#undef FN

#define REAL double
#define TAP double
#define FN(name) name##_f64
#include "pool2d_impl.h"
#undef REAL
#undef TAP
#undef FN
