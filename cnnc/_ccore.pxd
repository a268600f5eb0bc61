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
