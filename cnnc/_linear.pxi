# Fully connected layer wrappers (included by _core.pyx).

def linear_forward(const real[:, ::1] x, const real[:, ::1] w,
                   const real[::1] b, real[:, ::1] y):
    """y = x w^T + b, written into y; b may be None."""
    cdef int64_t N = x.shape[0], C = x.shape[1], K = w.shape[0]
    cdef const real *bp = NULL
    if b is not None:
        bp = &b[0]
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_linear_forward_f32(N, C, K, &x[0, 0], &w[0, 0], bp,
                                             &y[0, 0])
        else:
            status = cnnc_linear_forward_f64(N, C, K, &x[0, 0], &w[0, 0], bp,
                                             &y[0, 0])
    check(status, "linear forward")


def linear_backward(const real[:, ::1] dy, const real[:, ::1] x,
                    const real[:, ::1] w, real[:, ::1] dx, real[:, ::1] dw,
                    real[::1] db):
    """Gradients into dx, dw and db; any of them may be None to skip it."""
    cdef int64_t N = x.shape[0], C = x.shape[1], K = w.shape[0]
    cdef real *dxp = NULL if dx is None else &dx[0, 0]
    cdef real *dwp = NULL if dw is None else &dw[0, 0]
    cdef real *dbp = NULL if db is None else &db[0]
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_linear_backward_f32(N, C, K, &dy[0, 0], &x[0, 0],
                                              &w[0, 0], dxp, dwp, dbp)
        else:
            status = cnnc_linear_backward_f64(N, C, K, &dy[0, 0], &x[0, 0],
                                              &w[0, 0], dxp, dwp, dbp)
    check(status, "linear backward")
