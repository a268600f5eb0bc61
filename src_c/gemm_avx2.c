/*
 * gemm_avx2.c - GEMM micro-kernels for x86-64 with AVX2 and FMA.
 *
 * Contract (the same as the scalar kernel in gemm_impl.h):
 * - Register tile: MR = 6 rows by NR = 16 floats (two ymm) or 8 doubles
 *   (two ymm); 12 ymm accumulators, 2 for B, 1 for a broadcast of A.
 * - a is a packed kc x MR panel, b a packed kc x NR panel, both written by
 *   the driver's packers; no alignment is assumed (unaligned loads).
 * - c is a full MR x NR tile with row stride ldc: the driver sends partial
 *   tiles through a full-size buffer, so there is no tail here. c is read
 *   only when accumulate is nonzero.
 * Only functions marked CNNC_TARGET_AVX2 use these instructions, and the
 * dispatcher calls them only on a CPU that has them.
 */
#include "internal.h"

#if CNNC_HAVE_AVX2_PATH

#include <immintrin.h>

CNNC_TARGET_AVX2
void cnnc_ukernel_avx2_f32(int64_t kc, const float *a, const float *b,
                           float *c, int64_t ldc, int accumulate)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

    /* One rank-1 update per step: two B vectors times six A scalars. */
    for (int64_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b);
        __m256 b1 = _mm256_loadu_ps(b + 8);
        __m256 ai;

        ai = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(ai, b0, c00);
        c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(ai, b0, c10);
        c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(ai, b0, c20);
        c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(ai, b0, c30);
        c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(ai, b0, c40);
        c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(ai, b0, c50);
        c51 = _mm256_fmadd_ps(ai, b1, c51);

        a += CNNC_GEMM_MR;
        b += CNNC_GEMM_NR_F32;
    }

    /* Write back, adding the old tile when asked. */
    __m256 rows[12] = {c00, c01, c10, c11, c20, c21,
                       c30, c31, c40, c41, c50, c51};
    for (int i = 0; i < CNNC_GEMM_MR; i++) {
        float *ci = c + i * ldc;
        __m256 lo = rows[2 * i], hi = rows[2 * i + 1];
        if (accumulate) {
            lo = _mm256_add_ps(lo, _mm256_loadu_ps(ci));
            hi = _mm256_add_ps(hi, _mm256_loadu_ps(ci + 8));
        }
        _mm256_storeu_ps(ci, lo);
        _mm256_storeu_ps(ci + 8, hi);
    }
}

CNNC_TARGET_AVX2
void cnnc_ukernel_avx2_f64(int64_t kc, const double *a, const double *b,
                           double *c, int64_t ldc, int accumulate)
{
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
    __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
    __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();

    /* One rank-1 update per step: two B vectors times six A scalars. */
    for (int64_t p = 0; p < kc; p++) {
        __m256d b0 = _mm256_loadu_pd(b);
        __m256d b1 = _mm256_loadu_pd(b + 4);
        __m256d ai;

        ai = _mm256_broadcast_sd(a + 0);
        c00 = _mm256_fmadd_pd(ai, b0, c00);
        c01 = _mm256_fmadd_pd(ai, b1, c01);
        ai = _mm256_broadcast_sd(a + 1);
        c10 = _mm256_fmadd_pd(ai, b0, c10);
        c11 = _mm256_fmadd_pd(ai, b1, c11);
        ai = _mm256_broadcast_sd(a + 2);
        c20 = _mm256_fmadd_pd(ai, b0, c20);
        c21 = _mm256_fmadd_pd(ai, b1, c21);
        ai = _mm256_broadcast_sd(a + 3);
        c30 = _mm256_fmadd_pd(ai, b0, c30);
        c31 = _mm256_fmadd_pd(ai, b1, c31);
        ai = _mm256_broadcast_sd(a + 4);
        c40 = _mm256_fmadd_pd(ai, b0, c40);
        c41 = _mm256_fmadd_pd(ai, b1, c41);
        ai = _mm256_broadcast_sd(a + 5);
        c50 = _mm256_fmadd_pd(ai, b0, c50);
        c51 = _mm256_fmadd_pd(ai, b1, c51);

        a += CNNC_GEMM_MR;
        b += CNNC_GEMM_NR_F64;
    }

    /* Write back, adding the old tile when asked. */
    __m256d rows[12] = {c00, c01, c10, c11, c20, c21,
                        c30, c31, c40, c41, c50, c51};
    for (int i = 0; i < CNNC_GEMM_MR; i++) {
        double *ci = c + i * ldc;
        __m256d lo = rows[2 * i], hi = rows[2 * i + 1];
        if (accumulate) {
            lo = _mm256_add_pd(lo, _mm256_loadu_pd(ci));
            hi = _mm256_add_pd(hi, _mm256_loadu_pd(ci + 4));
        }
        _mm256_storeu_pd(ci, lo);
        _mm256_storeu_pd(ci + 4, hi);
    }
}

#endif /* CNNC_HAVE_AVX2_PATH */

/*
 * Direct-convolution micro-kernels: the same register tile and contract as
 * the GEMM ones above, except that row p of B is read unpacked at
 * b + off[p] (NR consecutive elements, no alignment assumed). Used by
 * conv2d_direct_impl.h, which guarantees NR readable elements at every
 * such address.
 */
#if CNNC_HAVE_AVX2_PATH

CNNC_TARGET_AVX2
void cnnc_ukernel_direct_avx2_f32(int64_t kc, const float *a, const float *b,
                                  const int64_t *off, float *c, int64_t ldc,
                                  int accumulate)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

    /* As the GEMM kernel, with B's row p found through off[p]. */
    for (int64_t p = 0; p < kc; p++) {
        const float *bp = b + off[p];
        __m256 b0 = _mm256_loadu_ps(bp);
        __m256 b1 = _mm256_loadu_ps(bp + 8);
        __m256 ai;

        ai = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(ai, b0, c00);
        c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(ai, b0, c10);
        c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(ai, b0, c20);
        c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(ai, b0, c30);
        c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(ai, b0, c40);
        c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(ai, b0, c50);
        c51 = _mm256_fmadd_ps(ai, b1, c51);

        a += CNNC_GEMM_MR;
    }

    __m256 rows[12] = {c00, c01, c10, c11, c20, c21,
                       c30, c31, c40, c41, c50, c51};
    for (int i = 0; i < CNNC_GEMM_MR; i++) {
        float *ci = c + i * ldc;
        __m256 lo = rows[2 * i], hi = rows[2 * i + 1];
        if (accumulate) {
            lo = _mm256_add_ps(lo, _mm256_loadu_ps(ci));
            hi = _mm256_add_ps(hi, _mm256_loadu_ps(ci + 8));
        }
        _mm256_storeu_ps(ci, lo);
        _mm256_storeu_ps(ci + 8, hi);
    }
}

CNNC_TARGET_AVX2
void cnnc_ukernel_direct_avx2_f64(int64_t kc, const double *a,
                                  const double *b, const int64_t *off,
                                  double *c, int64_t ldc, int accumulate)
{
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
    __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
    __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();

    for (int64_t p = 0; p < kc; p++) {
        const double *bp = b + off[p];
        __m256d b0 = _mm256_loadu_pd(bp);
        __m256d b1 = _mm256_loadu_pd(bp + 4);
        __m256d ai;

        ai = _mm256_broadcast_sd(a + 0);
        c00 = _mm256_fmadd_pd(ai, b0, c00);
        c01 = _mm256_fmadd_pd(ai, b1, c01);
        ai = _mm256_broadcast_sd(a + 1);
        c10 = _mm256_fmadd_pd(ai, b0, c10);
        c11 = _mm256_fmadd_pd(ai, b1, c11);
        ai = _mm256_broadcast_sd(a + 2);
        c20 = _mm256_fmadd_pd(ai, b0, c20);
        c21 = _mm256_fmadd_pd(ai, b1, c21);
        ai = _mm256_broadcast_sd(a + 3);
        c30 = _mm256_fmadd_pd(ai, b0, c30);
        c31 = _mm256_fmadd_pd(ai, b1, c31);
        ai = _mm256_broadcast_sd(a + 4);
        c40 = _mm256_fmadd_pd(ai, b0, c40);
        c41 = _mm256_fmadd_pd(ai, b1, c41);
        ai = _mm256_broadcast_sd(a + 5);
        c50 = _mm256_fmadd_pd(ai, b0, c50);
        c51 = _mm256_fmadd_pd(ai, b1, c51);

        a += CNNC_GEMM_MR;
    }

    __m256d rows[12] = {c00, c01, c10, c11, c20, c21,
                        c30, c31, c40, c41, c50, c51};
    for (int i = 0; i < CNNC_GEMM_MR; i++) {
        double *ci = c + i * ldc;
        __m256d lo = rows[2 * i], hi = rows[2 * i + 1];
        if (accumulate) {
            lo = _mm256_add_pd(lo, _mm256_loadu_pd(ci));
            hi = _mm256_add_pd(hi, _mm256_loadu_pd(ci + 4));
        }
        _mm256_storeu_pd(ci, lo);
        _mm256_storeu_pd(ci + 4, hi);
    }
}

#endif /* CNNC_HAVE_AVX2_PATH */

#if CNNC_HAVE_AVX2_PATH

/*
 * Weight-gradient micro-kernels (see cnnc_ukernel_wgrad_scalar in
 * conv2d_direct_impl.h for the specification). Register tile MR x NR as
 * above; A's six values per step are broadcast straight from six input
 * rows (a + off[i] + r * row_stride + q), B is packed NR per step. No
 * alignment is assumed. The tile is always accumulated into c.
 */
CNNC_TARGET_AVX2
void cnnc_ukernel_wgrad_avx2_f32(int64_t rows, int64_t cols,
                                 int64_t row_stride, const float *a,
                                 const int64_t *off, const float *b,
                                 float *c, int64_t ldc)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

    for (int64_t r = 0; r < rows; r++) {
        const float *a0 = a + off[0] + r * row_stride;
        const float *a1 = a + off[1] + r * row_stride;
        const float *a2 = a + off[2] + r * row_stride;
        const float *a3 = a + off[3] + r * row_stride;
        const float *a4 = a + off[4] + r * row_stride;
        const float *a5 = a + off[5] + r * row_stride;
        for (int64_t q = 0; q < cols; q++) {
            __m256 b0 = _mm256_loadu_ps(b);
            __m256 b1 = _mm256_loadu_ps(b + 8);
            __m256 ai;

            ai = _mm256_broadcast_ss(a0 + q);
            c00 = _mm256_fmadd_ps(ai, b0, c00);
            c01 = _mm256_fmadd_ps(ai, b1, c01);
            ai = _mm256_broadcast_ss(a1 + q);
            c10 = _mm256_fmadd_ps(ai, b0, c10);
            c11 = _mm256_fmadd_ps(ai, b1, c11);
            ai = _mm256_broadcast_ss(a2 + q);
            c20 = _mm256_fmadd_ps(ai, b0, c20);
            c21 = _mm256_fmadd_ps(ai, b1, c21);
            ai = _mm256_broadcast_ss(a3 + q);
            c30 = _mm256_fmadd_ps(ai, b0, c30);
            c31 = _mm256_fmadd_ps(ai, b1, c31);
            ai = _mm256_broadcast_ss(a4 + q);
            c40 = _mm256_fmadd_ps(ai, b0, c40);
            c41 = _mm256_fmadd_ps(ai, b1, c41);
            ai = _mm256_broadcast_ss(a5 + q);
            c50 = _mm256_fmadd_ps(ai, b0, c50);
            c51 = _mm256_fmadd_ps(ai, b1, c51);
            b += CNNC_GEMM_NR_F32;
        }
    }

    __m256 tile[12] = {c00, c01, c10, c11, c20, c21,
                       c30, c31, c40, c41, c50, c51};
    for (int i = 0; i < CNNC_GEMM_MR; i++) {
        float *ci = c + i * ldc;
        _mm256_storeu_ps(ci, _mm256_add_ps(tile[2 * i], _mm256_loadu_ps(ci)));
        _mm256_storeu_ps(ci + 8,
                         _mm256_add_ps(tile[2 * i + 1],
                                       _mm256_loadu_ps(ci + 8)));
    }
}

CNNC_TARGET_AVX2
void cnnc_ukernel_wgrad_avx2_f64(int64_t rows, int64_t cols,
                                 int64_t row_stride, const double *a,
                                 const int64_t *off, const double *b,
                                 double *c, int64_t ldc)
{
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
    __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
    __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();

    for (int64_t r = 0; r < rows; r++) {
        const double *a0 = a + off[0] + r * row_stride;
        const double *a1 = a + off[1] + r * row_stride;
        const double *a2 = a + off[2] + r * row_stride;
        const double *a3 = a + off[3] + r * row_stride;
        const double *a4 = a + off[4] + r * row_stride;
        const double *a5 = a + off[5] + r * row_stride;
        for (int64_t q = 0; q < cols; q++) {
            __m256d b0 = _mm256_loadu_pd(b);
            __m256d b1 = _mm256_loadu_pd(b + 4);
            __m256d ai;

            ai = _mm256_broadcast_sd(a0 + q);
            c00 = _mm256_fmadd_pd(ai, b0, c00);
            c01 = _mm256_fmadd_pd(ai, b1, c01);
            ai = _mm256_broadcast_sd(a1 + q);
            c10 = _mm256_fmadd_pd(ai, b0, c10);
            c11 = _mm256_fmadd_pd(ai, b1, c11);
            ai = _mm256_broadcast_sd(a2 + q);
            c20 = _mm256_fmadd_pd(ai, b0, c20);
            c21 = _mm256_fmadd_pd(ai, b1, c21);
            ai = _mm256_broadcast_sd(a3 + q);
            c30 = _mm256_fmadd_pd(ai, b0, c30);
            c31 = _mm256_fmadd_pd(ai, b1, c31);
            ai = _mm256_broadcast_sd(a4 + q);
            c40 = _mm256_fmadd_pd(ai, b0, c40);
            c41 = _mm256_fmadd_pd(ai, b1, c41);
            ai = _mm256_broadcast_sd(a5 + q);
            c50 = _mm256_fmadd_pd(ai, b0, c50);
            c51 = _mm256_fmadd_pd(ai, b1, c51);
            b += CNNC_GEMM_NR_F64;
        }
    }

    __m256d tile[12] = {c00, c01, c10, c11, c20, c21,
                        c30, c31, c40, c41, c50, c51};
    for (int i = 0; i < CNNC_GEMM_MR; i++) {
        double *ci = c + i * ldc;
        _mm256_storeu_pd(ci, _mm256_add_pd(tile[2 * i], _mm256_loadu_pd(ci)));
        _mm256_storeu_pd(ci + 4,
                         _mm256_add_pd(tile[2 * i + 1],
                                       _mm256_loadu_pd(ci + 4)));
    }
}

#endif /* CNNC_HAVE_AVX2_PATH */
