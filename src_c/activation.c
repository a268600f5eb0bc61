/*
 * activation.c - the non-linearities: ReLU, LeakyReLU, ELU, sigmoid, tanh,
 * softmax and log-softmax, forward and backward, for float and double.
 *
 * Three layers, from the inside out:
 *   activation_span_impl.h  the formulas: one serial loop per operation
 *                           over a span of elements (compiled here for
 *                           double and float, and in activation_avx2.c
 *                           for float with AVX2+FMA);
 *   activation_impl.h       the public kernels: argument checks, spans
 *                           handed out to threads, and softmax's
 *                           per-column steps;
 *   this file               the element types.
 * Float spans go through the SIMD dispatch table (cnnc_simd), so
 * cnnc_select_simd() switches them; double always takes the baseline.
 */
#include <math.h>

#include "activation.h"
#include "internal.h"

/* Threads for `n` elements of an elementwise pass whose elements each
 * cost about `cost` multiply-adds (what cnnc_threads_for() counts): an
 * exp is a polynomial of some 10 operations plus its range reduction. */
#define CNNC_ACT_CHEAP 1
#define CNNC_ACT_TRANSCENDENTAL 16

static inline int act_threads(int64_t n, int64_t cost)
{
    return cnnc_threads_for(n > INT64_MAX / cost ? INT64_MAX : n * cost);
}

/* Inner positions (columns) one softmax work item treats at once when the
 * softmax axis is strided; the block's max and sum live on the stack. */
#define CNNC_SOFTMAX_BLOCK 64

/* ---------------------------------------------------------------------- */
/* Spans                                                                   */
/* ---------------------------------------------------------------------- */

#define REAL float
#define SPAN_NAME cnnc_act_span_scalar_f32
#define SPAN_ATTR
#define EXP cnnc_act_exp_f32
#define EXP_NONPOS cnnc_act_exp_nonpos_f32
#define EXPM1_NONPOS cnnc_act_expm1_nonpos_f32
#define TANH cnnc_act_tanh_f32
#include "activation_span_impl.h"
#undef REAL
#undef SPAN_NAME
#undef SPAN_ATTR
#undef EXP
#undef EXP_NONPOS
#undef EXPM1_NONPOS
#undef TANH

/* The double versions are the C library's, clamped as the float ones. */
static inline double act_exp_nonpos_f64(double x)
{
    return exp(x < 0 ? x : 0);
}

static inline double act_expm1_nonpos_f64(double x)
{
    return expm1(x < 0 ? x : 0);
}

#define REAL double
#define SPAN_NAME act_span_f64
#define SPAN_ATTR static
#define EXP exp
#define EXP_NONPOS act_exp_nonpos_f64
#define EXPM1_NONPOS act_expm1_nonpos_f64
#define TANH tanh
#include "activation_span_impl.h"
#undef REAL
#undef SPAN_NAME
#undef SPAN_ATTR
#undef EXP
#undef EXP_NONPOS
#undef EXPM1_NONPOS
#undef TANH

/* The span kernel of each element type: float through the SIMD table. */
static inline void act_span_dispatch_f32(int op, int64_t n, const float *a,
                                         const float *b, float param,
                                         float *y)
{
    cnnc_simd->act_span_f32(op, n, a, b, param, y);
}

static inline void act_span_dispatch_f64(int op, int64_t n, const double *a,
                                         const double *b, double param,
                                         double *y)
{
    act_span_f64(op, n, a, b, param, y);
}

/* ---------------------------------------------------------------------- */
/* Public kernels                                                          */
/* ---------------------------------------------------------------------- */

#define REAL float
#define FN(name) name##_f32
#define LOG logf
#include "activation_impl.h"
#undef REAL
#undef FN
#undef LOG

#define REAL double
#define FN(name) name##_f64
#define LOG log
#include "activation_impl.h"
#undef REAL
#undef FN
#undef LOG
