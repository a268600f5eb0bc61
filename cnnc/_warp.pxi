# Affine warp wrappers (included by _core.pyx).

WARP_MODES = {"bilinear": CNNC_WARP_BILINEAR, "nearest": CNNC_WARP_NEAREST}


def warp_affine(const real[:, :, :, ::1] x, const double[:, ::1] theta,
                real[:, :, :, ::1] y, int mode, double fill):
    """y = x warped by theta (N x 6), sampled by mode (a WARP_MODES value)."""
    cdef cnnc_warp_geom g
    g.N, g.C, g.H, g.W = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    g.P, g.Q = y.shape[2], y.shape[3]
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_warp_affine_f32(&g, &x[0, 0, 0, 0], &theta[0, 0],
                                          mode, <float>fill, &y[0, 0, 0, 0])
        else:
            status = cnnc_warp_affine_f64(&g, &x[0, 0, 0, 0], &theta[0, 0],
                                          mode, fill, &y[0, 0, 0, 0])
    check(status, "warp_affine")
