/*
 * batchnorm.c - batch normalization, forward (training and evaluation) and
 * backward, for float and double. The algorithm lives in batchnorm_impl.h;
 * this file holds the checks and helpers both element types share, then
 * compiles the algorithm twice.
 *
 * Batch normalization is memory-bound: a few flops per value read. The
 * kernels therefore count passes over memory. In training, each channel's
 * values (N planes of L) are summarised while they stream in and then
 * normalised while they are still in the core's L2 cache, so DRAM sees one
 * read of x and one write of y; the backward pass likewise reads dy and x
 * once from memory and writes dx once.
 */
#include <math.h>

#include "internal.h"

/* Planes shorter than this are treated as rows of C * L columns: a plane
 * of a few values is too short to vectorise on its own. */
#define CNNC_BN_MIN_PLANE 64

/* Values summarised at a time, two passes each while they sit in L1. */
#define CNNC_BN_RUN 1024

/* A channel's N planes are summarised in at most this many blocks of
 * consecutive images. The blocks depend on the shape alone, so the result
 * does not depend on the thread count, only the order of work does. */
#define CNNC_BN_MAX_BLOCKS 8

/* Bound on the column path's workspace, in doubles per block. */
#define CNNC_BN_COLUMN_WORK (1 << 20)

/*
 * Count, mean and sum of squared deviations from the mean (M2) of a set
 * of values. Two such summaries merge into the summary of the union
 * without losing precision (the pairwise update of Chan, Golub and
 * LeVeque), which is what lets the variance be computed in one read of
 * memory and still be exact for data with a large mean and a small spread.
 */
typedef struct {
    double count, mean, m2;
} cnnc_bn_moments;

static inline void cnnc_bn_merge(cnnc_bn_moments *acc,
                                 cnnc_bn_moments part)
{
    double count = acc->count + part.count;
    double delta = part.mean - acc->mean;

    if (part.count == 0) {
        return;
    }
    acc->mean += delta * (part.count / count);
    acc->m2 += part.m2 + delta * delta * (acc->count * part.count / count);
    acc->count = count;
}

/* Images [*n0, *n1) of block b when N images form nb blocks. */
static inline void cnnc_bn_block(int64_t N, int64_t nb, int64_t b,
                                 int64_t *n0, int64_t *n1)
{
    *n0 = N * b / nb;
    *n1 = N * (b + 1) / nb;
}

static inline int64_t cnnc_bn_plane_blocks(int64_t N)
{
    return N < CNNC_BN_MAX_BLOCKS ? N : CNNC_BN_MAX_BLOCKS;
}

/* Blocks of rows for the column path: as many as the plane path would
 * use, fewer when C * L columns would make the workspace large. */
static inline int64_t cnnc_bn_column_blocks(int64_t N, int64_t cols)
{
    int64_t nb = cnnc_bn_plane_blocks(N);
    int64_t fit = CNNC_BN_COLUMN_WORK / cols;

    if (fit < 1) {
        fit = 1;
    }
    return nb < fit ? nb : fit;
}

/* One thread per channel (fused statistics and output) when the channels
 * share out evenly; otherwise the images of each channel are split too. */
static inline int cnnc_bn_by_channel(int64_t C, int nthreads)
{
    return nthreads == 1 || C % nthreads == 0 || C >= 4 * (int64_t)nthreads;
}

int cnnc_batchnorm_check(const cnnc_batchnorm_geom *g)
{
    int64_t tmp;

    if (g == NULL) {
        return CNNC_ERR_ARG;
    }
    if (g->N < 1 || g->C < 1 || g->L < 1) {
        return CNNC_ERR_SHAPE;
    }
    if (!(g->eps > 0) || !isfinite(g->eps)) {
        return CNNC_ERR_ARG;
    }
    if (!cnnc_mul_ok(g->N, g->C, &tmp) || !cnnc_mul_ok(tmp, g->L, &tmp) ||
        !cnnc_mul_ok(tmp, 8, &tmp) || !cnnc_mul_ok(g->C, g->L, &tmp) ||
        !cnnc_mul_ok(tmp, 8 * 8, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    return CNNC_OK;
}

#define REAL float
#define FN(name) name##_f32
#include "batchnorm_impl.h"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_f64
#include "batchnorm_impl.h"
#undef REAL
#undef FN
