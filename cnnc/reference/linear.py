"""The fully connected layer in plain NumPy, written to be read beside the
lecture.

No checks and no speed: these functions are the specification that the C
kernels are tested against and the model answer behind the assignments.
"""
import numpy as np

__all__ = ["linear", "linear_backward"]


def linear(x, weight, bias=None):
    """Reference fully connected layer.

    The lecture's classifier after the convolutional encoder: every output
    neuron ``k`` is connected to every input feature ``c`` by its own
    weight, and adds its own bias::

        y[n, k] = b[k] + sum over c of W[k, c] * x[n, c]

    which for the whole batch is one matrix product, ``y = x W^T + b``.
    The weight is stored (out_features, in_features), as in PyTorch.

    Parameters
    ----------
    x : ndarray of shape (N, in_features)
    weight : ndarray of shape (out_features, in_features)
    bias : ndarray of shape (out_features,), optional

    Returns
    -------
    ndarray of shape (N, out_features)
    """
    n, out_features = x.shape[0], weight.shape[0]
    y = np.zeros((n, out_features), dtype=x.dtype)
    # One output neuron at a time: its weights dotted with every sample.
    for k in range(out_features):
        y[:, k] = x @ weight[k]
        if bias is not None:
            y[:, k] += bias[k]
    return y


def linear_backward(grad_out, x, weight, bias=True):
    """Reference gradients of :func:`linear`.

    By the chain rule on ``y[n, k] = b[k] + sum_c W[k, c] x[n, c]``, with
    ``dy = dL/dy``::

        dL/dx[n, c] = sum over k of dy[n, k] W[k, c]      (dx = dy W)
        dL/dW[k, c] = sum over n of dy[n, k] x[n, c]      (dW = dy^T x)
        dL/db[k]    = sum over n of dy[n, k]

    Parameters
    ----------
    grad_out : ndarray of shape (N, out_features)
    x, weight
        As given to :func:`linear`.
    bias : bool, default True
        Whether to return the bias gradient (None otherwise).

    Returns
    -------
    grad_x, grad_weight, grad_bias
    """
    grad_x = np.zeros_like(x)
    grad_weight = np.zeros_like(weight)
    # Each sample adds the outer product of its gradient and its input.
    for n in range(x.shape[0]):
        grad_x[n] = grad_out[n] @ weight
        grad_weight += np.outer(grad_out[n], x[n])
    grad_bias = grad_out.sum(axis=0) if bias else None
    return grad_x, grad_weight, grad_bias
