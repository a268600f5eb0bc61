/*
 * conv2d_direct_impl.h - convolution without an im2col matrix, compiled by
 * conv2d.c for each element type (REAL, NR, FN as in gemm.c).
 *
 * The GEMM view of a convolution multiplies the weights w[Kg x CgRS] by a
 * matrix whose row (c, r, s) holds, for each output pixel, the input pixel
 * that filter tap meets. For output pixels along one output row, that row
 * is contiguous in memory once the input is padded and, for stride > 1,
 * split into stride_h x stride_w "phase" planes (plane (a, b) holds the
 * padded pixels (i*stride_h + a, j*stride_w + b)). So the micro-kernel can
 * read B straight from the phase planes through a table of one offset per
 * tap, and no im2col matrix or packed copy of B is ever made.
 *
 * Workspace per thread: one image group's phase planes, about
 * Cg x (H + 2 pad_h) x (W + 2 pad_w) elements.
 */

/* Where one image group lives in phase-plane form. */
typedef struct {
    int64_t Hph, Wph;      /* one phase plane: Hph x Wph */
    int64_t plane;         /* elements per phase plane */
    int64_t per_channel;   /* stride_h * stride_w planes per channel */
    int64_t size;          /* elements for Cg channels, plus slack */
} FN(phase_layout);

static FN(phase_layout) FN(phase_layout_of)(const cnnc_conv2d_geom *g)
{
    FN(phase_layout) L;
    int64_t Hp = g->H + 2 * g->pad_h, Wp = g->W + 2 * g->pad_w;

    L.Hph = (Hp + g->stride_h - 1) / g->stride_h;
    L.Wph = (Wp + g->stride_w - 1) / g->stride_w;
    L.plane = L.Hph * L.Wph;
    L.per_channel = g->stride_h * g->stride_w * L.plane;
    /* Slack: a register tile may read NR pixels past the last one. */
    L.size = (g->C / g->G) * L.per_channel + 2 * NR;
    return L;
}

/* Copies image group xg (Cg x H x W) into phase planes, zeros for the
 * padding. For stride 1 there is one plane per channel: a padded copy. */
static void FN(fill_phases)(const cnnc_conv2d_geom *g, const FN(phase_layout) *L,
                            const REAL *xg, REAL *buf)
{
    int64_t Cg = g->C / g->G;

    for (int64_t c = 0; c < Cg; c++) {
        const REAL *xc = xg + c * g->H * g->W;
        for (int64_t a = 0; a < g->stride_h; a++) {
            for (int64_t b = 0; b < g->stride_w; b++) {
                REAL *dst = buf + c * L->per_channel +
                            (a * g->stride_w + b) * L->plane;
                /* Columns j in [j_lo, j_hi) of this phase fall inside
                 * the image, at iw = j * stride_w + b - pad_w. */
                int64_t j_lo, j_hi;
                cnnc_conv_valid_range(b - g->pad_w, g->stride_w, g->W, L->Wph,
                                      &j_lo, &j_hi);
                for (int64_t i = 0; i < L->Hph; i++) {
                    int64_t ih = i * g->stride_h + a - g->pad_h;
                    REAL *row = dst + i * L->Wph;
                    int64_t j = 0;
                    if (ih < 0 || ih >= g->H) {
                        for (; j < L->Wph; j++) {
                            row[j] = 0;
                        }
                        continue;
                    }
                    const REAL *src = xc + ih * g->W;
                    int64_t shift = b - g->pad_w;
                    for (; j < j_lo; j++) {
                        row[j] = 0;
                    }
                    for (; j < j_hi; j++) {
                        row[j] = src[j * g->stride_w + shift];
                    }
                    for (; j < L->Wph; j++) {
                        row[j] = 0;
                    }
                }
            }
        }
    }
    for (int64_t j = 0; j < 2 * NR; j++) {
        buf[Cg * L->per_channel + j] = 0;
    }
}

/* off[(c*R + r)*S + s]: where tap (c, r, s) of output pixel (0, 0) sits in
 * the phase planes; pixel (p, q) adds p*Wph + q. */
static void FN(tap_offsets)(const cnnc_conv2d_geom *g, const FN(phase_layout) *L,
                            int64_t *off)
{
    int64_t Cg = g->C / g->G;

    for (int64_t c = 0; c < Cg; c++) {
        for (int64_t r = 0; r < g->R; r++) {
            for (int64_t s = 0; s < g->S; s++) {
                int64_t ty = r * g->dil_h, tx = s * g->dil_w;
                int64_t phase = (ty % g->stride_h) * g->stride_w +
                                tx % g->stride_w;
                off[(c * g->R + r) * g->S + s] =
                    c * L->per_channel + phase * L->plane +
                    (ty / g->stride_h) * L->Wph + tx / g->stride_w;
            }
        }
    }
}

/*
 * Packs the weights of every group into panels of MR output channels: panel
 * t of group gi holds, for each tap j in 0..CRS, the weights of channels
 * gi*Kg + t*MR ... + MR - 1 (zeros past Kg). With flip_transpose the
 * weights are those of the input-gradient convolution instead:
 * w'[c, k, r, s] = w[k, c, R-1-r, S-1-s] within each group, and the caller's
 * geometry is that convolution's (its K is the original C).
 */
static void FN(pack_weights)(const cnnc_conv2d_geom *g, const REAL *w,
                             int flip_transpose, REAL *dst)
{
    int64_t Cg = g->C / g->G, Kg = g->K / g->G;
    int64_t RS = g->R * g->S, CRS = Cg * RS;
    int64_t panels = (Kg + CNNC_GEMM_MR - 1) / CNNC_GEMM_MR;

    for (int64_t gi = 0; gi < g->G; gi++) {
        for (int64_t t = 0; t < panels; t++) {
            REAL *panel = dst + (gi * panels + t) * CRS * CNNC_GEMM_MR;
            for (int64_t j = 0; j < CRS; j++) {
                int64_t c = j / RS, rs = j % RS;
                for (int i = 0; i < CNNC_GEMM_MR; i++) {
                    int64_t k = t * CNNC_GEMM_MR + i;
                    REAL v = 0;
                    if (k < Kg && !flip_transpose) {
                        v = w[((gi * Kg + k) * Cg + c) * RS + rs];
                    } else if (k < Kg) {
                        /* Original weight w[gi*Cg' + c][k] where the
                         * original had Cg' = Kg inputs per group and
                         * Kg' = Cg outputs per group. */
                        v = w[((gi * Cg + c) * Kg + k) * RS + (RS - 1 - rs)];
                    }
                    panel[j * CNNC_GEMM_MR + i] = v;
                }
            }
        }
    }
}

/* The scalar reference of the direct micro-kernel: like the GEMM one, but
 * row p of B is read at b + off[p] instead of from a packed panel. */
void FN(cnnc_ukernel_direct_scalar)(int64_t kc, const REAL *a, const REAL *b,
                                    const int64_t *off, REAL *c, int64_t ldc,
                                    int accumulate)
{
    REAL ab[CNNC_GEMM_MR * NR];

    for (int i = 0; i < CNNC_GEMM_MR * NR; i++) {
        ab[i] = 0;
    }
    for (int64_t p = 0; p < kc; p++) {
        const REAL *bp = b + off[p];
        for (int i = 0; i < CNNC_GEMM_MR; i++) {
            REAL ai = a[p * CNNC_GEMM_MR + i];
            for (int j = 0; j < NR; j++) {
                ab[i * NR + j] += ai * bp[j];
            }
        }
    }
    for (int i = 0; i < CNNC_GEMM_MR; i++) {
        for (int j = 0; j < NR; j++) {
            REAL old = accumulate ? c[i * ldc + j] : 0;
            c[i * ldc + j] = old + ab[i * NR + j];
        }
    }
}

/* Panels of MR output channels whose weights share L2 at once. */
#define MC_PANELS (CNNC_GEMM_MC / CNNC_GEMM_MR)

/* Adds to c (row stride ldc) the tiles of panels [t0, t1) for nr <= NR
 * pixels starting at bp in the phase planes, over taps [pc, pc + kc). */
static inline void FN(direct_tiles)(
    const cnnc_conv2d_geom *g, const REAL *wg, int64_t CRS, int64_t pc,
    int64_t kc, int64_t t0, int64_t t1, const REAL *bp, const int64_t *off,
    REAL *c, int64_t ldc, int64_t nr, REAL *edge,
    void (*ukernel)(int64_t, const REAL *, const REAL *, const int64_t *,
                    REAL *, int64_t, int))
{
    int64_t Kg = g->K / g->G;

    for (int64_t t = t0; t < t1; t++) {
        int64_t mr = Kg - t * CNNC_GEMM_MR;
        const REAL *ap = wg + (t * CRS + pc) * CNNC_GEMM_MR;
        REAL *ct = c + t * CNNC_GEMM_MR * ldc;

        mr = mr < CNNC_GEMM_MR ? mr : CNNC_GEMM_MR;
        if (mr == CNNC_GEMM_MR && nr == NR) {
            ukernel(kc, ap, bp, off + pc, ct, ldc, 1);
            continue;
        }
        /* A partial tile goes through a full-size buffer. */
        ukernel(kc, ap, bp, off + pc, edge, NR, 0);
        for (int64_t i = 0; i < mr; i++) {
            for (int64_t j = 0; j < nr; j++) {
                ct[i * ldc + j] += edge[i * NR + j];
            }
        }
    }
}

/*
 * y = conv(x, w) + b by the direct method. `packed` holds pack_weights()
 * output and `off` tap_offsets() output for geometry g. Work is split into
 * (image, group, block of output rows) items; a thread rebuilds its phase
 * planes only when its item moves to another image group.
 */
static int FN(direct_forward)(const cnnc_conv2d_geom *g, const REAL *x,
                              const REAL *packed, const int64_t *off,
                              const REAL *b, REAL *y)
{
    int64_t Cg = g->C / g->G, Kg = g->K / g->G;
    int64_t CRS = Cg * g->R * g->S, PQ = g->P * g->Q;
    int64_t panels = (Kg + CNNC_GEMM_MR - 1) / CNNC_GEMM_MR;
    FN(phase_layout) L = FN(phase_layout_of)(g);
    int nthreads = cnnc_threads_for(g->N * g->K * PQ * CRS);

    /* Enough row blocks that every thread has work. */
    int64_t images = g->N * g->G;
    int64_t blocks = images >= 2 * nthreads ? 1
                     : (2 * nthreads + images - 1) / images;
    if (blocks > g->P) {
        blocks = g->P;
    }
    int64_t rows_per = (g->P + blocks - 1) / blocks;
    int64_t items = images * blocks;
    if (nthreads > items) {
        nthreads = (int)items;
    }
    int64_t ws = (L.size + 15) / 16 * 16;
    REAL *work = cnnc_alloc((size_t)(nthreads * ws) * sizeof(REAL));
    if (work == NULL) {
        return CNNC_ERR_NOMEM;
    }
    void (*ukernel)(int64_t, const REAL *, const REAL *, const int64_t *,
                    REAL *, int64_t, int) = cnnc_simd->FN(direct);

#ifdef _OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        REAL *phases = work + tid * ws;
        REAL edge[CNNC_GEMM_MR * NR];
        int64_t loaded = -1;  /* image group now in `phases` */

#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int64_t item = 0; item < items; item++) {
            int64_t img = item / blocks;
            int64_t n = img / g->G, gi = img % g->G;
            int64_t p0 = item % blocks * rows_per;
            int64_t p1 = p0 + rows_per < g->P ? p0 + rows_per : g->P;
            REAL *yg = y + (n * g->K + gi * Kg) * PQ;
            const REAL *wg = packed + gi * panels * CRS * CNNC_GEMM_MR;

            if (p0 >= p1) {
                continue;
            }

            /* 1. The image group in phase-plane form. */
            if (loaded != img) {
                FN(fill_phases)(g, &L, x + (n * g->C + gi * Cg) * g->H * g->W,
                                phases);
                loaded = img;
            }

            /* 2. Start the output rows from the bias (or zero). */
            for (int64_t k = 0; k < Kg; k++) {
                REAL v = b != NULL ? b[gi * Kg + k] : 0;
                REAL *row = yg + k * PQ + p0 * g->Q;
                for (int64_t j = 0; j < (p1 - p0) * g->Q; j++) {
                    row[j] = v;
                }
            }

            /* 3. Register tiles of MR channels x NR pixels of one row,
             *    summed over the taps in blocks of KC; MC channels at a
             *    time, so their weights stay in L2 while the rows pass. */
            for (int64_t pc = 0; pc < CRS; pc += CNNC_GEMM_KC) {
                int64_t kc = CRS - pc < CNNC_GEMM_KC ? CRS - pc : CNNC_GEMM_KC;
                for (int64_t t0 = 0; t0 < panels; t0 += MC_PANELS) {
                    int64_t t1 = t0 + MC_PANELS < panels ? t0 + MC_PANELS
                                                         : panels;
                    for (int64_t p = p0; p < p1; p++) {
                        for (int64_t q = 0; q < g->Q; q += NR) {
                            FN(direct_tiles)(g, wg, CRS, pc, kc, t0, t1,
                                             phases + p * L.Wph + q, off,
                                             yg + p * g->Q + q, PQ,
                                             g->Q - q < NR ? g->Q - q : NR,
                                             edge, ukernel);
                        }
                    }
                }
            }
        }
    }

    cnnc_free(work);
    return CNNC_OK;
}

/* Packed weights and tap offsets for geometry g, then direct_forward. */
static int FN(direct_conv)(const cnnc_conv2d_geom *g, const REAL *x,
                           const REAL *w, int flip_transpose, const REAL *b,
                           REAL *y)
{
    int64_t Cg = g->C / g->G, Kg = g->K / g->G;
    int64_t CRS = Cg * g->R * g->S;
    int64_t panels = (Kg + CNNC_GEMM_MR - 1) / CNNC_GEMM_MR;
    FN(phase_layout) L = FN(phase_layout_of)(g);
    REAL *packed = cnnc_alloc((size_t)(g->G * panels * CRS * CNNC_GEMM_MR) *
                              sizeof(REAL));
    int64_t *off = cnnc_alloc((size_t)CRS * sizeof(int64_t));
    int status = CNNC_ERR_NOMEM;

    if (packed != NULL && off != NULL) {
        FN(pack_weights)(g, w, flip_transpose, packed);
        FN(tap_offsets)(g, &L, off);
        status = FN(direct_forward)(g, x, packed, off, b, y);
    }
    cnnc_free(packed);
    cnnc_free(off);
    return status;
}

#undef MC_PANELS

/*
 * The scalar reference of the weight-gradient micro-kernel. It adds to the
 * MR x NR tile c (row stride ldc)
 *
 *   c[i][j] += sum over output pixels (r, q) of A_i(r, q) * B(r, q)[j]
 *
 * where A_i(r, q) = a[off[i] + r * row_stride + q] is tap i's input pixel
 * for pixel q of output row r (read in place from the phase planes), and
 * B(r, q) the NR packed values of dy for that pixel, stored consecutively.
 */
void FN(cnnc_ukernel_wgrad_scalar)(int64_t rows, int64_t cols,
                                   int64_t row_stride, const REAL *a,
                                   const int64_t *off, const REAL *b, REAL *c,
                                   int64_t ldc)
{
    REAL ab[CNNC_GEMM_MR * NR];

    for (int i = 0; i < CNNC_GEMM_MR * NR; i++) {
        ab[i] = 0;
    }
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t q = 0; q < cols; q++) {
            for (int i = 0; i < CNNC_GEMM_MR; i++) {
                REAL ai = a[off[i] + r * row_stride + q];
                for (int j = 0; j < NR; j++) {
                    ab[i * NR + j] += ai * b[j];
                }
            }
            b += NR;
        }
    }
    for (int i = 0; i < CNNC_GEMM_MR; i++) {
        for (int j = 0; j < NR; j++) {
            c[i * ldc + j] += ab[i * NR + j];
        }
    }
}

/*
 * dw by the direct method: dw^T[CRS x Kg] = col[CRS x pixels] dy^T, with
 * col read in place from the phase planes and dy^T packed a few output
 * rows at a time. Each thread sums into its own dw^T, padded to whole
 * register tiles so no tile needs edge handling (rows past CRS read valid
 * but meaningless pixels and are dropped; columns past Kg multiply zeros);
 * the copies are added, and transposed, at the end.
 */
static int FN(direct_weight_grad)(const cnnc_conv2d_geom *g, const REAL *dy,
                                  const REAL *x, REAL *dw)
{
    int64_t Cg = g->C / g->G, Kg = g->K / g->G;
    int64_t CRS = Cg * g->R * g->S, PQ = g->P * g->Q;
    int64_t CRSp = (CRS + CNNC_GEMM_MR - 1) / CNNC_GEMM_MR * CNNC_GEMM_MR;
    int64_t Kgp = (Kg + NR - 1) / NR * NR;
    /* Output rows per packed block of dy^T: about KC pixels. */
    int64_t prows = CNNC_GEMM_KC / g->Q > 0 ? CNNC_GEMM_KC / g->Q : 1;
    FN(phase_layout) L = FN(phase_layout_of)(g);
    int nthreads = cnnc_threads_for(g->N * g->K * PQ * CRS);
    int64_t items = g->N * g->G;
    if (nthreads > items) {
        nthreads = (int)items;
    }
    int64_t dwt_size = g->G * CRSp * Kgp;
    int64_t pack_size = Kgp * prows * g->Q;
    int64_t ws = (L.size + pack_size + dwt_size + 15) / 16 * 16;
    REAL *work = cnnc_alloc((size_t)(nthreads * ws) * sizeof(REAL));
    int64_t *off = cnnc_alloc((size_t)CRSp * sizeof(int64_t));
    int team = 1;
    void (*ukernel)(int64_t, int64_t, int64_t, const REAL *, const int64_t *,
                    const REAL *, REAL *, int64_t) = cnnc_simd->FN(wgrad);

    if (work == NULL || off == NULL) {
        cnnc_free(work);
        cnnc_free(off);
        return CNNC_ERR_NOMEM;
    }
    FN(tap_offsets)(g, &L, off);
    for (int64_t j = CRS; j < CRSp; j++) {
        off[j] = off[CRS - 1];
    }

#ifdef _OPENMP
#pragma omp parallel num_threads(nthreads)
#endif
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#pragma omp master
        team = omp_get_num_threads();
#endif
        REAL *phases = work + tid * ws;
        REAL *bt = phases + L.size;
        REAL *dwt = bt + pack_size;

        for (int64_t j = 0; j < dwt_size; j++) {
            dwt[j] = 0;
        }

#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int64_t item = 0; item < items; item++) {
            int64_t n = item / g->G, gi = item % g->G;
            const REAL *dyg = dy + (n * g->K + gi * Kg) * PQ;
            REAL *dwg = dwt + gi * CRSp * Kgp;

            /* 1. The image group in phase-plane form. */
            FN(fill_phases)(g, &L, x + (n * g->C + gi * Cg) * g->H * g->W,
                            phases);

            for (int64_t p0 = 0; p0 < g->P; p0 += prows) {
                int64_t pr = g->P - p0 < prows ? g->P - p0 : prows;
                int64_t npix = pr * g->Q;

                /* 2. dy^T for these rows, in panels of NR channels. */
                for (int64_t j0 = 0; j0 < Kgp; j0 += NR) {
                    REAL *panel = bt + j0 * npix;
                    for (int64_t t = 0; t < npix; t++) {
                        for (int64_t j = 0; j < NR; j++) {
                            int64_t k = j0 + j;
                            panel[t * NR + j] =
                                k < Kg ? dyg[k * PQ + p0 * g->Q + t] : 0;
                        }
                    }
                }

                /* 3. Every tile of dw^T gathers these pixels' products. */
                for (int64_t j0 = 0; j0 < Kgp; j0 += NR) {
                    for (int64_t i0 = 0; i0 < CRSp; i0 += CNNC_GEMM_MR) {
                        ukernel(pr, g->Q, L.Wph, phases + p0 * L.Wph,
                                off + i0, bt + j0 * npix, dwg + i0 * Kgp + j0,
                                Kgp);
                    }
                }
            }
        }
    }

    /* 4. Add the threads' sums in thread order, transposing to K x CRS. */
    for (int64_t gi = 0; gi < g->G; gi++) {
        for (int64_t k = 0; k < Kg; k++) {
            REAL *dst = dw + (gi * Kg + k) * CRS;
            for (int64_t j = 0; j < CRS; j++) {
                REAL sum = 0;
                for (int t = 0; t < team; t++) {
                    const REAL *dwt = work + t * ws + L.size + pack_size;
                    sum += dwt[(gi * CRSp + j) * Kgp + k];
                }
                dst[j] = sum;
            }
        }
    }

    cnnc_free(work);
    cnnc_free(off);
    return CNNC_OK;
}
