/*
 * activation_span_impl.h - every elementwise activation over one span of
 * n elements, serially: the innermost loops, the only place where the
 * per-element formulas live.
 *
 * Compiled three times: for double and float by activation.c (baseline
 * instructions), and for float again by activation_avx2.c with AVX2+FMA.
 * The includer defines REAL, SPAN_NAME, SPAN_ATTR (a target attribute,
 * `static`, or nothing) and the math functions of that type: EXP(x),
 * TANH(x), and EXP_NONPOS(x) and EXPM1_NONPOS(x), which take a positive
 * x as 0.
 *
 * Each case is one loop the compiler vectorises (for double, those that
 * call the C library's exp, expm1 or tanh stay scalar). Where a formula has two
 * branches it is written as a sum of two terms of which one is zero, or a
 * select whose arms need no arithmetic: a select between computed values
 * is not vectorised under -ftrapping-math (see activation.h).
 *
 *   a, b, y: n elements; b is only read by the backward operations and
 *   EXP_DIFF. y may be a (the same pointer) but must not overlap it
 *   otherwise.
 */
SPAN_ATTR
void SPAN_NAME(int op, int64_t n, const REAL *a, const REAL *b, REAL param,
               REAL *y)
{
    switch (op) {
    case CNNC_ACT_RELU:
        /* "negative -> 0" rather than max(x, 0), so that NaN survives. */
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            y[i] = a[i] < 0 ? 0 : a[i];
        }
        break;

    case CNNC_ACT_RELU_BWD:
        /* Only where the unit is on: the kink at 0 (and a NaN) give 0. */
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            REAL g = a[i];
            y[i] = b[i] > 0 ? g : 0;
        }
        break;

    case CNNC_ACT_LEAKY:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            REAL pos = a[i] < 0 ? 0 : a[i];
            REAL neg = a[i] > 0 ? 0 : a[i];
            y[i] = pos + neg * param;
        }
        break;

    case CNNC_ACT_LEAKY_BWD:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            REAL g = a[i];
            REAL pos = b[i] > 0 ? g : 0;
            REAL neg = b[i] > 0 ? 0 : g;
            y[i] = pos + neg * param;
        }
        break;

    case CNNC_ACT_ELU:
        /* x for x > 0 plus alpha (e^x - 1) for x <= 0; EXPM1_NONPOS
         * takes a positive x as 0, so a large x never overflows it. */
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            REAL pos = a[i] < 0 ? 0 : a[i];
            y[i] = pos + param * EXPM1_NONPOS(a[i]);
        }
        break;

    case CNNC_ACT_ELU_BWD:
        /* dy for x > 0, dy alpha e^x for x <= 0. */
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            REAL g = a[i];
            REAL g_pos = b[i] <= 0 ? 0 : g;
            REAL g_neg = b[i] <= 0 ? g : 0;
            y[i] = g_pos + g_neg * param * EXP_NONPOS(b[i]);
        }
        break;

    case CNNC_ACT_SIGMOID:
        /* With e = e^-|x| <= 1, which cannot overflow: 1 / (1 + e) for
         * x >= 0 and e / (1 + e) for x < 0, the same function. */
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            REAL e = EXP(a[i] < 0 ? a[i] : -a[i]);
            y[i] = (a[i] >= 0 ? 1 : e) / (1 + e);
        }
        break;

    case CNNC_ACT_SIGMOID_BWD:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            y[i] = a[i] * b[i] * (1 - b[i]);
        }
        break;

    case CNNC_ACT_TANH:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            y[i] = TANH(a[i]);
        }
        break;

    case CNNC_ACT_TANH_BWD:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            y[i] = a[i] * (1 - b[i] * b[i]);
        }
        break;

    case CNNC_ACT_EXP_SHIFT:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            y[i] = EXP(a[i] - param);
        }
        break;

    case CNNC_ACT_EXP_DIFF:
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            y[i] = EXP(a[i] - b[i]);
        }
        break;

    default:
        break;
    }
}
