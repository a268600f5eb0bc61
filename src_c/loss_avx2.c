/*
 * loss_avx2.c - the cross-entropy row kernel compiled for x86-64 with AVX2
 * and FMA.
 *
 * Contract (the same as the baseline build in loss.c, which is the
 * specification):
 * - Vector width: the compiler vectorises loss_row_impl.h's loops 8 floats
 *   wide, with e^x from loss_exp.h in FMA form; no intrinsics.
 * - Alignment: none assumed; rows start wherever row n * C falls.
 * - Tail: the compiler's own scalar epilogue handles C % 8 logits.
 * - Buffers: z is only read; dz is written (it holds e^(z - m) between two
 *   passes), nothing past z[C - 1] or dz[C - 1] is touched.
 * Only this function carries the AVX2 attribute, and the dispatcher calls
 * it only on a CPU that has the instructions.
 */
#include "internal.h"
#include "loss_exp.h"

#if CNNC_HAVE_AVX2_PATH

#define REAL float
#define ROW_NAME cnnc_ce_row_avx2_f32
#define ROW_ATTR CNNC_TARGET_AVX2
#define ROW_EXP(x) cnnc_exp_nonpos_f32(x)
#include "loss_row_impl.h"
#undef REAL
#undef ROW_NAME
#undef ROW_ATTR
#undef ROW_EXP

#endif /* CNNC_HAVE_AVX2_PATH */
