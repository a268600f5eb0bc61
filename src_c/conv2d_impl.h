/*
 * conv2d_impl.h - convolution forward and backward, compiled by conv2d.c
 * for each element type (REAL, NR, FN as in gemm.c). Which method runs:
 *
 *   forward   1x1 stride-1 unpadded: one GEMM per image group, the image
 *             already being the matrix; otherwise the direct method of
 *             conv2d_direct_impl.h (no im2col matrix at all).
 *   dx        stride 1: a direct convolution of dy with the flipped,
 *             transposed weights. Stride > 1: per image group and tile of
 *             output pixels, the GEMM col = w^T dy, scattered back by
 *             col2im, so only one tile's col exists per thread.
 *   dw        the direct weight-gradient method (conv2d_direct_impl.h).
 *   db        sums of dy per output channel.
 */

/*
 * Adds each entry of a col tile col[CgRS x nt] back into the input-gradient
 * pixel it multiplied in the forward pass: col's row (c, r, s), column t
 * belongs to input pixel (c, p*stride_h - pad_h + r*dil_h,
 * q*stride_w - pad_w + s*dil_w) of output pixel j0 + t = (p, q). Entries
 * that fell on padding are dropped.
 */
static void FN(col2im_tile)(const cnnc_conv2d_geom *g, const REAL *col,
                            int64_t j0, int64_t nt, REAL *dxg)
{
    int64_t Cg = g->C / g->G;

    for (int64_t c = 0; c < Cg; c++) {
        REAL *dxc = dxg + c * g->H * g->W;
        for (int64_t r = 0; r < g->R; r++) {
            for (int64_t s = 0; s < g->S; s++) {
                const REAL *row = col + ((c * g->R + r) * g->S + s) * nt;
                int64_t dh = r * g->dil_h - g->pad_h;
                int64_t dw = s * g->dil_w - g->pad_w;
                int64_t q_lo, q_hi;
                int64_t p = j0 / g->Q, q = j0 % g->Q;

                cnnc_conv_valid_range(dw, g->stride_w, g->W, g->Q, &q_lo,
                                      &q_hi);

                for (int64_t t = 0; t < nt; p++, q = 0) {
                    int64_t run = g->Q - q < nt - t ? g->Q - q : nt - t;
                    int64_t ih = p * g->stride_h + dh;
                    const REAL *in = row + t - q;
                    int64_t lo = q > q_lo ? q : q_lo;
                    int64_t hi = q + run < q_hi ? q + run : q_hi;

                    if (ih >= 0 && ih < g->H) {
                        REAL *dxrow = dxc + ih * g->W;
                        for (int64_t u = lo; u < hi; u++) {
                            dxrow[u * g->stride_w + dw] += in[u];
                        }
                    }
                    t += run;
                }
            }
        }
    }
}

/* Elements of per-thread workspace: GEMM packing plus one col tile,
 * rounded up to whole cache lines so every thread's slice stays aligned. */
static int64_t FN(thread_workspace)(int64_t col_elems)
{
    int64_t n = FN(cnnc_gemm_workspace)() + col_elems;
    int64_t per_line = 64 / (int64_t)sizeof(REAL);
    return (n + per_line - 1) / per_line * per_line;
}

/*
 * A 1x1, stride-1, unpadded convolution is a plain GEMM per image group:
 * y[Kg x PQ] = w[Kg x Cg] x[Cg x PQ], the image already being that matrix.
 * (The direct method would read Cg planes a plane apart for every register
 * tile; packed panels of x are kinder to the caches.)
 */
static int FN(pointwise_forward)(const cnnc_conv2d_geom *g, const REAL *x,
                                 const REAL *w, const REAL *b, REAL *y)
{
    int64_t Cg = g->C / g->G, Kg = g->K / g->G, PQ = g->P * g->Q;
    int64_t nt = cnnc_conv_tile_width(Cg, PQ, (int64_t)sizeof(REAL));
    int64_t ntiles = (PQ + nt - 1) / nt;
    int64_t items = g->N * g->G * ntiles;
    int64_t ws = FN(thread_workspace)(0);
    int nthreads = cnnc_threads_for(g->N * g->K * PQ * Cg);
    if (nthreads > items) {
        nthreads = (int)items;
    }

    REAL *work = cnnc_alloc((size_t)(nthreads * ws) * sizeof(REAL));
    if (work == NULL) {
        return CNNC_ERR_NOMEM;
    }

    /* Every (image, group, pixel tile) writes its own part of y. */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t item = 0; item < items; item++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        int64_t n = item / (g->G * ntiles);
        int64_t gi = item / ntiles % g->G;
        int64_t j0 = item % ntiles * nt;
        int64_t cols = PQ - j0 < nt ? PQ - j0 : nt;
        REAL *yg = y + (n * g->K + gi * Kg) * PQ + j0;
        cnnc_matrix A = {w + gi * Kg * Cg, Cg, 1};
        cnnc_matrix B = {x + (n * g->C + gi * Cg) * PQ + j0, PQ, 1};

        /* Start from the bias, then add the product. */
        if (b != NULL) {
            for (int64_t k = 0; k < Kg; k++) {
                for (int64_t j = 0; j < cols; j++) {
                    yg[k * PQ + j] = b[gi * Kg + k];
                }
            }
        }
        FN(cnnc_gemm)(Kg, cols, Cg, A, B, yg, PQ, b != NULL, work + tid * ws);
    }

    cnnc_free(work);
    return CNNC_OK;
}

int FN(cnnc_conv2d_forward)(const cnnc_conv2d_geom *g, const REAL *x,
                            const REAL *w, const REAL *b, REAL *y)
{
    int status = cnnc_conv2d_check(g);
    if (status != CNNC_OK) {
        return status;
    }
    if (x == NULL || w == NULL || y == NULL) {
        return CNNC_ERR_ARG;
    }
    if (cnnc_conv_is_pointwise(g)) {
        return FN(pointwise_forward)(g, x, w, b, y);
    }
    return FN(direct_conv)(g, x, w, 0, b, y);
}

/* db[k] = sum over n, p, q of dy[n, k, p, q]. */
static void FN(bias_grad)(const cnnc_conv2d_geom *g, const REAL *dy,
                          REAL *db)
{
    int64_t PQ = g->P * g->Q;
    int nthreads = cnnc_threads_for(g->N * g->K * PQ);

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t k = 0; k < g->K; k++) {
        REAL sum = 0;
        for (int64_t n = 0; n < g->N; n++) {
            const REAL *plane = dy + (n * g->K + k) * PQ;
            REAL part = 0;
#ifdef _OPENMP
#pragma omp simd reduction(+ : part)
#endif
            for (int64_t j = 0; j < PQ; j++) {
                part += plane[j];
            }
            sum += part;
        }
        db[k] = sum;
    }
    (void)nthreads;
}

/* dx = w^T dy, tile by tile, each col tile scattered back by col2im. Work
 * is split by (image, group), so no two threads write the same pixel. */
static int FN(input_grad)(const cnnc_conv2d_geom *g, const REAL *dy,
                          const REAL *w, REAL *dx)
{
    int64_t Cg = g->C / g->G, Kg = g->K / g->G;
    int64_t CRS = Cg * g->R * g->S, HW = g->H * g->W, PQ = g->P * g->Q;
    int pointwise = cnnc_conv_is_pointwise(g);
    int64_t nt = cnnc_conv_tile_width(CRS, PQ, (int64_t)sizeof(REAL));
    int64_t items = g->N * g->G;
    int64_t ws = FN(thread_workspace)(pointwise ? 0 : CRS * nt);
    int nthreads = cnnc_threads_for(g->N * g->K * PQ * CRS);
    if (nthreads > items) {
        nthreads = (int)items;
    }

    REAL *work = cnnc_alloc((size_t)(nthreads * ws) * sizeof(REAL));
    if (work == NULL) {
        return CNNC_ERR_NOMEM;
    }

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t item = 0; item < items; item++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        REAL *tws = work + tid * ws;
        REAL *col = tws + FN(cnnc_gemm_workspace)();
        int64_t n = item / g->G, gi = item % g->G;
        const REAL *dyg = dy + (n * g->K + gi * Kg) * PQ;
        REAL *dxg = dx + (n * g->C + gi * Cg) * HW;
        /* w^T read in place: row i of w^T is column i of w. */
        cnnc_matrix A = {w + gi * Kg * CRS, 1, CRS};

        if (pointwise) {
            cnnc_matrix B = {dyg, PQ, 1};
            FN(cnnc_gemm)(Cg, PQ, Kg, A, B, dxg, HW, 0, tws);
            continue;
        }

        for (int64_t j = 0; j < Cg * HW; j++) {
            dxg[j] = 0;
        }
        for (int64_t j0 = 0; j0 < PQ; j0 += nt) {
            int64_t cols = PQ - j0 < nt ? PQ - j0 : nt;
            cnnc_matrix B = {dyg + j0, PQ, 1};
            FN(cnnc_gemm)(CRS, cols, Kg, A, B, col, cols, 0, tws);
            FN(col2im_tile)(g, col, j0, cols, dxg);
        }
    }

    cnnc_free(work);
    return CNNC_OK;
}

int FN(cnnc_conv2d_backward)(const cnnc_conv2d_geom *g, const REAL *dy,
                             const REAL *x, const REAL *w, REAL *dx,
                             REAL *dw, REAL *db)
{
    int status = cnnc_conv2d_check(g);
    if (status != CNNC_OK) {
        return status;
    }
    if (dy == NULL || (dx != NULL && w == NULL) ||
        (dw != NULL && x == NULL)) {
        return CNNC_ERR_ARG;
    }

    if (db != NULL) {
        FN(bias_grad)(g, dy, db);
    }
    if (dx != NULL && cnnc_conv_transposable(g)) {
        /* dx is itself a convolution: dy with the flipped, transposed
         * weights, padded so the output is H x W again. */
        cnnc_conv2d_geom t = cnnc_conv_transposed_geom(g);
        status = FN(direct_conv)(&t, dy, w, 1, NULL, dx);
        if (status != CNNC_OK) {
            return status;
        }
    } else if (dx != NULL) {
        status = FN(input_grad)(g, dy, w, dx);
        if (status != CNNC_OK) {
            return status;
        }
    }
    if (dw != NULL) {
        status = FN(direct_weight_grad)(g, dy, x, dw);
    }
    return status;
}
