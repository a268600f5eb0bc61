/*
 * activation_impl.h - the public activation kernels, compiled by
 * activation.c for each element type, which defines REAL, FN(name) and
 * LOG. The per-element formulas are in activation_span_impl.h; this file
 * checks arguments and shares the work among threads.
 *
 * Elementwise kernels take arrays of n elements of any shape, flattened,
 * split into chunks of CNNC_ACT_CHUNK elements that threads take in
 * order. Softmax and log-softmax normalise along one axis: the array is
 * read as outer x C x inner (for (N, C, H, W) over dim=1: outer = N, C
 * classes, inner = H * W), and each of the outer * inner columns
 * x[o, :, i] is one distribution over the C classes.
 *
 * NaN goes through every forward kernel: an input NaN gives an output
 * NaN (softmax: the whole column).
 */

/* ---------------------------------------------------------------------- */
/* Elementwise                                                             */
/* ---------------------------------------------------------------------- */

/*
 * y = op(a, b) over n elements in parallel chunks. b is NULL for forward
 * operations. cost: multiply-adds per element, for the thread count.
 *
 *   a, b, y: n elements
 */
static int FN(elementwise)(int op, int64_t n, const REAL *a, const REAL *b,
                           int need_b, REAL param, REAL *y, int64_t cost)
{
    int64_t chunks = (n + CNNC_ACT_CHUNK - 1) / CNNC_ACT_CHUNK;
    int nthreads;

    if (n < 0) {
        return CNNC_ERR_SHAPE;
    }
    if (n > INT64_MAX / (int64_t)sizeof(REAL)) {
        return CNNC_ERR_OVERFLOW;
    }
    if (n > 0 && (a == NULL || y == NULL || (need_b && b == NULL))) {
        return CNNC_ERR_ARG;
    }
    nthreads = act_threads(n, cost);

    /* Consecutive chunks per thread (static schedule), so each thread
     * streams through one contiguous part of the arrays. */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t chunk = 0; chunk < chunks; chunk++) {
        int64_t lo = chunk * CNNC_ACT_CHUNK;
        int64_t len = n - lo < CNNC_ACT_CHUNK ? n - lo : CNNC_ACT_CHUNK;
        FN(act_span_dispatch)(op, len, a + lo, need_b ? b + lo : NULL, param,
                              y + lo);
    }
    (void)nthreads;
    return CNNC_OK;
}

/* y = max(x, 0). x, y: n elements. */
int FN(cnnc_relu_forward)(int64_t n, const REAL *x, REAL *y)
{
    return FN(elementwise)(CNNC_ACT_RELU, n, x, NULL, 0, 0, y,
                           CNNC_ACT_CHEAP);
}

/* dx = dy where a > 0, 0 elsewhere (0 at the kink). a is either the input
 * x or the output y: y > 0 exactly where x > 0, so both give the same
 * mask (the layer keeps y). dy, a, dx: n elements. */
int FN(cnnc_relu_backward)(int64_t n, const REAL *dy, const REAL *a,
                           REAL *dx)
{
    return FN(elementwise)(CNNC_ACT_RELU_BWD, n, dy, a, 1, 0, dx,
                           CNNC_ACT_CHEAP);
}

/* y = x for x > 0, negative_slope * x otherwise. x, y: n elements. */
int FN(cnnc_leaky_relu_forward)(int64_t n, const REAL *x,
                                REAL negative_slope, REAL *y)
{
    return FN(elementwise)(CNNC_ACT_LEAKY, n, x, NULL, 0, negative_slope, y,
                           CNNC_ACT_CHEAP);
}

/* dx = dy for x > 0, dy * negative_slope otherwise. From the input x: the
 * output's sign says nothing when the slope is 0 or negative.
 * dy, x, dx: n elements. */
int FN(cnnc_leaky_relu_backward)(int64_t n, const REAL *dy, const REAL *x,
                                 REAL negative_slope, REAL *dx)
{
    return FN(elementwise)(CNNC_ACT_LEAKY_BWD, n, dy, x, 1, negative_slope,
                           dx, CNNC_ACT_CHEAP);
}

/* y = x for x > 0, alpha * (e^x - 1) otherwise. x, y: n elements. */
int FN(cnnc_elu_forward)(int64_t n, const REAL *x, REAL alpha, REAL *y)
{
    return FN(elementwise)(CNNC_ACT_ELU, n, x, NULL, 0, alpha, y,
                           CNNC_ACT_TRANSCENDENTAL);
}

/* dx = dy for x > 0, dy * alpha * e^x otherwise (from the input x, so
 * that any alpha works). dy, x, dx: n elements. */
int FN(cnnc_elu_backward)(int64_t n, const REAL *dy, const REAL *x,
                          REAL alpha, REAL *dx)
{
    return FN(elementwise)(CNNC_ACT_ELU_BWD, n, dy, x, 1, alpha, dx,
                           CNNC_ACT_TRANSCENDENTAL);
}

/* y = 1 / (1 + e^-x), tending to 0 and 1 without overflow.
 * x, y: n elements. */
int FN(cnnc_sigmoid_forward)(int64_t n, const REAL *x, REAL *y)
{
    return FN(elementwise)(CNNC_ACT_SIGMOID, n, x, NULL, 0, 0, y,
                           CNNC_ACT_TRANSCENDENTAL);
}

/* dx = dy * y * (1 - y), from the output y; y (1 - y) <= 1/4.
 * dy, y, dx: n elements. */
int FN(cnnc_sigmoid_backward)(int64_t n, const REAL *dy, const REAL *y,
                              REAL *dx)
{
    return FN(elementwise)(CNNC_ACT_SIGMOID_BWD, n, dy, y, 1, 0, dx,
                           CNNC_ACT_CHEAP);
}

/* y = tanh(x), saturating to +-1 without overflow. x, y: n elements. */
int FN(cnnc_tanh_forward)(int64_t n, const REAL *x, REAL *y)
{
    return FN(elementwise)(CNNC_ACT_TANH, n, x, NULL, 0, 0, y,
                           CNNC_ACT_TRANSCENDENTAL);
}

/* dx = dy * (1 - y^2), from the output y. dy, y, dx: n elements. */
int FN(cnnc_tanh_backward)(int64_t n, const REAL *dy, const REAL *y,
                           REAL *dx)
{
    return FN(elementwise)(CNNC_ACT_TANH_BWD, n, dy, y, 1, 0, dx,
                           CNNC_ACT_CHEAP);
}

/* ---------------------------------------------------------------------- */
/* Softmax and log-softmax along the C axis of outer x C x inner            */
/* ---------------------------------------------------------------------- */

/*
 * The four softmax kernels share one plan. A work item is one column
 * (inner == 1: its C values are contiguous) or a block of up to
 * CNNC_SOFTMAX_BLOCK neighbouring columns (inner > 1: the C values of a
 * column are inner apart, and the block reads each class's values for
 * its columns contiguously).
 */

/* Checks a softmax geometry and counts its work items. */
static int FN(softmax_items)(int64_t outer, int64_t C, int64_t inner,
                             int64_t *items)
{
    int64_t total;

    if (outer < 0 || C < 0 || inner < 0) {
        return CNNC_ERR_SHAPE;
    }
    if (!cnnc_mul_ok(outer, C, &total) || !cnnc_mul_ok(total, inner, &total)
        || !cnnc_mul_ok(total, (int64_t)sizeof(REAL), &total)) {
        return CNNC_ERR_OVERFLOW;
    }
    *items = C == 0 ? 0
                    : outer * ((inner + CNNC_SOFTMAX_BLOCK - 1) /
                               CNNC_SOFTMAX_BLOCK);
    return CNNC_OK;
}

/*
 * Forward of one contiguous column x[0..C), for softmax (take_log == 0)
 * or log-softmax (take_log == 1). Subtracting the column's max m first
 * keeps every exponential in (0, 1], so nothing overflows:
 *   softmax:      y = e^(x - m) / sum_c e^(x - m)
 *   log-softmax:  y = (x - m) - log(sum_c e^(x - m))
 */
static void FN(softmax_column)(int64_t C, const REAL *x, REAL *y,
                               int take_log)
{
    REAL m = -(REAL)INFINITY, sum = 0;

    /* 1. The max (a NaN is skipped here but poisons the sum below). */
#pragma omp simd reduction(max : m)
    for (int64_t c = 0; c < C; c++) {
        m = x[c] > m ? x[c] : m;
    }

    /* 2. The exponentials, in y for now, and their sum. */
    FN(act_span_dispatch)(CNNC_ACT_EXP_SHIFT, C, x, NULL, m, y);
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < C; c++) {
        sum += y[c];
    }

    /* 3. Normalise. */
    if (take_log) {
        REAL lse = LOG(sum);
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
            y[c] = (x[c] - m) - lse;
        }
    } else {
        REAL inv = 1 / sum;
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
            y[c] *= inv;
        }
    }
}

/* The same for a block of B <= CNNC_SOFTMAX_BLOCK columns whose C values
 * are `inner` apart: x[c * inner + j] is class c of column j. */
static void FN(softmax_block)(int64_t C, int64_t inner, int64_t B,
                              const REAL *x, REAL *y, int take_log)
{
    REAL m[CNNC_SOFTMAX_BLOCK], sum[CNNC_SOFTMAX_BLOCK];

    /* 1. Each column's max. */
    for (int64_t j = 0; j < B; j++) {
        m[j] = -(REAL)INFINITY;
        sum[j] = 0;
    }
    for (int64_t c = 0; c < C; c++) {
        const REAL *xc = x + c * inner;
#pragma omp simd
        for (int64_t j = 0; j < B; j++) {
            m[j] = xc[j] > m[j] ? xc[j] : m[j];
        }
    }

    /* 2. The exponentials, in y for now, and each column's sum. */
    for (int64_t c = 0; c < C; c++) {
        REAL *yc = y + c * inner;
        FN(act_span_dispatch)(CNNC_ACT_EXP_DIFF, B, x + c * inner, m, 0, yc);
#pragma omp simd
        for (int64_t j = 0; j < B; j++) {
            sum[j] += yc[j];
        }
    }

    /* 3. Normalise: sum becomes log(sum) or 1 / sum. */
    for (int64_t j = 0; j < B; j++) {
        sum[j] = take_log ? LOG(sum[j]) : 1 / sum[j];
    }
    for (int64_t c = 0; c < C; c++) {
        const REAL *xc = x + c * inner;
        REAL *yc = y + c * inner;
        if (take_log) {
#pragma omp simd
            for (int64_t j = 0; j < B; j++) {
                yc[j] = (xc[j] - m[j]) - sum[j];
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < B; j++) {
                yc[j] *= sum[j];
            }
        }
    }
}

/* Forward over every column: x, y are outer x C x inner. */
static int FN(softmax_forward)(int64_t outer, int64_t C, int64_t inner,
                               const REAL *x, REAL *y, int take_log)
{
    int64_t items = 0, nblocks;
    int status = FN(softmax_items)(outer, C, inner, &items);
    int nthreads;

    if (status != CNNC_OK) {
        return status;
    }
    if (items == 0) {
        return CNNC_OK;
    }
    if (x == NULL || y == NULL) {
        return CNNC_ERR_ARG;
    }
    nthreads = act_threads(outer * C * inner, CNNC_ACT_TRANSCENDENTAL);

    /* Contiguous columns: one item per column. */
    if (inner == 1) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
        for (int64_t o = 0; o < outer; o++) {
            FN(softmax_column)(C, x + o * C, y + o * C, take_log);
        }
        (void)nthreads;
        return CNNC_OK;
    }

    /* Strided columns: one item per block of neighbouring columns. */
    nblocks = items / outer;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t item = 0; item < items; item++) {
        int64_t o = item / nblocks;
        int64_t j0 = item % nblocks * CNNC_SOFTMAX_BLOCK;
        int64_t B = inner - j0 < CNNC_SOFTMAX_BLOCK ? inner - j0
                                                    : CNNC_SOFTMAX_BLOCK;
        int64_t off = o * C * inner + j0;
        FN(softmax_block)(C, inner, B, x + off, y + off, take_log);
    }
    (void)nthreads;
    return CNNC_OK;
}

/*
 * Backward of one column from the forward's output y:
 *   softmax:      dx = y * (dy - sum_c dy * y)
 *   log-softmax:  dx = dy - e^y * sum_c dy
 * (softmax's Jacobian is diag(y) - y y^T; e^y of log-softmax's output is
 * the softmax).
 */
static void FN(softmax_column_backward)(int64_t C, const REAL *dy,
                                        const REAL *y, REAL *dx,
                                        int take_log)
{
    REAL s = 0;

    if (take_log) {
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < C; c++) {
            s += dy[c];
        }
        FN(act_span_dispatch)(CNNC_ACT_EXP_SHIFT, C, y, NULL, 0, dx);
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
            dx[c] = dy[c] - dx[c] * s;
        }
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < C; c++) {
            s += dy[c] * y[c];
        }
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
            dx[c] = y[c] * (dy[c] - s);
        }
    }
}

/* The same for a block of B columns whose C values are `inner` apart. */
static void FN(softmax_block_backward)(int64_t C, int64_t inner, int64_t B,
                                       const REAL *dy, const REAL *y,
                                       REAL *dx, int take_log)
{
    REAL s[CNNC_SOFTMAX_BLOCK];

    /* 1. Each column's sum (of dy * y, or of dy for log-softmax). */
    for (int64_t j = 0; j < B; j++) {
        s[j] = 0;
    }
    for (int64_t c = 0; c < C; c++) {
        const REAL *dyc = dy + c * inner, *yc = y + c * inner;
        if (take_log) {
#pragma omp simd
            for (int64_t j = 0; j < B; j++) {
                s[j] += dyc[j];
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < B; j++) {
                s[j] += dyc[j] * yc[j];
            }
        }
    }

    /* 2. The gradient. */
    for (int64_t c = 0; c < C; c++) {
        const REAL *dyc = dy + c * inner, *yc = y + c * inner;
        REAL *dxc = dx + c * inner;
        if (take_log) {
            FN(act_span_dispatch)(CNNC_ACT_EXP_SHIFT, B, yc, NULL, 0, dxc);
#pragma omp simd
            for (int64_t j = 0; j < B; j++) {
                dxc[j] = dyc[j] - dxc[j] * s[j];
            }
        } else {
#pragma omp simd
            for (int64_t j = 0; j < B; j++) {
                dxc[j] = yc[j] * (dyc[j] - s[j]);
            }
        }
    }
}

/* Backward over every column: dy, y, dx are outer x C x inner. */
static int FN(softmax_backward)(int64_t outer, int64_t C, int64_t inner,
                                const REAL *dy, const REAL *y, REAL *dx,
                                int take_log)
{
    int64_t items = 0, nblocks;
    int status = FN(softmax_items)(outer, C, inner, &items);
    int nthreads;

    if (status != CNNC_OK) {
        return status;
    }
    if (items == 0) {
        return CNNC_OK;
    }
    if (dy == NULL || y == NULL || dx == NULL) {
        return CNNC_ERR_ARG;
    }
    nthreads = act_threads(outer * C * inner,
                           take_log ? CNNC_ACT_TRANSCENDENTAL
                                    : CNNC_ACT_CHEAP);

    if (inner == 1) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
        for (int64_t o = 0; o < outer; o++) {
            FN(softmax_column_backward)(C, dy + o * C, y + o * C, dx + o * C,
                                        take_log);
        }
        (void)nthreads;
        return CNNC_OK;
    }

    nblocks = items / outer;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t item = 0; item < items; item++) {
        int64_t o = item / nblocks;
        int64_t j0 = item % nblocks * CNNC_SOFTMAX_BLOCK;
        int64_t B = inner - j0 < CNNC_SOFTMAX_BLOCK ? inner - j0
                                                    : CNNC_SOFTMAX_BLOCK;
        int64_t off = o * C * inner + j0;
        FN(softmax_block_backward)(C, inner, B, dy + off, y + off, dx + off,
                                   take_log);
    }
    (void)nthreads;
    return CNNC_OK;
}

/* x, y: outer x C x inner; y sums to 1 over C in every column. */
int FN(cnnc_softmax_forward)(int64_t outer, int64_t C, int64_t inner,
                             const REAL *x, REAL *y)
{
    return FN(softmax_forward)(outer, C, inner, x, y, 0);
}

/* dy, y, dx: outer x C x inner; y is the forward's output. */
int FN(cnnc_softmax_backward)(int64_t outer, int64_t C, int64_t inner,
                              const REAL *dy, const REAL *y, REAL *dx)
{
    return FN(softmax_backward)(outer, C, inner, dy, y, dx, 0);
}

/* x, y: outer x C x inner; e^y sums to 1 over C in every column. */
int FN(cnnc_log_softmax_forward)(int64_t outer, int64_t C, int64_t inner,
                                 const REAL *x, REAL *y)
{
    return FN(softmax_forward)(outer, C, inner, x, y, 1);
}

/* dy, y, dx: outer x C x inner; y is the forward's output. */
int FN(cnnc_log_softmax_backward)(int64_t outer, int64_t C, int64_t inner,
                                  const REAL *dy, const REAL *y, REAL *dx)
{
    return FN(softmax_backward)(outer, C, inner, dy, y, dx, 1);
}
