/*
 * loss_impl.h - the loss drivers, compiled by loss.c for each element
 * type, which defines REAL and FN(name) as gemm.c does; loss.c also gives
 * FN(ce_row), the cross-entropy of one row, and FN(loss_abs), |v|.
 *
 * A reduced loss is summed in double in a fixed order (rows in order, or
 * fixed blocks of LOSS_BLOCK elements in order), so it is the same for any
 * thread count. The gradient of MEAN carries the 1/N (or 1/count).
 */

/* The factor a gradient is scaled by: dloss (1 when NULL) for sample i,
 * divided by `count` for MEAN. */
static inline REAL FN(loss_scale)(int reduction, const REAL *dloss,
                                  int64_t i, int64_t count)
{
    REAL g = 1;

    if (dloss != NULL) {
        g = reduction == CNNC_REDUCTION_NONE ? dloss[i] : dloss[0];
    }
    if (reduction == CNNC_REDUCTION_MEAN) {
        g /= (REAL)count;
    }
    return g;
}

/* The reduced loss from per-sample losses, added in order. */
static inline REAL FN(loss_reduce)(int reduction, const double *parts,
                                   int64_t nparts, int64_t count)
{
    double sum = 0;

    for (int64_t i = 0; i < nparts; i++) {
        sum += parts[i];
    }
    if (reduction == CNNC_REDUCTION_MEAN) {
        sum /= (double)count;
    }
    return (REAL)sum;
}

int FN(cnnc_cross_entropy)(int64_t N, int64_t C, const REAL *z,
                           const int64_t *target, double label_smoothing,
                           int reduction, REAL *loss, const REAL *dloss,
                           REAL *dz)
{
    int status = loss_check(N, C, reduction);
    if (status != CNNC_OK) {
        return status;
    }
    if (z == NULL || target == NULL || !(label_smoothing >= 0.0) ||
        !(label_smoothing <= 1.0)) {
        return CNNC_ERR_ARG;
    }

    /* 1. Every target a class, before anything is written. */
    status = loss_check_targets(N, C, target);
    if (status != CNNC_OK) {
        return status;
    }

    /* 2. Each row's loss and gradient; a reduced loss keeps the rows'
     *    losses in double until they are added. */
    int reduce = reduction != CNNC_REDUCTION_NONE && loss != NULL;
    double *rows = NULL;
    if (reduce) {
        rows = cnnc_alloc((size_t)N * sizeof(double));
        if (rows == NULL) {
            return CNNC_ERR_NOMEM;
        }
    }
    REAL eps = (REAL)label_smoothing;
    /* A logit costs about eight multiply-adds (e^x and three passes);
     * loss_check made sure N * C * 8 fits. */
    int nthreads = cnnc_threads_for(N * C * 8);

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t n = 0; n < N; n++) {
        REAL scale = FN(loss_scale)(reduction, dloss, n, N);
        REAL *dz_n = dz == NULL ? NULL : dz + n * C;
        double row = FN(ce_row)(C, z + n * C, target[n], eps, scale, dz_n);

        if (reduce) {
            rows[n] = row;
        } else if (loss != NULL) {
            loss[n] = (REAL)row;
        }
    }
    (void)nthreads;

    /* 3. The reduction, rows in order. */
    if (reduce) {
        loss[0] = FN(loss_reduce)(reduction, rows, N, N);
        cnnc_free(rows);
    }
    return CNNC_OK;
}

int FN(cnnc_nll_loss)(int64_t N, int64_t C, const REAL *logp,
                      const int64_t *target, int reduction, REAL *loss,
                      const REAL *dloss, REAL *dlogp)
{
    int status = loss_check(N, C, reduction);
    if (status != CNNC_OK) {
        return status;
    }
    if (logp == NULL || target == NULL) {
        return CNNC_ERR_ARG;
    }
    status = loss_check_targets(N, C, target);
    if (status != CNNC_OK) {
        return status;
    }

    /* 1. The loss reads one log-probability per sample. */
    if (loss != NULL && reduction == CNNC_REDUCTION_NONE) {
        for (int64_t n = 0; n < N; n++) {
            loss[n] = -logp[n * C + target[n]];
        }
    } else if (loss != NULL) {
        double sum = 0;
        for (int64_t n = 0; n < N; n++) {
            sum -= (double)logp[n * C + target[n]];
        }
        loss[0] = FN(loss_reduce)(reduction, &sum, 1, N);
    }

    /* 2. The gradient is zero but at each sample's target. */
    if (dlogp != NULL) {
        int nthreads = cnnc_threads_for(N * C);
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
        for (int64_t n = 0; n < N; n++) {
            REAL *row = dlogp + n * C;
            for (int64_t c = 0; c < C; c++) {
                row[c] = 0;
            }
            row[target[n]] = -FN(loss_scale)(reduction, dloss, n, N);
        }
        (void)nthreads;
    }
    return CNNC_OK;
}

/*
 * The elementwise losses, one block [lo, hi) at a time: the block's loss
 * values (into out) or their sum (returned), and the gradient (into grad).
 * Keeping a block's passes together keeps its data in cache.
 */
static double FN(mse_block)(int64_t lo, int64_t hi, const REAL *p,
                            const REAL *t, int reduction, REAL *out,
                            const REAL *dloss, int64_t count, REAL *grad)
{
    double sum = 0;

    if (out != NULL && reduction == CNNC_REDUCTION_NONE) {
#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t i = lo; i < hi; i++) {
            REAL d = p[i] - t[i];
            out[i] = d * d;
        }
    } else if (out != NULL) {
#ifdef _OPENMP
#pragma omp simd reduction(+ : sum)
#endif
        for (int64_t i = lo; i < hi; i++) {
            double d = (double)p[i] - (double)t[i];
            sum += d * d;
        }
    }

    if (grad != NULL && reduction == CNNC_REDUCTION_NONE && dloss != NULL) {
#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t i = lo; i < hi; i++) {
            grad[i] = 2 * (p[i] - t[i]) * dloss[i];
        }
    } else if (grad != NULL) {
        REAL g = 2 * FN(loss_scale)(reduction, dloss, 0, count);
#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t i = lo; i < hi; i++) {
            grad[i] = g * (p[i] - t[i]);
        }
    }
    return sum;
}

static double FN(l1_block)(int64_t lo, int64_t hi, const REAL *p,
                           const REAL *t, int reduction, REAL *out,
                           const REAL *dloss, int64_t count, REAL *grad)
{
    double sum = 0;

    if (out != NULL && reduction == CNNC_REDUCTION_NONE) {
#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t i = lo; i < hi; i++) {
            out[i] = FN(loss_abs)(p[i] - t[i]);
        }
    } else if (out != NULL) {
#ifdef _OPENMP
#pragma omp simd reduction(+ : sum)
#endif
        for (int64_t i = lo; i < hi; i++) {
            sum += fabs((double)p[i] - (double)t[i]);
        }
    }

    /* sign(d) as (d > 0) - (d < 0): 0 where prediction meets target. */
    if (grad != NULL && reduction == CNNC_REDUCTION_NONE && dloss != NULL) {
#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t i = lo; i < hi; i++) {
            REAL d = p[i] - t[i];
            grad[i] = (REAL)((d > 0) - (d < 0)) * dloss[i];
        }
    } else if (grad != NULL) {
        REAL g = FN(loss_scale)(reduction, dloss, 0, count);
#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t i = lo; i < hi; i++) {
            REAL d = p[i] - t[i];
            grad[i] = (REAL)((d > 0) - (d < 0)) * g;
        }
    }
    return sum;
}

typedef double (*FN(block_fn))(int64_t, int64_t, const REAL *, const REAL *,
                               int, REAL *, const REAL *, int64_t, REAL *);

/* Runs `block` over every LOSS_BLOCK of the elements, in parallel, and
 * adds the blocks' sums in order for a reduced loss. */
static int FN(elementwise_loss)(FN(block_fn) block, int64_t count,
                                const REAL *pred, const REAL *target,
                                int reduction, REAL *loss, const REAL *dloss,
                                REAL *dpred)
{
    int status = loss_check(count, 1, reduction);
    if (status != CNNC_OK) {
        return status;
    }
    if (pred == NULL || target == NULL) {
        return CNNC_ERR_ARG;
    }

    int64_t nblocks = (count + LOSS_BLOCK - 1) / LOSS_BLOCK;
    int reduce = reduction != CNNC_REDUCTION_NONE && loss != NULL;
    double *parts = NULL;
    if (reduce) {
        parts = cnnc_alloc((size_t)nblocks * sizeof(double));
        if (parts == NULL) {
            return CNNC_ERR_NOMEM;
        }
    }
    int nthreads = cnnc_threads_for(count);

#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t b = 0; b < nblocks; b++) {
        int64_t lo = b * LOSS_BLOCK;
        int64_t hi = count - lo < LOSS_BLOCK ? count : lo + LOSS_BLOCK;
        double sum = block(lo, hi, pred, target, reduction, loss, dloss,
                           count, dpred);
        if (reduce) {
            parts[b] = sum;
        }
    }
    (void)nthreads;

    if (reduce) {
        loss[0] = FN(loss_reduce)(reduction, parts, nblocks, count);
        cnnc_free(parts);
    }
    return CNNC_OK;
}

int FN(cnnc_mse_loss)(int64_t count, const REAL *pred, const REAL *target,
                      int reduction, REAL *loss, const REAL *dloss,
                      REAL *dpred)
{
    return FN(elementwise_loss)(FN(mse_block), count, pred, target,
                                reduction, loss, dloss, dpred);
}

int FN(cnnc_l1_loss)(int64_t count, const REAL *pred, const REAL *target,
                     int reduction, REAL *loss, const REAL *dloss,
                     REAL *dpred)
{
    return FN(elementwise_loss)(FN(l1_block), count, pred, target,
                                reduction, loss, dloss, dpred);
}
