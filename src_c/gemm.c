/*
 * gemm.c - the cache-blocked matrix product under convolution, compiled
 * from gemm_impl.h once for float and once for double.
 */
#include "internal.h"

#define REAL float
#define NR CNNC_GEMM_NR_F32
#define FN(name) name##_f32
#include "gemm_impl.h"
#undef REAL
#undef NR
#undef FN

#define REAL double
#define NR CNNC_GEMM_NR_F64
#define FN(name) name##_f64
#include "gemm_impl.h"
#undef REAL
#undef NR
#undef FN
