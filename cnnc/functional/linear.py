"""The fully connected layer: validated forward and backward over the C
core's GEMM."""
import numpy as np

from cnnc import _core
from cnnc.functional._validate import (
    as_float_array, check_elements, check_same_dtype, contiguous)

__all__ = ["linear", "linear_backward"]


def _check_linear_args(x, weight):
    """Validate x (N, C) and weight (K, C); returns them as float arrays."""
    x = as_float_array(x, "x")
    weight = as_float_array(weight, "weight")
    if x.ndim != 2:
        hint = ""
        if x.ndim > 2:
            hint = ("; flatten the features first, e.g. x.reshape(len(x), -1)"
                    " gives shape (%d, %d)"
                    % (x.shape[0], int(np.prod(x.shape[1:]))))
        raise ValueError("x must be a 2-D array of shape (N, in_features), "
                         "got shape %s%s" % (x.shape, hint))
    if weight.ndim != 2:
        raise ValueError("weight must be a 2-D array of shape (out_features, "
                         "in_features), got shape %s" % (weight.shape,))
    check_same_dtype(x, "x", weight, "weight")
    if 0 in x.shape:
        raise ValueError("x must have no empty axis, got shape %s"
                         % (x.shape,))
    if 0 in weight.shape:
        raise ValueError("weight must have no empty axis, got shape %s"
                         % (weight.shape,))
    if x.shape[1] != weight.shape[1]:
        raise ValueError(
            "x has %d features but weight expects in_features=%d "
            "(x.shape=%s, weight.shape=%s)"
            % (x.shape[1], weight.shape[1], x.shape, weight.shape))
    check_elements(x.shape[0] * weight.shape[0],
                   "the output (N, out_features) = (%d, %d)"
                   % (x.shape[0], weight.shape[0]))
    return x, weight


def linear(x, weight, bias=None):
    """Fully connected layer: ``y = x @ weight.T + bias``.

    Every output feature ``k`` is a weighted sum of all input features plus
    its own bias::

        y[n, k] = bias[k] + sum over c of weight[k, c] * x[n, c]

    This is the lecture's fully connected classifier; the weight is stored
    ``(out_features, in_features)`` as in PyTorch.

    Parameters
    ----------
    x : ndarray of shape (N, in_features)
        float32 or float64; any memory layout, read-only is fine.
    weight : ndarray of shape (out_features, in_features)
        Same dtype as ``x``.
    bias : ndarray of shape (out_features,), optional

    Returns
    -------
    ndarray of shape (N, out_features)
        A new C-contiguous array.

    Raises
    ------
    TypeError
        For non-float arrays or mixed dtypes.
    ValueError
        For wrong ranks (PyTorch also accepts extra leading axes; cnnc asks
        for the features to be flattened first), empty axes or a feature
        count that does not match the weight.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import linear
    >>> x = np.array([[1., 2., 3.]])
    >>> w = np.array([[1., 0., 0.], [1., 1., 1.]])
    >>> linear(x, w, np.array([0.5, -1.]))
    array([[1.5, 5. ]])
    """
    x, weight = _check_linear_args(x, weight)
    if bias is not None:
        bias = as_float_array(bias, "bias")
        check_same_dtype(x, "x", bias, "bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError("bias must have shape (out_features,) = (%d,), "
                             "got %s" % (weight.shape[0], bias.shape))
        bias = contiguous(bias)
    y = np.empty((x.shape[0], weight.shape[0]), dtype=x.dtype)
    _core.linear_forward(contiguous(x), contiguous(weight), bias, y)
    return y


def linear_backward(grad_out, x, weight, bias=True, needs_input_grad=True,
                    needs_weight_grad=True):
    """Gradients of a loss through :func:`linear`.

    With ``dy = grad_out = dL/dy``::

        grad_x      = dy @ weight          (N, in_features)
        grad_weight = dy.T @ x             (out_features, in_features)
        grad_bias   = dy.sum(axis=0)       (out_features,)

    Parameters
    ----------
    grad_out : ndarray of shape (N, out_features)
        Gradient of the loss with respect to the layer's output.
    x, weight
        As given to :func:`linear`.
    bias : bool, default True
        Whether the layer had a bias (then ``grad_bias`` is computed).
    needs_input_grad, needs_weight_grad : bool, default True
        Skip ``grad_x`` or ``grad_weight`` (returned as None), e.g. for the
        first layer or a frozen one.

    Returns
    -------
    grad_x : ndarray of shape (N, in_features) or None
    grad_weight : ndarray of shape (out_features, in_features) or None
    grad_bias : ndarray of shape (out_features,) or None

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.functional import linear_backward
    >>> x = np.array([[1., 2.], [3., 4.]])
    >>> w = np.array([[1., -1.]])
    >>> dx, dw, db = linear_backward(np.ones((2, 1)), x, w)
    >>> dx
    array([[ 1., -1.],
           [ 1., -1.]])
    >>> dw, db
    (array([[4., 6.]]), array([2.]))
    """
    x, weight = _check_linear_args(x, weight)
    grad_out = as_float_array(grad_out, "grad_out")
    check_same_dtype(x, "x", grad_out, "grad_out")
    out_shape = (x.shape[0], weight.shape[0])
    if grad_out.shape != out_shape:
        raise ValueError(
            "grad_out must have the layer's output shape (N, out_features) "
            "= %s, got %s" % (out_shape, grad_out.shape))
    grad_x = np.empty(x.shape, x.dtype) if needs_input_grad else None
    grad_w = np.empty(weight.shape, x.dtype) if needs_weight_grad else None
    grad_b = np.empty(weight.shape[0], x.dtype) if bias else None
    _core.linear_backward(contiguous(grad_out), contiguous(x),
                          contiguous(weight), grad_x, grad_w, grad_b)
    return grad_x, grad_w, grad_b
