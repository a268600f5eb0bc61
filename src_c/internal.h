/*
 * internal.h - what the core's own files share and users never see: the
 * SIMD dispatch table, the GEMM that convolution (and later Linear) build
 * on, workspace allocation and overflow-safe size arithmetic.
 */
#ifndef CNNC_INTERNAL_H
#define CNNC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cnnc.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Functions compiled for AVX2+FMA carry this attribute, so the rest of the
 * core stays baseline x86-64 and runs on any CPU. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CNNC_HAVE_AVX2_PATH 1
#define CNNC_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define CNNC_HAVE_AVX2_PATH 0
#define CNNC_TARGET_AVX2
#endif

/* Below this many multiply-adds a kernel runs on one thread: waking the
 * OpenMP pool costs more than the work (see BUILD-NOTES.md). */
#define CNNC_PARALLEL_MIN_WORK 32768

/* ---------------------------------------------------------------------- */
/* Sizes                                                                   */
/* ---------------------------------------------------------------------- */

/* *out = a * b; returns 0 when the product overflows int64 or a, b < 0. */
static inline int cnnc_mul_ok(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0) {
        return 0;
    }
    if (a != 0 && b > INT64_MAX / a) {
        return 0;
    }
    *out = a * b;
    return 1;
}

/* Aligned (64-byte) allocation of n bytes, NULL on failure or n == 0. */
void *cnnc_alloc(size_t n);
void cnnc_free(void *p);

/* Threads a parallel region of `work` multiply-adds should use. */
static inline int cnnc_threads_for(int64_t work)
{
    return work < CNNC_PARALLEL_MIN_WORK ? 1 : cnnc_get_num_threads();
}

/* ---------------------------------------------------------------------- */
/* GEMM: C[M x N] = A[M x Kd] * B[Kd x N] (+ C)                            */
/* ---------------------------------------------------------------------- */

/*
 * A and B are read through strides (element (i, j) of A is
 * A[i * rs + j * cs]), so transposed operands need no copy. C is row-major
 * with leading dimension ldc. The product is blocked for the caches: B in
 * blocks of KC x NC, A in blocks of MC x KC, both packed into panels the
 * micro-kernel streams through. The register tile is MR x NR.
 */
#define CNNC_GEMM_MR 6
#define CNNC_GEMM_NR_F32 16
#define CNNC_GEMM_NR_F64 8
#define CNNC_GEMM_KC 256
#define CNNC_GEMM_MC 120
#define CNNC_GEMM_NC 512

/* A strided matrix operand. */
typedef struct {
    const void *data;
    int64_t rs, cs;
} cnnc_matrix;

/* Micro-kernel: c[MR x NR] (row stride ldc) = a_panel * b_panel, plus the
 * old c when accumulate is nonzero. a is kc x MR, b is kc x NR, packed. */
typedef void (*cnnc_ukernel_f32)(int64_t kc, const float *a, const float *b,
                                 float *c, int64_t ldc, int accumulate);
typedef void (*cnnc_ukernel_f64)(int64_t kc, const double *a,
                                 const double *b, double *c, int64_t ldc,
                                 int accumulate);

/* Direct-convolution micro-kernel: as above, but row p of B is read
 * unpacked, NR elements at b + off[p] (see conv2d_direct_impl.h). */
typedef void (*cnnc_direct_f32)(int64_t kc, const float *a, const float *b,
                                const int64_t *off, float *c, int64_t ldc,
                                int accumulate);
typedef void (*cnnc_direct_f64)(int64_t kc, const double *a,
                                const double *b, const int64_t *off,
                                double *c, int64_t ldc, int accumulate);

/* Weight-gradient micro-kernel of the direct convolution: A gathered from
 * six input rows, B packed (see conv2d_direct_impl.h). */
typedef void (*cnnc_wgrad_f32)(int64_t rows, int64_t cols,
                               int64_t row_stride, const float *a,
                               const int64_t *off, const float *b, float *c,
                               int64_t ldc);
typedef void (*cnnc_wgrad_f64)(int64_t rows, int64_t cols,
                               int64_t row_stride, const double *a,
                               const int64_t *off, const double *b,
                               double *c, int64_t ldc);

/* Cross-entropy of one row of C logits with target class t, fused with
 * its gradient times scale into dz (skipped when NULL); returns the loss.
 * See loss_row_impl.h. */
typedef double (*cnnc_ce_row_f32)(int64_t C, const float *z, int64_t t,
                                  float eps, float scale, float *dz);
/* Elementwise activation over one span of n floats, serially: the
 * operation `op` (enum cnnc_act_op in activation.h) of a (and b), with a
 * slope, alpha or shift `param`, into y. See activation_span_impl.h. */
typedef void (*cnnc_act_span_f32)(int op, int64_t n, const float *a,
                                  const float *b, float param, float *y);

/* Kernel tables of operation families, defined in the family's files. */
struct cnnc_bn_table;   /* batchnorm.h */
extern const struct cnnc_bn_table cnnc_bn_scalar;
#if CNNC_HAVE_AVX2_PATH
extern const struct cnnc_bn_table cnnc_bn_avx2;
#endif
/* Max pooling row kernel (pool2d.c): n outputs of one row, window corners
 * x0[2 * j], R x R taps (2 or 3) in a plane W wide; y[j] = the maximum,
 * tap[j] = the winner's offset from its corner. See pool2d_avx2.c. */
typedef void (*cnnc_maxpool_row_f32)(const float *x0, int64_t n, int64_t W,
                                     float *y, int32_t *tap);
typedef void (*cnnc_maxpool_row_f64)(const double *x0, int64_t n,
                                     int64_t W, double *y, double *tap);

/* The kernels of one SIMD path. */
typedef struct {
    const char *name;
    cnnc_ukernel_f32 gemm_f32;
    cnnc_ukernel_f64 gemm_f64;
    cnnc_direct_f32 direct_f32;
    cnnc_direct_f64 direct_f64;
    cnnc_wgrad_f32 wgrad_f32;
    cnnc_wgrad_f64 wgrad_f64;
    cnnc_ce_row_f32 cross_entropy_row_f32;
    const struct cnnc_bn_table *batchnorm;
    cnnc_act_span_f32 act_span_f32;
    cnnc_maxpool_row_f32 maxpool_k2s2_f32;
    cnnc_maxpool_row_f32 maxpool_k3s2_f32;
    cnnc_maxpool_row_f64 maxpool_k2s2_f64;
    cnnc_maxpool_row_f64 maxpool_k3s2_f64;
} cnnc_simd_table;

/* The table in use, chosen by cnnc_select_simd(). */
extern const cnnc_simd_table *cnnc_simd;

void cnnc_ukernel_scalar_f32(int64_t kc, const float *a, const float *b,
                             float *c, int64_t ldc, int accumulate);
void cnnc_ukernel_scalar_f64(int64_t kc, const double *a, const double *b,
                             double *c, int64_t ldc, int accumulate);
void cnnc_ukernel_direct_scalar_f32(int64_t kc, const float *a,
                                    const float *b, const int64_t *off,
                                    float *c, int64_t ldc, int accumulate);
void cnnc_ukernel_direct_scalar_f64(int64_t kc, const double *a,
                                    const double *b, const int64_t *off,
                                    double *c, int64_t ldc, int accumulate);
void cnnc_ukernel_wgrad_scalar_f32(int64_t rows, int64_t cols,
                                   int64_t row_stride, const float *a,
                                   const int64_t *off, const float *b,
                                   float *c, int64_t ldc);
void cnnc_ukernel_wgrad_scalar_f64(int64_t rows, int64_t cols,
                                   int64_t row_stride, const double *a,
                                   const int64_t *off, const double *b,
                                   double *c, int64_t ldc);
#if CNNC_HAVE_AVX2_PATH
void cnnc_ukernel_wgrad_avx2_f32(int64_t rows, int64_t cols,
                                 int64_t row_stride, const float *a,
                                 const int64_t *off, const float *b,
                                 float *c, int64_t ldc);
void cnnc_ukernel_wgrad_avx2_f64(int64_t rows, int64_t cols,
                                 int64_t row_stride, const double *a,
                                 const int64_t *off, const double *b,
                                 double *c, int64_t ldc);
void cnnc_ukernel_direct_avx2_f32(int64_t kc, const float *a, const float *b,
                                  const int64_t *off, float *c, int64_t ldc,
                                  int accumulate);
void cnnc_ukernel_direct_avx2_f64(int64_t kc, const double *a,
                                  const double *b, const int64_t *off,
                                  double *c, int64_t ldc, int accumulate);
void cnnc_ukernel_avx2_f32(int64_t kc, const float *a, const float *b,
                           float *c, int64_t ldc, int accumulate);
void cnnc_ukernel_avx2_f64(int64_t kc, const double *a, const double *b,
                           double *c, int64_t ldc, int accumulate);
#endif

double cnnc_ce_row_scalar_f32(int64_t C, const float *z, int64_t t,
                              float eps, float scale, float *dz);
#if CNNC_HAVE_AVX2_PATH
double cnnc_ce_row_avx2_f32(int64_t C, const float *z, int64_t t, float eps,
                            float scale, float *dz);
#endif

void cnnc_act_span_scalar_f32(int op, int64_t n, const float *a,
                              const float *b, float param, float *y);
#if CNNC_HAVE_AVX2_PATH
void cnnc_act_span_avx2_f32(int op, int64_t n, const float *a,
                            const float *b, float param, float *y);
#endif

void cnnc_maxpool_k2s2_scalar_f32(const float *x0, int64_t n, int64_t W,
                                  float *y, int32_t *tap);
void cnnc_maxpool_k3s2_scalar_f32(const float *x0, int64_t n, int64_t W,
                                  float *y, int32_t *tap);
void cnnc_maxpool_k2s2_scalar_f64(const double *x0, int64_t n, int64_t W,
                                  double *y, double *tap);
void cnnc_maxpool_k3s2_scalar_f64(const double *x0, int64_t n, int64_t W,
                                  double *y, double *tap);
#if CNNC_HAVE_AVX2_PATH
void cnnc_maxpool_k2s2_avx2_f32(const float *x0, int64_t n, int64_t W,
                                float *y, int32_t *tap);
void cnnc_maxpool_k3s2_avx2_f32(const float *x0, int64_t n, int64_t W,
                                float *y, int32_t *tap);
#endif

/* Floats of packing workspace one serial GEMM call needs. */
int64_t cnnc_gemm_workspace_f32(void);
int64_t cnnc_gemm_workspace_f64(void);

/* Serial GEMM into C; `work` holds cnnc_gemm_workspace_*() elements,
 * 64-byte aligned. accumulate = 0 overwrites C, 1 adds to it. */
void cnnc_gemm_f32(int64_t M, int64_t N, int64_t Kd, cnnc_matrix A,
                   cnnc_matrix B, float *C, int64_t ldc, int accumulate,
                   float *work);
void cnnc_gemm_f64(int64_t M, int64_t N, int64_t Kd, cnnc_matrix A,
                   cnnc_matrix B, double *C, int64_t ldc, int accumulate,
                   double *work);

#endif /* CNNC_INTERNAL_H */
