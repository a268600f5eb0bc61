# 2-D convolution wrappers (included by _core.pyx).

cdef cnnc_conv2d_geom conv2d_geom(Py_ssize_t *xs, Py_ssize_t *ws,
                                  Py_ssize_t *ys, tuple stride,
                                  tuple padding, tuple dilation,
                                  int64_t groups):
    cdef cnnc_conv2d_geom g
    g.N, g.C, g.H, g.W = xs[0], xs[1], xs[2], xs[3]
    g.K, g.R, g.S = ws[0], ws[2], ws[3]
    g.P, g.Q = ys[2], ys[3]
    g.stride_h, g.stride_w = stride
    g.pad_h, g.pad_w = padding
    g.dil_h, g.dil_w = dilation
    g.G = groups
    return g


def conv2d_forward(const real[:, :, :, ::1] x, const real[:, :, :, ::1] w,
                   const real[::1] b, real[:, :, :, ::1] y,
                   tuple stride, tuple padding, tuple dilation, int64_t groups):
    """y = conv2d(x, w) + b, written into y; b may be None."""
    cdef cnnc_conv2d_geom g = conv2d_geom(
        x.shape, w.shape, y.shape, stride, padding, dilation,
        groups)
    cdef const real *bp = NULL
    cdef int status
    if b is not None:
        bp = &b[0]
    with nogil:
        if real is float:
            status = cnnc_conv2d_forward_f32(&g, &x[0, 0, 0, 0],
                                             &w[0, 0, 0, 0], bp,
                                             &y[0, 0, 0, 0])
        else:
            status = cnnc_conv2d_forward_f64(&g, &x[0, 0, 0, 0],
                                             &w[0, 0, 0, 0], bp,
                                             &y[0, 0, 0, 0])
    check(status, "conv2d forward")


def conv2d_backward(const real[:, :, :, ::1] dy, const real[:, :, :, ::1] x,
                    const real[:, :, :, ::1] w, real[:, :, :, ::1] dx,
                    real[:, :, :, ::1] dw, real[::1] db,
                    tuple stride, tuple padding, tuple dilation,
                    int64_t groups):
    """Gradients into dx, dw and db; any of them may be None to skip it."""
    cdef cnnc_conv2d_geom g = conv2d_geom(
        x.shape, w.shape, dy.shape, stride, padding, dilation,
        groups)
    cdef real *dxp = NULL if dx is None else &dx[0, 0, 0, 0]
    cdef real *dwp = NULL if dw is None else &dw[0, 0, 0, 0]
    cdef real *dbp = NULL if db is None else &db[0]
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_conv2d_backward_f32(&g, &dy[0, 0, 0, 0],
                                              &x[0, 0, 0, 0],
                                              &w[0, 0, 0, 0], dxp, dwp, dbp)
        else:
            status = cnnc_conv2d_backward_f64(&g, &dy[0, 0, 0, 0],
                                              &x[0, 0, 0, 0],
                                              &w[0, 0, 0, 0], dxp, dwp, dbp)
    check(status, "conv2d backward")
