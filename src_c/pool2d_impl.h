/*
 * pool2d_impl.h - pooling kernels, compiled by pool2d.c for each element
 * type, which defines REAL and FN(name) as gemm.c does.
 *
 * Each operation has a plane kernel that pools one H x W plane into one
 * P x Q plane for any geometry (the specification), and the common window
 * shapes (2 x 2 and 3 x 3 at stride 2, unpadded) have specialised plane
 * kernels with fixed-size windows the compiler can unroll and vectorise.
 * A driver checks the geometry and runs the plane kernel over all N x C
 * planes in parallel.
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
 * Whole windows: n outputs along a row, window j's corner at
 * x0[j * stride], its R x S taps dil_h rows and dil_w columns apart in a
 * plane W wide. Writes each maximum to y[j] and the winner's offset from
 * its corner to tap[j]. One vector lane per output.
 */
POOL_INLINE void FN(max_row)(const REAL *x0, int64_t n, int64_t W,
                             int64_t R, int64_t S, int64_t stride,
                             int64_t dil_h, int64_t dil_w, REAL *y, TAP *tap)
{
#ifdef _OPENMP
#pragma omp simd
#endif
    for (int64_t j = 0; j < n; j++) {
        const REAL *corner = x0 + j * stride;
        REAL best = (REAL)-INFINITY;
        TAP at = 0;

        for (int64_t r = 0; r < R; r++) {
            for (int64_t s = 0; s < S; s++) {
                int64_t k = r * dil_h * W + s * dil_w;
                FN(max_step)(corner[k], (TAP)k, &best, &at);
            }
        }
        y[j] = best;
        tap[j] = at;
    }
}

/* The common windows as the SIMD table's row kernels (the scalar table
 * points at these; the AVX2 one at pool2d_avx2.c). */
void FN(cnnc_maxpool_k2s2_scalar)(const REAL *x0, int64_t n, int64_t W,
                                  REAL *y, TAP *tap)
{
    FN(max_row)(x0, n, W, 2, 2, 2, 1, 1, y, tap);
}

void FN(cnnc_maxpool_k3s2_scalar)(const REAL *x0, int64_t n, int64_t W,
                                  REAL *y, TAP *tap)
{
    FN(max_row)(x0, n, W, 3, 3, 2, 1, 1, y, tap);
}

/* The plan's row kernel on n whole windows. */
static void FN(max_run)(const cnnc_pool2d_geom *g, int row, const REAL *x0,
                        int64_t n, REAL *y, TAP *tap)
{
    if (row == POOL_ROW_K2S2) {
        cnnc_simd->FN(maxpool_k2s2)(x0, n, g->W, y, tap);
    } else if (row == POOL_ROW_K3S2) {
        cnnc_simd->FN(maxpool_k3s2)(x0, n, g->W, y, tap);
    } else {
        FN(max_row)(x0, n, g->W, g->R, g->S, g->stride_w, g->dil_h,
                    g->dil_w, y, tap);
    }
}

/*
 * One output pixel (p, q) of any window, clipped to the image; the
 * border code. Same rule as max_step, with `at` the index in the plane.
 */
static void FN(max_pixel)(const cnnc_pool2d_geom *g, const REAL *x,
                          int64_t p, int64_t q, REAL *y, int64_t *idx)
{
    int64_t h0, r_lo, r_hi, w0, s_lo, s_hi;
    pool_taps(p, g->H, g->R, g->stride_h, g->pad_h, g->dil_h, &h0, &r_lo,
              &r_hi);
    pool_taps(q, g->W, g->S, g->stride_w, g->pad_w, g->dil_w, &w0, &s_lo,
              &s_hi);

    REAL best = (REAL)-INFINITY;
    int64_t at = (h0 + r_lo * g->dil_h) * g->W + w0 + s_lo * g->dil_w;

    for (int64_t r = r_lo; r < r_hi; r++) {
        int64_t h = h0 + r * g->dil_h;
        for (int64_t s = s_lo; s < s_hi; s++) {
            int64_t k = h * g->W + w0 + s * g->dil_w;
            REAL v = x[k];
            int take = (v > best) | (v != v);

            best = take ? v : best;
            at = take ? k : at;
        }
    }
    y[p * g->Q + q] = best;
    if (idx != NULL) {
        idx[p * g->Q + q] = at;
    }
}

/* The row kernels work on this many outputs at a time, so their offsets
 * fit in a small buffer on the stack. */
#define POOL_CHUNK 64

/*
 * One plane. x: H x W, y: P x Q, idx: P x Q or NULL. Whole windows go to
 * the row kernel in chunks; a second loop turns each chunk's offsets into
 * int64 plane indices. The border goes pixel by pixel.
 */
static void FN(maxpool_plane)(const cnnc_pool2d_geom *g,
                              const pool_plan *plan, const REAL *x, REAL *y,
                              int64_t *idx)
{
    TAP tap[POOL_CHUNK];

    for (int64_t p = 0; p < g->P; p++) {
        int inside = p >= plan->p_lo && p < plan->p_hi;
        int64_t q_lo = inside ? plan->q_lo : g->Q;
        int64_t q_hi = inside ? plan->q_hi : g->Q;
        int64_t h0 = p * g->stride_h - g->pad_h;

        /* Left border (or the whole row when p is not inside). */
        for (int64_t q = 0; q < q_lo; q++) {
            FN(max_pixel)(g, x, p, q, y, idx);
        }

        /* Whole windows. */
        for (int64_t q0 = q_lo; q0 < q_hi; q0 += POOL_CHUNK) {
            int64_t n = q_hi - q0 < POOL_CHUNK ? q_hi - q0 : POOL_CHUNK;
            int64_t corner = h0 * g->W + q0 * g->stride_w - g->pad_w;

            FN(max_run)(g, plan->row, x + corner, n, y + p * g->Q + q0, tap);
            if (idx != NULL) {
                int64_t *irow = idx + p * g->Q + q0;
#ifdef _OPENMP
#pragma omp simd
#endif
                for (int64_t j = 0; j < n; j++) {
                    irow[j] = corner + j * g->stride_w + (int64_t)tap[j];
                }
            }
        }

        /* Right border. */
        for (int64_t q = q_hi; q < g->Q; q++) {
            FN(max_pixel)(g, x, p, q, y, idx);
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
 * Whole windows: n outputs along a row, window j's corner at
 * x0[j * stride], R x S adjacent taps in a plane W wide; y[j] = their
 * mean. Taps are summed in row-major order, as avg_pixel does.
 */
POOL_INLINE void FN(avg_row)(const REAL *x0, int64_t n, int64_t W,
                             int64_t R, int64_t S, int64_t stride, REAL *y)
{
    REAL count = (REAL)(R * S);

#ifdef _OPENMP
#pragma omp simd
#endif
    for (int64_t j = 0; j < n; j++) {
        const REAL *corner = x0 + j * stride;
        REAL sum = 0;

        for (int64_t r = 0; r < R; r++) {
            for (int64_t s = 0; s < S; s++) {
                sum += corner[r * W + s];
            }
        }
        y[j] = sum / count;
    }
}

/* avg_row for the plan's row kernel: constants for the common windows. */
static void FN(avg_run)(const cnnc_pool2d_geom *g, int row, const REAL *x0,
                        int64_t n, REAL *y)
{
    if (row == POOL_ROW_K2S2) {
        FN(avg_row)(x0, n, g->W, 2, 2, 2, y);
    } else if (row == POOL_ROW_K3S2) {
        FN(avg_row)(x0, n, g->W, 3, 3, 2, y);
    } else {
        FN(avg_row)(x0, n, g->W, g->R, g->S, g->stride_w, y);
    }
}

/* One output pixel (p, q), window clipped to the image; the border code. */
static void FN(avg_pixel)(const cnnc_pool2d_geom *g, int count_include_pad,
                          const REAL *x, int64_t p, int64_t q, REAL *y)
{
    int64_t h_lo, h_hi, h_padded, w_lo, w_hi, w_padded;
    avg_window(p, g->H, g->R, g->stride_h, g->pad_h, &h_lo, &h_hi,
               &h_padded);
    avg_window(q, g->W, g->S, g->stride_w, g->pad_w, &w_lo, &w_hi,
               &w_padded);

    REAL sum = 0;
    for (int64_t h = h_lo; h < h_hi; h++) {
        for (int64_t w = w_lo; w < w_hi; w++) {
            sum += x[h * g->W + w];
        }
    }
    int64_t count = count_include_pad ? h_padded * w_padded
                                      : (h_hi - h_lo) * (w_hi - w_lo);
    y[p * g->Q + q] = sum / (REAL)count;
}

/* One plane (dilation 1). x: H x W, y: P x Q. */
static void FN(avgpool_plane)(const cnnc_pool2d_geom *g,
                              const pool_plan *plan, int count_include_pad,
                              const REAL *x, REAL *y)
{
    for (int64_t p = 0; p < g->P; p++) {
        int inside = p >= plan->p_lo && p < plan->p_hi;
        int64_t q_lo = inside ? plan->q_lo : g->Q;
        int64_t q_hi = inside ? plan->q_hi : g->Q;

        for (int64_t q = 0; q < q_lo; q++) {
            FN(avg_pixel)(g, count_include_pad, x, p, q, y);
        }
        if (q_lo < q_hi) {
            int64_t corner = (p * g->stride_h - g->pad_h) * g->W +
                             q_lo * g->stride_w - g->pad_w;
            FN(avg_run)(g, plan->row, x + corner, q_hi - q_lo,
                        y + p * g->Q + q_lo);
        }
        for (int64_t q = q_hi; q < g->Q; q++) {
            FN(avg_pixel)(g, count_include_pad, x, p, q, y);
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

/* dx = 0, then each window's pixels get dy[p, q] / divisor; one plane. */
static void FN(avgpool_backward_plane)(const cnnc_pool2d_geom *g,
                                       int count_include_pad, const REAL *dy,
                                       REAL *dx)
{
    memset(dx, 0, (size_t)(g->H * g->W) * sizeof(REAL));
    for (int64_t p = 0; p < g->P; p++) {
        int64_t h_lo, h_hi, h_padded;
        avg_window(p, g->H, g->R, g->stride_h, g->pad_h, &h_lo, &h_hi,
                   &h_padded);

        for (int64_t q = 0; q < g->Q; q++) {
            int64_t w_lo, w_hi, w_padded;
            avg_window(q, g->W, g->S, g->stride_w, g->pad_w, &w_lo, &w_hi,
                       &w_padded);

            int64_t count = count_include_pad ? h_padded * w_padded
                                              : (h_hi - h_lo) * (w_hi - w_lo);
            REAL share = dy[p * g->Q + q] / (REAL)count;
            for (int64_t h = h_lo; h < h_hi; h++) {
                for (int64_t w = w_lo; w < w_hi; w++) {
                    dx[h * g->W + w] += share;
                }
            }
        }
    }
}

/* 2 x 2 windows at stride 2: each pixel is in one window at most, so dx
 * is written once; rows and columns no window covers are zeroed. */
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
    int k2 = pool_tiles_k2s2(g);

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t j = 0; j < planes; j++) {
        if (k2) {
            FN(avgpool_backward_plane_k2s2)(g, dy + j * PQ, dx + j * HW);
        } else {
            FN(avgpool_backward_plane)(g, count_include_pad, dy + j * PQ,
                                       dx + j * HW);
        }
    }
    (void)nthreads;
    return CNNC_OK;
}

/* ---------------------------------------------------------------------- */
/* Adaptive average pooling                                                */
/* ---------------------------------------------------------------------- */

/* One plane. x: H x W, y: P x Q. */
static void FN(adaptive_plane)(const cnnc_pool2d_geom *g, const REAL *x,
                               REAL *y)
{
    for (int64_t p = 0; p < g->P; p++) {
        int64_t h_lo, h_hi;
        adaptive_window(p, g->H, g->P, &h_lo, &h_hi);

        for (int64_t q = 0; q < g->Q; q++) {
            int64_t w_lo, w_hi;
            adaptive_window(q, g->W, g->Q, &w_lo, &w_hi);

            REAL sum = 0;
            for (int64_t h = h_lo; h < h_hi; h++) {
                const REAL *row = x + h * g->W;
#ifdef _OPENMP
#pragma omp simd reduction(+ : sum)
#endif
                for (int64_t w = w_lo; w < w_hi; w++) {
                    sum += row[w];
                }
            }
            y[p * g->Q + q] = sum / (REAL)((h_hi - h_lo) * (w_hi - w_lo));
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

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t j = 0; j < planes; j++) {
        FN(adaptive_plane)(g, x + j * HW, y + j * PQ);
    }
    (void)nthreads;
    return CNNC_OK;
}

/* dx = 0, then each window's pixels get dy[p, q] / window size. */
static void FN(adaptive_backward_plane)(const cnnc_pool2d_geom *g,
                                        const REAL *dy, REAL *dx)
{
    memset(dx, 0, (size_t)(g->H * g->W) * sizeof(REAL));
    for (int64_t p = 0; p < g->P; p++) {
        int64_t h_lo, h_hi;
        adaptive_window(p, g->H, g->P, &h_lo, &h_hi);

        for (int64_t q = 0; q < g->Q; q++) {
            int64_t w_lo, w_hi;
            adaptive_window(q, g->W, g->Q, &w_lo, &w_hi);

            REAL share = dy[p * g->Q + q] /
                         (REAL)((h_hi - h_lo) * (w_hi - w_lo));
            for (int64_t h = h_lo; h < h_hi; h++) {
                REAL *row = dx + h * g->W;
                for (int64_t w = w_lo; w < w_hi; w++) {
                    row[w] += share;
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

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t j = 0; j < planes; j++) {
        FN(adaptive_backward_plane)(g, dy + j * PQ, dx + j * HW);
    }
    (void)nthreads;
    return CNNC_OK;
}
