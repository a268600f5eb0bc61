"""Batch normalization layers: the lecture's normalization step."""
import numpy as np

from cnnc import functional as F
from cnnc.functional import _validate
from cnnc.functional._validate import as_int
from cnnc.functional.batchnorm import _check_eps, _check_momentum
from cnnc.nn.module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in input rank."""

    _ranks = ()
    _layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float32):
        super().__init__()
        self.num_features = as_int(num_features, "num_features", 1)
        self.eps = _check_eps(eps)
        self.momentum = None if momentum is None else _check_momentum(
            momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise TypeError("dtype must be float32 or float64, got %s" % dtype)

        self.dtype = dtype
        c = self.num_features
        if self.affine:
            self.weight = Parameter(np.ones(c, dtype))
            self.bias = Parameter(np.zeros(c, dtype))
        else:
            self.weight = None
            self.bias = None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, dtype))
            self.register_buffer("running_var", np.ones(c, dtype))
            self.register_buffer("num_batches_tracked",
                                 np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self._cache = None

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def forward(self, x):
        """Normalise ``x``; remembers what backward needs.

        In training mode with running statistics tracked, they are
        updated and ``num_batches_tracked`` counts the batch.
        """
        x = self._check_input(x)
        update = self.training and self.track_running_stats
        # Batch statistics in training, and always without running ones.
        use_batch = self.training or not self.track_running_stats
        momentum = 0.0
        if update:
            if self.momentum is None:  # the cumulative average
                momentum = 1.0 / float(self.num_batches_tracked + 1)
            else:
                momentum = self.momentum
        y, mean, invstd = F.batch_norm(
            x, self.running_mean, self.running_var,
            None if self.weight is None else self.weight.data,
            None if self.bias is None else self.bias.data,
            training=use_batch, momentum=momentum, eps=self.eps)
        if update:
            self.num_batches_tracked[...] += 1
        self._cache = (x, mean, invstd, use_batch)
        return y

    def backward(self, grad_out):
        """Return dL/dx; add dL/dweight and dL/dbias to their ``.grad``."""
        if self._cache is None:
            raise RuntimeError("%s.backward called before forward"
                               % type(self).__name__)
        x, mean, invstd, use_batch = self._cache
        want_w = self.affine and self.weight.requires_grad
        want_b = self.affine and self.bias.requires_grad
        dx, dw, db = F.batch_norm_backward(
            grad_out, x, mean, invstd,
            None if self.weight is None else self.weight.data,
            training=use_batch, needs_weight_grad=want_w,
            needs_bias_grad=want_b)
        if want_w:
            self.weight.accumulate_grad(dw)
        if want_b:
            self.bias.accumulate_grad(db)
        return dx

    def _check_input(self, x):
        x = _validate.as_float_array(x, "x")
        if x.ndim not in self._ranks:
            raise ValueError("%s expects x of shape %s, got shape %s"
                             % (type(self).__name__, self._layout, x.shape))
        if x.dtype != self.dtype and (self.affine or self.track_running_stats):
            raise TypeError(
                "x has dtype %s but this %s holds %s parameters and running "
                "statistics; convert x with x.astype(np.%s) or build the layer "
                "with dtype=np.%s" % (x.dtype, type(self).__name__, self.dtype,
                                      self.dtype, x.dtype))
        if x.shape[1] != self.num_features:
            raise ValueError(
                "x has %d channels but this %s expects num_features=%d "
                "(x.shape=%s)" % (x.shape[1], type(self).__name__,
                                  self.num_features, x.shape))
        return x

    def extra_repr(self):
        return ("%d, eps=%r, momentum=%r, affine=%r, track_running_stats=%r"
                % (self.num_features, self.eps, self.momentum, self.affine,
                   self.track_running_stats))


class BatchNorm2d(_BatchNorm):
    """Batch normalization over images: the lecture's normalization layer.

    Each channel is normalised with the mean and (biased) variance of its
    N * H * W values in the batch, then scaled by a learnable ``weight``
    (gamma) and shifted by a learnable ``bias`` (beta); see
    :func:`cnnc.functional.batch_norm` and, for the formulas,
    :func:`cnnc.reference.batch_norm`. In training mode the running
    statistics are updated (with the unbiased variance); in evaluation
    mode they replace the batch's, so one image gives the same output
    whatever batch it comes in. With ``track_running_stats=False`` the
    batch's statistics are used in both modes.

    Parameters
    ----------
    num_features : int
        C, the number of channels.
    eps : float, default 1e-5
        Added to the variance before its square root.
    momentum : float in [0, 1] or None, default 0.1
        Weight of each new batch in the running statistics; None for a
        cumulative average.
    affine : bool, default True
        Learn ``weight`` and ``bias``.
    track_running_stats : bool, default True
        Keep ``running_mean`` and ``running_var``.
    dtype : numpy dtype, default float32
        Of the parameters and running statistics; inputs must match it.

    Attributes
    ----------
    weight, bias : Parameter of shape (C,) or None
        gamma, initialised to 1, and beta, initialised to 0.
    running_mean, running_var : ndarray of shape (C,) or None
        Buffers, initialised to 0 and 1.
    num_batches_tracked : 0-d int64 ndarray or None
        Training batches seen. The state dict keys are PyTorch's, so a
        state dict moves between a cnnc and a torch layer unchanged.
    Notes
    -----
    cnnc, like PyTorch, weights the *new* batch by ``momentum``::

        running = (1 - momentum) * running + momentum * batch_statistic

    Some course materials (and Keras, whose default is 0.99) write the
    update the other way round, ``running = momentum * running + (1 -
    momentum) * batch_statistic``, where 0.9 means "keep 90% of the old
    value". It is the same rule with ``momentum_there = 1 -
    momentum_here``: cnnc's default ``momentum=0.1`` is ``momentum=0.9``
    there. With ``momentum=None`` the running statistics are the plain
    average of every batch seen so far (weight ``1 /
    num_batches_tracked``).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import BatchNorm2d
    >>> bn = BatchNorm2d(3)
    >>> bn
    BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    >>> x = np.random.default_rng(0).normal(5.0, 2.0, (8, 3, 4, 4))
    >>> y = bn(x.astype(np.float32))
    >>> bool(abs(y.mean()) < 1e-5), bool(abs(y.std() - 1) < 1e-3)
    (True, True)
    >>> list(bn.state_dict())
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    >>> dx = bn.backward(np.ones_like(y))
    >>> bn.weight.grad.shape, bn.bias.grad
    ((3,), array([128., 128., 128.], dtype=float32))
    """

    _ranks = (4,)
    _layout = "(N, C, H, W)"


class BatchNorm1d(_BatchNorm):
    """Batch normalization over features (N, C) or sequences (N, C, L).

    The same layer as :class:`BatchNorm2d` for inputs without image
    axes: each of the C features is normalised over the batch (and over
    the L positions of a sequence). It is the form used between the fully
    connected layers of a classifier.

    Parameters
    ----------
    num_features : int
        C, the number of features (channels).
    eps : float, default 1e-5
    momentum : float in [0, 1] or None, default 0.1
    affine : bool, default True
    track_running_stats : bool, default True
    dtype : numpy dtype, default float32
        Of the parameters and running statistics; inputs must match it.

    Attributes
    ----------
    weight, bias : Parameter of shape (C,) or None
    running_mean, running_var : ndarray of shape (C,) or None
    num_batches_tracked : 0-d int64 ndarray or None
    Notes
    -----
    cnnc, like PyTorch, weights the *new* batch by ``momentum``::

        running = (1 - momentum) * running + momentum * batch_statistic

    Some course materials (and Keras, whose default is 0.99) write the
    update the other way round, ``running = momentum * running + (1 -
    momentum) * batch_statistic``, where 0.9 means "keep 90% of the old
    value". It is the same rule with ``momentum_there = 1 -
    momentum_here``: cnnc's default ``momentum=0.1`` is ``momentum=0.9``
    there. With ``momentum=None`` the running statistics are the plain
    average of every batch seen so far (weight ``1 /
    num_batches_tracked``).

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import BatchNorm1d
    >>> bn = BatchNorm1d(2, momentum=None)
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]], np.float32)
    >>> y = bn(x)
    >>> bn.running_mean, bn.num_batches_tracked
    (array([ 2., 20.], dtype=float32), array(1))
    >>> bn.eval()(x).round(2)
    array([[-0.71, -0.71],
           [ 0.71,  0.71]], dtype=float32)
    """

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"
