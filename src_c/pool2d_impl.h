/*
 * pool2d_impl.h - pooling kernels, compiled by pool2d.c for each element
 * type, which defines REAL, TAP and FN(name).
 *
 * A plane is pooled run by run (see pool_next_run in pool2d.c), and a
 * run line by line: up to POOL_CHUNK outputs whose windows are clipped
 * alike. The general kernels (max_taps, avg_taps, avg_spread) take a line
 * tap by tap, each tap a pass over the line's windows, which vectorises
 * whatever the window's shape. Lines of whole 2 x 2 or 3 x 3 windows at
 * stride 2 go to kernels written for those shapes, the max pooling ones
 * through the SIMD table. A driver checks the geometry and pools the
 * N x C planes in parallel.
 */

/* ---------------------------------------------------------------------- */
/* Max pooling                                                             */
/* ---------------------------------------------------------------------- */

/*
 * One step of a running maximum: take v, found at offset k, when it is
 * larger than the best so far or NaN. So ties keep the first maximum in
 * window order, and a NaN always wins (the last NaN, as in PyTorch). It
 * is written as selects, not branches: on real data the comparison is a
 * coin toss that a branch predictor would miss half the time.
 */
static inline void FN(max_step)(REAL v, TAP k, REAL *best, TAP *at)
{
    int take = (v > *best) | (v != v);

    *best = take ? v : *best;
    *at = take ? k : *at;
}

/*
 * The general kernel: n windows, window j's first tap at x0[j * step],
 * th x tw taps at offsets r * row_step + s * col_step. Writes each maximum
 * to y[j] and the winner's offset from x0 + j * step to tap[j]. The taps
 * are visited in row-major order, so the rule of max_step holds.
 */
static void FN(max_taps)(const REAL *x0, int64_t n, int64_t step,
                         int64_t th, int64_t tw, int64_t row_step,
                         int64_t col_step, REAL *y, TAP *tap)
{
    for (int64_t j = 0; j < n; j++) {
        y[j] = (REAL)-INFINITY;
        tap[j] = 0;  /* if every tap is -inf, the first one */
    }
    for (int64_t r = 0; r < th; r++) {
        for (int64_t s = 0; s < tw; s++) {
            int64_t k = r * row_step + s * col_step;
            const REAL *xk = x0 + k;
#ifdef _OPENMP
#pragma omp simd
#endif
            for (int64_t j = 0; j < n; j++) {
                FN(max_step)(xk[j * step], (TAP)k, &y[j], &tap[j]);
            }
        }
    }
}

/*
 * Whole R x R windows (R = 2 or 3) at stride 2 in a plane W wide, the
 * same contract as max_taps with step 2, row_step W and col_step 1. The
 * window is a constant here, so the compiler unrolls the taps and keeps
 * each lane's maximum in a register: one vector lane per window.
 */
POOL_INLINE void FN(max_row)(const REAL *x0, int64_t n, int64_t W,
                             int64_t R, REAL *y, TAP *tap)
{
#ifdef _OPENMP
#pragma omp simd
#endif
    for (int64_t j = 0; j < n; j++) {
        const REAL *corner = x0 + 2 * j;
        REAL best = (REAL)-INFINITY;
        TAP at = 0;

        for (int64_t r = 0; r < R; r++) {
            for (int64_t s = 0; s < R; s++) {
                FN(max_step)(corner[r * W + s], (TAP)(r * W + s), &best,
                             &at);
            }
        }
        y[j] = best;
        tap[j] = at;
    }
}

/* The common windows as the SIMD table's kernels (the scalar table points
 * at these; the AVX2 one at pool2d_avx2.c). */
void FN(cnnc_maxpool_k2s2_scalar)(const REAL *x0, int64_t n, int64_t W,
                                  REAL *y, TAP *tap)
{
    FN(max_row)(x0, n, W, 2, y, tap);
}

void FN(cnnc_maxpool_k3s2_scalar)(const REAL *x0, int64_t n, int64_t W,
                                  REAL *y, TAP *tap)
{
    FN(max_row)(x0, n, W, 3, y, tap);
}

/* One line of a run: its n maxima and the winners' offsets from their
 * first taps, written to y (y_step apart) and to idx as plane indices. */
static void FN(max_line)(const cnnc_pool2d_geom *g, const pool_plan *plan,
                         const pool_run *run, const REAL *x, int64_t x0,
                         REAL *y, int64_t *idx)
{
    REAL best[POOL_CHUNK];
    TAP tap[POOL_CHUNK];
    int64_t n = run->n;
    int along_row = run->y_step == 1;
    REAL *out = along_row ? y : best;

    /* The maxima (straight into y along a row) and the offsets. */
    if (run->whole && plan->row == POOL_ROW_K2S2) {
        cnnc_simd->FN(maxpool_k2s2)(x + x0, n, g->W, out, tap);
    } else if (run->whole && plan->row == POOL_ROW_K3S2) {
        cnnc_simd->FN(maxpool_k3s2)(x + x0, n, g->W, out, tap);
    } else {
        FN(max_taps)(x + x0, n, run->x_step, run->taps_h, run->taps_w,
                     g->dil_h * g->W, g->dil_w, out, tap);
    }
    if (!along_row) {
        for (int64_t j = 0; j < n; j++) {
            y[j * run->y_step] = best[j];
        }
    }

    /* Offsets turned into indices in the plane. */
    if (idx != NULL && along_row) {
#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t j = 0; j < n; j++) {
            idx[j] = x0 + j * run->x_step + (int64_t)tap[j];
        }
    } else if (idx != NULL) {
        for (int64_t j = 0; j < n; j++) {
            idx[j * run->y_step] = x0 + j * run->x_step + (int64_t)tap[j];
        }
    }
}

/* One plane. x: H x W, y: P x Q, idx: P x Q or NULL. */
static void FN(maxpool_plane)(const cnnc_pool2d_geom *g,
                              const pool_plan *plan, const REAL *x, REAL *y,
                              int64_t *idx)
{
    pool_cursor cur = {0, 0, 0};
    pool_run run;

    while (pool_next_run(g, plan, &cur, &run)) {
        for (int64_t i = 0; i < run.m; i++) {
            int64_t out = run.y0 + i * run.y_line;
            FN(max_line)(g, plan, &run, x, run.x0 + i * run.x_line, y + out,
                         idx == NULL ? NULL : idx + out);
        }
    }
}

int FN(cnnc_maxpool2d_forward)(const cnnc_pool2d_geom *g, const REAL *x,
                               REAL *y, int64_t *idx)
{
    int status = cnnc_pool2d_check(g);
    if (status != CNNC_OK) {
        return status;
    }
    if (x == NULL || y == NULL) {
        return CNNC_ERR_ARG;
    }
    /* Offsets within a window are kept in 32 bits (see TAP). */
    if (g->H * g->W > INT32_MAX) {
        return CNNC_ERR_OVERFLOW;
    }

    int64_t planes = g->N * g->C, HW = g->H * g->W, PQ = g->P * g->Q;
    int nthreads = cnnc_threads_for(planes * HW);
    pool_plan plan = pool_make_plan(g);

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t j = 0; j < planes; j++) {
        FN(maxpool_plane)(g, &plan, x + j * HW, y + j * PQ,
                          idx == NULL ? NULL : idx + j * PQ);
    }
    (void)nthreads;
    return CNNC_OK;
}

/*
 * dx = 0, then each dy[p, q] added at its recorded index; one plane.
 * Returns 1 if an index was out of range (that gradient is dropped).
 */
static int FN(maxpool_backward_plane)(int64_t HW, int64_t PQ,
                                      const REAL *dy, const int64_t *idx,
                                      REAL *dx)
{
    int bad = 0;

    memset(dx, 0, (size_t)HW * sizeof(REAL));
    for (int64_t j = 0; j < PQ; j++) {
        int64_t at = idx[j];
        if (at < 0 || at >= HW) {
            bad = 1;
            continue;
        }
        dx[at] += dy[j];
    }
    return bad;
}

int FN(cnnc_maxpool2d_backward)(const cnnc_pool2d_geom *g, const REAL *dy,
                                const int64_t *idx, REAL *dx)
{
    int status = pool_planes_check(g);
    if (status != CNNC_OK) {
        return status;
    }
    if (dy == NULL || idx == NULL || dx == NULL) {
        return CNNC_ERR_ARG;
    }

    int64_t planes = g->N * g->C, HW = g->H * g->W, PQ = g->P * g->Q;
    int nthreads = cnnc_threads_for(planes * HW);
    int bad = 0;

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static) \
    reduction(| : bad)
#endif
    for (int64_t j = 0; j < planes; j++) {
        bad |= FN(maxpool_backward_plane)(HW, PQ, dy + j * PQ,
                                          idx + j * PQ, dx + j * HW);
    }
    (void)nthreads;
    return bad ? CNNC_ERR_ARG : CNNC_OK;
}

/* ---------------------------------------------------------------------- */
/* Average pooling                                                         */
/* ---------------------------------------------------------------------- */

/*
 * The general kernel: n windows, window j's first tap at x0[j * step],
 * th x tw adjacent taps in a plane W wide; sum[j] = their sum, added in
 * row-major order. (The caller divides.)
 */
static void FN(avg_taps)(const REAL *x0, int64_t n, int64_t step,
                         int64_t th, int64_t tw, int64_t W, REAL *sum)
{
    for (int64_t j = 0; j < n; j++) {
        sum[j] = 0;
    }
    for (int64_t r = 0; r < th; r++) {
        for (int64_t s = 0; s < tw; s++) {
            const REAL *xk = x0 + r * W + s;
#ifdef _OPENMP
#pragma omp simd
#endif
            for (int64_t j = 0; j < n; j++) {
                sum[j] += xk[j * step];
            }
        }
    }
}

/* Whole R x R windows (R = 2 or 3) at stride 2: the means, y[j] =
 * avg_taps' sum / count, with the window a constant, unrolled, one vector
 * lane per window. Same sums, same order. */
POOL_INLINE void FN(avg_row)(const REAL *x0, int64_t n, int64_t W,
                             int64_t R, REAL count, REAL *y)
{
#ifdef _OPENMP
#pragma omp simd
#endif
    for (int64_t j = 0; j < n; j++) {
        const REAL *corner = x0 + 2 * j;
        REAL total = 0;

        for (int64_t r = 0; r < R; r++) {
            for (int64_t s = 0; s < R; s++) {
                total += corner[r * W + s];
            }
        }
        y[j] = total / count;
    }
}

/* One line of a run: its n means, written to y (y_step apart). */
static void FN(avg_line)(const cnnc_pool2d_geom *g, const pool_plan *plan,
                         const pool_run *run, int count_include_pad,
                         const REAL *x0, REAL *y)
{
    REAL sum[POOL_CHUNK];
    REAL count = (REAL)avg_divisor(run, count_include_pad);
    int64_t n = run->n;

    if (run->whole && plan->row == POOL_ROW_K2S2 && run->y_step == 1) {
        FN(avg_row)(x0, n, g->W, 2, count, y);
    } else if (run->whole && plan->row == POOL_ROW_K3S2 &&
               run->y_step == 1) {
        FN(avg_row)(x0, n, g->W, 3, count, y);
    } else {
        FN(avg_taps)(x0, n, run->x_step, run->taps_h, run->taps_w, g->W,
                     sum);
        for (int64_t j = 0; j < n; j++) {
            y[j * run->y_step] = sum[j] / count;
        }
    }
}

/* One plane (dilation 1). x: H x W, y: P x Q. */
static void FN(avgpool_plane)(const cnnc_pool2d_geom *g,
                              const pool_plan *plan, int count_include_pad,
                              const REAL *x, REAL *y)
{
    pool_cursor cur = {0, 0, 0};
    pool_run run;

    while (pool_next_run(g, plan, &cur, &run)) {
        for (int64_t i = 0; i < run.m; i++) {
            FN(avg_line)(g, plan, &run, count_include_pad,
                         x + run.x0 + i * run.x_line,
                         y + run.y0 + i * run.y_line);
        }
    }
}

int FN(cnnc_avgpool2d_forward)(const cnnc_pool2d_geom *g,
                               int count_include_pad, const REAL *x, REAL *y)
{
    int status = cnnc_pool2d_check(g);
    if (status != CNNC_OK) {
        return status;
    }
    if (x == NULL || y == NULL || g->dil_h != 1 || g->dil_w != 1) {
        return CNNC_ERR_ARG;
    }

    int64_t planes = g->N * g->C, HW = g->H * g->W, PQ = g->P * g->Q;
    int nthreads = cnnc_threads_for(planes * HW);
    pool_plan plan = pool_make_plan(g);

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t j = 0; j < planes; j++) {
        FN(avgpool_plane)(g, &plan, count_include_pad, x + j * HW,
                          y + j * PQ);
    }
    (void)nthreads;
    return CNNC_OK;
}

/*
 * The adjoint of avg_taps: every tap of window j receives share[j]. For
 * one tap the n windows touch n different pixels, so each pass over them
 * vectorises; overlapping windows meet only across passes.
 */
static void FN(avg_spread)(REAL *dx0, int64_t n, int64_t step, int64_t th,
                           int64_t tw, int64_t W, const REAL *share)
{
    for (int64_t r = 0; r < th; r++) {
        for (int64_t s = 0; s < tw; s++) {
            REAL *dxk = dx0 + r * W + s;
#ifdef _OPENMP
#pragma omp simd
#endif
            for (int64_t j = 0; j < n; j++) {
                dxk[j * step] += share[j];
            }
        }
    }
}

/* dx = 0, then each window's pixels get dy[p, q] / divisor; one plane. */
static void FN(avgpool_backward_plane)(const cnnc_pool2d_geom *g,
                                       const pool_plan *plan,
                                       int count_include_pad, const REAL *dy,
                                       REAL *dx)
{
    REAL share[POOL_CHUNK];
    pool_cursor cur = {0, 0, 0};
    pool_run run;

    memset(dx, 0, (size_t)(g->H * g->W) * sizeof(REAL));
    while (pool_next_run(g, plan, &cur, &run)) {
        REAL count = (REAL)avg_divisor(&run, count_include_pad);

        for (int64_t i = 0; i < run.m; i++) {
            const REAL *dyi = dy + run.y0 + i * run.y_line;
            for (int64_t j = 0; j < run.n; j++) {
                share[j] = dyi[j * run.y_step] / count;
            }
            FN(avg_spread)(dx + run.x0 + i * run.x_line, run.n, run.x_step,
                           run.taps_h, run.taps_w, g->W, share);
        }
    }
}

/* 2 x 2 windows at stride 2 that tile the plane: each pixel is in one
 * window at most, so dx is written once; rows and columns no window
 * covers are zeroed. */
static void FN(avgpool_backward_plane_k2s2)(const cnnc_pool2d_geom *g,
                                            const REAL *dy, REAL *dx)
{
    int64_t W = g->W, Q = g->Q;

    for (int64_t p = 0; p < g->P; p++) {
        const REAL *dyrow = dy + p * Q;
        REAL *top = dx + 2 * p * W, *bottom = top + W;

#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t q = 0; q < Q; q++) {
            REAL share = dyrow[q] / (REAL)4;
            top[2 * q] = share;
            top[2 * q + 1] = share;
            bottom[2 * q] = share;
            bottom[2 * q + 1] = share;
        }
        for (int64_t w = 2 * Q; w < W; w++) {
            top[w] = 0;
            bottom[w] = 0;
        }
    }
    for (int64_t h = 2 * g->P; h < g->H; h++) {
        memset(dx + h * W, 0, (size_t)W * sizeof(REAL));
    }
}

int FN(cnnc_avgpool2d_backward)(const cnnc_pool2d_geom *g,
                                int count_include_pad, const REAL *dy,
                                REAL *dx)
{
    int status = cnnc_pool2d_check(g);
    if (status != CNNC_OK) {
        return status;
    }
    if (dy == NULL || dx == NULL || g->dil_h != 1 || g->dil_w != 1) {
        return CNNC_ERR_ARG;
    }

    int64_t planes = g->N * g->C, HW = g->H * g->W, PQ = g->P * g->Q;
    int nthreads = cnnc_threads_for(planes * HW);
    int tiles = pool_tiles_k2s2(g);
    pool_plan plan = pool_make_plan(g);

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t j = 0; j < planes; j++) {
        if (tiles) {
            FN(avgpool_backward_plane_k2s2)(g, dy + j * PQ, dx + j * HW);
        } else {
            FN(avgpool_backward_plane)(g, &plan, count_include_pad,
                                       dy + j * PQ, dx + j * HW);
        }
    }
    (void)nthreads;
    return CNNC_OK;
}

/* ---------------------------------------------------------------------- */
/* Adaptive average pooling                                                */
/* ---------------------------------------------------------------------- */

/* The sum of v[0..len), in 16 partial sums: the adds of one sum would
 * wait on each other, those of 16 run side by side in vector lanes. */
static REAL FN(sum_run)(const REAL *v, int64_t len)
{
    REAL part[16] = {0};
    REAL sum = 0;
    int64_t k = 0;

    for (; k + 16 <= len; k += 16) {
        for (int t = 0; t < 16; t++) {
            part[t] += v[k + t];
        }
    }
    for (; k < len; k++) {
        sum += v[k];
    }
    for (int t = 0; t < 16; t++) {
        sum += part[t];
    }
    return sum;
}

/*
 * One plane. x: H x W, y: P x Q. w_lo and w_hi hold the Q column windows;
 * colsum is W elements of workspace. Each output row first adds its
 * window's rows into colsum (contiguous, vectorised adds), then each
 * output sums its columns of colsum.
 */
static void FN(adaptive_plane)(const cnnc_pool2d_geom *g, const REAL *x,
                               REAL *y, const int64_t *w_lo,
                               const int64_t *w_hi, REAL *colsum)
{
    for (int64_t p = 0; p < g->P; p++) {
        int64_t h_lo, h_hi;
        adaptive_window(p, g->H, g->P, &h_lo, &h_hi);

        /* The window's rows, added column by column. */
        memcpy(colsum, x + h_lo * g->W, (size_t)g->W * sizeof(REAL));
        for (int64_t h = h_lo + 1; h < h_hi; h++) {
            const REAL *row = x + h * g->W;
#ifdef _OPENMP
#pragma omp simd
#endif
            for (int64_t w = 0; w < g->W; w++) {
                colsum[w] += row[w];
            }
        }

        /* Each output's columns of those sums. */
        for (int64_t q = 0; q < g->Q; q++) {
            int64_t width = w_hi[q] - w_lo[q];
            REAL sum = FN(sum_run)(colsum + w_lo[q], width);
            y[p * g->Q + q] = sum / (REAL)((h_hi - h_lo) * width);
        }
    }
}

int FN(cnnc_adaptive_avgpool2d_forward)(const cnnc_pool2d_geom *g,
                                        const REAL *x, REAL *y)
{
    int status = pool_planes_check(g);
    if (status != CNNC_OK) {
        return status;
    }
    if (x == NULL || y == NULL) {
        return CNNC_ERR_ARG;
    }

    int64_t planes = g->N * g->C, HW = g->H * g->W, PQ = g->P * g->Q;
    int nthreads = cnnc_threads_for(planes * (HW > PQ ? HW : PQ));
    int64_t row = (g->W + 15) / 16 * 16;  /* whole cache lines per thread */
    int64_t *bounds = adaptive_columns(g);
    REAL *colsum = cnnc_alloc((size_t)(nthreads * row) * sizeof(REAL));

    if (bounds == NULL || colsum == NULL) {
        cnnc_free(bounds);
        cnnc_free(colsum);
        return CNNC_ERR_NOMEM;
    }

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t j = 0; j < planes; j++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        FN(adaptive_plane)(g, x + j * HW, y + j * PQ, bounds,
                           bounds + g->Q, colsum + tid * row);
    }
    cnnc_free(bounds);
    cnnc_free(colsum);
    return CNNC_OK;
}

/*
 * Each window's pixels get dy[p, q] / window size; one plane; w_lo and
 * w_hi as in adaptive_plane. When P divides H and Q divides W the windows
 * tile the plane and each pixel is written once; otherwise they overlap,
 * and dx is zeroed and accumulated.
 */
static void FN(adaptive_backward_plane)(const cnnc_pool2d_geom *g,
                                        const REAL *dy, REAL *dx,
                                        const int64_t *w_lo,
                                        const int64_t *w_hi)
{
    int tiles = g->H % g->P == 0 && g->W % g->Q == 0;

    if (!tiles) {
        memset(dx, 0, (size_t)(g->H * g->W) * sizeof(REAL));
    }
    for (int64_t p = 0; p < g->P; p++) {
        int64_t h_lo, h_hi;
        adaptive_window(p, g->H, g->P, &h_lo, &h_hi);

        for (int64_t q = 0; q < g->Q; q++) {
            REAL share = dy[p * g->Q + q] /
                         (REAL)((h_hi - h_lo) * (w_hi[q] - w_lo[q]));
            for (int64_t h = h_lo; h < h_hi; h++) {
                REAL *row = dx + h * g->W;
                if (tiles) {
                    for (int64_t w = w_lo[q]; w < w_hi[q]; w++) {
                        row[w] = share;
                    }
                } else {
                    for (int64_t w = w_lo[q]; w < w_hi[q]; w++) {
                        row[w] += share;
                    }
                }
            }
        }
    }
}

int FN(cnnc_adaptive_avgpool2d_backward)(const cnnc_pool2d_geom *g,
                                         const REAL *dy, REAL *dx)
{
    int status = pool_planes_check(g);
    if (status != CNNC_OK) {
        return status;
    }
    if (dy == NULL || dx == NULL) {
        return CNNC_ERR_ARG;
    }

    int64_t planes = g->N * g->C, HW = g->H * g->W, PQ = g->P * g->Q;
    int nthreads = cnnc_threads_for(planes * (HW > PQ ? HW : PQ));
    int64_t *bounds = adaptive_columns(g);

    if (bounds == NULL) {
        return CNNC_ERR_NOMEM;
    }

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t j = 0; j < planes; j++) {
        FN(adaptive_backward_plane)(g, dy + j * PQ, dx + j * HW, bounds,
                                    bounds + g->Q);
    }
    (void)nthreads;
    cnnc_free(bounds);
    return CNNC_OK;
}
