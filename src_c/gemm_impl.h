/*
 * gemm_impl.h - the cache-blocked GEMM driver and the scalar micro-kernel,
 * written once and compiled for each element type by gemm.c, which defines:
 *
 *   REAL       float or double
 *   NR         register-tile width for REAL (MR is CNNC_GEMM_MR for both)
 *   FN(name)   name##_f32 or name##_f64
 */

#define MR CNNC_GEMM_MR
#define KC CNNC_GEMM_KC
#define MC CNNC_GEMM_MC
#define NC CNNC_GEMM_NC

static inline int64_t FN(min64)(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/*
 * Packs the block A[i0 : i0+mc, p0 : p0+kc] into panels of MR rows. In a
 * panel, the MR values of one column are contiguous, so the micro-kernel
 * reads A as kc consecutive MR-vectors. Rows past the end are zeros.
 */
static void FN(pack_a)(cnnc_matrix A, int64_t i0, int64_t mc, int64_t p0,
                       int64_t kc, REAL *dst)
{
    const REAL *a = (const REAL *)A.data;

    for (int64_t t = 0; t < mc; t += MR) {
        int64_t rows = FN(min64)(MR, mc - t);
        const REAL *src = a + (i0 + t) * A.rs + p0 * A.cs;

        /* Walk whichever way memory is contiguous. */
        if (A.cs == 1) {
            for (int64_t i = 0; i < rows; i++) {
                const REAL *row = src + i * A.rs;
                for (int64_t p = 0; p < kc; p++) {
                    dst[p * MR + i] = row[p];
                }
            }
        } else {
            for (int64_t p = 0; p < kc; p++) {
                for (int64_t i = 0; i < rows; i++) {
                    dst[p * MR + i] = src[p * A.cs + i * A.rs];
                }
            }
        }
        for (int64_t i = rows; i < MR; i++) {
            for (int64_t p = 0; p < kc; p++) {
                dst[p * MR + i] = 0;
            }
        }
        dst += kc * MR;
    }
}

/*
 * Packs the block B[p0 : p0+kc, j0 : j0+nc] into panels of NR columns; in a
 * panel, the NR values of one row are contiguous. Columns past the end are
 * zeros.
 */
static void FN(pack_b)(cnnc_matrix B, int64_t p0, int64_t kc, int64_t j0,
                       int64_t nc, REAL *dst)
{
    const REAL *b = (const REAL *)B.data;

    for (int64_t t = 0; t < nc; t += NR) {
        int64_t cols = FN(min64)(NR, nc - t);
        const REAL *src = b + p0 * B.rs + (j0 + t) * B.cs;

        if (B.cs == 1) {
            for (int64_t p = 0; p < kc; p++) {
                const REAL *row = src + p * B.rs;
                REAL *out = dst + p * NR;
                int64_t j = 0;
                for (; j < cols; j++) {
                    out[j] = row[j];
                }
                for (; j < NR; j++) {
                    out[j] = 0;
                }
            }
        } else {
            for (int64_t j = 0; j < cols; j++) {
                const REAL *col = src + j * B.cs;
                for (int64_t p = 0; p < kc; p++) {
                    dst[p * NR + j] = col[p * B.rs];
                }
            }
            for (int64_t j = cols; j < NR; j++) {
                for (int64_t p = 0; p < kc; p++) {
                    dst[p * NR + j] = 0;
                }
            }
        }
        dst += kc * NR;
    }
}

/*
 * The scalar micro-kernel: the specification of the SIMD ones and the
 * portable fallback. c[MR x NR] (+)= sum over p of a[p, :]^T b[p, :].
 */
void FN(cnnc_ukernel_scalar)(int64_t kc, const REAL *a, const REAL *b,
                             REAL *c, int64_t ldc, int accumulate)
{
    REAL ab[MR * NR];

    for (int i = 0; i < MR * NR; i++) {
        ab[i] = 0;
    }

    /* Rank-1 updates, one per packed column of A and row of B. */
    for (int64_t p = 0; p < kc; p++) {
        for (int i = 0; i < MR; i++) {
            REAL ai = a[p * MR + i];
            for (int j = 0; j < NR; j++) {
                ab[i * NR + j] += ai * b[p * NR + j];
            }
        }
    }

    for (int i = 0; i < MR; i++) {
        for (int j = 0; j < NR; j++) {
            REAL old = accumulate ? c[i * ldc + j] : 0;
            c[i * ldc + j] = old + ab[i * NR + j];
        }
    }
}

int64_t FN(cnnc_gemm_workspace)(void)
{
    return (int64_t)MC * KC + (int64_t)KC * NC + MR * NR;
}

void FN(cnnc_gemm)(int64_t M, int64_t N, int64_t Kd, cnnc_matrix A,
                   cnnc_matrix B, REAL *C, int64_t ldc, int accumulate,
                   REAL *work)
{
    REAL *pa = work;                       /* MC x KC, packed A block */
    REAL *pb = work + (int64_t)MC * KC;    /* KC x NC, packed B block */
    REAL *edge = pb + (int64_t)KC * NC;    /* MR x NR, partial tiles */
    void (*ukernel)(int64_t, const REAL *, const REAL *, REAL *, int64_t,
                    int) = cnnc_simd->FN(gemm);

    /* An empty inner dimension leaves C alone or clears it. */
    if (Kd == 0) {
        if (!accumulate) {
            for (int64_t i = 0; i < M; i++) {
                for (int64_t j = 0; j < N; j++) {
                    C[i * ldc + j] = 0;
                }
            }
        }
        return;
    }

    for (int64_t jc = 0; jc < N; jc += NC) {
        int64_t nc = FN(min64)(NC, N - jc);

        for (int64_t pc = 0; pc < Kd; pc += KC) {
            int64_t kc = FN(min64)(KC, Kd - pc);
            int acc = accumulate || pc > 0;

            /* The B block stays in the outer caches for all of M. */
            FN(pack_b)(B, pc, kc, jc, nc, pb);

            for (int64_t ic = 0; ic < M; ic += MC) {
                int64_t mc = FN(min64)(MC, M - ic);

                /* The A block stays in L2 while B's panels stream by. */
                FN(pack_a)(A, ic, mc, pc, kc, pa);

                for (int64_t jr = 0; jr < nc; jr += NR) {
                    int64_t nr = FN(min64)(NR, nc - jr);
                    const REAL *bp = pb + jr * kc;

                    for (int64_t ir = 0; ir < mc; ir += MR) {
                        int64_t mr = FN(min64)(MR, mc - ir);
                        const REAL *ap = pa + ir * kc;
                        REAL *c = C + (ic + ir) * ldc + jc + jr;

                        if (mr == MR && nr == NR) {
                            ukernel(kc, ap, bp, c, ldc, acc);
                            continue;
                        }

                        /* A partial tile goes through a full-size buffer. */
                        ukernel(kc, ap, bp, edge, NR, 0);
                        for (int64_t i = 0; i < mr; i++) {
                            for (int64_t j = 0; j < nr; j++) {
                                REAL old = acc ? c[i * ldc + j] : 0;
                                c[i * ldc + j] = old + edge[i * NR + j];
                            }
                        }
                    }
                }
            }
        }
    }
}

#undef MR
#undef KC
#undef MC
#undef NC
