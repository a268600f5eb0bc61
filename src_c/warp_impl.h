/*
 * warp_impl.h - the affine warp's sampling loop, compiled by warp.c for
 * each element type, which defines REAL and FN(name).
 *
 * Work is split by output row: each (image, row) pair computes where its
 * Q pixels sample the input once, then writes that row in every channel.
 * Coordinates and interpolation weights are computed in double for both
 * element types, as the NumPy reference does, so that the two agree to
 * the rounding of the final value.
 */

/* Bilinear mix of four values: along x within the top and bottom rows,
 * then along y between them. */
static inline REAL FN(cnnc_warp_mix)(double v00, double v01, double v10,
                                     double v11, double fx, double fy)
{
    double top = (1.0 - fx) * v00 + fx * v01;
    double bottom = (1.0 - fx) * v10 + fx * v11;

    return (REAL)((1.0 - fy) * top + fy * bottom);
}

/* One channel's value at the taps: bilinear mix or the nearest pixel;
 * taps outside the image read as fill. */
static inline REAL FN(cnnc_warp_sample)(const REAL *plane,
                                        const cnnc_warp_taps *t, int mode,
                                        REAL fill)
{
    double v[4];

    if (mode == CNNC_WARP_NEAREST) {
        return t->off[0] >= 0 ? plane[t->off[0]] : fill;
    }
    for (int k = 0; k < 4; k++) {
        v[k] = t->off[k] >= 0 ? (double)plane[t->off[k]] : (double)fill;
    }
    return FN(cnnc_warp_mix)(v[0], v[1], v[2], v[3], t->fx, t->fy);
}

/*
 *   x: N x C x H x W     theta: N x 6 (row-major 2 x 3 per image)
 *   y: N x C x P x Q     (written, not accumulated)
 */
int FN(cnnc_warp_affine)(const cnnc_warp_geom *g, const REAL *x,
                         const double *theta, int mode, REAL fill, REAL *y)
{
    int status = cnnc_warp_check(g, theta, mode);
    int64_t HW, PQ, rows;
    int nthreads;

    if (status != CNNC_OK) {
        return status;
    }
    if (x == NULL || y == NULL) {
        return CNNC_ERR_ARG;
    }
    HW = g->H * g->W;
    PQ = g->P * g->Q;
    rows = g->N * g->P;
    nthreads = g->N * g->C * PQ < CNNC_WARP_PARALLEL_MIN_OUTPUTS
                   ? 1 : cnnc_get_num_threads();

    /* Every (image, output row) writes its own part of y. */
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) schedule(static)
#endif
    for (int64_t row = 0; row < rows; row++) {
        int64_t n = row / g->P, p = row % g->P;
        const double *t = theta + 6 * n;
        const REAL *xn = x + n * g->C * HW;
        REAL *yrow = y + n * g->C * PQ + p * g->Q;

        for (int64_t q = 0; q < g->Q; q++) {
            double sx = t[0] * (double)q + t[1] * (double)p + t[2];
            double sy = t[3] * (double)q + t[4] * (double)p + t[5];
            cnnc_warp_taps taps;

            /* Where this pixel samples, once for all channels. */
            if (mode == CNNC_WARP_NEAREST) {
                cnnc_warp_nearest_taps(sx, sy, g->H, g->W, &taps);
            } else {
                cnnc_warp_bilinear_taps(sx, sy, g->H, g->W, &taps);
            }

            /* When the top-left and bottom-right taps are inside, all
             * four are: the same mix as cnnc_warp_sample, unguarded. */
            if (mode == CNNC_WARP_BILINEAR && taps.off[0] >= 0 &&
                taps.off[3] >= 0) {
                const REAL *src = xn + taps.off[0];
                for (int64_t c = 0; c < g->C; c++, src += HW) {
                    yrow[c * PQ + q] = FN(cnnc_warp_mix)(
                        src[0], src[1], src[g->W], src[g->W + 1], taps.fx,
                        taps.fy);
                }
                continue;
            }

            /* The same sampling rule in every channel. */
            for (int64_t c = 0; c < g->C; c++) {
                yrow[c * PQ + q] = FN(cnnc_warp_sample)(xn + c * HW, &taps,
                                                        mode, fill);
            }
        }
    }
    (void)nthreads;
    return CNNC_OK;
}
