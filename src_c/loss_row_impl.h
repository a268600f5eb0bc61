/*
 * loss_row_impl.h - cross-entropy of one row of logits, fused with its
 * gradient. The including file defines:
 *
 *   REAL            float or double
 *   ROW_NAME        the function's name
 *   ROW_ATTR        CNNC_TARGET_AVX2 for the AVX2 build, else empty
 *   ROW_EXP(x)      e^x for x <= 0 (loss_exp.h)
 *
 * loss.c compiles it for float and double on the baseline, loss_avx2.c for
 * float with AVX2 and FMA: the same C, vectorised 4 or 8 floats wide.
 *
 * With p = softmax(z), eps the label smoothing and t the target, the row's
 * loss and gradient are
 *
 *   loss = -(1 - eps) log p[t] - (eps / C) sum over c of log p[c]
 *   dz   = scale * (p - (1 - eps) onehot(t) - eps / C)
 *
 * and log p[c] = (z[c] - m) - log(sum over c' of e^(z[c'] - m)) with m the
 * row's largest logit, so no exponential overflows, whatever the logits.
 *
 *   z: C logits   dz: C, written when not NULL   returns the loss
 * A row holding NaN or +-inf as its largest logit has a NaN loss and
 * NaN gradient, as the formula does.
 */

ROW_ATTR
double ROW_NAME(int64_t C, const REAL *z, int64_t t, REAL eps, REAL scale,
                REAL *dz)
{
    REAL m = z[0], s = 0, shifted_sum = 0;

    /* 1. The largest logit, subtracted before exponentiating. */
#ifdef _OPENMP
#pragma omp simd reduction(max : m)
#endif
    for (int64_t c = 0; c < C; c++) {
        m = z[c] > m ? z[c] : m;
    }

    /* 2. The softmax's denominator; e^(z - m) kept in dz for step 4. The
     *    sum of z - m serves the smoothing term (and turns NaN if any
     *    logit is NaN or the largest is infinite). */
    if (dz != NULL) {
#ifdef _OPENMP
#pragma omp simd reduction(+ : s, shifted_sum)
#endif
        for (int64_t c = 0; c < C; c++) {
            REAL e = ROW_EXP(z[c] - m);
            dz[c] = e;
            s += e;
            shifted_sum += z[c] - m;
        }
    } else {
#ifdef _OPENMP
#pragma omp simd reduction(+ : s, shifted_sum)
#endif
        for (int64_t c = 0; c < C; c++) {
            s += ROW_EXP(z[c] - m);
            shifted_sum += z[c] - m;
        }
    }

    /* 3. The loss from log-probabilities, never from a rounded p[t]. */
    double log_s = log((double)s);
    double loss = -(1.0 - (double)eps) * ((double)(z[t] - m) - log_s);
    if (eps > 0) {
        loss -= (double)eps * ((double)shifted_sum / (double)C - log_s);
    }
    if (isnan(shifted_sum)) {
        loss = NAN;
    }

    /* 4. The gradient: softmax minus the smoothed one-hot target. */
    if (dz != NULL) {
        REAL a = scale / s, b = scale * eps / (REAL)C;
        if (isnan(shifted_sum)) {
            a = NAN;
        }
#ifdef _OPENMP
#pragma omp simd
#endif
        for (int64_t c = 0; c < C; c++) {
            dz[c] = dz[c] * a - b;
        }
        dz[t] -= scale * (1 - eps);
    }
    return loss;
}
