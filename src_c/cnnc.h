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
