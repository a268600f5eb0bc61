# Activation wrappers (included by _core.pyx). Elementwise kernels take
# flat arrays of any original shape; the softmaxes take (outer, C, inner)
# views and normalise along the middle axis. Backward wrappers take the
# forward's input x or output y, as the C kernel documents.

def relu_forward(const real[::1] x, real[::1] y):
    """y = max(x, 0), elementwise."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_relu_forward_f32(x.shape[0], &x[0], &y[0])
        else:
            status = cnnc_relu_forward_f64(x.shape[0], &x[0], &y[0])
    check(status, "relu forward")


def relu_backward(const real[::1] dy, const real[::1] a, real[::1] dx):
    """dx = dy where a > 0; a is the forward's input or output."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_relu_backward_f32(dy.shape[0], &dy[0], &a[0],
                                            &dx[0])
        else:
            status = cnnc_relu_backward_f64(dy.shape[0], &dy[0], &a[0],
                                            &dx[0])
    check(status, "relu backward")


def leaky_relu_forward(const real[::1] x, double negative_slope,
                       real[::1] y):
    """y = x for x > 0, negative_slope * x otherwise."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_leaky_relu_forward_f32(x.shape[0], &x[0],
                                                 negative_slope, &y[0])
        else:
            status = cnnc_leaky_relu_forward_f64(x.shape[0], &x[0],
                                                 negative_slope, &y[0])
    check(status, "leaky_relu forward")


def leaky_relu_backward(const real[::1] dy, const real[::1] x,
                        double negative_slope, real[::1] dx):
    """dx from dy and the forward's input x."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_leaky_relu_backward_f32(dy.shape[0], &dy[0], &x[0],
                                                  negative_slope, &dx[0])
        else:
            status = cnnc_leaky_relu_backward_f64(dy.shape[0], &dy[0], &x[0],
                                                  negative_slope, &dx[0])
    check(status, "leaky_relu backward")


def elu_forward(const real[::1] x, double alpha, real[::1] y):
    """y = x for x > 0, alpha * (exp(x) - 1) otherwise."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_elu_forward_f32(x.shape[0], &x[0], alpha, &y[0])
        else:
            status = cnnc_elu_forward_f64(x.shape[0], &x[0], alpha, &y[0])
    check(status, "elu forward")


def elu_backward(const real[::1] dy, const real[::1] x, double alpha,
                 real[::1] dx):
    """dx from dy and the forward's input x."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_elu_backward_f32(dy.shape[0], &dy[0], &x[0], alpha,
                                           &dx[0])
        else:
            status = cnnc_elu_backward_f64(dy.shape[0], &dy[0], &x[0], alpha,
                                           &dx[0])
    check(status, "elu backward")


def sigmoid_forward(const real[::1] x, real[::1] y):
    """y = 1 / (1 + exp(-x)), elementwise."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_sigmoid_forward_f32(x.shape[0], &x[0], &y[0])
        else:
            status = cnnc_sigmoid_forward_f64(x.shape[0], &x[0], &y[0])
    check(status, "sigmoid forward")


def sigmoid_backward(const real[::1] dy, const real[::1] y, real[::1] dx):
    """dx = dy * y * (1 - y), from the forward's output y."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_sigmoid_backward_f32(dy.shape[0], &dy[0], &y[0],
                                               &dx[0])
        else:
            status = cnnc_sigmoid_backward_f64(dy.shape[0], &dy[0], &y[0],
                                               &dx[0])
    check(status, "sigmoid backward")


def tanh_forward(const real[::1] x, real[::1] y):
    """y = tanh(x), elementwise."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_tanh_forward_f32(x.shape[0], &x[0], &y[0])
        else:
            status = cnnc_tanh_forward_f64(x.shape[0], &x[0], &y[0])
    check(status, "tanh forward")


def tanh_backward(const real[::1] dy, const real[::1] y, real[::1] dx):
    """dx = dy * (1 - y**2), from the forward's output y."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_tanh_backward_f32(dy.shape[0], &dy[0], &y[0],
                                            &dx[0])
        else:
            status = cnnc_tanh_backward_f64(dy.shape[0], &dy[0], &y[0],
                                            &dx[0])
    check(status, "tanh backward")


def softmax_forward(const real[:, :, ::1] x, real[:, :, ::1] y):
    """y = softmax(x) along axis 1 of (outer, C, inner)."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_softmax_forward_f32(x.shape[0], x.shape[1],
                                              x.shape[2], &x[0, 0, 0],
                                              &y[0, 0, 0])
        else:
            status = cnnc_softmax_forward_f64(x.shape[0], x.shape[1],
                                              x.shape[2], &x[0, 0, 0],
                                              &y[0, 0, 0])
    check(status, "softmax forward")


def softmax_backward(const real[:, :, ::1] dy, const real[:, :, ::1] y,
                     real[:, :, ::1] dx):
    """dx from dy and the forward's output y, (outer, C, inner)."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_softmax_backward_f32(
                dy.shape[0], dy.shape[1], dy.shape[2], &dy[0, 0, 0],
                &y[0, 0, 0], &dx[0, 0, 0])
        else:
            status = cnnc_softmax_backward_f64(
                dy.shape[0], dy.shape[1], dy.shape[2], &dy[0, 0, 0],
                &y[0, 0, 0], &dx[0, 0, 0])
    check(status, "softmax backward")


def log_softmax_forward(const real[:, :, ::1] x, real[:, :, ::1] y):
    """y = log_softmax(x) along axis 1 of (outer, C, inner)."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_log_softmax_forward_f32(x.shape[0], x.shape[1],
                                                  x.shape[2], &x[0, 0, 0],
                                                  &y[0, 0, 0])
        else:
            status = cnnc_log_softmax_forward_f64(x.shape[0], x.shape[1],
                                                  x.shape[2], &x[0, 0, 0],
                                                  &y[0, 0, 0])
    check(status, "log_softmax forward")


def log_softmax_backward(const real[:, :, ::1] dy, const real[:, :, ::1] y,
                         real[:, :, ::1] dx):
    """dx from dy and the forward's output y, (outer, C, inner)."""
    cdef int status
    with nogil:
        if real is float:
            status = cnnc_log_softmax_backward_f32(
                dy.shape[0], dy.shape[1], dy.shape[2], &dy[0, 0, 0],
                &y[0, 0, 0], &dx[0, 0, 0])
        else:
            status = cnnc_log_softmax_backward_f64(
                dy.shape[0], dy.shape[1], dy.shape[2], &dy[0, 0, 0],
                &y[0, 0, 0], &dx[0, 0, 0])
    check(status, "log_softmax backward")
