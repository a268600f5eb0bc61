# Loss wrappers (included by _core.pyx). Each computes the loss into
# `loss` and the gradient into `grad`, either of which may be None to skip
# it; `dloss` (None for 1) is the gradient arriving at the loss.

REDUCTIONS = {
    "none": CNNC_REDUCTION_NONE,
    "mean": CNNC_REDUCTION_MEAN,
    "sum": CNNC_REDUCTION_SUM,
}


def cross_entropy(const real[:, ::1] z, const int64_t[::1] target,
                  double label_smoothing, int reduction, real[::1] loss,
                  const real[::1] dloss, real[:, ::1] grad):
    """Cross-entropy of logits z (N, C) and its gradient."""
    cdef int64_t N = z.shape[0], C = z.shape[1]
    cdef real *lp = NULL if loss is None else &loss[0]
    cdef const real *dlp = NULL
    if dloss is not None:
        dlp = &dloss[0]
    cdef real *gp = NULL if grad is None else &grad[0, 0]
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_cross_entropy_f32(N, C, &z[0, 0], &target[0],
                                            label_smoothing, reduction, lp,
                                            dlp, gp)
        else:
            status = cnnc_cross_entropy_f64(N, C, &z[0, 0], &target[0],
                                            label_smoothing, reduction, lp,
                                            dlp, gp)
    check(status, "cross_entropy")


def nll_loss(const real[:, ::1] logp, const int64_t[::1] target,
             int reduction, real[::1] loss, const real[::1] dloss,
             real[:, ::1] grad):
    """Negative log-likelihood of log-probabilities (N, C) and its gradient."""
    cdef int64_t N = logp.shape[0], C = logp.shape[1]
    cdef real *lp = NULL if loss is None else &loss[0]
    cdef const real *dlp = NULL
    if dloss is not None:
        dlp = &dloss[0]
    cdef real *gp = NULL if grad is None else &grad[0, 0]
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_nll_loss_f32(N, C, &logp[0, 0], &target[0],
                                       reduction, lp, dlp, gp)
        else:
            status = cnnc_nll_loss_f64(N, C, &logp[0, 0], &target[0],
                                       reduction, lp, dlp, gp)
    check(status, "nll_loss")


def mse_loss(const real[::1] pred, const real[::1] target, int reduction,
             real[::1] loss, const real[::1] dloss, real[::1] grad):
    """Squared error of flattened pred and target, and its gradient."""
    cdef int64_t count = pred.shape[0]
    cdef real *lp = NULL if loss is None else &loss[0]
    cdef const real *dlp = NULL
    if dloss is not None:
        dlp = &dloss[0]
    cdef real *gp = NULL if grad is None else &grad[0]
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_mse_loss_f32(count, &pred[0], &target[0],
                                       reduction, lp, dlp, gp)
        else:
            status = cnnc_mse_loss_f64(count, &pred[0], &target[0],
                                       reduction, lp, dlp, gp)
    check(status, "mse_loss")


def l1_loss(const real[::1] pred, const real[::1] target, int reduction,
            real[::1] loss, const real[::1] dloss, real[::1] grad):
    """Absolute error of flattened pred and target, and its gradient."""
    cdef int64_t count = pred.shape[0]
    cdef real *lp = NULL if loss is None else &loss[0]
    cdef const real *dlp = NULL
    if dloss is not None:
        dlp = &dloss[0]
    cdef real *gp = NULL if grad is None else &grad[0]
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_l1_loss_f32(count, &pred[0], &target[0], reduction,
                                      lp, dlp, gp)
        else:
            status = cnnc_l1_loss_f64(count, &pred[0], &target[0], reduction,
                                      lp, dlp, gp)
    check(status, "l1_loss")
