# 2-D pooling wrappers (included by _core.pyx).

cdef cnnc_pool2d_geom pool2d_geom(Py_ssize_t *xs, Py_ssize_t *ys,
                                  tuple kernel, tuple stride, tuple padding,
                                  tuple dilation, bint ceil_mode):
    cdef cnnc_pool2d_geom g
    g.N, g.C, g.H, g.W = xs[0], xs[1], xs[2], xs[3]
    g.P, g.Q = ys[2], ys[3]
    g.R, g.S = kernel
    g.stride_h, g.stride_w = stride
    g.pad_h, g.pad_w = padding
    g.dil_h, g.dil_w = dilation
    g.ceil_mode = ceil_mode
    return g


def maxpool2d_forward(const real[:, :, :, ::1] x, real[:, :, :, ::1] y,
                      int64_t[:, :, :, ::1] idx, tuple kernel, tuple stride,
                      tuple padding, tuple dilation, bint ceil_mode):
    """y = max over each window of x, argmax into idx (which may be None)."""
    cdef cnnc_pool2d_geom g = pool2d_geom(x.shape, y.shape, kernel, stride,
                                          padding, dilation, ceil_mode)
    cdef int64_t *ip = NULL if idx is None else &idx[0, 0, 0, 0]
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_maxpool2d_forward_f32(&g, &x[0, 0, 0, 0],
                                                &y[0, 0, 0, 0], ip)
        else:
            status = cnnc_maxpool2d_forward_f64(&g, &x[0, 0, 0, 0],
                                                &y[0, 0, 0, 0], ip)
    check(status, "max_pool2d forward")


def maxpool2d_backward(const real[:, :, :, ::1] dy,
                       const int64_t[:, :, :, ::1] idx,
                       real[:, :, :, ::1] dx):
    """dx = dy routed to the recorded argmax of each window."""
    cdef cnnc_pool2d_geom g = pool2d_geom(dx.shape, dy.shape, (1, 1), (1, 1),
                                          (0, 0), (1, 1), False)
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_maxpool2d_backward_f32(&g, &dy[0, 0, 0, 0],
                                                 &idx[0, 0, 0, 0],
                                                 &dx[0, 0, 0, 0])
        else:
            status = cnnc_maxpool2d_backward_f64(&g, &dy[0, 0, 0, 0],
                                                 &idx[0, 0, 0, 0],
                                                 &dx[0, 0, 0, 0])
    check(status, "max_pool2d backward")


def avgpool2d_forward(const real[:, :, :, ::1] x, real[:, :, :, ::1] y,
                      tuple kernel, tuple stride, tuple padding,
                      bint ceil_mode, bint count_include_pad):
    """y = mean over each window of x."""
    cdef cnnc_pool2d_geom g = pool2d_geom(x.shape, y.shape, kernel, stride,
                                          padding, (1, 1), ceil_mode)
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_avgpool2d_forward_f32(&g, count_include_pad,
                                                &x[0, 0, 0, 0],
                                                &y[0, 0, 0, 0])
        else:
            status = cnnc_avgpool2d_forward_f64(&g, count_include_pad,
                                                &x[0, 0, 0, 0],
                                                &y[0, 0, 0, 0])
    check(status, "avg_pool2d forward")


def avgpool2d_backward(const real[:, :, :, ::1] dy, real[:, :, :, ::1] dx,
                       tuple kernel, tuple stride, tuple padding,
                       bint ceil_mode, bint count_include_pad):
    """dx = each window's share of dy, summed over windows."""
    cdef cnnc_pool2d_geom g = pool2d_geom(dx.shape, dy.shape, kernel, stride,
                                          padding, (1, 1), ceil_mode)
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_avgpool2d_backward_f32(&g, count_include_pad,
                                                 &dy[0, 0, 0, 0],
                                                 &dx[0, 0, 0, 0])
        else:
            status = cnnc_avgpool2d_backward_f64(&g, count_include_pad,
                                                 &dy[0, 0, 0, 0],
                                                 &dx[0, 0, 0, 0])
    check(status, "avg_pool2d backward")


def adaptive_avgpool2d_forward(const real[:, :, :, ::1] x,
                               real[:, :, :, ::1] y):
    """y = mean over each adaptive window of x."""
    cdef cnnc_pool2d_geom g = pool2d_geom(x.shape, y.shape, (1, 1), (1, 1),
                                          (0, 0), (1, 1), False)
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_adaptive_avgpool2d_forward_f32(&g, &x[0, 0, 0, 0],
                                                         &y[0, 0, 0, 0])
        else:
            status = cnnc_adaptive_avgpool2d_forward_f64(&g, &x[0, 0, 0, 0],
                                                         &y[0, 0, 0, 0])
    check(status, "adaptive_avg_pool2d forward")


def adaptive_avgpool2d_backward(const real[:, :, :, ::1] dy,
                                real[:, :, :, ::1] dx):
    """dx = each adaptive window's share of dy, summed over windows."""
    cdef cnnc_pool2d_geom g = pool2d_geom(dx.shape, dy.shape, (1, 1), (1, 1),
                                          (0, 0), (1, 1), False)
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_adaptive_avgpool2d_backward_f32(&g,
                                                          &dy[0, 0, 0, 0],
                                                          &dx[0, 0, 0, 0])
        else:
            status = cnnc_adaptive_avgpool2d_backward_f64(&g,
                                                          &dy[0, 0, 0, 0],
                                                          &dx[0, 0, 0, 0])
    check(status, "adaptive_avg_pool2d backward")
