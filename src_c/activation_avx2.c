/*
 * activation_avx2.c - the elementwise activation spans for float,
 * compiled for x86-64 with AVX2 and FMA.
 *
 * Contract (the same as the baseline build in activation.c, which is the
 * specification; no intrinsics):
 * - Vector width: the compiler vectorises each loop of
 *   activation_span_impl.h 8 floats wide; e^x, e^x - 1 and tanh are
 *   activation.h's polynomials, with FMA where a product meets a sum, so
 *   results may differ from the baseline's in the last bit.
 * - Alignment: none assumed; spans start wherever the caller's chunk does.
 * - Tail: the compiler's own scalar epilogue handles n % 8 elements.
 * - Buffers: a and b are only read, b only by the operations that use it
 *   (never for the forward ones, where it may be NULL); y[0..n) is
 *   written and nothing past it is touched.
 * Only this function carries the AVX2 attribute (the helpers it inlines
 * take it from here), and the dispatcher calls it only on a CPU with the
 * instructions. Measured on (32, 64, 32, 32) floats, one thread, output
 * in cache: ReLU forward and backward 1.1-1.2x the baseline's speed (they
 * are bound by memory), softmax 2.5x, sigmoid, tanh and ELU 3x.
 */
#include "activation.h"
#include "internal.h"

#if CNNC_HAVE_AVX2_PATH

#define REAL float
#define SPAN_NAME cnnc_act_span_avx2_f32
#define SPAN_ATTR CNNC_TARGET_AVX2
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

#endif /* CNNC_HAVE_AVX2_PATH */
