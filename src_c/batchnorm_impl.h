/*
 * batchnorm_impl.h - batch normalization for one element type and one
 * instruction set, compiled by batchnorm.c (baseline) and batchnorm_avx2.c
 * with REAL, FN(name) and TARGET (the function attribute of the
 * instruction set, or nothing) defined.
 *
 * Two layouts of the same tensor x: N x C x L.
 * - Plane path (L >= CNNC_BN_MIN_PLANE): each (n, c) plane is a contiguous
 *   run of L values. A channel is summarised run by run, two passes per
 *   run while it sits in L1, and the run summaries merged.
 * - Column path (small L, BatchNorm1d on (N, C) above all): each image is
 *   a row of C * L columns; Welford's update runs down the columns, all
 *   columns at once, and the columns of a channel are merged at the end.
 *
 * In both, the output is (x - mean_hi) * scale + shift per channel, where
 * mean_hi is the mean rounded to REAL and shift carries what the rounding
 * left out: x - mean_hi is exact for x near the mean, so a large mean with
 * a small spread loses nothing.
 */

/* Per channel: y = (x - mean_hi) * scale + shift. */
typedef struct {
    REAL mean_hi, scale, shift;
} FN(cnnc_bn_fwd);

/* Per channel: dx = a * dy + b * (x - mean_hi) + d. */
typedef struct {
    REAL mean_hi, a, b, d;
} FN(cnnc_bn_bwd);

/* ---------------------------------------------------------------------- */
/* Statistics                                                              */
/* ---------------------------------------------------------------------- */

/*
 * Sums over a run are split into PART partial sums (a few SIMD registers'
 * worth), so that the adds do not wait on one another: a single
 * accumulator would make them a chain of dependent additions.
 */
#define PART (CNNC_BN_PART_BYTES / (int)sizeof(REAL))

/*
 * Moments of n contiguous values (n <= CNNC_BN_RUN), by two passes over
 * them while they sit in L1: a first guess of the mean, then the
 * deviations from that guess and their squares. The sum of the deviations
 * corrects the guess, so the first pass's rounding does not reach M2.
 */
TARGET
static cnnc_bn_moments FN(run_moments)(const REAL *restrict x, int64_t n)
{
    REAL sum[PART] = {0}, dev[PART] = {0}, sq[PART] = {0};
    REAL total = 0, dev_total = 0, sq_total = 0;
    int64_t whole = n / PART * PART;
    cnnc_bn_moments m;

    for (int64_t i = 0; i < whole; i += PART) {
        for (int j = 0; j < PART; j++) {
            sum[j] += x[i + j];
        }
    }
    for (int64_t i = whole; i < n; i++) {
        total += x[i];
    }
    for (int j = 0; j < PART; j++) {
        total += sum[j];
    }
    REAL guess = total / (REAL)n;

    for (int64_t i = 0; i < whole; i += PART) {
        for (int j = 0; j < PART; j++) {
            REAL d = x[i + j] - guess;
            dev[j] += d;
            sq[j] += d * d;
        }
    }
    for (int64_t i = whole; i < n; i++) {
        REAL d = x[i] - guess;
        dev_total += d;
        sq_total += d * d;
    }
    for (int j = 0; j < PART; j++) {
        dev_total += dev[j];
        sq_total += sq[j];
    }

    m.count = (double)n;
    m.mean = (double)guess + (double)dev_total / (double)n;
    m.m2 = (double)sq_total - (double)dev_total * (double)dev_total / (double)n;
    if (m.m2 < 0) {
        m.m2 = 0;
    }
    return m;
}

/* Adds one plane's L values to acc, run by run. */
TARGET
static void FN(plane_moments)(cnnc_bn_moments *acc, const REAL *plane,
                              int64_t L)
{
    for (int64_t i = 0; i < L; i += CNNC_BN_RUN) {
        int64_t len = L - i < CNNC_BN_RUN ? L - i : CNNC_BN_RUN;
        cnnc_bn_merge(acc, FN(run_moments)(plane + i, len));
    }
}

/*
 * From channel c's moments: save mean and invstd, update the running
 * statistics (PyTorch's rule, unbiased variance), and return the output's
 * coefficients.
 */
TARGET
static FN(cnnc_bn_fwd) FN(finish_channel)(
    const cnnc_batchnorm_geom *g, int64_t c, cnnc_bn_moments m,
    const REAL *weight, const REAL *bias, double momentum,
    REAL *running_mean, REAL *running_var, double *save_mean,
    double *save_invstd)
{
    double var = m.m2 / m.count;
    double invstd = 1.0 / sqrt(var + g->eps);
    double gamma = weight != NULL ? (double)weight[c] : 1.0;
    double beta = bias != NULL ? (double)bias[c] : 0.0;
    FN(cnnc_bn_fwd) k;

    save_mean[c] = m.mean;
    save_invstd[c] = invstd;
    if (running_mean != NULL) {
        double unbiased = m.m2 / (m.count - 1);
        running_mean[c] = (REAL)((1 - momentum) * running_mean[c] +
                                 momentum * m.mean);
        running_var[c] = (REAL)((1 - momentum) * running_var[c] +
                                momentum * unbiased);
    }

    k.mean_hi = (REAL)m.mean;
    k.scale = (REAL)(gamma * invstd);
    k.shift = (REAL)(beta - (m.mean - (double)k.mean_hi) * gamma * invstd);
    return k;
}

/* ---------------------------------------------------------------------- */
/* Output passes                                                           */
/* ---------------------------------------------------------------------- */

TARGET
static void FN(normalize_run)(const REAL *restrict x, REAL *restrict y,
                              int64_t n, FN(cnnc_bn_fwd) k)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        y[i] = (x[i] - k.mean_hi) * k.scale + k.shift;
    }
}

/* Short planes: each row x[n] of C * L values in one flat loop, with the
 * coefficients spread out per column (m, s, t: C * L each). */
TARGET
static void FN(normalize_rows)(const cnnc_batchnorm_geom *g, const REAL *x,
                               REAL *y, const REAL *m, const REAL *s,
                               const REAL *t, int nthreads)
{
    int64_t cols = g->C * g->L;

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t n = 0; n < g->N; n++) {
        const REAL *restrict xr = x + n * cols;
        REAL *restrict yr = y + n * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) {
            yr[j] = (xr[j] - m[j]) * s[j] + t[j];
        }
    }
    (void)nthreads;
}

/* y = normalise(x) with per-channel coefficients k, in parallel over
 * (image, channel) planes, or over rows when planes are short. */
TARGET
static int FN(normalize_all)(const cnnc_batchnorm_geom *g, const REAL *x,
                             REAL *y, const FN(cnnc_bn_fwd) *k, int nthreads)
{
    int64_t C = g->C, L = g->L, cols = C * L;
    REAL *m;

    if (L >= CNNC_BN_MIN_PLANE) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
        for (int64_t p = 0; p < g->N * C; p++) {
            FN(normalize_run)(x + p * L, y + p * L, L, k[p % C]);
        }
        return CNNC_OK;
    }

    m = cnnc_alloc((size_t)(3 * cols) * sizeof(REAL));
    if (m == NULL) {
        return CNNC_ERR_NOMEM;
    }
    for (int64_t j = 0; j < cols; j++) {
        m[j] = k[j / L].mean_hi;
        m[cols + j] = k[j / L].scale;
        m[2 * cols + j] = k[j / L].shift;
    }
    FN(normalize_rows)(g, x, y, m, m + cols, m + 2 * cols, nthreads);
    cnnc_free(m);
    return CNNC_OK;
}

/* ---------------------------------------------------------------------- */
/* Training forward                                                        */
/* ---------------------------------------------------------------------- */

/*
 * Plane path by groups of channels, one task per group: the group's
 * statistics and then its output, while its planes are still in cache.
 * Image by image, the group's planes are adjacent in memory, a long
 * stream for the hardware prefetcher. Each channel's moments are
 * merged in the same order as in train_by_block: per block of images,
 * then the blocks.
 */
TARGET
static int FN(train_by_group)(const cnnc_batchnorm_geom *g, const REAL *x,
                              const REAL *weight, const REAL *bias,
                              double momentum, REAL *running_mean,
                              REAL *running_var, REAL *y, double *save_mean,
                              double *save_invstd, int nthreads)
{
    int64_t C = g->C, L = g->L;
    int64_t G = cnnc_bn_group(C, L * (int64_t)sizeof(REAL), nthreads);
    int64_t tasks = (C + G - 1) / G;
    int64_t nb = cnnc_bn_plane_blocks(g->N);

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t t = 0; t < tasks; t++) {
        int64_t c0 = t * G, c1 = c0 + G < C ? c0 + G : C;
        cnnc_bn_moments total[CNNC_BN_MAX_GROUP], block[CNNC_BN_MAX_GROUP];
        FN(cnnc_bn_fwd) k[CNNC_BN_MAX_GROUP];

        /* The group's statistics, image by image. */
        for (int64_t c = c0; c < c1; c++) {
            total[c - c0] = (cnnc_bn_moments){0, 0, 0};
        }
        for (int64_t b = 0; b < nb; b++) {
            int64_t n0, n1;
            cnnc_bn_block(g->N, nb, b, &n0, &n1);
            for (int64_t c = c0; c < c1; c++) {
                block[c - c0] = (cnnc_bn_moments){0, 0, 0};
            }
            for (int64_t n = n0; n < n1; n++) {
                for (int64_t c = c0; c < c1; c++) {
                    FN(plane_moments)(&block[c - c0], x + (n * C + c) * L, L);
                }
            }
            for (int64_t c = c0; c < c1; c++) {
                cnnc_bn_merge(&total[c - c0], block[c - c0]);
            }
        }
        for (int64_t c = c0; c < c1; c++) {
            k[c - c0] = FN(finish_channel)(g, c, total[c - c0], weight, bias,
                                           momentum, running_mean,
                                           running_var, save_mean,
                                           save_invstd);
        }

        /* Its output, from the cache. */
        for (int64_t n = 0; n < g->N; n++) {
            for (int64_t c = c0; c < c1; c++) {
                int64_t p = (n * C + c) * L;
                FN(normalize_run)(x + p, y + p, L, k[c - c0]);
            }
        }
    }
    (void)nthreads;
    return CNNC_OK;
}

/* Plane path for few channels: the blocks of every channel in parallel,
 * then the per-channel merge, then the output over all planes. */
TARGET
static int FN(train_by_block)(const cnnc_batchnorm_geom *g, const REAL *x,
                              const REAL *weight, const REAL *bias,
                              double momentum, REAL *running_mean,
                              REAL *running_var, REAL *y, double *save_mean,
                              double *save_invstd, int nthreads)
{
    int64_t nb = cnnc_bn_plane_blocks(g->N);
    int status;
    cnnc_bn_moments *part = cnnc_alloc((size_t)(g->C * nb) *
                                       sizeof(cnnc_bn_moments));
    FN(cnnc_bn_fwd) *k = cnnc_alloc((size_t)g->C * sizeof(FN(cnnc_bn_fwd)));

    if (part == NULL || k == NULL) {
        cnnc_free(part);
        cnnc_free(k);
        return CNNC_ERR_NOMEM;
    }

    /* Each block of each channel summarised on its own. */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t item = 0; item < g->C * nb; item++) {
        int64_t c = item / nb, n0, n1;
        cnnc_bn_moments m = {0, 0, 0};
        cnnc_bn_block(g->N, nb, item % nb, &n0, &n1);
        for (int64_t n = n0; n < n1; n++) {
            FN(plane_moments)(&m, x + (n * g->C + c) * g->L, g->L);
        }
        part[item] = m;
    }

    /* Merged in block order, as train_by_group does. */
    for (int64_t c = 0; c < g->C; c++) {
        cnnc_bn_moments m = {0, 0, 0};
        for (int64_t b = 0; b < nb; b++) {
            cnnc_bn_merge(&m, part[c * nb + b]);
        }
        k[c] = FN(finish_channel)(g, c, m, weight, bias, momentum,
                                  running_mean, running_var, save_mean,
                                  save_invstd);
    }

    status = FN(normalize_all)(g, x, y, k, nthreads);
    cnnc_free(part);
    cnnc_free(k);
    return status;
}

/*
 * Column path: Welford's update down the rows of each block of images,
 * in double, every column of the row at once; then, per column, the
 * blocks merged (one scalar weight per block, since all columns of a
 * block count the same rows); then per channel its L columns; then the
 * output row by row.
 */
TARGET
static int FN(train_by_column)(const cnnc_batchnorm_geom *g, const REAL *x,
                               const REAL *weight, const REAL *bias,
                               double momentum, REAL *running_mean,
                               REAL *running_var, REAL *y,
                               double *save_mean, double *save_invstd,
                               int nthreads)
{
    int64_t cols = g->C * g->L;
    int64_t nb = cnnc_bn_column_blocks(g->N, cols);
    double *mean = cnnc_alloc((size_t)(2 * nb * cols) * sizeof(double));
    double *m2 = mean + nb * cols;
    FN(cnnc_bn_fwd) *k = cnnc_alloc((size_t)g->C * sizeof(FN(cnnc_bn_fwd)));
    int64_t n0, n1;
    double count;
    int status;

    if (mean == NULL || k == NULL) {
        cnnc_free(mean);
        cnnc_free(k);
        return CNNC_ERR_NOMEM;
    }

    /* Per block, each column's mean and M2 over the block's rows. */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t b = 0; b < nb; b++) {
        double *restrict mb = mean + b * cols;
        double *restrict qb = m2 + b * cols;
        int64_t n0, n1;

        cnnc_bn_block(g->N, nb, b, &n0, &n1);
        for (int64_t j = 0; j < cols; j++) {
            mb[j] = 0;
            qb[j] = 0;
        }
        for (int64_t n = n0; n < n1; n++) {
            const REAL *restrict row = x + n * cols;
            double inv = 1.0 / (double)(n - n0 + 1);
#pragma omp simd
            for (int64_t j = 0; j < cols; j++) {
                double v = (double)row[j];
                double d = v - mb[j];
                mb[j] += d * inv;
                qb[j] += d * (v - mb[j]);
            }
        }
    }

    /* Blocks 1, 2, ... merged into block 0, column by column: the update
     * of cnnc_bn_merge with the block's weights shared by all columns. */
    cnnc_bn_block(g->N, nb, 0, &n0, &n1);
    count = (double)(n1 - n0);
    for (int64_t b = 1; b < nb; b++) {
        const double *restrict mb = mean + b * cols;
        const double *restrict qb = m2 + b * cols;
        double *restrict ma = mean, *restrict qa = m2;
        double both, wb, wd;

        cnnc_bn_block(g->N, nb, b, &n0, &n1);
        both = count + (double)(n1 - n0);
        wb = (double)(n1 - n0) / both;
        wd = count * (double)(n1 - n0) / both;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) {
            double d = mb[j] - ma[j];
            ma[j] += d * wb;
            qa[j] += qb[j] + d * d * wd;
        }
        count = both;
    }

    /* Per channel, its L columns. */
    for (int64_t c = 0; c < g->C; c++) {
        cnnc_bn_moments m = {0, 0, 0};
        for (int64_t j = c * g->L; j < (c + 1) * g->L; j++) {
            cnnc_bn_moments part = {count, mean[j], m2[j]};
            cnnc_bn_merge(&m, part);
        }
        k[c] = FN(finish_channel)(g, c, m, weight, bias, momentum,
                                  running_mean, running_var, save_mean,
                                  save_invstd);
    }

    status = FN(normalize_all)(g, x, y, k, nthreads);
    cnnc_free(mean);
    cnnc_free(k);
    return status;
}

/* The training forward, arguments checked by batchnorm.c. */
TARGET
static int FN(bn_train)(
    const cnnc_batchnorm_geom *g, const REAL *x, const REAL *weight,
    const REAL *bias, double momentum, REAL *running_mean,
    REAL *running_var, REAL *y, double *save_mean, double *save_invstd)
{
    int nthreads = cnnc_threads_for(g->N * g->C * g->L);

    if (g->L < CNNC_BN_MIN_PLANE) {
        return FN(train_by_column)(g, x, weight, bias, momentum,
                                   running_mean, running_var, y, save_mean,
                                   save_invstd, nthreads);
    }
    if (cnnc_bn_grouped(g->C, nthreads)) {
        return FN(train_by_group)(g, x, weight, bias, momentum,
                                  running_mean, running_var, y, save_mean,
                                  save_invstd, nthreads);
    }
    return FN(train_by_block)(g, x, weight, bias, momentum, running_mean,
                              running_var, y, save_mean, save_invstd,
                              nthreads);
}

/* ---------------------------------------------------------------------- */
/* Evaluation forward                                                      */
/* ---------------------------------------------------------------------- */

TARGET
static int FN(bn_eval)(
    const cnnc_batchnorm_geom *g, const REAL *x, const REAL *weight,
    const REAL *bias, const REAL *running_mean, const REAL *running_var,
    REAL *y, double *save_mean, double *save_invstd)
{
    FN(cnnc_bn_fwd) *k = cnnc_alloc((size_t)g->C * sizeof(FN(cnnc_bn_fwd)));
    int status;

    if (k == NULL) {
        return CNNC_ERR_NOMEM;
    }

    /* The running statistics are constants: one affine map per channel. */
    for (int64_t c = 0; c < g->C; c++) {
        double invstd = 1.0 / sqrt((double)running_var[c] + g->eps);
        double gamma = weight != NULL ? (double)weight[c] : 1.0;
        k[c].mean_hi = running_mean[c];
        k[c].scale = (REAL)(gamma * invstd);
        k[c].shift = bias != NULL ? bias[c] : 0;
        if (save_mean != NULL) {
            save_mean[c] = (double)running_mean[c];
        }
        if (save_invstd != NULL) {
            save_invstd[c] = invstd;
        }
    }

    status = FN(normalize_all)(g, x, y, k,
                               cnnc_threads_for(g->N * g->C * g->L));
    cnnc_free(k);
    return status;
}

/* ---------------------------------------------------------------------- */
/* Backward                                                                */
/* ---------------------------------------------------------------------- */

/* Adds sum(dy) and sum(dy * (x - mean_hi)) over one plane of L values to
 * *sum_dy and *sum_dyx: REAL partial sums within a run, double across. */
TARGET
static void FN(plane_sums)(const REAL *restrict dy, const REAL *restrict x,
                           int64_t L, REAL mean_hi, double *sum_dy,
                           double *sum_dyx)
{
    for (int64_t i0 = 0; i0 < L; i0 += CNNC_BN_RUN) {
        int64_t i1 = L - i0 < CNNC_BN_RUN ? L : i0 + CNNC_BN_RUN;
        int64_t whole = i0 + (i1 - i0) / PART * PART;
        REAL r1 = 0, r2 = 0, p1[PART] = {0}, p2[PART] = {0};

        for (int64_t i = i0; i < whole; i += PART) {
            for (int j = 0; j < PART; j++) {
                p1[j] += dy[i + j];
                p2[j] += dy[i + j] * (x[i + j] - mean_hi);
            }
        }
        for (int64_t i = whole; i < i1; i++) {
            r1 += dy[i];
            r2 += dy[i] * (x[i] - mean_hi);
        }
        for (int j = 0; j < PART; j++) {
            r1 += p1[j];
            r2 += p2[j];
        }
        *sum_dy += (double)r1;
        *sum_dyx += (double)r2;
    }
}

/*
 * From channel c's sums: dweight and dbias, and the coefficients of dx.
 * With xhat = (x - mean) * invstd, A = gamma * invstd and the sums taken
 * about mean_hi (mean = mean_hi + mean_lo):
 *   sum(dy * xhat) = invstd * (sum_dyx - mean_lo * sum_dy)
 *   dx = A * dy - A / M * sum(dy) - A * invstd / M * sum(dy * xhat)
 *                                   * ((x - mean_hi) - mean_lo)
 */
TARGET
static FN(cnnc_bn_bwd) FN(finish_grad)(
    const cnnc_batchnorm_geom *g, int64_t c, double sum_dy, double sum_dyx,
    const REAL *weight, const double *save_mean, const double *save_invstd,
    int batch_stats, REAL *dweight, REAL *dbias)
{
    double M = (double)(g->N * g->L);
    double invstd = save_invstd[c];
    double mean_lo = save_mean[c] - (double)(REAL)save_mean[c];
    double dot = invstd * (sum_dyx - mean_lo * sum_dy);
    double A = (weight != NULL ? (double)weight[c] : 1.0) * invstd;
    double b = batch_stats ? -A * invstd * dot / M : 0.0;
    double d = batch_stats ? -A * sum_dy / M : 0.0;
    FN(cnnc_bn_bwd) k;

    if (dweight != NULL) {
        dweight[c] = (REAL)dot;
    }
    if (dbias != NULL) {
        dbias[c] = (REAL)sum_dy;
    }
    k.mean_hi = (REAL)save_mean[c];
    k.a = (REAL)A;
    k.b = (REAL)b;
    k.d = (REAL)(d - b * mean_lo);
    return k;
}

TARGET
static void FN(grad_run)(const REAL *restrict dy, const REAL *restrict x,
                         REAL *restrict dx, int64_t n, FN(cnnc_bn_bwd) k)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        dx[i] = k.a * dy[i] + k.b * (x[i] - k.mean_hi) + k.d;
    }
}

/* dx for all of x with per-channel coefficients, in parallel over planes
 * or, when planes are short, over rows with the coefficients spread out
 * per column. */
TARGET
static int FN(grad_all)(const cnnc_batchnorm_geom *g, const REAL *dy,
                        const REAL *x, REAL *dx, const FN(cnnc_bn_bwd) *k,
                        int nthreads)
{
    int64_t C = g->C, L = g->L, cols = C * L;
    REAL *m, *a, *b, *d;

    if (L >= CNNC_BN_MIN_PLANE) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
        for (int64_t p = 0; p < g->N * C; p++) {
            FN(grad_run)(dy + p * L, x + p * L, dx + p * L, L, k[p % C]);
        }
        return CNNC_OK;
    }

    m = cnnc_alloc((size_t)(4 * cols) * sizeof(REAL));
    if (m == NULL) {
        return CNNC_ERR_NOMEM;
    }
    a = m + cols;
    b = a + cols;
    d = b + cols;
    for (int64_t j = 0; j < cols; j++) {
        m[j] = k[j / L].mean_hi;
        a[j] = k[j / L].a;
        b[j] = k[j / L].b;
        d[j] = k[j / L].d;
    }
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t n = 0; n < g->N; n++) {
        const REAL *restrict dyr = dy + n * cols;
        const REAL *restrict xr = x + n * cols;
        REAL *restrict dxr = dx + n * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) {
            dxr[j] = a[j] * dyr[j] + b[j] * (xr[j] - m[j]) + d[j];
        }
    }
    cnnc_free(m);
    (void)nthreads;
    return CNNC_OK;
}

/* Plane path by groups of channels, as train_by_group: the group's sums,
 * then its dx while dy and x are still in cache. */
TARGET
static int FN(backward_by_group)(const cnnc_batchnorm_geom *g,
                                 const REAL *dy, const REAL *x,
                                 const REAL *weight, const double *save_mean,
                                 const double *save_invstd, int batch_stats,
                                 REAL *dx, REAL *dweight, REAL *dbias,
                                 int nthreads)
{
    int64_t C = g->C, L = g->L;
    int64_t G = cnnc_bn_group(C, 2 * L * (int64_t)sizeof(REAL), nthreads);
    int64_t tasks = (C + G - 1) / G;
    int64_t nb = cnnc_bn_plane_blocks(g->N);
    /* The sums are only needed for the parameters or for the statistics'
     * share of dx. */
    int need_sums = batch_stats || dweight != NULL || dbias != NULL;

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t t = 0; t < tasks; t++) {
        int64_t c0 = t * G, c1 = c0 + G < C ? c0 + G : C;
        double s1[CNNC_BN_MAX_GROUP], s2[CNNC_BN_MAX_GROUP];
        double b1[CNNC_BN_MAX_GROUP], b2[CNNC_BN_MAX_GROUP];
        FN(cnnc_bn_bwd) k[CNNC_BN_MAX_GROUP];

        /* The group's sums, image by image, block by block. */
        for (int64_t c = c0; c < c1; c++) {
            s1[c - c0] = 0;
            s2[c - c0] = 0;
        }
        for (int64_t b = 0; need_sums && b < nb; b++) {
            int64_t n0, n1;
            cnnc_bn_block(g->N, nb, b, &n0, &n1);
            for (int64_t c = c0; c < c1; c++) {
                b1[c - c0] = 0;
                b2[c - c0] = 0;
            }
            for (int64_t n = n0; n < n1; n++) {
                for (int64_t c = c0; c < c1; c++) {
                    int64_t p = (n * C + c) * L;
                    FN(plane_sums)(dy + p, x + p, L, (REAL)save_mean[c],
                                   &b1[c - c0], &b2[c - c0]);
                }
            }
            for (int64_t c = c0; c < c1; c++) {
                s1[c - c0] += b1[c - c0];
                s2[c - c0] += b2[c - c0];
            }
        }
        for (int64_t c = c0; c < c1; c++) {
            k[c - c0] = FN(finish_grad)(g, c, s1[c - c0], s2[c - c0], weight,
                                        save_mean, save_invstd, batch_stats,
                                        dweight, dbias);
        }

        /* Its dx, from the cache. */
        for (int64_t n = 0; dx != NULL && n < g->N; n++) {
            for (int64_t c = c0; c < c1; c++) {
                int64_t p = (n * C + c) * L;
                FN(grad_run)(dy + p, x + p, dx + p, L, k[c - c0]);
            }
        }
    }
    (void)nthreads;
    return CNNC_OK;
}

/* Column path: per column j of rows [n0, n1), s1[j] = sum(dy) and
 * s2[j] = sum(dy * (x - m[j])), in double; m is mean_hi per column. */
TARGET
static void FN(column_sums)(const REAL *dy, const REAL *x, int64_t cols,
                            int64_t n0, int64_t n1, const REAL *restrict m,
                            double *restrict s1, double *restrict s2)
{
    for (int64_t j = 0; j < cols; j++) {
        s1[j] = 0;
        s2[j] = 0;
    }
    for (int64_t n = n0; n < n1; n++) {
        const REAL *restrict dyr = dy + n * cols;
        const REAL *restrict xr = x + n * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) {
            s1[j] += (double)dyr[j];
            s2[j] += (double)(dyr[j] * (xr[j] - m[j]));
        }
    }
}

/*
 * Backward in three steps when groups of channels do not fit (few
 * channels, or short planes): sums over each block of images, per
 * (block, channel) on planes or per (block, column) on rows; the blocks
 * (and a channel's columns) added in a fixed order; then dx.
 */
TARGET
static int FN(backward_split)(const cnnc_batchnorm_geom *g, const REAL *dy,
                              const REAL *x, const REAL *weight,
                              const double *save_mean,
                              const double *save_invstd, int batch_stats,
                              REAL *dx, REAL *dweight, REAL *dbias,
                              int nthreads)
{
    int64_t C = g->C, L = g->L;
    int by_column = L < CNNC_BN_MIN_PLANE;
    int64_t per = by_column ? L : 1;  /* sums per channel and block */
    int64_t nb = by_column ? cnnc_bn_column_blocks(g->N, C * L)
                           : cnnc_bn_plane_blocks(g->N);
    int64_t width = C * per;          /* sums per block */
    double *s1 = cnnc_alloc((size_t)(2 * nb * width) * sizeof(double));
    double *s2 = s1 + nb * width;
    FN(cnnc_bn_bwd) *k = cnnc_alloc((size_t)C * sizeof(FN(cnnc_bn_bwd)));
    REAL *mean_hi = cnnc_alloc((size_t)width * sizeof(REAL));
    int need_sums = batch_stats || dweight != NULL || dbias != NULL;
    int status = CNNC_OK;

    if (s1 == NULL || k == NULL || mean_hi == NULL) {
        cnnc_free(s1);
        cnnc_free(k);
        cnnc_free(mean_hi);
        return CNNC_ERR_NOMEM;
    }
    /* The mean rounded to REAL, per channel or, on rows, per column. */
    for (int64_t j = 0; j < width; j++) {
        mean_hi[j] = (REAL)save_mean[j / per];
    }

    /* Sums over each block of images. */
    if (need_sums && by_column) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
        for (int64_t b = 0; b < nb; b++) {
            int64_t n0, n1;
            cnnc_bn_block(g->N, nb, b, &n0, &n1);
            FN(column_sums)(dy, x, width, n0, n1, mean_hi, s1 + b * width,
                            s2 + b * width);
        }
    } else if (need_sums) {
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
        for (int64_t item = 0; item < nb * C; item++) {
            int64_t c = item % C, n0, n1;
            cnnc_bn_block(g->N, nb, item / C, &n0, &n1);
            s1[item] = 0;
            s2[item] = 0;
            for (int64_t n = n0; n < n1; n++) {
                int64_t p = (n * C + c) * L;
                FN(plane_sums)(dy + p, x + p, L, mean_hi[c], s1 + item,
                               s2 + item);
            }
        }
    }

    /* Blocks 1, 2, ... added into block 0, then per channel its sums. */
    for (int64_t b = 1; need_sums && b < nb; b++) {
#pragma omp simd
        for (int64_t j = 0; j < width; j++) {
            s1[j] += s1[b * width + j];
            s2[j] += s2[b * width + j];
        }
    }
    for (int64_t c = 0; c < C; c++) {
        double sum_dy = 0, sum_dyx = 0;
        for (int64_t j = c * per; need_sums && j < (c + 1) * per; j++) {
            sum_dy += s1[j];
            sum_dyx += s2[j];
        }
        k[c] = FN(finish_grad)(g, c, sum_dy, sum_dyx, weight, save_mean,
                               save_invstd, batch_stats, dweight, dbias);
    }

    if (dx != NULL) {
        status = FN(grad_all)(g, dy, x, dx, k, nthreads);
    }
    cnnc_free(s1);
    cnnc_free(k);
    cnnc_free(mean_hi);
    return status;
}

TARGET
static int FN(bn_backward)(
    const cnnc_batchnorm_geom *g, const REAL *dy, const REAL *x,
    const REAL *weight, const double *save_mean, const double *save_invstd,
    int batch_stats, REAL *dx, REAL *dweight, REAL *dbias)
{
    int nthreads = cnnc_threads_for(g->N * g->C * g->L);

    if (g->L >= CNNC_BN_MIN_PLANE && cnnc_bn_grouped(g->C, nthreads)) {
        return FN(backward_by_group)(g, dy, x, weight, save_mean,
                                     save_invstd, batch_stats, dx, dweight,
                                     dbias, nthreads);
    }
    return FN(backward_split)(g, dy, x, weight, save_mean, save_invstd,
                              batch_stats, dx, dweight, dbias, nthreads);
}

#undef PART
