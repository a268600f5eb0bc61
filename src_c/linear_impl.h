/*
 * linear_impl.h - the fully connected layer as three GEMMs, compiled by
 * linear.c for each element type, which defines REAL, FN(name) and NR
 * (the GEMM register tile's width) as gemm.c does.
 *
 *   forward          y[N x K]  = x[N x C] w^T[C x K] + b
 *   input gradient   dx[N x C] = dy[N x K] w[K x C]
 *   weight gradient  dw[K x C] = dy^T[K x N] x[N x C]
 *   bias gradient    db[K]     = sum over n of dy[n, :]
 *
 * w^T and dy^T are read in place through strides. Threads split the output
 * of each product into bands, so every element is summed by one thread in
 * one order: the result does not depend on the thread count.
 */

/*
 * out[M x Nc] (+)= A[M x Kd] B[Kd x Nc], out row-major with leading
 * dimension ldo, on as many threads as the work pays for. Each thread has
 * its own packing workspace and its own band of out.
 */
static int FN(linear_gemm)(int64_t M, int64_t Nc, int64_t Kd, cnnc_matrix A,
                           cnnc_matrix B, REAL *out, int64_t ldo,
                           int accumulate)
{
    linear_split s = linear_plan(M, Nc, NR, cnnc_threads_for(M * Nc * Kd));
    int64_t per_line = 64 / (int64_t)sizeof(REAL);
    int64_t ws = (FN(cnnc_gemm_workspace)() + per_line - 1) / per_line *
                 per_line;
    REAL *work = cnnc_alloc((size_t)(s.blocks * ws) * sizeof(REAL));

    if (work == NULL) {
        return CNNC_ERR_NOMEM;
    }

#ifdef _OPENMP
#pragma omp parallel for num_threads(s.blocks) schedule(static)
#endif
    for (int blk = 0; blk < s.blocks; blk++) {
        int64_t lo = blk * s.step;
        int64_t extent = s.by_rows ? M : Nc;
        int64_t len = extent - lo < s.step ? extent - lo : s.step;
        cnnc_matrix a = A, b = B;

        if (len <= 0) {
            continue;
        }

        /* A band of rows reads a band of A; a band of columns, of B. */
        if (s.by_rows) {
            a.data = (const REAL *)A.data + lo * A.rs;
            FN(cnnc_gemm)(len, Nc, Kd, a, B, out + lo * ldo, ldo, accumulate,
                          work + blk * ws);
        } else {
            b.data = (const REAL *)B.data + lo * B.cs;
            FN(cnnc_gemm)(M, len, Kd, A, b, out + lo, ldo, accumulate,
                          work + blk * ws);
        }
    }

    cnnc_free(work);
    return CNNC_OK;
}

int FN(cnnc_linear_forward)(int64_t N, int64_t C, int64_t K, const REAL *x,
                            const REAL *w, const REAL *b, REAL *y)
{
    int status = cnnc_linear_check(N, C, K);
    if (status != CNNC_OK) {
        return status;
    }
    if (x == NULL || w == NULL || y == NULL) {
        return CNNC_ERR_ARG;
    }

    /* Start every row of y from the bias; the product is added to it. */
    if (b != NULL) {
        for (int64_t n = 0; n < N; n++) {
            for (int64_t k = 0; k < K; k++) {
                y[n * K + k] = b[k];
            }
        }
    }

    /* w^T: element (c, k) is w[k * C + c]. */
    cnnc_matrix A = {x, C, 1};
    cnnc_matrix B = {w, 1, C};
    return FN(linear_gemm)(N, K, C, A, B, y, K, b != NULL);
}

/* db[k] = sum over n of dy[n, k], rows added in order n = 0, 1, ... */
static void FN(linear_bias_grad)(int64_t N, int64_t K, const REAL *dy,
                                 REAL *db)
{
    for (int64_t k = 0; k < K; k++) {
        db[k] = 0;
    }
    for (int64_t n = 0; n < N; n++) {
        const REAL *row = dy + n * K;
#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t k = 0; k < K; k++) {
            db[k] += row[k];
        }
    }
}

int FN(cnnc_linear_backward)(int64_t N, int64_t C, int64_t K,
                             const REAL *dy, const REAL *x, const REAL *w,
                             REAL *dx, REAL *dw, REAL *db)
{
    int status = cnnc_linear_check(N, C, K);
    if (status != CNNC_OK) {
        return status;
    }
    if (dy == NULL || (dx != NULL && w == NULL) ||
        (dw != NULL && x == NULL)) {
        return CNNC_ERR_ARG;
    }

    /* 1. The bias sees every sample's gradient. */
    if (db != NULL) {
        FN(linear_bias_grad)(N, K, dy, db);
    }

    /* 2. dx = dy w: each sample's gradient flows back through w. */
    if (dx != NULL) {
        cnnc_matrix A = {dy, K, 1};
        cnnc_matrix B = {w, C, 1};
        status = FN(linear_gemm)(N, C, K, A, B, dx, C, 0);
        if (status != CNNC_OK) {
            return status;
        }
    }

    /* 3. dw = dy^T x: the outer products of gradient and input, summed
     *    over the batch; dy^T's element (k, n) is dy[n * K + k]. */
    if (dw != NULL) {
        cnnc_matrix A = {dy, 1, K};
        cnnc_matrix B = {x, C, 1};
        status = FN(linear_gemm)(K, C, N, A, B, dw, C, 0);
    }
    return status;
}
