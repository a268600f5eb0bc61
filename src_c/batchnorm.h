/*
 * batchnorm.h - what the batch normalization files share: the tuning
 * constants, the moments that statistics are built from, how work is cut
 * into blocks and groups, and the table of one SIMD path's kernels.
 *
 * batchnorm_impl.h holds the algorithm. batchnorm.c compiles it for the
 * baseline instruction set and holds the public functions, which check
 * their arguments and call the path cnnc_simd points at; batchnorm_avx2.c
 * compiles the same algorithm for AVX2 and FMA.
 */
#ifndef CNNC_BATCHNORM_H
#define CNNC_BATCHNORM_H

#include <math.h>

#include "internal.h"

/* Planes shorter than this are treated as rows of C * L columns: a plane
 * of a few values is too short to vectorise on its own. */
#define CNNC_BN_MIN_PLANE 64

/* Values summarised at a time, two passes each while they sit in L1. */
#define CNNC_BN_RUN 1024

/* Bytes of partial sums per reduction: four AVX2 registers. */
#define CNNC_BN_PART_BYTES 128

/* A channel's N planes are summarised in at most this many blocks of
 * consecutive images. The blocks depend on the shape alone, so the result
 * does not depend on the thread count, only the order of work does. */
#define CNNC_BN_MAX_BLOCKS 8

/*
 * Channel groups of the plane path: their planes of one image span about
 * this many bytes, with at most CNNC_BN_MAX_GROUP channels. Measured on
 * (32..128, 64, 32, 32) float32 (Zen 4, 1 MB L2, 32 MB L3): 4 KB per
 * stretch (one channel) takes 1.5x the time of 64 KB and more, which all
 * come within noise of each other, whether x fits in L3 or not. Long
 * contiguous reads matter more here than a group small enough for L2.
 */
#define CNNC_BN_GROUP_BYTES (256 * 1024)
#define CNNC_BN_MAX_GROUP 64

/* The column path keeps a mean and an M2 (doubles) per column and block:
 * blocks times C * L columns stays within this bound. */
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

/* Groups of channels, one task each (fused statistics and output), when
 * the channels share out evenly among the threads; otherwise the images of
 * each channel are split into blocks too. */
static inline int cnnc_bn_grouped(int64_t C, int nthreads)
{
    return nthreads == 1 || C % nthreads == 0 || C >= 4 * (int64_t)nthreads;
}

/*
 * Channels per task of the grouped schedule: enough that one image's
 * planes of the group (plane_bytes each) make a contiguous stretch of
 * about CNNC_BN_GROUP_BYTES, a stream the hardware prefetcher follows
 * (it gives up at every jump to another page), at most
 * CNNC_BN_MAX_GROUP, and split so that the threads get equal numbers of
 * tasks when C allows.
 */
static inline int64_t cnnc_bn_group(int64_t C, int64_t plane_bytes,
                                    int nthreads)
{
    int64_t want = (CNNC_BN_GROUP_BYTES + plane_bytes - 1) / plane_bytes;
    int64_t tasks;

    if (want > CNNC_BN_MAX_GROUP) {
        want = CNNC_BN_MAX_GROUP;
    }
    tasks = (C + want - 1) / want;
    tasks = (tasks + nthreads - 1) / nthreads * nthreads;
    if (tasks > C) {
        tasks = C;
    }
    return (C + tasks - 1) / tasks;
}

/* One SIMD path's kernels, with the public functions' signatures; they
 * assume arguments that the public functions have checked. */
struct cnnc_bn_table {
    int (*train_f32)(const cnnc_batchnorm_geom *g, const float *x,
                     const float *weight, const float *bias,
                     double momentum, float *running_mean,
                     float *running_var, float *y, double *save_mean,
                     double *save_invstd);
    int (*train_f64)(const cnnc_batchnorm_geom *g, const double *x,
                     const double *weight, const double *bias,
                     double momentum, double *running_mean,
                     double *running_var, double *y, double *save_mean,
                     double *save_invstd);
    int (*eval_f32)(const cnnc_batchnorm_geom *g, const float *x,
                    const float *weight, const float *bias,
                    const float *running_mean, const float *running_var,
                    float *y, double *save_mean, double *save_invstd);
    int (*eval_f64)(const cnnc_batchnorm_geom *g, const double *x,
                    const double *weight, const double *bias,
                    const double *running_mean, const double *running_var,
                    double *y, double *save_mean, double *save_invstd);
    int (*backward_f32)(const cnnc_batchnorm_geom *g, const float *dy,
                        const float *x, const float *weight,
                        const double *save_mean, const double *save_invstd,
                        int batch_stats, float *dx, float *dweight,
                        float *dbias);
    int (*backward_f64)(const cnnc_batchnorm_geom *g, const double *dy,
                        const double *x, const double *weight,
                        const double *save_mean, const double *save_invstd,
                        int batch_stats, double *dx, double *dweight,
                        double *dbias);
};

#endif /* CNNC_BATCHNORM_H */
