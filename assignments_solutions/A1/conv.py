"""Assignment A1: the convolution layer. INSTRUCTOR SOLUTION: do not share.

You write the lecture's convolution in plain NumPy: the size of its
output, the forward pass (a window sliding over the image, multiplying
and summing), and the backward pass that sends the gradient of the loss
to the input, the weights and the bias.

Fill in each region between::

    # ---- YOUR CODE HERE ----
    # ---- END OF YOUR CODE ----

and keep the names and arguments of the functions: the grader calls them.
Check your work from this folder with ``cnnc grade A1 .``; it draws new
random inputs every time and compares your results with cnnc's own.

Notation (the lecture's in brackets):

    N       images in the batch
    C       input channels                      (N_I)
    H x W   input height and width              (h x w of F_I)
    K       output channels, one per filter     (N_O)
    R x S   filter height and width
    P x Q   output height and width             (H' x W')

Arrays are laid out as in cnnc and PyTorch: ``x`` is (N, C, H, W) and the
filters ``w`` are (K, C, R, S), so ``w[k, c]`` is the lecture's
``K(:, :, c, k)``. Every input is float64; compute in float64.

Rules: NumPy only. Importing cnnc, torch, scipy or another library that
would compute a convolution for you is refused by the grader.
"""
import numpy as np


def conv_output_size(in_size, kernel_size, stride=1, padding=0):
    """The length of a convolution's output along one dimension.

    The input is padded with ``padding`` zeros on both sides; a window of
    ``kernel_size`` pixels starts at the first padded pixel and moves
    ``stride`` pixels at a time; there is one output value for each
    position where the whole window fits::

        out = floor((in_size + 2 * padding - kernel_size) / stride) + 1

    Parameters
    ----------
    in_size : int
        H (or W), at least 1.
    kernel_size : int
        R (or S), at most ``in_size + 2 * padding``.
    stride : int
        At least 1.
    padding : int
        At least 0.

    Returns
    -------
    int
        P (or Q).

    Examples
    --------
    The lecture's layer: a 3x3 filter with one pixel of padding keeps a
    56x56 map at stride 1 and halves it at stride 2.

    >>> conv_output_size(56, 3, stride=1, padding=1)
    56
    >>> conv_output_size(56, 3, stride=2, padding=1)
    28
    """
    # ---- YOUR CODE HERE ----
    return (in_size + 2 * padding - kernel_size) // stride + 1
    # ---- END OF YOUR CODE ----


def conv2d_forward(x, w, b, stride=1, padding=0):
    """The forward pass of a convolution layer, with loops.

    The lecture writes one output channel j as the sum over the input
    channels i of the input correlated with the filter, plus a bias::

        F_O[:, :, j] = sum_i F_I[:, :, i] * K[:, :, i, j] + b_j

    With ``x_pad`` the input padded with ``padding`` zeros on each side of
    H and W, every output value is::

        out[n, k, p, q] = b[k] + sum over c, r, s of
                          w[k, c, r, s] * x_pad[n, c, p*stride + r, q*stride + s]

    The filter is not flipped (this is a cross-correlation, as in the
    lecture, cnnc and PyTorch).

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        The input feature maps.
    w : ndarray of shape (K, C, R, S)
        The filters.
    b : ndarray of shape (K,)
        One bias per output channel.
    stride : int
        Step of the window, the same along H and W.
    padding : int
        Zeros added on each side of H and W.

    Returns
    -------
    out : ndarray of shape (N, K, P, Q)
        P and Q as given by :func:`conv_output_size`.

    Notes
    -----
    Loops over the output positions (p, q) are fine; inside them, NumPy
    can do the sum over c, r and s for all images and filters at once
    (``np.tensordot`` or ``np.einsum``), or you can loop further. The
    grader uses small inputs.
    """
    # ---- YOUR CODE HERE ----
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    P = conv_output_size(H, R, stride, padding)
    Q = conv_output_size(W, S, stride, padding)
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((N, K, P, Q))
    for p in range(P):
        for q in range(Q):
            top, left = p * stride, q * stride
            window = x_pad[:, :, top:top + R, left:left + S]   # (N, C, R, S)
            # Sum over c, r, s for every image n and filter k at once.
            out[:, :, p, q] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    out += b.reshape(1, K, 1, 1)
    return out
    # ---- END OF YOUR CODE ----


def conv2d_backward(dout, x, w, stride=1, padding=0):
    """The backward pass of :func:`conv2d_forward`.

    Given ``dout = dL/dout`` for some loss L, return the gradients of L
    with respect to the input, the filters and the bias. Each output value
    was a sum of products ``w[k, c, r, s] * x_pad[n, c, p*stride + r,
    q*stride + s]`` plus ``b[k]``, so its gradient ``dout[n, k, p, q]``
    flows back along every product (the chain rule)::

        db[k]          = sum over n, p, q of dout[n, k, p, q]
        dw[k, c, r, s] = sum over n, p, q of
                         dout[n, k, p, q] * x_pad[n, c, p*stride + r, q*stride + s]
        dx_pad[n, c, p*stride + r, q*stride + s] += dout[n, k, p, q] * w[k, c, r, s]
                         (for every n, k, p, q, c, r, s)

    and ``dx`` is ``dx_pad`` without its padding: the gradient that lands
    on the padded zeros goes nowhere.

    Parameters
    ----------
    dout : ndarray of shape (N, K, P, Q)
        Gradient of the loss with respect to the output.
    x : ndarray of shape (N, C, H, W)
        The input of the forward pass.
    w : ndarray of shape (K, C, R, S)
        The filters of the forward pass.
    stride, padding : int
        As in the forward pass.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    dw : ndarray of shape (K, C, R, S)
    db : ndarray of shape (K,)
    """
    N, C, H, W = x.shape
    K, _, R, S = w.shape
    _, _, P, Q = dout.shape

    # 1. The bias: b[k] was added once to every output value of channel k.
    # ---- YOUR CODE HERE ----
    db = dout.sum(axis=(0, 2, 3))
    # ---- END OF YOUR CODE ----

    # 2. The filters: w[k, c, r, s] multiplied one input pixel at every
    #    output position of every image.
    # ---- YOUR CODE HERE ----
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dw = np.zeros_like(w)
    for p in range(P):
        for q in range(Q):
            top, left = p * stride, q * stride
            window = x_pad[:, :, top:top + R, left:left + S]   # (N, C, R, S)
            # dout[:, :, p, q] is (N, K): sum over the images n.
            dw += np.tensordot(dout[:, :, p, q], window, axes=([0], [0]))
    # ---- END OF YOUR CODE ----

    # 3. The input: every input pixel was read by each window that covered
    #    it; add up what each window sends back, then drop the padding.
    # ---- YOUR CODE HERE ----
    dx_pad = np.zeros_like(x_pad)
    for p in range(P):
        for q in range(Q):
            top, left = p * stride, q * stride
            # (N, K) times (K, C, R, S): what this window sends back.
            dx_pad[:, :, top:top + R, left:left + S] += np.tensordot(
                dout[:, :, p, q], w, axes=([1], [0]))
    dx = dx_pad[:, :, padding:padding + H, padding:padding + W]
    # ---- END OF YOUR CODE ----

    return dx, dw, db
