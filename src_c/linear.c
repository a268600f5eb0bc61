/*
 * linear.c - the fully connected layer, forward and backward, for float and
 * double. Every product is the core's blocked GEMM (gemm_impl.h) reading
 * transposed operands through strides; linear_impl.h holds the algorithm,
 * this file the size checks and the split of an output among threads.
 */
#include "internal.h"

int cnnc_linear_check(int64_t N, int64_t C, int64_t K)
{
    int64_t tmp;

    if (N < 1 || C < 1 || K < 1) {
        return CNNC_ERR_SHAPE;
    }

    /* Bytes of x, w and y, and the multiply-adds N*C*K, within int64. */
    if (!cnnc_mul_ok(N, C, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp) ||
        !cnnc_mul_ok(K, C, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp) ||
        !cnnc_mul_ok(N, K, &tmp) || !cnnc_mul_ok(tmp, 8, &tmp) ||
        !cnnc_mul_ok(N * K, C, &tmp)) {
        return CNNC_ERR_OVERFLOW;
    }
    return CNNC_OK;
}

/*
 * How an M x Nc output is cut among `threads` threads: into `blocks`
 * bands of whole register tiles, `step` rows or columns each, along rows
 * when by_rows is set. Each thread packs the whole operand on the other
 * side, so the cut goes across the wider side of the output, where the
 * duplicated packing is the smaller operand; a band holds at least one
 * tile.
 */
typedef struct {
    int by_rows;
    int64_t step;
    int blocks;
} linear_split;

static linear_split linear_plan(int64_t M, int64_t Nc, int64_t nr,
                                int threads)
{
    linear_split s;
    int64_t mr = CNNC_GEMM_MR;
    int64_t extent, tile, tiles;

    s.by_rows = M > Nc;
    extent = s.by_rows ? M : Nc;
    tile = s.by_rows ? mr : nr;
    tiles = (extent + tile - 1) / tile;
    s.blocks = tiles < threads ? (int)tiles : threads;
    if (s.blocks < 1) {
        s.blocks = 1;
    }
    s.step = (tiles + s.blocks - 1) / s.blocks * tile;
    return s;
}

#define REAL float
#define FN(name) name##_f32
#define NR CNNC_GEMM_NR_F32
#include "linear_impl.h"
#undef REAL
#undef FN
#undef NR

#define REAL double
#define FN(name) name##_f64
#define NR CNNC_GEMM_NR_F64
#include "linear_impl.h"
#undef REAL
#undef FN
#undef NR
