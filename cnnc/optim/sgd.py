"""Stochastic gradient descent, with momentum and L2 weight decay."""
import numpy as np

from cnnc.optim.optimizer import Optimizer, _check_number

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent: the lecture's optimisation method.

    Each step moves every parameter ``w`` a little against the gradient
    ``g`` of the mini-batch's error. With the options at their defaults::

        w <- w - lr * g

    **Weight decay is the lecture's L2 regularisation.** Penalising large
    weights means minimising ``L(w) + lambda/2 * ||w||^2`` instead of
    ``L(w)``. The gradient of the penalty is ``lambda * w``, so the step on
    the penalised error is ``w <- w - lr * (g + lambda * w)``: exactly what
    ``weight_decay=lambda`` does, without ever forming the penalty. (Each
    step shrinks ``w`` by the factor ``1 - lr * lambda`` before the usual
    update, hence the name "decay".)

    **Momentum** keeps a running velocity ``v`` of past steps, which damps
    the zig-zag of noisy mini-batch gradients and speeds travel along
    consistent directions. With ``d = g + lambda * w``, the update is
    PyTorch's::

        v <- d                                   (first step)
        v <- momentum * v + (1 - dampening) * d  (later steps)
        w <- w - lr * v                           (or, with nesterov,
        w <- w - lr * (d + momentum * v))         looking one step ahead)

    The numbers match ``torch.optim.SGD`` step for step.

    Parameters
    ----------
    params : iterable of Parameter or of dict
        See :class:`Optimizer`.
    lr : float
        Learning rate, >= 0.
    momentum : float, default 0
        >= 0; 0.9 is usual.
    dampening : float, default 0
        In [0, 1]: the fraction of each new gradient kept out of ``v``.
    weight_decay : float, default 0
        The L2 strength lambda, >= 0.
    nesterov : bool, default False
        Nesterov momentum; needs ``momentum > 0`` and ``dampening = 0``.

    Raises
    ------
    ValueError
        For an option out of range, Nesterov without momentum or with
        dampening, or an empty parameter list.

    Examples
    --------
    L2 regularisation two ways: ``weight_decay`` on the error's gradient,
    or plain SGD on the gradient of the penalised error.

    >>> import numpy as np
    >>> from cnnc.nn import Parameter
    >>> from cnnc.optim import SGD
    >>> lam, grad = 0.01, np.array([0.5, 0.5])      # grad: dL/dw
    >>> a = Parameter(np.array([1.0, -2.0]))
    >>> a.grad = grad.copy()
    >>> SGD([a], lr=0.1, weight_decay=lam).step()
    >>> b = Parameter(np.array([1.0, -2.0]))
    >>> b.grad = grad + lam * b.data                 # d/dw (L + lam/2 ||w||^2)
    >>> SGD([b], lr=0.1).step()
    >>> a.data, bool(np.allclose(a.data, b.data))
    (array([ 0.949, -2.048]), True)

    A smaller learning rate for a pre-trained encoder than for the new
    classifier (deep-tuning):

    >>> encoder_w, head_w = Parameter(np.zeros(4)), Parameter(np.zeros(2))
    >>> opt = SGD([{"params": [encoder_w], "lr": 1e-3},
    ...            {"params": [head_w]}], lr=1e-2, momentum=0.9)
    >>> [group["lr"] for group in opt.param_groups]
    [0.001, 0.01]
    """

    state_keys = ("momentum_buffer",)
    required_state_keys = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, dampening=0.0,
                 weight_decay=0.0, nesterov=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        super().__init__(params, defaults)

    def _check_options(self, options, where):
        options["lr"] = _check_number(options, "lr", where)
        options["momentum"] = _check_number(options, "momentum", where)
        options["dampening"] = _check_number(options, "dampening", where,
                                             maximum=1.0)
        options["weight_decay"] = _check_number(options, "weight_decay",
                                                where)
        nesterov = options["nesterov"]
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError("nesterov must be True or False, got %r%s"
                            % (nesterov, where))
        options["nesterov"] = bool(nesterov)
        if nesterov and (options["momentum"] <= 0
                         or options["dampening"] != 0):
            raise ValueError(
                "nesterov=True needs momentum > 0 and dampening = 0, got "
                "momentum=%r and dampening=%r%s"
                % (options["momentum"], options["dampening"], where))
        return options

    def _update(self, w, grad, state, group):
        lr, momentum = group["lr"], group["momentum"]
        dampening, weight_decay = group["dampening"], group["weight_decay"]
        d_work, tmp = self._work(w, 2)

        # The direction d: the gradient, plus lambda * w for the L2 penalty.
        # grad itself is never changed.
        if weight_decay != 0:
            np.multiply(w, weight_decay, out=tmp)
            d = np.add(grad, tmp, out=d_work)
        else:
            d = grad

        # Momentum: v accumulates past directions; the step follows v.
        if momentum != 0:
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = np.array(d, copy=True)
            else:
                v *= momentum
                if dampening != 0:
                    np.multiply(d, 1.0 - dampening, out=tmp)
                    v += tmp
                else:
                    v += d
            if group["nesterov"]:
                np.multiply(v, momentum, out=tmp)
                d = np.add(d, tmp, out=d_work)
            else:
                d = v

        # The step against the direction.
        np.multiply(d, lr, out=tmp)
        w -= tmp
