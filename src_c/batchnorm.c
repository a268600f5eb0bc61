/*
 * batchnorm.c - batch normalization, forward (training and evaluation) and
 * backward, for float and double: the public functions, which check their
 * arguments and call the kernels of the SIMD path in use, and the baseline
 * path's kernels, compiled from batchnorm_impl.h.
 *
 * Batch normalization is memory-bound: a few flops per value read. The
 * kernels therefore count passes over memory and read it in long streams.
 * In training, a group of adjacent channels is summarised image by image
 * (each image's planes of the group are one contiguous stretch) and then
 * normalised while its values are still in cache, so memory sees one read
 * of x and one write of y; the backward pass likewise reads dy and x once
 * from memory and writes dx once.
 */
#include "batchnorm.h"

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

/* The arguments of a training forward, beyond the geometry. */
static int cnnc_bn_check_train(const cnnc_batchnorm_geom *g, const void *x,
                               const void *running_mean,
                               const void *running_var, const void *y,
                               const double *save_mean,
                               const double *save_invstd, double momentum)
{
    int status = cnnc_batchnorm_check(g);

    if (status != CNNC_OK) {
        return status;
    }
    if (x == NULL || y == NULL || save_mean == NULL || save_invstd == NULL ||
        (running_mean == NULL) != (running_var == NULL) ||
        !(momentum >= 0 && momentum <= 1)) {
        return CNNC_ERR_ARG;
    }
    /* A variance needs two values per channel. */
    if (g->N * g->L < 2) {
        return CNNC_ERR_SHAPE;
    }
    return CNNC_OK;
}

static int cnnc_bn_check_eval(const cnnc_batchnorm_geom *g, const void *x,
                              const void *running_mean,
                              const void *running_var, const void *y)
{
    int status = cnnc_batchnorm_check(g);

    if (status != CNNC_OK) {
        return status;
    }
    if (x == NULL || y == NULL || running_mean == NULL ||
        running_var == NULL) {
        return CNNC_ERR_ARG;
    }
    return CNNC_OK;
}

static int cnnc_bn_check_backward(const cnnc_batchnorm_geom *g,
                                  const void *dy, const void *x,
                                  const double *save_mean,
                                  const double *save_invstd)
{
    int status = cnnc_batchnorm_check(g);

    if (status != CNNC_OK) {
        return status;
    }
    if (dy == NULL || x == NULL || save_mean == NULL ||
        save_invstd == NULL) {
        return CNNC_ERR_ARG;
    }
    return CNNC_OK;
}

int cnnc_batchnorm_forward_train_f32(
    const cnnc_batchnorm_geom *g, const float *x, const float *weight,
    const float *bias, double momentum, float *running_mean,
    float *running_var, float *y, double *save_mean, double *save_invstd)
{
    int status = cnnc_bn_check_train(g, x, running_mean, running_var, y,
                                     save_mean, save_invstd, momentum);
    if (status != CNNC_OK) {
        return status;
    }
    return cnnc_simd->batchnorm->train_f32(g, x, weight, bias, momentum,
                                           running_mean, running_var, y,
                                           save_mean, save_invstd);
}

int cnnc_batchnorm_forward_train_f64(
    const cnnc_batchnorm_geom *g, const double *x, const double *weight,
    const double *bias, double momentum, double *running_mean,
    double *running_var, double *y, double *save_mean, double *save_invstd)
{
    int status = cnnc_bn_check_train(g, x, running_mean, running_var, y,
                                     save_mean, save_invstd, momentum);
    if (status != CNNC_OK) {
        return status;
    }
    return cnnc_simd->batchnorm->train_f64(g, x, weight, bias, momentum,
                                           running_mean, running_var, y,
                                           save_mean, save_invstd);
}

int cnnc_batchnorm_forward_eval_f32(
    const cnnc_batchnorm_geom *g, const float *x, const float *weight,
    const float *bias, const float *running_mean, const float *running_var,
    float *y, double *save_mean, double *save_invstd)
{
    int status = cnnc_bn_check_eval(g, x, running_mean, running_var, y);
    if (status != CNNC_OK) {
        return status;
    }
    return cnnc_simd->batchnorm->eval_f32(g, x, weight, bias, running_mean,
                                          running_var, y, save_mean,
                                          save_invstd);
}

int cnnc_batchnorm_forward_eval_f64(
    const cnnc_batchnorm_geom *g, const double *x, const double *weight,
    const double *bias, const double *running_mean,
    const double *running_var, double *y, double *save_mean,
    double *save_invstd)
{
    int status = cnnc_bn_check_eval(g, x, running_mean, running_var, y);
    if (status != CNNC_OK) {
        return status;
    }
    return cnnc_simd->batchnorm->eval_f64(g, x, weight, bias, running_mean,
                                          running_var, y, save_mean,
                                          save_invstd);
}

int cnnc_batchnorm_backward_f32(
    const cnnc_batchnorm_geom *g, const float *dy, const float *x,
    const float *weight, const double *save_mean, const double *save_invstd,
    int batch_stats, float *dx, float *dweight, float *dbias)
{
    int status = cnnc_bn_check_backward(g, dy, x, save_mean, save_invstd);
    if (status != CNNC_OK) {
        return status;
    }
    return cnnc_simd->batchnorm->backward_f32(g, dy, x, weight, save_mean,
                                              save_invstd, batch_stats, dx,
                                              dweight, dbias);
}

int cnnc_batchnorm_backward_f64(
    const cnnc_batchnorm_geom *g, const double *dy, const double *x,
    const double *weight, const double *save_mean,
    const double *save_invstd, int batch_stats, double *dx, double *dweight,
    double *dbias)
{
    int status = cnnc_bn_check_backward(g, dy, x, save_mean, save_invstd);
    if (status != CNNC_OK) {
        return status;
    }
    return cnnc_simd->batchnorm->backward_f64(g, dy, x, weight, save_mean,
                                              save_invstd, batch_stats, dx,
                                              dweight, dbias);
}

/* ---------------------------------------------------------------------- */
/* The baseline path's kernels                                             */
/* ---------------------------------------------------------------------- */

#define TARGET
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
#undef TARGET

const struct cnnc_bn_table cnnc_bn_scalar = {
    bn_train_f32, bn_train_f64, bn_eval_f32,
    bn_eval_f64,  bn_backward_f32, bn_backward_f64,
};
