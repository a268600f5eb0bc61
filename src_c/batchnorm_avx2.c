/*
 * batchnorm_avx2.c - the batch normalization kernels of batchnorm_impl.h
 * compiled for x86-64 with AVX2 and FMA.
 *
 * Contract: no intrinsics. The code is the baseline's, vectorised by the
 * compiler 8 floats or 4 doubles wide (the partial sums of a reduction
 * are four registers); loads and stores are unaligned; tails run in the
 * same scalar loops as the baseline's, and no buffer is read or written
 * beyond what the baseline touches. Results differ from the baseline's
 * only by rounding (fused multiply-adds, another order of partial sums).
 * The memory-bound loops gain from the wider vectors because the second
 * pass over each run, which runs from L1, is then half as long.
 * Only these functions carry the AVX2 attribute, and the dispatcher uses
 * them only on a CPU that has the instructions.
 */
#include "batchnorm.h"

#if CNNC_HAVE_AVX2_PATH

#define TARGET CNNC_TARGET_AVX2
#define REAL float
#define FN(name) name##_avx2_f32
#include "batchnorm_impl.h"
#undef REAL
#undef FN

#define REAL double
#define FN(name) name##_avx2_f64
#include "batchnorm_impl.h"
#undef REAL
#undef FN
#undef TARGET

const struct cnnc_bn_table cnnc_bn_avx2 = {
    bn_train_avx2_f32, bn_train_avx2_f64, bn_eval_avx2_f32,
    bn_eval_avx2_f64,  bn_backward_avx2_f32, bn_backward_avx2_f64,
};

#endif /* CNNC_HAVE_AVX2_PATH */
