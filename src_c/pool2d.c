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
    /* Adjacent taps always reach the input: a window starts before its
     * end and, with pad <= k / 2, ends after its start. */
    if (dil == 1) {
        return 1;
    }
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
    if (g->P > INT64_MAX / 8 || g->Q > INT64_MAX / 8 ||
        !cnnc_mul_ok(g->H, g->P + 1, &tmp) ||
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

/* Adaptive window [floor(o * in / out), ceil((o + 1) * in / out)). */
static inline void adaptive_window(int64_t o, int64_t in, int64_t out,
                                   int64_t *lo, int64_t *hi)
{
    *lo = o * in / out;
    *hi = ceil_div_pos((o + 1) * in, out);
}

/* The column windows of adaptive pooling, computed once per call: Q
 * starts then Q ends in one allocation (NULL when out of memory). */
static int64_t *adaptive_columns(const cnnc_pool2d_geom *g)
{
    int64_t *bounds = cnnc_alloc((size_t)(2 * g->Q) * sizeof(int64_t));

    if (bounds != NULL) {
        for (int64_t q = 0; q < g->Q; q++) {
            adaptive_window(q, g->W, g->Q, &bounds[q], &bounds[g->Q + q]);
        }
    }
    return bounds;
}

/*
 * The outputs [lo, hi) along one axis whose windows lie wholly inside the
 * input: no tap in the padding, none past the end. The outputs before lo
 * and from hi on are the border.
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

/* ---------------------------------------------------------------------- */
/* Runs: a plane's outputs in groups the kernels can vectorise             */
/* ---------------------------------------------------------------------- */

/* The row kernels that may pool whole windows: the two common windows
 * have their own (in the SIMD table), every other window the general. */
enum { POOL_ROW_ANY, POOL_ROW_K2S2, POOL_ROW_K3S2 };

/* The interior of a geometry, outputs [p_lo, p_hi) x [q_lo, q_hi) with
 * whole windows, and the row kernel for them. */
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

/* The kernels work on runs of at most this many outputs, so that their
 * results fit in small buffers on the stack. */
#define POOL_CHUNK 64

/*
 * A run of outputs whose windows are clipped alike, so that one kernel
 * call pools a line of them: m lines of n outputs. Output j of line i is
 * y[y0 + i * y_line + j * y_step]; its window's first tap inside the image
 * is x[x0 + i * x_line + j * x_step], and it has taps_h x taps_w taps
 * inside the image, dil_h rows and dil_w columns apart. div_h x div_w is
 * the window clipped to the padded input only (average pooling's divisor
 * with count_include_pad). `whole` marks windows that need no clipping,
 * where the plan's row kernel applies.
 */
typedef struct {
    int64_t m, n;
    int64_t y0, y_line, y_step;
    int64_t x0, x_line, x_step;
    int64_t taps_h, taps_w;
    int64_t div_h, div_w;
    int whole;
} pool_run;

/* One output's window along one axis: first tap inside the input, taps
 * inside, and the length clipped to the padded input (for dil = 1). */
typedef struct {
    int64_t first, taps, padded;
} pool_span;

static inline pool_span pool_axis(int64_t o, int64_t in, int64_t k,
                                  int64_t stride, int64_t pad, int64_t dil)
{
    pool_span span;
    int64_t start = o * stride - pad;
    int64_t lo, hi, end;

    /* Taps start + t * dil, t in [lo, hi), lie inside [0, in); without
     * dilation that needs no division. */
    if (dil == 1) {
        lo = start < 0 ? -start : 0;
        hi = in - start;
    } else {
        lo = start < 0 ? ceil_div_pos(-start, dil) : 0;
        hi = ceil_div_pos(in - start, dil);
    }
    hi = hi < k ? hi : k;
    end = start + k < in + pad ? start + k : in + pad;

    span.first = start + lo * dil;
    span.taps = hi - lo;
    span.padded = end - start;
    return span;
}

/* Where pool_next_run is in a plane. Start with all fields zero. */
typedef struct {
    int part;      /* 0: rows, 1: border columns, 2: corners */
    int64_t line;  /* the row p (parts 0, 2) or column q (part 1) */
    int64_t next;  /* the next q (parts 0, 2) or p (part 1) in that line */
} pool_cursor;

/* The border columns are [0, q_lo) then [q_hi, Q); the same for rows. */
static inline int64_t pool_next_border(int64_t o, int64_t lo, int64_t hi)
{
    return o + 1 == lo ? hi : o + 1;
}

/* A run of m lines of n outputs from (p, q): lines are output rows, or,
 * with `down`, one output column. The first output's window stands for
 * all: the caller groups outputs whose windows are clipped alike. */
static void pool_set_run(const cnnc_pool2d_geom *g, int64_t p, int64_t q,
                         int64_t m, int64_t n, int down, int whole,
                         pool_run *run)
{
    pool_span h = pool_axis(p, g->H, g->R, g->stride_h, g->pad_h, g->dil_h);
    pool_span w = pool_axis(q, g->W, g->S, g->stride_w, g->pad_w, g->dil_w);

    run->m = m;
    run->n = n;
    run->y0 = p * g->Q + q;
    run->y_line = g->Q;
    run->y_step = down ? g->Q : 1;
    run->x0 = h.first * g->W + w.first;
    run->x_line = g->stride_h * g->W;
    run->x_step = down ? g->stride_h * g->W : g->stride_w;
    run->taps_h = h.taps;
    run->taps_w = w.taps;
    run->div_h = h.padded;
    run->div_w = w.padded;
    run->whole = whole;
}

/*
 * The next run of a plane, cut like a picture frame: part 0 takes the
 * output rows' interior columns in chunks, all interior rows at once
 * (whole windows) and border rows one by one (windows clipped above or
 * below); part 1 each border column's interior rows (clipped left or
 * right); part 2 the corners one by one. Returns 0 when the plane is done.
 */
static int pool_next_run(const cnnc_pool2d_geom *g, const pool_plan *plan,
                         pool_cursor *cur, pool_run *run)
{
    int64_t p, q, n;

    /* Part 0: from row p, interior columns from cur->next on. */
    if (cur->part == 0) {
        if (cur->next < plan->q_lo) {
            cur->next = plan->q_lo;
        }
        if (cur->line < g->P && cur->next < plan->q_hi) {
            int64_t m;
            int inside;

            p = cur->line;
            q = cur->next;
            n = plan->q_hi - q < POOL_CHUNK ? plan->q_hi - q : POOL_CHUNK;
            inside = p >= plan->p_lo && p < plan->p_hi;
            m = inside ? plan->p_hi - p : 1;
            pool_set_run(g, p, q, m, n, 0, inside, run);
            cur->next = q + n;
            if (cur->next == plan->q_hi) {
                cur->line += m;
                cur->next = 0;
            }
            return 1;
        }
        cur->part = 1;
        cur->line = plan->q_lo > 0 ? 0 : plan->q_hi;
        cur->next = plan->p_lo;
    }

    /* Part 1: border column q, interior rows from cur->next on. */
    if (cur->part == 1) {
        if (cur->line < g->Q && cur->next < plan->p_hi) {
            p = cur->next;
            q = cur->line;
            n = plan->p_hi - p < POOL_CHUNK ? plan->p_hi - p : POOL_CHUNK;
            pool_set_run(g, p, q, 1, n, 1, 0, run);
            cur->next = p + n;
            if (cur->next == plan->p_hi) {
                cur->line = pool_next_border(q, plan->q_lo, plan->q_hi);
                cur->next = plan->p_lo;
            }
            return 1;
        }
        cur->part = 2;
        cur->line = plan->p_lo > 0 ? 0 : plan->p_hi;
        cur->next = plan->q_lo > 0 ? 0 : plan->q_hi;
    }

    /* Part 2: the corners, border rows by border columns. */
    if (cur->line >= g->P || cur->next >= g->Q) {
        return 0;
    }
    p = cur->line;
    q = cur->next;
    pool_set_run(g, p, q, 1, 1, 0, 0, run);
    cur->next = pool_next_border(q, plan->q_lo, plan->q_hi);
    if (cur->next >= g->Q) {
        cur->line = pool_next_border(p, plan->p_lo, plan->p_hi);
        cur->next = plan->q_lo > 0 ? 0 : plan->q_hi;
    }
    return 1;
}

/* The divisor of a run's average windows: see cnnc_avgpool2d_forward in
 * cnnc.h. */
static inline int64_t avg_divisor(const pool_run *run, int count_include_pad)
{
    return count_include_pad ? run->div_h * run->div_w
                             : run->taps_h * run->taps_w;
}

/* 2 x 2 windows at stride 2 from the top-left pixel, none past the edge:
 * each pixel lies in one window at most. */
static inline int pool_tiles_k2s2(const cnnc_pool2d_geom *g)
{
    return g->R == 2 && g->S == 2 && g->stride_h == 2 &&
           g->stride_w == 2 && g->pad_h == 0 && g->pad_w == 0 &&
           2 * g->P <= g->H && 2 * g->Q <= g->W;
}

/* Kernels for fixed windows are written once with the window as an
 * argument; inlining them into calls with constants gives each common
 * window its own unrolled, vectorised copy. */
#if defined(__GNUC__) || defined(__clang__)
#define POOL_INLINE static inline __attribute__((always_inline))
#else
#define POOL_INLINE static inline
#endif

/* TAP holds a tap's offset from its window's first tap while a maximum is
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
