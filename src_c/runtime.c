/*
 * runtime.c - status text, workspace allocation, threads and the choice of
 * SIMD path.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *cnnc_status_string(int status)
{
    switch (status) {
    case CNNC_OK:
        return "success";
    case CNNC_ERR_SHAPE:
        return "a size is zero, negative or inconsistent";
    case CNNC_ERR_OVERFLOW:
        return "a product of sizes overflows a 64-bit integer";
    case CNNC_ERR_NOMEM:
        return "out of memory for the kernel's workspace";
    case CNNC_ERR_ARG:
        return "an argument is out of its domain";
    case CNNC_ERR_UNSUPPORTED:
        return "not supported by this CPU or build";
    default:
        return "unknown status code";
    }
}

/* ---------------------------------------------------------------------- */
/* Memory                                                                  */
/* ---------------------------------------------------------------------- */

void *cnnc_alloc(size_t n)
{
    void *p = NULL;

    if (n == 0) {
        return NULL;
    }
    /* Round up so aligned_alloc's size rule (a multiple of the alignment)
     * holds on every libc. */
    n = (n + 63) & ~(size_t)63;
    p = aligned_alloc(64, n);
    return p;
}

void cnnc_free(void *p)
{
    free(p);
}

/* ---------------------------------------------------------------------- */
/* Threads                                                                 */
/* ---------------------------------------------------------------------- */

int cnnc_get_num_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int cnnc_set_num_threads(int n)
{
    if (n < 1) {
        return CNNC_ERR_ARG;
    }
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
    return CNNC_OK;
}

int cnnc_has_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

/* ---------------------------------------------------------------------- */
/* SIMD dispatch                                                           */
/* ---------------------------------------------------------------------- */

/* Every field is named, so families can add theirs in any order. */
static const cnnc_simd_table scalar_table = {
    .name = "scalar",
    .gemm_f32 = cnnc_ukernel_scalar_f32,
    .gemm_f64 = cnnc_ukernel_scalar_f64,
    .direct_f32 = cnnc_ukernel_direct_scalar_f32,
    .direct_f64 = cnnc_ukernel_direct_scalar_f64,
    .wgrad_f32 = cnnc_ukernel_wgrad_scalar_f32,
    .wgrad_f64 = cnnc_ukernel_wgrad_scalar_f64,
    .cross_entropy_row_f32 = cnnc_ce_row_scalar_f32,
    .batchnorm = &cnnc_bn_scalar,
    .act_span_f32 = cnnc_act_span_scalar_f32,
    .maxpool_k2s2_f32 = cnnc_maxpool_k2s2_scalar_f32,
    .maxpool_k3s2_f32 = cnnc_maxpool_k3s2_scalar_f32,
    .maxpool_k2s2_f64 = cnnc_maxpool_k2s2_scalar_f64,
    .maxpool_k3s2_f64 = cnnc_maxpool_k3s2_scalar_f64,
};

#if CNNC_HAVE_AVX2_PATH
static const cnnc_simd_table avx2_table = {
    .name = "avx2+fma",
    .gemm_f32 = cnnc_ukernel_avx2_f32,
    .gemm_f64 = cnnc_ukernel_avx2_f64,
    .direct_f32 = cnnc_ukernel_direct_avx2_f32,
    .direct_f64 = cnnc_ukernel_direct_avx2_f64,
    .wgrad_f32 = cnnc_ukernel_wgrad_avx2_f32,
    .wgrad_f64 = cnnc_ukernel_wgrad_avx2_f64,
    .cross_entropy_row_f32 = cnnc_ce_row_avx2_f32,
    .batchnorm = &cnnc_bn_avx2,
    .act_span_f32 = cnnc_act_span_avx2_f32,
    .maxpool_k2s2_f32 = cnnc_maxpool_k2s2_avx2_f32,
    .maxpool_k3s2_f32 = cnnc_maxpool_k3s2_avx2_f32,
    /* double stays on the portable code */
    .maxpool_k2s2_f64 = cnnc_maxpool_k2s2_scalar_f64,
    .maxpool_k3s2_f64 = cnnc_maxpool_k3s2_scalar_f64,
};

static int cpu_has_avx2_fma(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

/* Starts on the baseline; the Python package selects "auto" (or the
 * CNNC_SIMD variable's choice) when it is imported. */
const cnnc_simd_table *cnnc_simd = &scalar_table;

const char *cnnc_simd_path(void)
{
    return cnnc_simd->name;
}

int cnnc_select_simd(const char *name)
{
    if (name == NULL) {
        return CNNC_ERR_ARG;
    }
    if (strcmp(name, "scalar") == 0) {
        cnnc_simd = &scalar_table;
        return CNNC_OK;
    }
    if (strcmp(name, "avx2+fma") == 0 || strcmp(name, "avx2") == 0) {
#if CNNC_HAVE_AVX2_PATH
        if (cpu_has_avx2_fma()) {
            cnnc_simd = &avx2_table;
            return CNNC_OK;
        }
#endif
        return CNNC_ERR_UNSUPPORTED;
    }
    if (strcmp(name, "auto") == 0) {
#if CNNC_HAVE_AVX2_PATH
        cnnc_simd = cpu_has_avx2_fma() ? &avx2_table : &scalar_table;
#else
        cnnc_simd = &scalar_table;
#endif
        return CNNC_OK;
    }
    return CNNC_ERR_ARG;
}

const char *cnnc_compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(_MSC_VER)
    return "msvc";
#else
    return "unknown C compiler";
#endif
}
