/*
 * loss_exp.h - e^x for x <= 0, the exponential that softmax needs once the
 * row's largest logit has been subtracted, written so that a loop calling
 * it vectorises (libm's expf is a call per element and does not).
 *
 * The method: x = k ln2 + r with k = round(x / ln2) and |r| <= ln2 / 2, so
 * e^x = 2^k e^r. e^r is its Taylor series to r^6 (relative error below
 * 3e-7 over the interval, about 4 float ulps); 2^k is built directly in the
 * exponent bits of a float. ln2 is split into a high part exact in float
 * and a low part, so k ln2 is subtracted without losing r's bits.
 *
 * Below -87.3 e^x leaves the normal floats and the result is 0; the same
 * holds for -inf and NaN (callers that must see a NaN test for it
 * themselves). Every branch is a bit mask, since GCC will not vectorise a
 * select between floats under its default -ftrapping-math.
 */
#ifndef CNNC_LOSS_EXP_H
#define CNNC_LOSS_EXP_H

#include <math.h>
#include <stdint.h>

typedef union {
    float f;
    int32_t i;
} cnnc_float_bits;

static inline float cnnc_exp_nonpos_f32(float x)
{
    const float round_shift = 12582912.0f;  /* 1.5 * 2^23 */
    const int32_t limit = 0x42ae999a;       /* the bits of 87.3f */
    cnnc_float_bits in = {x}, clamped, scale;

    /* 1. Out of range (|x| > 87.3, -inf, NaN): compute e^-87.3, keep 0. */
    int32_t keep = (in.i & 0x7fffffff) > limit ? 0 : -1;
    clamped.i = (in.i & keep) | ((int32_t)0xc2ae999a & ~keep);
    float xc = clamped.f;

    /* 2. k = round(x / ln2): adding 1.5 * 2^23 rounds to an integer. */
    float k = (xc * 1.44269504f + round_shift) - round_shift;
    float r = xc - k * 0.693145752f;
    r = r - k * 1.42860682e-6f;

    /* 3. e^r by Horner's rule, 2^k in the exponent field. */
    float p = 1.0f + r * (1.0f + r * (1.0f / 2 + r * (1.0f / 6 +
              r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
    scale.i = ((int32_t)k + 127) << 23;
    scale.f = p * scale.f;
    scale.i &= keep;
    return scale.f;
}

/* The double version needs no vector loop (float64 is for checking). */
static inline double cnnc_exp_nonpos_f64(double x)
{
    return exp(x);
}

#endif /* CNNC_LOSS_EXP_H */
