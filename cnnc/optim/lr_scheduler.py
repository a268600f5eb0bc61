"""Learning-rate schedules: large steps early, small steps late.

A scheduler changes the ``lr`` of every parameter group of an optimiser
each time its ``step()`` is called, usually once per epoch, after the
epoch's optimiser steps::

    for epoch in range(epochs):
        for x, y in loader:
            ...
            optimizer.step()
        scheduler.step()
"""
import math
from collections.abc import Mapping

from cnnc.functional._validate import as_int
from cnnc.optim.optimizer import Optimizer, _check_number

__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR"]


class LRScheduler:
    """Base class of the schedulers.

    On creation a scheduler records each group's starting lr as
    ``group["initial_lr"]`` (kept if already there, e.g. from an earlier
    scheduler) and in :attr:`base_lrs`, and leaves the lrs unchanged.
    ``step()`` counts one more epoch in :attr:`last_epoch` and sets each
    group's lr from its current value, as PyTorch's schedulers do, so the
    same sequence of lrs results. Subclasses define ``_next_lr(lr,
    base_lr)`` and ``_set_hyper_parameters(**values)``, which checks and
    stores the names listed in ``_hyper_parameters``.

    Parameters
    ----------
    optimizer : Optimizer

    Attributes
    ----------
    optimizer : Optimizer
    base_lrs : list of float
    last_epoch : int
        Number of ``step()`` calls so far.
    """

    #: Hyper-parameters saved by :meth:`state_dict`; subclasses set them.
    _hyper_parameters = ()

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError("optimizer must be a cnnc.optim.Optimizer, got %s"
                            % type(optimizer).__name__)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in
                         optimizer.param_groups]
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self):
        """Move to the next epoch and set every group's lr for it."""
        groups = self.optimizer.param_groups
        if len(groups) != len(self.base_lrs):
            raise ValueError(
                "the optimizer has %d parameter group(s) but this %s was "
                "made for %d; create the scheduler after the last "
                "add_param_group" % (len(groups), type(self).__name__,
                                     len(self.base_lrs)))
        self.last_epoch += 1
        for group, base_lr in zip(groups, self.base_lrs):
            group["lr"] = self._next_lr(group["lr"], base_lr)
        self._last_lr = [group["lr"] for group in groups]

    def _next_lr(self, lr, base_lr):
        raise NotImplementedError(
            "%s does not define _next_lr()" % type(self).__name__)

    def get_last_lr(self):
        """The lr of each group as set by the last ``step()`` (or at start).

        Returns
        -------
        list of float
        """
        return list(self._last_lr)

    def state_dict(self):
        """The scheduler's position and settings, as plain numbers.

        The optimiser's lrs are saved by ``optimizer.state_dict()``; save
        both to resume.

        Returns
        -------
        dict
        """
        state = {"last_epoch": self.last_epoch,
                 "base_lrs": list(self.base_lrs),
                 "last_lr": list(self._last_lr)}
        for name in self._hyper_parameters:
            state[name] = getattr(self, name)
        return state

    def load_state_dict(self, state_dict):
        """Restore what :meth:`state_dict` saved.

        Raises
        ------
        ValueError
            When keys are missing or the number of lrs does not match the
            optimiser's groups.
        """
        needed = ("last_epoch", "base_lrs", "last_lr") + self._hyper_parameters
        if not isinstance(state_dict, Mapping):
            raise ValueError("state_dict must be a dict from %s.state_dict(), "
                             "got %s" % (type(self).__name__,
                                         type(state_dict).__name__))
        missing = [key for key in needed if key not in state_dict]
        if missing:
            raise ValueError("state_dict lacks %s, which %s saves"
                             % (missing, type(self).__name__))
        groups = len(self.optimizer.param_groups)
        for key in ("base_lrs", "last_lr"):
            if len(state_dict[key]) != groups:
                raise ValueError(
                    "state_dict[%r] has %d value(s) but the optimizer has %d "
                    "parameter group(s)" % (key, len(state_dict[key]), groups))
        last_epoch = as_int(state_dict["last_epoch"], "last_epoch", 0)
        self._set_hyper_parameters(**{name: state_dict[name]
                                      for name in self._hyper_parameters})
        self.last_epoch = last_epoch
        self.base_lrs = [float(lr) for lr in state_dict["base_lrs"]]
        self._last_lr = [float(lr) for lr in state_dict["last_lr"]]

    def _set_hyper_parameters(self, **values):
        raise NotImplementedError(
            "%s does not define _set_hyper_parameters()" % type(self).__name__)

    def __repr__(self):
        options = ", ".join("%s=%r" % (name, getattr(self, name))
                            for name in self._hyper_parameters)
        return "%s(%s, last_epoch=%d)" % (type(self).__name__, options,
                                          self.last_epoch)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs.

    After ``t`` calls of ``step()`` each group's lr is
    ``base_lr * gamma ** (t // step_size)``, as with
    ``torch.optim.lr_scheduler.StepLR``.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Epochs between two decays, >= 1.
    gamma : float, default 0.1
        The factor, > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Parameter
    >>> from cnnc.optim import SGD
    >>> from cnnc.optim.lr_scheduler import StepLR
    >>> opt = SGD([Parameter(np.zeros(1))], lr=1.0)
    >>> scheduler = StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(6):
    ...     lrs.append(scheduler.get_last_lr()[0])
    ...     scheduler.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    """

    _hyper_parameters = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1):
        self._set_hyper_parameters(step_size=step_size, gamma=gamma)
        super().__init__(optimizer)

    def _set_hyper_parameters(self, step_size, gamma):
        self.step_size = as_int(step_size, "step_size", 1)
        self.gamma = _check_number({"gamma": gamma}, "gamma", "",
                                   include_min=False)

    def _next_lr(self, lr, base_lr):
        if self.last_epoch % self.step_size == 0:
            return lr * self.gamma
        return lr


class CosineAnnealingLR(LRScheduler):
    r"""Lower the lr from its start to ``eta_min`` along half a cosine.

    After ``t`` calls of ``step()`` each group's lr is::

        eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    which falls slowly at first, fastest halfway, and flattens out at
    ``eta_min`` when ``t = T_max``; after that it rises again along the
    cosine. Like ``torch.optim.lr_scheduler.CosineAnnealingLR``, each step
    computes the new lr from the current one (the ratio of two consecutive
    values of the formula, or at the lowest point, where that ratio is
    0/0, their difference), which gives the same numbers and lets a
    change of the lr made by hand carry on.

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Epochs from the start to the lowest lr, >= 1.
    eta_min : float, default 0
        The lowest lr, >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.nn import Parameter
    >>> from cnnc.optim import SGD
    >>> from cnnc.optim.lr_scheduler import CosineAnnealingLR
    >>> opt = SGD([Parameter(np.zeros(1))], lr=1.0)
    >>> scheduler = CosineAnnealingLR(opt, T_max=4)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
    ...     scheduler.step()
    >>> lrs
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    _hyper_parameters = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0):
        self._set_hyper_parameters(T_max=T_max, eta_min=eta_min)
        super().__init__(optimizer)

    def _set_hyper_parameters(self, T_max, eta_min):
        self.T_max = as_int(T_max, "T_max", 1)
        self.eta_min = _check_number({"eta_min": eta_min}, "eta_min", "")

    def _next_lr(self, lr, base_lr):
        t, period = self.last_epoch, self.T_max
        if (t - 1 - period) % (2 * period) == 0:
            # Leaving the lowest point: add the first rise of the cosine.
            rise = (1 - math.cos(math.pi / period)) / 2
            return lr + (base_lr - self.eta_min) * rise
        ratio = ((1 + math.cos(math.pi * t / period))
                 / (1 + math.cos(math.pi * (t - 1) / period)))
        return ratio * (lr - self.eta_min) + self.eta_min
