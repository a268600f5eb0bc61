/*
 * dropout_impl.h - the dropout kernel, compiled by dropout.c for each
 * element type (REAL, FN(name)).
 */

/*
 * Inverted dropout with a given mask, one mask entry per row of `inner`
 * elements:
 *
 *   y[r, i] = x[r, i] * mask[r] * scale,   scale = 1 / (1 - p)
 *
 * Element dropout (Dropout) has inner = 1, one entry per element; channel
 * dropout (Dropout2d) has rows = N * C and inner = H * W, one entry per
 * feature map. mask entries must be 0 (dropped) or 1 (kept). The same
 * call is the backward pass, with dy for x and dx for y, since the map is
 * linear. It is a product, not a select, so a dropped inf or NaN gives
 * NaN, as x * 0 does.
 *
 *   x, y: rows x inner      mask: rows
 */
int FN(cnnc_dropout_apply)(int64_t rows, int64_t inner, const REAL *x,
                           const uint8_t *mask, REAL scale, REAL *y)
{
    int status = dropout_check(rows, inner, (int64_t)sizeof(REAL), x, mask,
                               y);
    int nthreads;

    if (status != CNNC_OK) {
        return status;
    }
    if (rows == 0 || inner == 0) {
        return CNNC_OK;
    }
    nthreads = cnnc_threads_for(rows * inner);

    /* One mask entry per element. */
    if (inner == 1) {
#ifdef _OPENMP
#pragma omp parallel for simd num_threads(nthreads) schedule(static)
#endif
        for (int64_t i = 0; i < rows; i++) {
            y[i] = x[i] * ((REAL)mask[i] * scale);
        }
        (void)nthreads;
        return CNNC_OK;
    }

    /* One mask entry per row: a scaled copy, or a row of (signed) zeros. */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t r = 0; r < rows; r++) {
        const REAL *xr = x + r * inner;
        REAL *yr = y + r * inner;
        REAL k = (REAL)mask[r] * scale;
#pragma omp simd
        for (int64_t i = 0; i < inner; i++) {
            yr[i] = xr[i] * k;
        }
    }
    (void)nthreads;
    return CNNC_OK;
}
