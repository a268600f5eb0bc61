"""Adam and AdamW: steps scaled per weight by running gradient moments."""
import math

import numpy as np

from cnnc.optim.optimizer import Optimizer, _check_number

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015): SGD with a step size per weight.

    Adam keeps two running averages for every weight: ``m`` of its
    gradients (momentum) and ``v`` of their squares (how large they
    usually are). Dividing one by the square root of the other gives each
    weight a step of about ``lr`` whatever the scale of its gradient, so
    layers whose gradients are small (early layers, the vanishing-gradient
    case) still move. At step ``t``, with ``d = g + weight_decay * w``::

        m <- beta1 * m + (1 - beta1) * d
        v <- beta2 * v + (1 - beta2) * d^2
        m_hat = m / (1 - beta1^t)        (m and v start at 0 and would
        v_hat = v / (1 - beta2^t)         underestimate early on)
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)

    With ``amsgrad=True``, ``v_hat`` uses the largest ``v`` seen so far,
    so the step size never grows back. ``weight_decay`` here is the L2
    penalty ``lambda/2 * ||w||^2`` added to the error (see :class:`SGD`);
    its gradient is then divided by ``sqrt(v_hat)`` like the rest, which
    weakens it for weights with large gradients. :class:`AdamW` decouples
    the decay from the gradient instead.

    The numbers match ``torch.optim.Adam`` step for step.

    Parameters
    ----------
    params : iterable of Parameter or of dict
        See :class:`Optimizer`.
    lr : float, default 1e-3
        >= 0.
    betas : (float, float), default (0.9, 0.999)
        Decay rates of ``m`` and ``v``, each in [0, 1).
    eps : float, default 1e-8
        > 0; keeps the division finite when ``v`` is 0.
    weight_decay : float, default 0
        The L2 strength lambda, >= 0.
    amsgrad : bool, default False

    Raises
    ------
    ValueError
        For an option out of range or an empty parameter list.

    Examples
    --------
    The first step moves every weight by about ``lr``, against the sign of
    its gradient, however large the gradient:

    >>> import numpy as np
    >>> from cnnc.nn import Parameter
    >>> from cnnc.optim import Adam
    >>> w = Parameter(np.zeros(3))
    >>> w.grad = np.array([1e-4, -1.0, 1e4])
    >>> Adam([w], lr=0.01).step()
    >>> np.round(w.data, 4)
    array([-0.01,  0.01, -0.01])
    """

    state_keys = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    required_state_keys = ("step", "exp_avg", "exp_avg_sq")
    _decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=0.0, amsgrad=False):
        defaults = dict(lr=lr, betas=betas, eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _check_options(self, options, where):
        options["lr"] = _check_number(options, "lr", where)
        betas = options["betas"]
        if (isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__")
                or len(betas) != 2):
            raise ValueError("betas must be a pair (beta1, beta2), got %r%s"
                             % (betas, where))
        pair = {"betas[0]": betas[0], "betas[1]": betas[1]}
        options["betas"] = (
            _check_number(pair, "betas[0]", where, maximum=1.0,
                          include_max=False),
            _check_number(pair, "betas[1]", where, maximum=1.0,
                          include_max=False))
        options["eps"] = _check_number(options, "eps", where,
                                       include_min=False)
        options["weight_decay"] = _check_number(options, "weight_decay",
                                                where)
        amsgrad = options["amsgrad"]
        if not isinstance(amsgrad, (bool, np.bool_)):
            raise TypeError("amsgrad must be True or False, got %r%s"
                            % (amsgrad, where))
        options["amsgrad"] = bool(amsgrad)
        return options

    def _update(self, w, grad, state, group):
        lr, (beta1, beta2) = group["lr"], group["betas"]
        eps, weight_decay = group["eps"], group["weight_decay"]
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(w)
            state["exp_avg_sq"] = np.zeros_like(w)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros_like(w)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        d_work, tmp = self._work(w, 2)

        # Weight decay: AdamW shrinks w directly; Adam adds the L2 penalty's
        # gradient lambda * w to the direction d (grad itself is unchanged).
        d = grad
        if weight_decay != 0:
            if self._decoupled_weight_decay:
                w *= 1.0 - lr * weight_decay
            else:
                np.multiply(w, weight_decay, out=tmp)
                d = np.add(grad, tmp, out=d_work)

        # Running averages of the direction and of its square.
        m *= beta1
        np.multiply(d, 1.0 - beta1, out=tmp)
        m += tmp
        v *= beta2
        np.multiply(d, d, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp

        # Denominator sqrt(v_hat) + eps, from the largest v with AMSGrad.
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v,
                           out=state["max_exp_avg_sq"])
        bias_correction1 = 1.0 - beta1 ** t
        bias_correction2 = 1.0 - beta2 ** t
        denom = np.sqrt(v, out=tmp)
        denom /= math.sqrt(bias_correction2)
        denom += eps

        # The step: lr * m_hat / denom.
        step = np.divide(m, denom, out=tmp)
        step *= lr / bias_correction1
        w -= step


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    Adam's L2 penalty is divided by ``sqrt(v_hat)`` along with the
    gradient, so weights with large gradients are barely regularised.
    AdamW shrinks every weight by the same factor before the Adam step::

        w <- w * (1 - lr * weight_decay)
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)   (m, v from g alone)

    For SGD without momentum the two forms coincide; for Adam they differ,
    and the decoupled one usually generalises better. The numbers match
    ``torch.optim.AdamW`` step for step.

    Parameters
    ----------
    params : iterable of Parameter or of dict
        See :class:`Optimizer`.
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 1e-2
        The decay rate, >= 0.
    amsgrad : bool, default False

    Examples
    --------
    With a zero gradient only the decay acts:

    >>> import numpy as np
    >>> from cnnc.nn import Parameter
    >>> from cnnc.optim import AdamW
    >>> w = Parameter(np.ones(2))
    >>> w.grad = np.zeros(2)
    >>> AdamW([w], lr=0.1, weight_decay=0.5).step()
    >>> w.data
    array([0.95, 0.95])
    """

    _decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps,
                         weight_decay=weight_decay, amsgrad=amsgrad)
