/*
 * pool2d_avx2.c - max pooling row kernels for x86-64 with AVX2, float.
 *
 * Contract (the same as the scalar row kernels in pool2d_impl.h):
 * - A call pools n outputs along one output row. Output j's window has
 *   its top-left tap at x0[2 * j] (stride 2), and R x R taps (R = 2 or 3)
 *   in adjacent rows of a plane W floats wide; every tap lies inside the
 *   plane. Only the taps are read: nothing before x0 or past the last
 *   window's bottom-right tap.
 * - y[j] gets the window's maximum and tap[j] the winner's offset from
 *   x0[2 * j] (r * W + s). A tap wins when it is larger than the maximum
 *   so far or NaN, in row-major order: ties keep the first maximum, a NaN
 *   always wins. The results are bit for bit those of the scalar kernel.
 * - Register tile: 8 outputs per step, one per ymm lane. A row of 8
 *   windows is read with two unaligned loads and split into its even and
 *   odd columns by shuffles, which leave the lanes in the order
 *   0 1 4 5 2 3 6 7; the maxima and offsets stay in that order until one
 *   permute per result before the stores. No alignment is assumed.
 * - Tail: when n is not a multiple of 8 the last step takes the last 8
 *   windows, overlapping the step before (recomputing a window gives the
 *   same result). Rows of fewer than 8 windows go to the scalar kernel.
 * Only functions marked CNNC_TARGET_AVX2 use these instructions, and the
 * dispatcher calls them only on a CPU that has them.
 *
 * Why they exist: the portable kernels compile to SSE2, whose selects take
 * three instructions and whose stride-2 loads take shuffles; GCC's own
 * AVX2 code for them was no faster. On x of shape (32, 64, 32, 32), one
 * thread, Zen 3, these take the 2 x 2 forward pass from 0.57 to 0.30 ms
 * (0.82 to 0.57 ms with indices) and the 3 x 3 from 2.0 to 0.59 ms (2.2
 * to 0.87 ms with indices), the minimum of 61 interleaved runs.
 */
#include <math.h>

#include "internal.h"

#if CNNC_HAVE_AVX2_PATH

#include <immintrin.h>

/* The running maximum takes lane by lane the taps in v (offset k) that
 * are larger or NaN. */
CNNC_TARGET_AVX2
static inline void max_step8(__m256 v, __m256i k, __m256 *best, __m256i *at)
{
    __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, *best, _CMP_GT_OQ),
                               _mm256_cmp_ps(v, v, _CMP_UNORD_Q));

    *best = _mm256_blendv_ps(*best, v, take);
    *at = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*at),
                                               _mm256_castsi256_ps(k), take));
}

/* Columns 0, 2, 4, ... and 1, 3, 5, ... of 16 floats from p, in the
 * shuffled lane order 0 1 4 5 2 3 6 7 (of output windows). */
CNNC_TARGET_AVX2
static inline void split8(const float *p, __m256 *even, __m256 *odd)
{
    __m256 lo = _mm256_loadu_ps(p), hi = _mm256_loadu_ps(p + 8);

    *even = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    *odd = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
}

/* Columns 2, 4, ..., 16 from p in the same lane order, without reading
 * p[17]: the second load starts at p + 9. */
CNNC_TARGET_AVX2
static inline __m256 next_even8(const float *p)
{
    __m256 lo = _mm256_loadu_ps(p + 2), hi = _mm256_loadu_ps(p + 9);

    return _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 2, 0));
}

/* Undo the shuffled lane order and store 8 maxima and offsets. */
CNNC_TARGET_AVX2
static inline void store8(__m256 best, __m256i at, float *y, int32_t *tap)
{
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);

    _mm256_storeu_ps(y, _mm256_permutevar8x32_ps(best, order));
    _mm256_storeu_si256((__m256i *)tap,
                        _mm256_permutevar8x32_epi32(at, order));
}

CNNC_TARGET_AVX2
void cnnc_maxpool_k2s2_avx2_f32(const float *x0, int64_t n, int64_t W,
                                float *y, int32_t *tap)
{
    if (n < 8) {
        cnnc_maxpool_k2s2_scalar_f32(x0, n, W, y, tap);
        return;
    }

    /* Eight windows at a time: the top row's two taps, then the bottom's. */
    for (int64_t j = 0; j < n; j += 8) {
        if (j + 8 > n) {
            j = n - 8;
        }
        const float *top = x0 + 2 * j, *bottom = top + W;
        __m256 best, odd, even1, odd1;
        __m256i at = _mm256_setzero_si256();

        split8(top, &best, &odd);
        split8(bottom, &even1, &odd1);
        max_step8(odd, _mm256_set1_epi32(1), &best, &at);
        max_step8(even1, _mm256_set1_epi32((int32_t)W), &best, &at);
        max_step8(odd1, _mm256_set1_epi32((int32_t)W + 1), &best, &at);
        store8(best, at, y + j, tap + j);
    }
}

CNNC_TARGET_AVX2
void cnnc_maxpool_k3s2_avx2_f32(const float *x0, int64_t n, int64_t W,
                                float *y, int32_t *tap)
{
    if (n < 8) {
        cnnc_maxpool_k3s2_scalar_f32(x0, n, W, y, tap);
        return;
    }

    /* Eight windows at a time, row by row, three taps a row. */
    for (int64_t j = 0; j < n; j += 8) {
        if (j + 8 > n) {
            j = n - 8;
        }
        __m256 best = _mm256_set1_ps(-INFINITY);
        __m256i at = _mm256_setzero_si256();

        for (int r = 0; r < 3; r++) {
            const float *row = x0 + 2 * j + r * W;
            int32_t k = (int32_t)(r * W);
            __m256 even, odd, next = next_even8(row);

            split8(row, &even, &odd);
            max_step8(even, _mm256_set1_epi32(k), &best, &at);
            max_step8(odd, _mm256_set1_epi32(k + 1), &best, &at);
            max_step8(next, _mm256_set1_epi32(k + 2), &best, &at);
        }
        store8(best, at, y + j, tap + j);
    }
}

#endif /* CNNC_HAVE_AVX2_PATH */
