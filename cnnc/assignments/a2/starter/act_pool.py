"""Assignment A2: activations and pooling.

You write the two middle steps of the lecture's building block,
Convolution -> Activation -> Pooling -> Normalization, in plain NumPy:
the activations ReLU, leaky ReLU and sigmoid with their derivatives, max
and average pooling with their backward passes, and then an experiment:
how the gradient shrinks on its way back through a deep stack of sigmoid
layers (the lecture's vanishing gradient), and how ReLU keeps it.

Fill in each region between::

    # ---- YOUR CODE HERE ----
    # ---- END OF YOUR CODE ----

and keep the names and arguments of the functions: the grader calls them.
Check your work from this folder with ``cnnc grade A2 .``; it draws new
random inputs every time and compares your results with cnnc's own.

Every backward function receives ``dout = dL/dout``, the gradient of some
loss L with respect to the function's output, and returns ``dx = dL/dx``
(the chain rule: ``dx = dout * d out / d x`` for an elementwise function).
Every input is float64; compute in float64.

Rules: NumPy only. Importing cnnc, torch, scipy or another library that
would compute these for you is refused by the grader.
"""
import numpy as np


# -- activations ---------------------------------------------------------------

def relu_forward(x):
    """The rectified linear unit, elementwise::

        relu(x) = max(x, 0)

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    out : ndarray of the shape of x
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("relu_forward: fill in the marked region")
    # ---- END OF YOUR CODE ----


def relu_backward(dout, x):
    """The backward pass of :func:`relu_forward`.

    The derivative of ReLU is 1 where the unit is active (x > 0) and 0
    where it is not (x < 0; at the kink x = 0 take 0)::

        dx = dout * (1 if x > 0 else 0)

    Parameters
    ----------
    dout : ndarray
        dL/dout, of the shape of x.
    x : ndarray
        The input of the forward pass.

    Returns
    -------
    dx : ndarray of the shape of x
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("relu_backward: fill in the marked region")
    # ---- END OF YOUR CODE ----


def leaky_relu_forward(x, negative_slope=0.01):
    """Leaky ReLU, elementwise::

        leaky_relu(x) = x                    for x > 0
                        negative_slope * x   otherwise

    Parameters
    ----------
    x : ndarray of any shape
    negative_slope : float
        The slope for negative inputs, between 0 and 1.

    Returns
    -------
    out : ndarray of the shape of x
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("leaky_relu_forward: fill in the marked region")
    # ---- END OF YOUR CODE ----


def leaky_relu_backward(dout, x, negative_slope=0.01):
    """The backward pass of :func:`leaky_relu_forward`.

    The derivative is 1 for x > 0 and ``negative_slope`` otherwise: never
    0, so a unit with a negative input still passes some gradient back.

    Parameters
    ----------
    dout : ndarray
        dL/dout, of the shape of x.
    x : ndarray
        The input of the forward pass.
    negative_slope : float
        As in the forward pass.

    Returns
    -------
    dx : ndarray of the shape of x
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("leaky_relu_backward: fill in the marked region")
    # ---- END OF YOUR CODE ----


def sigmoid_forward(x):
    """The logistic sigmoid, elementwise::

        sigmoid(x) = 1 / (1 + e^(-x))

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    out : ndarray of the shape of x, values in (0, 1)

    Notes
    -----
    For x far below 0, ``np.exp(-x)`` overflows to inf (with a warning)
    and the formula still gives the right limit, 0. To avoid the warning,
    use ``e = np.exp(-np.abs(x))``: sigmoid(x) is ``1 / (1 + e)`` for
    x >= 0 and ``e / (1 + e)`` for x < 0.
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("sigmoid_forward: fill in the marked region")
    # ---- END OF YOUR CODE ----


def sigmoid_backward(dout, x):
    """The backward pass of :func:`sigmoid_forward`.

    The derivative of the sigmoid is written with its output
    ``s = sigmoid(x)``::

        d sigmoid(x) / dx = s * (1 - s)

    It is at most 1/4 (at x = 0) and close to 0 wherever the unit
    saturates. Note that this function receives ``x``, the input of the
    forward pass, not its output.

    Parameters
    ----------
    dout : ndarray
        dL/dout, of the shape of x.
    x : ndarray
        The input of the forward pass.

    Returns
    -------
    dx : ndarray of the shape of x
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("sigmoid_backward: fill in the marked region")
    # ---- END OF YOUR CODE ----


# -- pooling -------------------------------------------------------------------

def pool_output_size(in_size, kernel_size, stride):
    """The length of a pooling's output along one dimension (no padding)::

        out = (in_size - kernel_size) // stride + 1

    Pixels left over after the last whole window are not pooled.
    """
    return (in_size - kernel_size) // stride + 1


def max_pool_forward(x, kernel_size, stride):
    """Max pooling: the largest value of each window, channel by channel.

    A ``kernel_size`` x ``kernel_size`` window starts at the top-left
    pixel and moves ``stride`` pixels at a time along H and W::

        out[n, c, p, q] = max over r, s in [0, kernel_size) of
                          x[n, c, p*stride + r, q*stride + s]

    Windows overlap when ``stride < kernel_size``.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    kernel_size : int
        The window's height and width.
    stride : int
        The step between windows.

    Returns
    -------
    out : ndarray of shape (N, C, P, Q)
        P and Q as given by :func:`pool_output_size`.
    """
    N, C, H, W = x.shape
    P = pool_output_size(H, kernel_size, stride)
    Q = pool_output_size(W, kernel_size, stride)
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("max_pool_forward: fill in the marked region")
    # ---- END OF YOUR CODE ----


def max_pool_backward(dout, x, kernel_size, stride):
    """The backward pass of :func:`max_pool_forward`.

    Each output was one pixel of its window, the maximum; the others did
    not take part. So ``dout[n, c, p, q]`` goes back to that pixel alone
    and the rest of the window gets nothing from it. A pixel that is the
    maximum of several overlapping windows receives the sum of their
    gradients. (The inputs are drawn so that no window has two equal
    maxima.)

    Parameters
    ----------
    dout : ndarray of shape (N, C, P, Q)
        dL/dout.
    x : ndarray of shape (N, C, H, W)
        The input of the forward pass.
    kernel_size, stride : int
        As in the forward pass.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    """
    N, C, P, Q = dout.shape
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("max_pool_backward: fill in the marked region")
    # ---- END OF YOUR CODE ----


def avg_pool_forward(x, kernel_size, stride):
    """Average pooling: the mean of each window, channel by channel::

        out[n, c, p, q] = 1 / kernel_size**2 * sum over r, s of
                          x[n, c, p*stride + r, q*stride + s]

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    kernel_size, stride : int
        As in :func:`max_pool_forward`.

    Returns
    -------
    out : ndarray of shape (N, C, P, Q)
    """
    N, C, H, W = x.shape
    P = pool_output_size(H, kernel_size, stride)
    Q = pool_output_size(W, kernel_size, stride)
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("avg_pool_forward: fill in the marked region")
    # ---- END OF YOUR CODE ----


def avg_pool_backward(dout, x, kernel_size, stride):
    """The backward pass of :func:`avg_pool_forward`.

    Every pixel of a window counted ``1 / kernel_size**2`` in its mean, so
    each receives ``dout[n, c, p, q] / kernel_size**2``; a pixel in several
    overlapping windows receives the sum.

    Parameters
    ----------
    dout : ndarray of shape (N, C, P, Q)
        dL/dout.
    x : ndarray of shape (N, C, H, W)
        The input of the forward pass (only its shape is needed).
    kernel_size, stride : int
        As in the forward pass.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    """
    N, C, P, Q = dout.shape
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("avg_pool_backward: fill in the marked region")
    # ---- END OF YOUR CODE ----


# -- the experiment: gradients through a deep stack ----------------------------

def stack_gradient_norms(x, weights, dout, activation="sigmoid"):
    """How large the gradient of each layer's weights is in a deep stack.

    The stack has L fully connected layers, each followed by the
    activation f (no biases)::

        h_0 = x
        z_l = h_(l-1) @ W_l          W_l = weights[l - 1], for l = 1 ... L
        h_l = f(z_l)

    and the loss L = sum(dout * h_L), so that ``dL/dh_L = dout``.
    Backpropagation walks from the last layer to the first::

        dz_l     = dL/dh_l * f'(z_l)        (your activation's backward)
        dW_l     = h_(l-1).T @ dz_l
        dh_(l-1) = dz_l @ W_l.T

    Return the Frobenius norm ``||dW_l|| = sqrt(sum(dW_l ** 2))`` of every
    layer's weight gradient, the first layer's first. With sigmoid, each
    step back multiplies by f' <= 1/4 (and by the weights), so the first
    layers' norms are orders of magnitude below the last one's: the
    first layers barely learn. With ReLU (and weights of the right size)
    they stay comparable. The grader's feedback shows ``norms[0] /
    norms[-1]``: the factor by which the first layer's gradient is
    smaller than the last one's.

    Parameters
    ----------
    x : ndarray of shape (N, D)
        A batch of N inputs of D features.
    weights : list of L ndarrays of shape (D, D)
    dout : ndarray of shape (N, D)
        dL/dh_L.
    activation : {"sigmoid", "relu"}
        f, with the functions you wrote above.

    Returns
    -------
    norms : ndarray of shape (L,)
        ``norms[l - 1] = ||dW_l||``.
    """
    forward = {"sigmoid": sigmoid_forward, "relu": relu_forward}[activation]
    backward = {"sigmoid": sigmoid_backward, "relu": relu_backward}[activation]
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("stack_gradient_norms: fill in the marked region")
    # ---- END OF YOUR CODE ----
