# Declarations of the C core's public header, src_c/cnnc.h, for Cython.
from libc.stdint cimport int64_t

cdef extern from "cnnc.h" nogil:
    enum:
        CNNC_OK
        CNNC_ERR_SHAPE
        CNNC_ERR_OVERFLOW
        CNNC_ERR_NOMEM
        CNNC_ERR_ARG
        CNNC_ERR_UNSUPPORTED

    const char *cnnc_status_string(int status)

    int cnnc_get_num_threads()
    int cnnc_set_num_threads(int n)
    int cnnc_has_openmp()
    const char *cnnc_simd_path()
    int cnnc_select_simd(const char *name)
    const char *cnnc_compiler()

    ctypedef struct cnnc_conv2d_geom:
        int64_t N, C, H, W
        int64_t K, R, S
        int64_t P, Q
        int64_t stride_h, stride_w
        int64_t pad_h, pad_w
        int64_t dil_h, dil_w
        int64_t G

    int cnnc_conv2d_check(const cnnc_conv2d_geom *g)
    int cnnc_conv2d_forward_f32(const cnnc_conv2d_geom *g, const float *x,
                                const float *w, const float *b, float *y)
    int cnnc_conv2d_forward_f64(const cnnc_conv2d_geom *g, const double *x,
                                const double *w, const double *b, double *y)
    int cnnc_conv2d_backward_f32(const cnnc_conv2d_geom *g, const float *dy,
                                 const float *x, const float *w, float *dx,
                                 float *dw, float *db)
    int cnnc_conv2d_backward_f64(const cnnc_conv2d_geom *g, const double *dy,
                                 const double *x, const double *w, double *dx,
                                 double *dw, double *db)

    enum:
        CNNC_WARP_BILINEAR
        CNNC_WARP_NEAREST

    ctypedef struct cnnc_warp_geom:
        int64_t N, C, H, W
        int64_t P, Q

    int cnnc_warp_check(const cnnc_warp_geom *g, const double *theta,
                        int mode)
    int cnnc_warp_affine_f32(const cnnc_warp_geom *g, const float *x,
                             const double *theta, int mode, float fill,
                             float *y)
    int cnnc_warp_affine_f64(const cnnc_warp_geom *g, const double *x,
                             const double *theta, int mode, double fill,
                             double *y)

    int cnnc_linear_check(int64_t N, int64_t C, int64_t K)
    int cnnc_linear_forward_f32(int64_t N, int64_t C, int64_t K,
                                const float *x, const float *w,
                                const float *b, float *y)
    int cnnc_linear_forward_f64(int64_t N, int64_t C, int64_t K,
                                const double *x, const double *w,
                                const double *b, double *y)
    int cnnc_linear_backward_f32(int64_t N, int64_t C, int64_t K,
                                 const float *dy, const float *x,
                                 const float *w, float *dx, float *dw,
                                 float *db)
    int cnnc_linear_backward_f64(int64_t N, int64_t C, int64_t K,
                                 const double *dy, const double *x,
                                 const double *w, double *dx, double *dw,
                                 double *db)

    enum:
        CNNC_REDUCTION_NONE
        CNNC_REDUCTION_MEAN
        CNNC_REDUCTION_SUM

    int cnnc_cross_entropy_f32(int64_t N, int64_t C, const float *z,
                               const int64_t *target, double label_smoothing,
                               int reduction, float *loss, const float *dloss,
                               float *dz)
    int cnnc_cross_entropy_f64(int64_t N, int64_t C, const double *z,
                               const int64_t *target, double label_smoothing,
                               int reduction, double *loss,
                               const double *dloss, double *dz)
    int cnnc_nll_loss_f32(int64_t N, int64_t C, const float *logp,
                          const int64_t *target, int reduction, float *loss,
                          const float *dloss, float *dlogp)
    int cnnc_nll_loss_f64(int64_t N, int64_t C, const double *logp,
                          const int64_t *target, int reduction, double *loss,
                          const double *dloss, double *dlogp)
    int cnnc_mse_loss_f32(int64_t count, const float *pred,
                          const float *target, int reduction, float *loss,
                          const float *dloss, float *dpred)
    int cnnc_mse_loss_f64(int64_t count, const double *pred,
                          const double *target, int reduction, double *loss,
                          const double *dloss, double *dpred)
    int cnnc_l1_loss_f32(int64_t count, const float *pred,
                         const float *target, int reduction, float *loss,
                         const float *dloss, float *dpred)
    int cnnc_l1_loss_f64(int64_t count, const double *pred,
                         const double *target, int reduction, double *loss,
                         const double *dloss, double *dpred)

    ctypedef struct cnnc_batchnorm_geom:
        int64_t N, C, L
        double eps

    int cnnc_batchnorm_check(const cnnc_batchnorm_geom *g)
    int cnnc_batchnorm_forward_train_f32(
        const cnnc_batchnorm_geom *g, const float *x, const float *weight,
        const float *bias, double momentum, float *running_mean,
        float *running_var, float *y, double *save_mean,
        double *save_invstd)
    int cnnc_batchnorm_forward_train_f64(
        const cnnc_batchnorm_geom *g, const double *x, const double *weight,
        const double *bias, double momentum, double *running_mean,
        double *running_var, double *y, double *save_mean,
        double *save_invstd)
    int cnnc_batchnorm_forward_eval_f32(
        const cnnc_batchnorm_geom *g, const float *x, const float *weight,
        const float *bias, const float *running_mean,
        const float *running_var, float *y, double *save_mean,
        double *save_invstd)
    int cnnc_batchnorm_forward_eval_f64(
        const cnnc_batchnorm_geom *g, const double *x, const double *weight,
        const double *bias, const double *running_mean,
        const double *running_var, double *y, double *save_mean,
        double *save_invstd)
    int cnnc_batchnorm_backward_f32(
        const cnnc_batchnorm_geom *g, const float *dy, const float *x,
        const float *weight, const double *save_mean,
        const double *save_invstd, int batch_stats, float *dx,
        float *dweight, float *dbias)
    int cnnc_batchnorm_backward_f64(
        const cnnc_batchnorm_geom *g, const double *dy, const double *x,
        const double *weight, const double *save_mean,
        const double *save_invstd, int batch_stats, double *dx,
        double *dweight, double *dbias)
    # Activations: n elements, or outer x C x inner for the softmaxes.
    int cnnc_relu_forward_f32(int64_t n, const float *x, float *y)
    int cnnc_relu_forward_f64(int64_t n, const double *x, double *y)
    int cnnc_relu_backward_f32(int64_t n, const float *dy, const float *a,
                               float *dx)
    int cnnc_relu_backward_f64(int64_t n, const double *dy, const double *a,
                               double *dx)
    int cnnc_leaky_relu_forward_f32(int64_t n, const float *x,
                                    float negative_slope, float *y)
    int cnnc_leaky_relu_forward_f64(int64_t n, const double *x,
                                    double negative_slope, double *y)
    int cnnc_leaky_relu_backward_f32(int64_t n, const float *dy,
                                     const float *x, float negative_slope,
                                     float *dx)
    int cnnc_leaky_relu_backward_f64(int64_t n, const double *dy,
                                     const double *x, double negative_slope,
                                     double *dx)
    int cnnc_elu_forward_f32(int64_t n, const float *x, float alpha,
                             float *y)
    int cnnc_elu_forward_f64(int64_t n, const double *x, double alpha,
                             double *y)
    int cnnc_elu_backward_f32(int64_t n, const float *dy, const float *x,
                              float alpha, float *dx)
    int cnnc_elu_backward_f64(int64_t n, const double *dy, const double *x,
                              double alpha, double *dx)
    int cnnc_sigmoid_forward_f32(int64_t n, const float *x, float *y)
    int cnnc_sigmoid_forward_f64(int64_t n, const double *x, double *y)
    int cnnc_sigmoid_backward_f32(int64_t n, const float *dy, const float *y,
                                  float *dx)
    int cnnc_sigmoid_backward_f64(int64_t n, const double *dy,
                                  const double *y, double *dx)
    int cnnc_tanh_forward_f32(int64_t n, const float *x, float *y)
    int cnnc_tanh_forward_f64(int64_t n, const double *x, double *y)
    int cnnc_tanh_backward_f32(int64_t n, const float *dy, const float *y,
                               float *dx)
    int cnnc_tanh_backward_f64(int64_t n, const double *dy, const double *y,
                               double *dx)
    int cnnc_softmax_forward_f32(int64_t outer, int64_t C, int64_t inner,
                                 const float *x, float *y)
    int cnnc_softmax_forward_f64(int64_t outer, int64_t C, int64_t inner,
                                 const double *x, double *y)
    int cnnc_softmax_backward_f32(int64_t outer, int64_t C, int64_t inner,
                                  const float *dy, const float *y, float *dx)
    int cnnc_softmax_backward_f64(int64_t outer, int64_t C, int64_t inner,
                                  const double *dy, const double *y,
                                  double *dx)
    int cnnc_log_softmax_forward_f32(int64_t outer, int64_t C, int64_t inner,
                                     const float *x, float *y)
    int cnnc_log_softmax_forward_f64(int64_t outer, int64_t C, int64_t inner,
                                     const double *x, double *y)
    int cnnc_log_softmax_backward_f32(int64_t outer, int64_t C,
                                      int64_t inner, const float *dy,
                                      const float *y, float *dx)
    int cnnc_log_softmax_backward_f64(int64_t outer, int64_t C,
                                      int64_t inner, const double *dy,
                                      const double *y, double *dx)

    # Dropout: x, y are rows x inner; mask has one 0/1 byte (uint8_t) per row.
    int cnnc_dropout_apply_f32(int64_t rows, int64_t inner, const float *x,
                               const unsigned char *mask, float scale,
                               float *y)
    int cnnc_dropout_apply_f64(int64_t rows, int64_t inner, const double *x,
                               const unsigned char *mask, double scale,
                               double *y)
    ctypedef struct cnnc_pool2d_geom:
        int64_t N, C, H, W
        int64_t R, S
        int64_t P, Q
        int64_t stride_h, stride_w
        int64_t pad_h, pad_w
        int64_t dil_h, dil_w
        int64_t ceil_mode

    int cnnc_pool2d_check(const cnnc_pool2d_geom *g)
    int cnnc_maxpool2d_forward_f32(const cnnc_pool2d_geom *g, const float *x,
                                   float *y, int64_t *idx)
    int cnnc_maxpool2d_forward_f64(const cnnc_pool2d_geom *g, const double *x,
                                   double *y, int64_t *idx)
    int cnnc_maxpool2d_backward_f32(const cnnc_pool2d_geom *g, const float *dy,
                                    const int64_t *idx, float *dx)
    int cnnc_maxpool2d_backward_f64(const cnnc_pool2d_geom *g,
                                    const double *dy, const int64_t *idx,
                                    double *dx)
    int cnnc_avgpool2d_forward_f32(const cnnc_pool2d_geom *g,
                                   int count_include_pad, const float *x,
                                   float *y)
    int cnnc_avgpool2d_forward_f64(const cnnc_pool2d_geom *g,
                                   int count_include_pad, const double *x,
                                   double *y)
    int cnnc_avgpool2d_backward_f32(const cnnc_pool2d_geom *g,
                                    int count_include_pad, const float *dy,
                                    float *dx)
    int cnnc_avgpool2d_backward_f64(const cnnc_pool2d_geom *g,
                                    int count_include_pad, const double *dy,
                                    double *dx)
    int cnnc_adaptive_avgpool2d_forward_f32(const cnnc_pool2d_geom *g,
                                            const float *x, float *y)
    int cnnc_adaptive_avgpool2d_forward_f64(const cnnc_pool2d_geom *g,
                                            const double *x, double *y)
    int cnnc_adaptive_avgpool2d_backward_f32(const cnnc_pool2d_geom *g,
                                             const float *dy, float *dx)
    int cnnc_adaptive_avgpool2d_backward_f64(const cnnc_pool2d_geom *g,
                                             const double *dy, double *dx)
