# Dropout wrapper (included by _core.pyx): applies a mask the caller drew.

def dropout_apply(const real[::1] x, const unsigned char[::1] mask,
                  int64_t inner, double scale, real[::1] y):
    """y = x * mask * scale, one mask byte (0 or 1) per `inner` elements.

    x and y are flat arrays of mask.shape[0] * inner elements.
    """
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_dropout_apply_f32(mask.shape[0], inner, &x[0],
                                            &mask[0], scale, &y[0])
        else:
            status = cnnc_dropout_apply_f64(mask.shape[0], inner, &x[0],
                                            &mask[0], scale, &y[0])
    check(status, "dropout")
