"""The base class of the optimisers: parameter groups, state, saving."""
import math
import numbers
from collections.abc import Mapping

import numpy as np

from cnnc.nn.module import Module, Parameter

__all__ = ["Optimizer"]

# Group keys that are not hyper-parameters but may sit in a group: a label
# for the user, and the starting lr that a scheduler records.
_EXTRA_GROUP_KEYS = ("name", "initial_lr")


class Optimizer:
    """Base class of the optimisers: step 5 of the lecture's training loop.

    An optimiser holds the parameters it updates in *parameter groups*, each
    a dict with the key ``"params"`` (a list of
    :class:`~cnnc.nn.Parameter`) and the group's hyper-parameters (``lr``,
    ``momentum``, ...). Options a group leaves out take the values given to
    the constructor, so one optimiser can train a pre-trained encoder with a
    small lr and a new classifier with a large one (the lecture's
    deep-tuning).

    ``step()`` updates every parameter whose ``grad`` is not None and whose
    ``requires_grad`` is True; the others (frozen, or unused by the last
    backward) are left untouched. Per-parameter memory, such as momentum,
    lives in :attr:`state`.

    Subclasses set :attr:`state_keys` and :attr:`required_state_keys` and
    define ``_check_options(options, where)`` (validate a group's options)
    and ``_update(w, grad, state, group)`` (update the array ``w`` in
    place).

    Parameters
    ----------
    params : iterable of Parameter, or iterable of dict
        Parameters (e.g. ``model.parameters()``), or groups: dicts with a
        ``"params"`` entry and any per-group options.
    defaults : dict
        The value of every option for groups that do not set it.

    Attributes
    ----------
    param_groups : list of dict
    state : dict
        Per-parameter state, keyed by the Parameter.
    defaults : dict
    """

    #: Names an entry of :attr:`state` may hold.
    state_keys = ()
    #: Names a non-empty entry of :attr:`state` must hold.
    required_state_keys = ()

    def __init__(self, params, defaults):
        self.defaults = self._check_options(dict(defaults), "")
        self.param_groups = []
        self.state = {}
        self._work_buffers = {}
        groups = self._as_groups(params)
        for group in groups:
            self.add_param_group(group)

    # -- parameter groups ---------------------------------------------------

    @staticmethod
    def _as_groups(params):
        if isinstance(params, Module):
            raise TypeError("params must be an iterable of Parameters or of "
                            "dicts, got a %s; pass model.parameters()"
                            % type(params).__name__)
        if isinstance(params, (Parameter, np.ndarray, Mapping, str)):
            raise TypeError("params must be an iterable of Parameters or of "
                            "dicts, got a single %s; wrap it in a list"
                            % type(params).__name__)
        try:
            items = list(params)
        except TypeError:
            raise TypeError("params must be an iterable of Parameters or of "
                            "dicts, got %s" % type(params).__name__) from None
        if not items:
            raise ValueError(
                "params is empty: the optimizer was given no parameters "
                "(model.parameters() is a generator: it is empty the second "
                "time it is read)")
        kinds = {isinstance(item, Mapping) for item in items}
        if kinds == {True}:
            return items
        if kinds == {False}:
            return [{"params": items}]
        raise TypeError("params must hold only Parameters or only dicts "
                        "(parameter groups), not a mix of both")

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options.

        Parameters
        ----------
        param_group : dict
            ``"params"``: a Parameter or an iterable of them; any other key
            is an option of this optimiser (e.g. ``"lr"``) and overrides the
            default for this group.

        Raises
        ------
        TypeError
            When the group is not a dict or holds something other than
            Parameters.
        ValueError
            For an empty group, an unknown option, an invalid option value,
            or a parameter that already belongs to a group.

        Examples
        --------
        >>> import numpy as np
        >>> from cnnc.nn import Parameter
        >>> from cnnc.optim import SGD
        >>> encoder, head = Parameter(np.zeros(3)), Parameter(np.zeros(2))
        >>> opt = SGD([encoder], lr=0.01)
        >>> opt.add_param_group({"params": [head], "lr": 0.1})
        >>> [group["lr"] for group in opt.param_groups]
        [0.01, 0.1]
        """
        index = len(self.param_groups)
        where = " (parameter group %d)" % index
        if not isinstance(param_group, Mapping):
            raise TypeError("param_group must be a dict with a 'params' "
                            "entry, got %s" % type(param_group).__name__)
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry, got keys "
                             "%s%s" % (sorted(param_group), where))
        params = param_group["params"]
        if isinstance(params, Parameter):
            params = [params]
        elif isinstance(params, (np.ndarray, Module, Mapping, str)):
            raise TypeError("param_group['params'] must be a Parameter or an "
                            "iterable of Parameters, got %s%s"
                            % (type(params).__name__, where))
        else:
            params = list(params)
        for i, param in enumerate(params):
            if not isinstance(param, Parameter):
                raise TypeError(
                    "param_group['params'][%d] must be a cnnc.nn.Parameter, "
                    "got %s%s" % (i, type(param).__name__, where))
        if not params:
            raise ValueError("param_group['params'] is empty%s" % where)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("param_group['params'] lists a parameter more "
                             "than once%s" % where)
        for other, group in enumerate(self.param_groups):
            if {id(p) for p in group["params"]} & {id(p) for p in params}:
                raise ValueError(
                    "a parameter appears in more than one parameter group "
                    "(groups %d and %d); each parameter must belong to "
                    "exactly one" % (other, index))
        unknown = sorted(set(param_group) - set(self.defaults)
                         - {"params"} - set(_EXTRA_GROUP_KEYS))
        if unknown:
            raise ValueError(
                "param_group has unknown option(s) %s; %s accepts %s%s"
                % (unknown, type(self).__name__, sorted(self.defaults), where))
        options = dict(self.defaults)
        options.update((k, v) for k, v in param_group.items() if k != "params")
        group = self._check_options(options, where)
        group["params"] = params
        self.param_groups.append(group)

    # -- the update ---------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of every parameter of every group.

        Parameters
        ----------
        set_to_none : bool, default True
            Set ``grad`` to None (the next backward allocates it afresh and
            ``step`` skips parameters it did not reach) instead of filling
            it with zeros.
        """
        for group in self.param_groups:
            for param in group["params"]:
                if set_to_none or param.grad is None:
                    param.grad = None
                else:
                    param.grad[...] = 0

    def step(self, closure=None):
        """Update every parameter that has a gradient, once.

        Parameters
        ----------
        closure : callable, optional
            Called first, to recompute the loss (and the gradients); its
            result is returned.

        Returns
        -------
        loss : the closure's result, or None.
        """
        loss = None if closure is None else closure()
        # Check every gradient before changing any parameter.
        todo = []
        index = 0
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is not None and param.requires_grad:
                    if grad.shape != param.data.shape:
                        raise ValueError(
                            "parameter %d has a grad of shape %s but data of "
                            "shape %s" % (index, grad.shape, param.data.shape))
                    todo.append((param, group))
                index += 1
        for param, group in todo:
            state = self.state.setdefault(param, {})
            self._update(param.data, param.grad, state, group)
        return loss

    def _update(self, w, grad, state, group):
        """Update the array ``w`` in place from ``grad``; subclasses."""
        raise NotImplementedError(
            "%s does not define _update()" % type(self).__name__)

    def _check_options(self, options, where):
        """Validate and return ``options``; subclasses."""
        return options

    def _work(self, like, count):
        """``count`` scratch arrays shaped like ``like``, reused each step.

        They are views of one flat buffer per dtype, as large as the
        largest parameter needs, so a step makes no temporary arrays.
        """
        size = like.size
        flat = self._work_buffers.get(like.dtype)
        if flat is None or flat.size < count * size:
            flat = np.empty(count * size, like.dtype)
            self._work_buffers[like.dtype] = flat
        return [flat[i * size:(i + 1) * size].reshape(like.shape)
                for i in range(count)]

    # -- saving ---------------------------------------------------------------

    def state_dict(self):
        """The optimiser's state, for checkpoints: copies, no pickling.

        Parameters are referred to by their position across the groups
        (0, 1, 2, ...), as PyTorch does, so the dict holds only numbers,
        tuples of numbers, strings and NumPy arrays.

        Returns
        -------
        dict
            ``"state"``: ``{index: {name: array or number}}`` for the
            parameters that have state; ``"param_groups"``: a list of the
            groups' options, each with ``"params"``, the list of its
            parameters' indices.

        Examples
        --------
        >>> import numpy as np
        >>> from cnnc.nn import Parameter
        >>> from cnnc.optim import SGD
        >>> w = Parameter(np.ones(2))
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> w.grad = np.ones(2); opt.step()
        >>> opt.state_dict()["state"]
        {0: {'momentum_buffer': array([1., 1.])}}
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for param in group["params"]:
                index[id(param)] = len(index)
                packed["params"].append(index[id(param)])
            groups.append(packed)
        state = {}
        for param, entry in self.state.items():
            if id(param) in index and entry:
                state[index[id(param)]] = {
                    k: (np.array(v, copy=True) if isinstance(v, np.ndarray)
                        else v) for k, v in entry.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a state saved by :meth:`state_dict` to resume training.

        The optimiser must hold the same parameters, in the same groups and
        order, as the one that was saved. The groups' options (lr, ...)
        come from ``state_dict``; the arrays are copied and converted to
        each parameter's dtype.

        Parameters
        ----------
        state_dict : dict
            As returned by :meth:`state_dict`; keys of ``"state"`` may also
            be strings of digits (as after a round trip through JSON).

        Raises
        ------
        ValueError
            When the number of groups, of parameters in a group, an
            option, a state entry's name or an array's shape does not fit
            this optimiser. Nothing is changed then.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping) or not {
                "state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "state_dict must be a dict with keys 'state' and "
                "'param_groups' (from Optimizer.state_dict()), got %s"
                % (sorted(state_dict) if isinstance(state_dict, Mapping)
                   else type(state_dict).__name__))
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                "state_dict has %d parameter group(s) but this %s has %d"
                % (len(saved_groups), name, len(self.param_groups)))

        # Match the saved indices to this optimiser's parameters, in order.
        by_index = {}
        new_options = []
        for i, (saved, group) in enumerate(zip(saved_groups,
                                               self.param_groups)):
            saved_params = list(saved.get("params", ()))
            if len(saved_params) != len(group["params"]):
                raise ValueError(
                    "parameter group %d of state_dict has %d parameter(s) but "
                    "group %d of this %s has %d" % (
                        i, len(saved_params), i, name, len(group["params"])))
            for key, param in zip(saved_params, group["params"]):
                by_index[int(key)] = (param, len(by_index))
            missing = sorted(set(self.defaults) - set(saved))
            if missing:
                raise ValueError("parameter group %d of state_dict lacks the "
                                 "option(s) %s that %s needs"
                                 % (i, missing, name))
            options = {k: saved[k] for k in self.defaults}
            if "initial_lr" in saved:
                options["initial_lr"] = saved["initial_lr"]
            new_options.append(self._check_options(
                options, " (parameter group %d of state_dict)" % i))

        # Check and copy every state entry before changing anything.
        new_state = {}
        for key, entry in state_dict["state"].items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                raise ValueError("state_dict['state'] keys must be parameter "
                                 "indices, got %r" % (key,)) from None
            if index not in by_index:
                raise ValueError("state_dict['state'] has an entry for "
                                 "parameter %d, which no parameter group of "
                                 "state_dict lists" % index)
            param, position = by_index[index]
            new_state[param] = self._load_entry(entry, param, position)

        for group, options in zip(self.param_groups, new_options):
            group.update(options)
        self.state = new_state

    def _load_entry(self, entry, param, position):
        """A checked copy of one parameter's saved state."""
        name = type(self).__name__
        unknown = sorted(set(entry) - set(self.state_keys))
        if unknown:
            raise ValueError("state of parameter %d holds %s, which %s does "
                             "not use (it keeps %s)"
                             % (position, unknown, name, list(self.state_keys)))
        missing = [k for k in self.required_state_keys if k not in entry]
        if entry and missing:
            raise ValueError("state of parameter %d lacks %s, which %s needs"
                             % (position, missing, name))
        loaded = {}
        for key, value in entry.items():
            if key == "step":
                loaded[key] = _as_step(value, position)
                continue
            array = np.asarray(value)
            if array.shape != param.data.shape:
                raise ValueError(
                    "state of parameter %d: %r has shape %s but the parameter "
                    "has shape %s" % (position, key, array.shape,
                                      param.data.shape))
            loaded[key] = np.array(array, dtype=param.data.dtype, copy=True)
        return loaded

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            options = ", ".join("%s=%r" % (k, group[k]) for k in sorted(group)
                                if k != "params")
            lines.append("  group %d: %d parameter(s), %s"
                         % (i, len(group["params"]), options))
        return "\n".join(lines) + "\n)"


def _as_step(value, position):
    """A saved step count (int, float or 0-d array) as an int."""
    number = float(np.asarray(value))
    if not (number >= 0 and number == math.floor(number)):
        raise ValueError("state of parameter %d: 'step' must be a "
                         "non-negative whole number, got %r"
                         % (position, value))
    return int(number)


# -- option checks shared by the optimisers ----------------------------------

def _check_number(options, key, where, minimum=0.0, maximum=None,
                  include_min=True, include_max=True):
    """``options[key]`` as a float within the limits, else an error naming key.

    ``where`` ends the message, e.g. " (parameter group 1)".
    """
    value = options[key]
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, numbers.Real):
        raise TypeError("%s must be a real number, got %s %r%s"
                        % (key, type(value).__name__, value, where))
    number = float(value)
    low_ok = number >= minimum if include_min else number > minimum
    high_ok = maximum is None or (number <= maximum if include_max
                                  else number < maximum)
    if not (low_ok and high_ok and math.isfinite(number)):
        if maximum is None:
            span = "%s %g" % (">=" if include_min else ">", minimum)
        else:
            span = "in %s%g, %g%s" % ("[" if include_min else "(", minimum,
                                      maximum, "]" if include_max else ")")
        raise ValueError("%s must be a finite number %s, got %r%s"
                         % (key, span, value, where))
    return number
