# Batch normalization wrappers (included by _core.pyx). x is seen as
# (N, C, L); cnnc.functional reshapes (N, C), (N, C, L) and (N, C, H, W).
# Optional arrays arrive as None and go to C as NULL.

cdef cnnc_batchnorm_geom batchnorm_geom(Py_ssize_t *xs, double eps):
    cdef cnnc_batchnorm_geom g
    g.N, g.C, g.L = xs[0], xs[1], xs[2]
    g.eps = eps
    return g


def batchnorm_forward_train(const real[:, :, ::1] x, const real[::1] weight,
                            const real[::1] bias, real[::1] running_mean,
                            real[::1] running_var, real[:, :, ::1] y,
                            double[::1] save_mean, double[::1] save_invstd,
                            double momentum, double eps):
    """Training forward into y, save_mean and save_invstd; updates the
    running statistics in place unless they are None."""
    cdef cnnc_batchnorm_geom g = batchnorm_geom(x.shape, eps)
    cdef const real *wp = NULL
    cdef const real *bp = NULL
    cdef real *rmp = NULL
    cdef real *rvp = NULL
    cdef int status
    if weight is not None:
        wp = &weight[0]
    if bias is not None:
        bp = &bias[0]
    if running_mean is not None:
        rmp = &running_mean[0]
    if running_var is not None:
        rvp = &running_var[0]
    with nogil:
        if real is float:
            status = cnnc_batchnorm_forward_train_f32(
                &g, &x[0, 0, 0], wp, bp, momentum, rmp, rvp, &y[0, 0, 0],
                &save_mean[0], &save_invstd[0])
        else:
            status = cnnc_batchnorm_forward_train_f64(
                &g, &x[0, 0, 0], wp, bp, momentum, rmp, rvp, &y[0, 0, 0],
                &save_mean[0], &save_invstd[0])
    check(status, "batch_norm forward (training)")


def batchnorm_forward_eval(const real[:, :, ::1] x, const real[::1] weight,
                           const real[::1] bias,
                           const real[::1] running_mean,
                           const real[::1] running_var, real[:, :, ::1] y,
                           double[::1] save_mean, double[::1] save_invstd,
                           double eps):
    """Evaluation forward into y with the running statistics; the
    statistics used go to save_mean and save_invstd."""
    cdef cnnc_batchnorm_geom g = batchnorm_geom(x.shape, eps)
    cdef const real *wp = NULL
    cdef const real *bp = NULL
    cdef int status
    if weight is not None:
        wp = &weight[0]
    if bias is not None:
        bp = &bias[0]
    with nogil:
        if real is float:
            status = cnnc_batchnorm_forward_eval_f32(
                &g, &x[0, 0, 0], wp, bp, &running_mean[0], &running_var[0],
                &y[0, 0, 0], &save_mean[0], &save_invstd[0])
        else:
            status = cnnc_batchnorm_forward_eval_f64(
                &g, &x[0, 0, 0], wp, bp, &running_mean[0], &running_var[0],
                &y[0, 0, 0], &save_mean[0], &save_invstd[0])
    check(status, "batch_norm forward (evaluation)")


def batchnorm_backward(const real[:, :, ::1] dy, const real[:, :, ::1] x,
                       const real[::1] weight, const double[::1] save_mean,
                       const double[::1] save_invstd, bint batch_stats,
                       real[:, :, ::1] dx, real[::1] dweight,
                       real[::1] dbias):
    """Gradients into dx, dweight and dbias; any may be None to skip it."""
    # eps is not needed: it is inside save_invstd.
    cdef cnnc_batchnorm_geom g = batchnorm_geom(x.shape, 1.0)
    cdef const real *wp = NULL
    cdef real *dxp = NULL
    cdef real *dwp = NULL
    cdef real *dbp = NULL
    cdef int status
    if weight is not None:
        wp = &weight[0]
    if dx is not None:
        dxp = &dx[0, 0, 0]
    if dweight is not None:
        dwp = &dweight[0]
    if dbias is not None:
        dbp = &dbias[0]
    with nogil:
        if real is float:
            status = cnnc_batchnorm_backward_f32(
                &g, &dy[0, 0, 0], &x[0, 0, 0], wp, &save_mean[0],
                &save_invstd[0], batch_stats, dxp, dwp, dbp)
        else:
            status = cnnc_batchnorm_backward_f64(
                &g, &dy[0, 0, 0], &x[0, 0, 0], wp, &save_mean[0],
                &save_invstd[0], batch_stats, dxp, dwp, dbp)
    check(status, "batch_norm backward")
