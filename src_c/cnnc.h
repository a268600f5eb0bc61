/*
 * cnnc.h - the public interface of the cnnc C core.
 *
 * Every kernel of the library is declared here. The core is plain C11 (GNU
 * dialect for FMA contraction), needs no Python and no BLAS, and never
 * prints, exits or asserts: each public function returns a status code, and
 * cnnc_status_string() turns a code into text.
 *
 * Dimension letters, one meaning each, everywhere in the core:
 *
 *   N   batch size (number of images)
 *   C   input channels          (the lecture's N_I)
 *   H   input height            W   input width
 *   K   output channels         (the lecture's N_O)
 *   R   filter height           S   filter width   (the lecture's h x w)
 *   P   output height           Q   output width   (the lecture's H' x W')
 *   G   groups: C and K split into G equal parts, Cg = C / G, Kg = K / G
 *
 * Layouts are row-major: images are N x C x H x W ("NCHW"), convolution
 * weights are K x Cg x R x S, exactly as in PyTorch.
 */
#ifndef CNNC_H
#define CNNC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------- */
/* Status codes                                                            */
/* ---------------------------------------------------------------------- */

enum cnnc_status {
    CNNC_OK = 0,
    CNNC_ERR_SHAPE = 1,     /* a size is zero, negative or inconsistent */
    CNNC_ERR_OVERFLOW = 2,  /* a product of sizes does not fit in int64 */
    CNNC_ERR_NOMEM = 3,     /* a workspace could not be allocated */
    CNNC_ERR_ARG = 4,       /* an argument is out of its domain */
    CNNC_ERR_UNSUPPORTED = 5 /* e.g. a SIMD path this CPU does not have */
};

/* A short English sentence for a status code; never NULL. */
const char *cnnc_status_string(int status);

/* ---------------------------------------------------------------------- */
/* Runtime: threads, SIMD path, build facts                                */
/* ---------------------------------------------------------------------- */

/* Threads used by every parallel kernel. Without OpenMP this is always 1. */
int cnnc_get_num_threads(void);
/* n >= 1 sets the OpenMP thread count (the same pool that OMP_NUM_THREADS
 * and threadpoolctl control); returns CNNC_ERR_ARG for n < 1. */
int cnnc_set_num_threads(int n);
/* 1 if the core was compiled with OpenMP. */
int cnnc_has_openmp(void);

/* The SIMD path in use: "avx2+fma" or "scalar" (the portable baseline,
 * which the compiler turns into NEON on arm64). */
const char *cnnc_simd_path(void);
/* Choose a path by name: "auto", "avx2+fma" or "scalar". Returns
 * CNNC_ERR_UNSUPPORTED when this CPU lacks the instructions and CNNC_ERR_ARG
 * for an unknown name; the path in use is then unchanged. */
int cnnc_select_simd(const char *name);
/* Compiler name and version the core was built with. */
const char *cnnc_compiler(void);

/* ---------------------------------------------------------------------- */
/* 2-D convolution                                                         */
/* ---------------------------------------------------------------------- */

/*
 * The geometry of one convolution. The output size follows the lecture's
 * formula, per axis:
 *
 *   P = (H + 2 * pad_h - dil_h * (R - 1) - 1) / stride_h + 1
 *   Q = (W + 2 * pad_w - dil_w * (S - 1) - 1) / stride_w + 1
 *
 * The caller fills every field, P and Q included; the kernels check them.
 */
typedef struct cnnc_conv2d_geom {
    int64_t N, C, H, W;     /* input x: N x C x H x W */
    int64_t K, R, S;        /* weight: K x (C / G) x R x S */
    int64_t P, Q;           /* output y: N x K x P x Q */
    int64_t stride_h, stride_w;
    int64_t pad_h, pad_w;   /* zeros added on both sides of each axis */
    int64_t dil_h, dil_w;   /* spacing between filter taps */
    int64_t G;              /* groups; G == C == K is depthwise */
} cnnc_conv2d_geom;

/* Checks a geometry: every size positive, G divides C and K, P and Q as
 * the formula gives, and no product of sizes overflows int64. */
int cnnc_conv2d_check(const cnnc_conv2d_geom *g);

/*
 * Forward: y[n, k, p, q] = b[k] + sum over c in k's group, r, s of
 *          w[k, c, r, s] * x[n, c, p*stride_h - pad_h + r*dil_h,
 *                                  q*stride_w - pad_w + s*dil_w]
 * with x read as zero outside the image.
 *
 *   x: N x C x H x W      w: K x Cg x R x S     b: K, or NULL for no bias
 *   y: N x K x P x Q      (written, not accumulated)
 */
int cnnc_conv2d_forward_f32(const cnnc_conv2d_geom *g, const float *x,
                            const float *w, const float *b, float *y);
int cnnc_conv2d_forward_f64(const cnnc_conv2d_geom *g, const double *x,
                            const double *w, const double *b, double *y);

/*
 * Backward: given dy = dL/dy, the gradients of the loss L to the input,
 * the weights and the bias. Any of dx, dw, db may be NULL to skip it.
 * Each is written, not accumulated.
 *
 *   dy: N x K x P x Q     x: N x C x H x W      w: K x Cg x R x S
 *   dx: N x C x H x W     dw: K x Cg x R x S    db: K
 */
int cnnc_conv2d_backward_f32(const cnnc_conv2d_geom *g, const float *dy,
                             const float *x, const float *w, float *dx,
                             float *dw, float *db);
int cnnc_conv2d_backward_f64(const cnnc_conv2d_geom *g, const double *dy,
                             const double *x, const double *w, double *dx,
                             double *dw, double *db);

/* ---------------------------------------------------------------------- */
/* Affine warp (geometric augmentation)                                    */
/* ---------------------------------------------------------------------- */

/* How a warp samples the input between pixel centres. */
enum cnnc_warp_mode {
    CNNC_WARP_BILINEAR = 0,  /* mix the four surrounding pixels */
    CNNC_WARP_NEAREST = 1    /* the closest pixel, round(s) = floor(s + 0.5) */
};

/* The sizes of one warp: input N x C x H x W, output N x C x P x Q. */
typedef struct cnnc_warp_geom {
    int64_t N, C, H, W;
    int64_t P, Q;
} cnnc_warp_geom;

/* Checks a warp: every size positive, no size product overflowing int64,
 * a known mode and every entry of theta (6 N values) finite. */
int cnnc_warp_check(const cnnc_warp_geom *g, const double *theta, int mode);

/*
 * Warps each image by its own affine map, sampling backwards: output pixel
 * (p, q) of image n reads the input at column sx and row sy,
 *
 *   sx = theta[6n + 0] * q + theta[6n + 1] * p + theta[6n + 2]
 *   sy = theta[6n + 3] * q + theta[6n + 4] * p + theta[6n + 5]
 *
 * pixel centres at integer coordinates. Bilinear sampling weighs the four
 * pixels around (sx, sy); any of them outside the image reads as `fill`,
 * so edges fade into it. Nearest sampling reads one pixel, or `fill`.
 *
 *   x: N x C x H x W      theta: N x 6 (double for both element types)
 *   y: N x C x P x Q      (written, not accumulated)
 */
int cnnc_warp_affine_f32(const cnnc_warp_geom *g, const float *x,
                         const double *theta, int mode, float fill, float *y);
int cnnc_warp_affine_f64(const cnnc_warp_geom *g, const double *x,
                         const double *theta, int mode, double fill,
                         double *y);

/* ---------------------------------------------------------------------- */
/* Fully connected layer (linear)                                          */
/* ---------------------------------------------------------------------- */

/*
 * A fully connected layer is a 1x1 convolution of a 1x1 image, so the
 * letters keep their meaning: C input features (in_features), K output
 * features (out_features). The weight is K x C, as in PyTorch.
 *
 * cnnc_linear_check: every size positive and no product of sizes
 * overflowing int64.
 */
int cnnc_linear_check(int64_t N, int64_t C, int64_t K);

/*
 * Forward: y[n, k] = b[k] + sum over c of x[n, c] * w[k, c], y = x w^T + b.
 *
 *   x: N x C     w: K x C     b: K, or NULL for no bias
 *   y: N x K     (written, not accumulated)
 */
int cnnc_linear_forward_f32(int64_t N, int64_t C, int64_t K, const float *x,
                            const float *w, const float *b, float *y);
int cnnc_linear_forward_f64(int64_t N, int64_t C, int64_t K,
                            const double *x, const double *w,
                            const double *b, double *y);

/*
 * Backward: dx = dy w, dw = dy^T x, db = dy summed over the batch. Any of
 * dx, dw, db may be NULL to skip it; each is written, not accumulated.
 *
 *   dy: N x K    x: N x C    w: K x C
 *   dx: N x C    dw: K x C   db: K
 */
int cnnc_linear_backward_f32(int64_t N, int64_t C, int64_t K,
                             const float *dy, const float *x, const float *w,
                             float *dx, float *dw, float *db);
int cnnc_linear_backward_f64(int64_t N, int64_t C, int64_t K,
                             const double *dy, const double *x,
                             const double *w, double *dx, double *dw,
                             double *db);

/* ---------------------------------------------------------------------- */
/* Losses                                                                  */
/* ---------------------------------------------------------------------- */

/*
 * The classification losses read scores of N x C: C, the channels of
 * their input, counts the classes. Targets are class indices, int64, one
 * per sample, each in [0, C); an index outside that range makes the
 * function return CNNC_ERR_ARG before it writes anything.
 *
 * How the N per-sample (or per-element) losses become the result:
 */
enum cnnc_reduction {
    CNNC_REDUCTION_NONE = 0,  /* keep every loss */
    CNNC_REDUCTION_MEAN = 1,  /* their mean: one value */
    CNNC_REDUCTION_SUM = 2    /* their sum: one value */
};

/*
 * Every loss function below computes the loss, its gradient, or both in
 * one pass:
 *
 *   loss    NONE: one value per sample (or element); MEAN, SUM: one value.
 *           NULL skips it. Reduced sums are added in double precision in
 *           a fixed order, so they do not depend on the thread count.
 *   dloss   the gradient arriving at the loss: as many values as loss
 *           has; NULL means 1.
 *   grad    the gradient for the first input, times dloss; NULL skips it.
 */

/*
 * Cross-entropy over logits, log-softmax fused with the negative
 * log-likelihood, with label smoothing eps in [0, 1]:
 *
 *   loss[n] = -(1 - eps) log p[n, t[n]] - (eps / C) sum over c of log p[n, c]
 *   p[n, :] = softmax(z[n, :]),   dz[n, :] = p[n, :] - smoothed one-hot
 *
 * (divided by N for MEAN). Stable for logits of any size: each row's
 * largest logit is subtracted before exponentiating.
 *
 *   z: N x C    target: N    loss: N or 1    dloss: N or 1    dz: N x C
 */
int cnnc_cross_entropy_f32(int64_t N, int64_t C, const float *z,
                           const int64_t *target, double label_smoothing,
                           int reduction, float *loss, const float *dloss,
                           float *dz);
int cnnc_cross_entropy_f64(int64_t N, int64_t C, const double *z,
                           const int64_t *target, double label_smoothing,
                           int reduction, double *loss, const double *dloss,
                           double *dz);

/*
 * Negative log-likelihood over log-probabilities (e.g. a log-softmax):
 *
 *   loss[n] = -logp[n, t[n]],   dlogp[n, c] = -1 if c == t[n], else 0
 *
 *   logp: N x C   target: N   loss: N or 1   dloss: N or 1   dlogp: N x C
 */
int cnnc_nll_loss_f32(int64_t N, int64_t C, const float *logp,
                      const int64_t *target, int reduction, float *loss,
                      const float *dloss, float *dlogp);
int cnnc_nll_loss_f64(int64_t N, int64_t C, const double *logp,
                      const int64_t *target, int reduction, double *loss,
                      const double *dloss, double *dlogp);

/*
 * Squared error and absolute error, element by element over `count`
 * elements of any shape:
 *
 *   mse: loss[i] = (pred[i] - target[i])^2,  dpred[i] = 2 (pred[i] - target[i])
 *   l1:  loss[i] = |pred[i] - target[i]|,    dpred[i] = sign(pred[i] - target[i])
 *
 * (sign(0) = 0; divided by count for MEAN).
 *
 *   pred, target, dpred: count   loss, dloss: count or 1
 */
int cnnc_mse_loss_f32(int64_t count, const float *pred, const float *target,
                      int reduction, float *loss, const float *dloss,
                      float *dpred);
int cnnc_mse_loss_f64(int64_t count, const double *pred,
                      const double *target, int reduction, double *loss,
                      const double *dloss, double *dpred);
int cnnc_l1_loss_f32(int64_t count, const float *pred, const float *target,
                     int reduction, float *loss, const float *dloss,
                     float *dpred);
int cnnc_l1_loss_f64(int64_t count, const double *pred,
                     const double *target, int reduction, double *loss,
                     const double *dloss, double *dpred);
/* Activations                                                             */
/* ---------------------------------------------------------------------- */

/*
 * Elementwise non-linearities over n elements of any shape (flattened).
 * Forward: x -> y. Backward: dy = dL/dy -> dx = dL/dx, from the input x
 * or the output y, whichever is cheaper:
 *
 *   relu         y = max(x, 0)              dx = dy * [a > 0], a = x or y
 *   leaky_relu   y = x or slope * x         dx = dy or dy * slope  (from x)
 *   elu          y = x or alpha*(e^x - 1)   dx = dy or dy * alpha * e^x
 *                                                                  (from x)
 *   sigmoid      y = 1 / (1 + e^-x)         dx = dy * y * (1 - y)  (from y)
 *   tanh         y = tanh(x)                dx = dy * (1 - y^2)    (from y)
 *
 * "x or ..." means x for x > 0, the second form otherwise. No kernel
 * overflows for large |x|, and +-inf give the limits (ReLU, sigmoid,
 * tanh, ELU). NaN in gives NaN out. Outputs are written, not accumulated,
 * and may not overlap the inputs except exactly (y == x is allowed).
 * Double uses the C library's exp, expm1 and tanh; float uses polynomial
 * versions that vectorise, within about 1 ulp (exp, expm1) and 2.5 ulp
 * (tanh, sigmoid) of the exact result (activation.h).
 */
int cnnc_relu_forward_f32(int64_t n, const float *x, float *y);
int cnnc_relu_forward_f64(int64_t n, const double *x, double *y);
int cnnc_relu_backward_f32(int64_t n, const float *dy, const float *a,
                           float *dx);
int cnnc_relu_backward_f64(int64_t n, const double *dy, const double *a,
                           double *dx);
int cnnc_leaky_relu_forward_f32(int64_t n, const float *x,
                                float negative_slope, float *y);
int cnnc_leaky_relu_forward_f64(int64_t n, const double *x,
                                double negative_slope, double *y);
int cnnc_leaky_relu_backward_f32(int64_t n, const float *dy, const float *x,
                                 float negative_slope, float *dx);
int cnnc_leaky_relu_backward_f64(int64_t n, const double *dy,
                                 const double *x, double negative_slope,
                                 double *dx);
int cnnc_elu_forward_f32(int64_t n, const float *x, float alpha, float *y);
int cnnc_elu_forward_f64(int64_t n, const double *x, double alpha,
                         double *y);
int cnnc_elu_backward_f32(int64_t n, const float *dy, const float *x,
                          float alpha, float *dx);
int cnnc_elu_backward_f64(int64_t n, const double *dy, const double *x,
                          double alpha, double *dx);
int cnnc_sigmoid_forward_f32(int64_t n, const float *x, float *y);
int cnnc_sigmoid_forward_f64(int64_t n, const double *x, double *y);
int cnnc_sigmoid_backward_f32(int64_t n, const float *dy, const float *y,
                              float *dx);
int cnnc_sigmoid_backward_f64(int64_t n, const double *dy, const double *y,
                              double *dx);
int cnnc_tanh_forward_f32(int64_t n, const float *x, float *y);
int cnnc_tanh_forward_f64(int64_t n, const double *x, double *y);
int cnnc_tanh_backward_f32(int64_t n, const float *dy, const float *y,
                           float *dx);
int cnnc_tanh_backward_f64(int64_t n, const double *dy, const double *y,
                           double *dx);

/*
 * Softmax and log-softmax along one axis of C classes. Arrays are read as
 * outer x C x inner (for (N, C, H, W) over dim=1: outer = N, inner = H*W);
 * every column x[o, :, i] is normalised on its own, the max subtracted
 * first so that no exp overflows:
 *
 *   softmax       y = e^(x - m) / sum_c e^(x - m)
 *                 dx = y * (dy - sum_c dy * y)
 *   log_softmax   y = (x - m) - log sum_c e^(x - m)
 *                 dx = dy - e^y * sum_c dy
 *
 * Backward takes the forward's output y. x, y, dy, dx: outer x C x inner.
 */
int cnnc_softmax_forward_f32(int64_t outer, int64_t C, int64_t inner,
                             const float *x, float *y);
int cnnc_softmax_forward_f64(int64_t outer, int64_t C, int64_t inner,
                             const double *x, double *y);
int cnnc_softmax_backward_f32(int64_t outer, int64_t C, int64_t inner,
                              const float *dy, const float *y, float *dx);
int cnnc_softmax_backward_f64(int64_t outer, int64_t C, int64_t inner,
                              const double *dy, const double *y,
                              double *dx);
int cnnc_log_softmax_forward_f32(int64_t outer, int64_t C, int64_t inner,
                                 const float *x, float *y);
int cnnc_log_softmax_forward_f64(int64_t outer, int64_t C, int64_t inner,
                                 const double *x, double *y);
int cnnc_log_softmax_backward_f32(int64_t outer, int64_t C, int64_t inner,
                                  const float *dy, const float *y,
                                  float *dx);
int cnnc_log_softmax_backward_f64(int64_t outer, int64_t C, int64_t inner,
                                  const double *dy, const double *y,
                                  double *dx);

/* ---------------------------------------------------------------------- */
/* Dropout                                                                 */
/* ---------------------------------------------------------------------- */

/*
 * Inverted dropout with a mask the caller drew (0 = dropped, 1 = kept),
 * one entry per row of `inner` elements:
 *
 *   y[r, i] = x[r, i] * mask[r] * scale,   scale = 1 / (1 - p)
 *
 * inner = 1 drops single elements (Dropout); rows = N * C, inner = H * W
 * drops whole feature maps (Dropout2d). Being linear, the same call is the
 * backward pass (dy in, dx out).
 *
 *   x, y: rows x inner      mask: rows
 */
int cnnc_dropout_apply_f32(int64_t rows, int64_t inner, const float *x,
                           const uint8_t *mask, float scale, float *y);
int cnnc_dropout_apply_f64(int64_t rows, int64_t inner, const double *x,
                           const uint8_t *mask, double scale, double *y);

/* ---------------------------------------------------------------------- */
/* Batch normalization                                                     */
/* ---------------------------------------------------------------------- */

/*
 * Batch normalization treats x as N x C x L: L = H * W for BatchNorm2d on
 * images, and L = 1 (or the sequence length) for BatchNorm1d. Each channel
 * c is normalised over its M = N * L values x[:, c, :]:
 *
 *   mean[c] = sum x / M           var[c] = sum (x - mean[c])^2 / M
 *   y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]
 *
 * eps enters once, in the forward pass, which saves invstd = 1 / sqrt(var
 * + eps) for the backward pass: the two cannot disagree on eps. The saved
 * mean and invstd are double for both element types, so that data with a
 * large mean and a small spread keeps its precision.
 */
typedef struct cnnc_batchnorm_geom {
    int64_t N, C, L;    /* x, y, dy, dx: N x C x L */
    double eps;         /* added to the variance, > 0 */
} cnnc_batchnorm_geom;

/* Checks a geometry: sizes positive, eps positive and finite, and no
 * product of sizes overflows int64. */
int cnnc_batchnorm_check(const cnnc_batchnorm_geom *g);

/*
 * Training forward: normalise with the batch's mean and biased variance,
 * which needs M >= 2 (CNNC_ERR_SHAPE otherwise). When running_mean and
 * running_var are given (both or neither), they are updated in place with
 * 0 <= momentum <= 1, the running variance from the unbiased batch
 * variance, as PyTorch does:
 *
 *   running_mean = (1 - momentum) * running_mean + momentum * mean
 *   running_var  = (1 - momentum) * running_var
 *                  + momentum * var * M / (M - 1)
 *
 *   x, y: N x C x L        weight, bias: C, or NULL for 1 and 0
 *   running_mean, running_var: C, or NULL
 *   save_mean, save_invstd: C (written; what the backward pass needs)
 */
int cnnc_batchnorm_forward_train_f32(
    const cnnc_batchnorm_geom *g, const float *x, const float *weight,
    const float *bias, double momentum, float *running_mean,
    float *running_var, float *y, double *save_mean, double *save_invstd);
int cnnc_batchnorm_forward_train_f64(
    const cnnc_batchnorm_geom *g, const double *x, const double *weight,
    const double *bias, double momentum, double *running_mean,
    double *running_var, double *y, double *save_mean, double *save_invstd);

/*
 * Evaluation forward: normalise with the running statistics,
 * y = (x - running_mean) / sqrt(running_var + eps) * weight + bias.
 * save_mean and save_invstd (C each) receive the statistics used, for a
 * backward pass; either may be NULL.
 */
int cnnc_batchnorm_forward_eval_f32(
    const cnnc_batchnorm_geom *g, const float *x, const float *weight,
    const float *bias, const float *running_mean, const float *running_var,
    float *y, double *save_mean, double *save_invstd);
int cnnc_batchnorm_forward_eval_f64(
    const cnnc_batchnorm_geom *g, const double *x, const double *weight,
    const double *bias, const double *running_mean,
    const double *running_var, double *y, double *save_mean,
    double *save_invstd);

/*
 * Backward, given dy = dL/dy and the forward's saved mean and invstd, with
 * xhat = (x - mean) * invstd, gamma = weight (1 when NULL), per channel:
 *
 *   dweight = sum over n, l of dy * xhat       dbias = sum of dy
 *
 * batch_stats nonzero (the forward used the batch's own statistics, which
 * depend on x):
 *   dx = gamma * invstd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
 * batch_stats zero (running statistics, constants):
 *   dx = gamma * invstd * dy
 *
 *   dy, x, dx: N x C x L    weight, dweight, dbias: C
 *   save_mean, save_invstd: C
 * Any of dx, dweight, dbias may be NULL to skip it; each is written.
 */
int cnnc_batchnorm_backward_f32(
    const cnnc_batchnorm_geom *g, const float *dy, const float *x,
    const float *weight, const double *save_mean, const double *save_invstd,
    int batch_stats, float *dx, float *dweight, float *dbias);
int cnnc_batchnorm_backward_f64(
    const cnnc_batchnorm_geom *g, const double *dy, const double *x,
    const double *weight, const double *save_mean,
    const double *save_invstd, int batch_stats, double *dx, double *dweight,
    double *dbias);
/* 2-D pooling                                                             */
/* ---------------------------------------------------------------------- */

/*
 * The geometry of one max or average pooling. Each of the N x C planes is
 * pooled on its own: output pixel (p, q) summarises the window of R x S
 * input pixels whose top-left tap is (p * stride_h - pad_h,
 * q * stride_w - pad_w), taps dil_h and dil_w apart. Per axis:
 *
 *   P = floor((H + 2 * pad_h - dil_h * (R - 1) - 1
 *              + (ceil_mode ? stride_h - 1 : 0)) / stride_h) + 1
 *
 * and in ceil_mode the last window must start inside the input or the
 * top/left padding: P is reduced by one when (P - 1) * stride_h >=
 * H + pad_h. Q likewise with W, S, stride_w, pad_w, dil_w. Padding is at
 * most half the window (pad_h <= R / 2, pad_w <= S / 2), and every window
 * must hold at least one input pixel. The caller fills every field, P and
 * Q included; the kernels check them.
 */
typedef struct cnnc_pool2d_geom {
    int64_t N, C, H, W;     /* input x: N x C x H x W */
    int64_t R, S;           /* window height and width (kernel_size) */
    int64_t P, Q;           /* output y: N x C x P x Q */
    int64_t stride_h, stride_w;
    int64_t pad_h, pad_w;   /* implicit padding on both sides of each axis */
    int64_t dil_h, dil_w;   /* spacing between window taps */
    int64_t ceil_mode;      /* 0: floor in the output size, 1: ceil */
} cnnc_pool2d_geom;

/* Checks a pooling geometry as described above: every size positive, the
 * padding at most half the window, P and Q as the rule gives, no empty
 * window, and no product of sizes overflowing int64. */
int cnnc_pool2d_check(const cnnc_pool2d_geom *g);

/*
 * Max pooling forward: y[n, c, p, q] = the largest x[n, c, h, w] over the
 * window's taps inside the image (padding is never chosen), and
 * idx[n, c, p, q] = h * W + w, the tap's index in its H x W plane.
 * Ties go to the first maximum in row-major window order; a NaN in the
 * window makes y NaN and idx the window's last NaN. PyTorch's CPU kernels
 * (2.13, contiguous and channels-last) do the same.
 *
 *   x: N x C x H x W      y: N x C x P x Q
 *   idx: N x C x P x Q, or NULL when the indices are not needed
 */
int cnnc_maxpool2d_forward_f32(const cnnc_pool2d_geom *g, const float *x,
                               float *y, int64_t *idx);
int cnnc_maxpool2d_forward_f64(const cnnc_pool2d_geom *g, const double *x,
                               double *y, int64_t *idx);

/*
 * Max pooling backward: dx[n, c] is zero except that each dy[n, c, p, q]
 * is added at plane index idx[n, c, p, q] (overlapping windows may route
 * several gradients to one pixel). The indices carry the geometry: only
 * N, C, H, W, P and Q are read. Returns CNNC_ERR_ARG, leaving dx
 * unspecified, if an index lies outside [0, H * W).
 *
 *   dy: N x C x P x Q     idx: N x C x P x Q     dx: N x C x H x W
 */
int cnnc_maxpool2d_backward_f32(const cnnc_pool2d_geom *g, const float *dy,
                                const int64_t *idx, float *dx);
int cnnc_maxpool2d_backward_f64(const cnnc_pool2d_geom *g, const double *dy,
                                const int64_t *idx, double *dx);

/*
 * Average pooling forward: y[n, c, p, q] = (sum of the window's taps
 * inside the image) / divisor. The window is clipped to the padded image
 * [-pad, H + pad) first; with count_include_pad the divisor is the size of
 * that clipped window (padding counts as zeros), otherwise the number of
 * taps inside the image. dil_h and dil_w must be 1 (CNNC_ERR_ARG).
 *
 *   x: N x C x H x W      y: N x C x P x Q
 */
int cnnc_avgpool2d_forward_f32(const cnnc_pool2d_geom *g,
                               int count_include_pad, const float *x,
                               float *y);
int cnnc_avgpool2d_forward_f64(const cnnc_pool2d_geom *g,
                               int count_include_pad, const double *x,
                               double *y);

/*
 * Average pooling backward: every input pixel of a window receives
 * dy[n, c, p, q] / divisor, summed over the windows that hold it.
 *
 *   dy: N x C x P x Q     dx: N x C x H x W
 */
int cnnc_avgpool2d_backward_f32(const cnnc_pool2d_geom *g,
                                int count_include_pad, const float *dy,
                                float *dx);
int cnnc_avgpool2d_backward_f64(const cnnc_pool2d_geom *g,
                                int count_include_pad, const double *dy,
                                double *dx);

/*
 * Adaptive average pooling to a fixed P x Q output, whatever H x W: output
 * row p averages input rows [floor(p * H / P), ceil((p + 1) * H / P)),
 * columns likewise. P = Q = 1 is global average pooling. Only N, C, H, W,
 * P and Q of the geometry are read; each must be >= 1.
 *
 *   x: N x C x H x W      y: N x C x P x Q      (and dy, dx alike)
 */
int cnnc_adaptive_avgpool2d_forward_f32(const cnnc_pool2d_geom *g,
                                        const float *x, float *y);
int cnnc_adaptive_avgpool2d_forward_f64(const cnnc_pool2d_geom *g,
                                        const double *x, double *y);
int cnnc_adaptive_avgpool2d_backward_f32(const cnnc_pool2d_geom *g,
                                         const float *dy, float *dx);
int cnnc_adaptive_avgpool2d_backward_f64(const cnnc_pool2d_geom *g,
                                         const double *dy, double *dx);

#ifdef __cplusplus
}
#endif

#endif /* CNNC_H */
