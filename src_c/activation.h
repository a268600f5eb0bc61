/*
 * activation.h - what the activation files share: the list of elementwise
 * operations a span kernel performs, and e^x, e^x - 1 and tanh for float
 * written so that a loop calling them vectorises.
 *
 * Why not the C library: expf and tanhf are one call per element, which
 * no compiler vectorises without -ffast-math, and sigmoid, tanh, ELU and
 * softmax then run 10-20 times slower than the memory allows. The double
 * versions keep the C library (float64 is for checking, not for speed).
 *
 * Why integer masks: under GCC's default -ftrapping-math a select between
 * two floats, one of which needs arithmetic to compute, is not
 * vectorised (the arithmetic might raise an exception the branch would
 * have avoided), so the clamps below pick bit patterns with integer masks.
 */
#ifndef CNNC_ACTIVATION_H
#define CNNC_ACTIVATION_H

#include <stdint.h>
#include <string.h>

/* The elementwise operations of cnnc_act_span_*(op, n, a, b, param, y).
 * "x" is the forward's input, "y" its output, "dy" the incoming
 * gradient; param is the slope, alpha or shift the operation names. */
enum cnnc_act_op {
    CNNC_ACT_RELU,          /* a = x:            y = max(x, 0)            */
    CNNC_ACT_RELU_BWD,      /* a = dy, b = x|y:  dy where b > 0           */
    CNNC_ACT_LEAKY,         /* a = x, slope                               */
    CNNC_ACT_LEAKY_BWD,     /* a = dy, b = x, slope                       */
    CNNC_ACT_ELU,           /* a = x, alpha                               */
    CNNC_ACT_ELU_BWD,       /* a = dy, b = x, alpha                       */
    CNNC_ACT_SIGMOID,       /* a = x                                      */
    CNNC_ACT_SIGMOID_BWD,   /* a = dy, b = y                              */
    CNNC_ACT_TANH,          /* a = x                                      */
    CNNC_ACT_TANH_BWD,      /* a = dy, b = y                              */
    CNNC_ACT_EXP_SHIFT,     /* y = e^(a - param)                          */
    CNNC_ACT_EXP_DIFF       /* y = e^(a - b)                              */
};

/* Elements one work item of a parallel elementwise pass covers (64 KiB of
 * floats); a multiple of every vector width. */
#define CNNC_ACT_CHUNK 16384

/* A float's bits and back, without breaking aliasing rules. */
static inline int32_t cnnc_act_bits(float x)
{
    int32_t i;
    memcpy(&i, &x, sizeof i);
    return i;
}

static inline float cnnc_act_float(int32_t i)
{
    float x;
    memcpy(&x, &i, sizeof x);
    return x;
}

/* mask ? a : b for a mask of all ones or all zeros, on the bits. */
static inline float cnnc_act_pick(int32_t mask, float a, float b)
{
    return cnnc_act_float((cnnc_act_bits(a) & mask) |
                          (cnnc_act_bits(b) & ~mask));
}

/* 2^k for -126 <= k <= 127, built in the exponent field. */
static inline float cnnc_act_pow2(int32_t k)
{
    return cnnc_act_float((k + 127) * (1 << 23));
}

/*
 * x = n ln2 + r with n an integer and |r| <= ln2 / 2, for |x| <= 150.
 * Adding 1.5 * 2^23 rounds x / ln2 to an integer, which then sits in the
 * low bits of the sum's mantissa; ln2 is split into a part whose products
 * with n are exact and a small rest, so r keeps all its bits.
 */
static inline float cnnc_act_reduce(float x, int32_t *n)
{
    const float shift = 12582912.0f;              /* 1.5 * 2^23 */
    float t = x * 1.44269504088896341f + shift;   /* x / ln2 + shift */
    float nf = t - shift;

    *n = (cnnc_act_bits(t) & 0x7fffff) - 0x400000;
    return (x - nf * 0.693145751953125f) - nf * 1.428606765330187e-6f;
}

/*
 * e^x for float, within about 1 ulp of the exact value over the whole
 * range (measured over every 2^-10 step of [-110, 95] by the tests).
 * e^r comes from its Taylor series to r^7 (relative error below 6e-9 for
 * |r| <= ln2 / 2); 2^n is applied in two halves so that results that
 * overflow give inf and results below the normal range round gradually
 * to the subnormals and 0. x is first clamped to [-104, 89], outside of
 * which e^x is 0 or inf in float anyway; NaN stays NaN.
 */
static inline float cnnc_act_exp_f32(float x)
{
    int32_t low = x < -104.0f ? -1 : 0;
    int32_t high = x > 89.0f ? -1 : 0;
    float xc = cnnc_act_pick(low, -104.0f, cnnc_act_pick(high, 89.0f, x));
    int32_t n, half;
    float r = cnnc_act_reduce(xc, &n);
    float p;

    /* e^r by Horner's rule, 1 + r + r^2/2! + ... + r^7/7!. */
    p = 1.0f / 5040;
    p = p * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;

    /* Times 2^n = 2^half * 2^(n - half), each factor a normal float. */
    half = n / 2;
    return p * cnnc_act_pow2(half) * cnnc_act_pow2(n - half);
}

/* e^x for x <= 0; a positive x counts as 0 (e^x = 1). */
static inline float cnnc_act_exp_nonpos_f32(float x)
{
    int32_t pos = x > 0.0f ? -1 : 0;
    return cnnc_act_exp_f32(cnnc_act_pick(pos, 0.0f, x));
}

/*
 * e^x - 1 for x <= 0 (a positive x counts as 0), within about 1 ulp: the
 * difference is not formed from e^x, which would lose the digits of a
 * small result, but as 2^n (e^r - 1) + (2^n - 1), with e^r - 1 from its
 * Taylor series r + r^2/2! + ... + r^8/8! and 2^n - 1 exact for the small
 * n involved. Below -20, e^x - 1 is -1 in float; NaN stays NaN.
 */
static inline float cnnc_act_expm1_nonpos_f32(float x)
{
    int32_t low = x < -20.0f ? -1 : 0;
    int32_t pos = x > 0.0f ? -1 : 0;
    float xc = cnnc_act_pick(low, -20.0f, cnnc_act_pick(pos, 0.0f, x));
    int32_t n;
    float r = cnnc_act_reduce(xc, &n);
    float q, scale;

    /* e^r - 1 = r (1 + r/2! + r^2/3! + ... + r^7/8!). */
    q = 1.0f / 40320;
    q = q * r + 1.0f / 5040;
    q = q * r + 1.0f / 720;
    q = q * r + 1.0f / 120;
    q = q * r + 1.0f / 24;
    q = q * r + 1.0f / 6;
    q = q * r + 0.5f;
    q = q * r + 1.0f;
    q = q * r;

    scale = cnnc_act_pow2(n);
    return scale * q + (scale - 1.0f);
}

/*
 * tanh for float: with m = e^(-2|x|) - 1 (in (-1, 0], accurate even when
 * small), tanh|x| = (1 - e^(-2|x|)) / (1 + e^(-2|x|)) = -m / (2 + m), and
 * the sign of x is put back on the bits. Within about 2 ulp; saturates to
 * +-1 without overflow; NaN stays NaN.
 */
static inline float cnnc_act_tanh_f32(float x)
{
    int32_t sign = cnnc_act_bits(x) & INT32_MIN;
    float ax = cnnc_act_float(cnnc_act_bits(x) & INT32_MAX);
    float m = cnnc_act_expm1_nonpos_f32(-2.0f * ax);
    float t = m / (2.0f + m);     /* -tanh|x|: clear its sign, set x's */

    return cnnc_act_float((cnnc_act_bits(t) & INT32_MAX) | sign);
}

#endif /* CNNC_ACTIVATION_H */
