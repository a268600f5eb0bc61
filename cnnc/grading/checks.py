"""Sub-checks of a graded test and the feedback they write.

A test receives a :class:`Check` and calls it once per thing it verifies
(``check.close("dx", dx, expected)``, ``check.equal("P", p, 5)``, ...).
Each call records one sub-check, passed or not, with a line of feedback
written for the student: which output, the shape expected and given, the
worst element with both values, the relative error and the tolerance.
The test's score is its points times the fraction of sub-checks passed
(or all or nothing, if the test says so).

Every comparison runs in the grader's process on arrays the student's
process sent back; nothing the submission does to NumPy in its own process
reaches it.
"""
import numbers

import numpy as np

__all__ = ["Check", "StudentOutputError", "RTOL", "ATOL", "GRAD_RTOL",
           "GRAD_ATOL", "numeric_gradient", "sample_indices"]

# Outputs in float64 against cnnc.reference: the student's sums run in a
# different order, which moves the last few of the 16 digits.
RTOL = 1e-6
ATOL = 1e-8
# Analytic gradients against central differences with step 1e-5: the
# difference quotient itself is good to about 1e-9.
GRAD_RTOL = 1e-5
GRAD_ATOL = 1e-7


class StudentOutputError(Exception):
    """A student's function returned something the test cannot use
    (None, a number instead of a tuple, a tuple of the wrong length).
    The test scores zero with this message."""


def _format_index(name, index):
    return "%s[%s]" % (name, ", ".join(str(int(i)) for i in index))


def _number(value):
    return "%.6g" % value


def _describe(value):
    """What a returned value is, for messages."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return "an ndarray of shape %s and dtype %s" % (value.shape,
                                                         value.dtype)
    kept = getattr(value, "_type", None)     # an object left in its process
    return "a %s" % (kept if isinstance(kept, str) else type(value).__name__)


def _as_real_array(name, given, expected_shape):
    """``given`` as a float64 array, or a message saying why it is not one."""
    if given is None:
        return None, ("%s is None: did the function return its result? "
                      "(expected an ndarray of shape %s)"
                      % (name, expected_shape))
    if isinstance(given, (list, tuple)):
        try:
            given = np.asarray(given)
        except (ValueError, TypeError):
            return None, "%s is a ragged %s" % (name, type(given).__name__)
    if isinstance(given, numbers.Number) and not isinstance(given, bool):
        given = np.asarray(given)
    if not isinstance(given, np.ndarray):
        return None, ("%s is %s, expected an ndarray of shape %s"
                      % (name, _describe(given), expected_shape))
    if given.dtype.kind not in "biuf":
        return None, ("%s has dtype %s, expected real numbers (float64)"
                      % (name, given.dtype))
    return given.astype(np.float64), None


def compare(name, given, expected, rtol=RTOL, atol=ATOL, hint=None,
            labels=None, source="expected"):
    """Compare an array with the expected one.

    ``labels``, when given, are the multi-indices that the elements of
    (1-D) ``given`` and ``expected`` stand for (sampled elements of a
    larger array); ``source`` names where the expected values come from.

    Returns
    -------
    passed : bool
    message : str
        One or more lines for the student.
    """
    expected = np.asarray(expected, dtype=np.float64)
    given, problem = _as_real_array(name, given, expected.shape)
    if problem:
        return False, problem
    if given.shape != expected.shape:
        message = ("%s has shape %s but should have shape %s"
                   % (name, given.shape, expected.shape))
        if hint:
            message += "\n" + hint
        return False, message

    def where(index):
        return _format_index(name, labels[index[0]] if labels is not None
                             else index)
    finite = np.isfinite(given)
    if not finite.all():
        bad = np.argwhere(~finite)
        first = tuple(bad[0])
        return False, ("%s has %d values that are NaN or infinite, the first "
                       "at %s (%s %s there)"
                       % (name, len(bad), where(first), source,
                          _number(expected[first])))
    error = np.abs(given - expected)
    allowed = atol + rtol * np.abs(expected)
    wrong = error > allowed
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        relative = np.where(expected != 0, error / np.abs(expected), error)
    if not wrong.any():
        worst = float(relative.max()) if relative.size else 0.0
        return True, "%s matches (largest relative error %.1e)" % (name, worst)
    worst = np.unravel_index(np.argmax(error / allowed), error.shape)
    if expected[worst] != 0:
        rel = "relative error %.2e" % relative[worst]
    else:
        rel = "the expected value is 0, so the absolute error %.2e counts" \
            % error[worst]
    lines = [
        "%s is wrong in %d of %s %d elements" % (
            name, int(wrong.sum()), "the" if labels is None else "the checked",
            wrong.size),
        "worst element %s: %s %s, given %s (%s)"
        % (where(worst), source, _number(expected[worst]),
           _number(given[worst]), rel),
        "tolerance: |given - expected| <= %g * |expected| + %g" % (rtol, atol),
    ]
    if given.ndim and np.allclose(given, 0) and not np.allclose(expected, 0):
        lines.append("every element of %s is 0: is it computed at all?" % name)
    return False, "\n".join(lines)


class Check:
    """The sub-checks of one test.

    A test function that asks for ``check`` gets a fresh one. Every method
    records one sub-check and returns whether it passed, so a test can
    skip what depends on a failed one.

    Attributes
    ----------
    passed, total : int
        Sub-checks passed and made.
    lines : list of str
        The feedback, one entry per sub-check.
    """

    def __init__(self):
        self.passed = 0
        self.total = 0
        self.lines = []

    def record(self, passed, message, context=None):
        """Record a sub-check made by the test itself."""
        self.total += 1
        self.passed += bool(passed)
        head = ("ok   " if passed else "FAIL ") + (context + ": "
                                                   if context else "")
        body = message.splitlines() or [""]
        self.lines.append(head + body[0] + "".join(
            "\n       " + line for line in body[1:]))
        return bool(passed)

    def close(self, name, given, expected, rtol=RTOL, atol=ATOL,
              context=None, hint=None):
        """``given`` equals ``expected`` within ``atol + rtol * |expected|``
        elementwise, with the same shape.

        Parameters
        ----------
        name : str
            The output as the student knows it (``"out"``, ``"dx"``).
        given : array_like
            What the student's code returned.
        expected : array_like
            What cnnc.reference returned, in float64.
        rtol, atol : float
        context : str, optional
            The case, e.g. ``"stride=2, padding=1"``.
        hint : str, optional
            Said when the shape is wrong (the output-size arithmetic).
        """
        passed, message = compare(name, given, expected, rtol, atol, hint)
        return self.record(passed, message, context)

    def sampled(self, name, given, shape, indices, expected, rtol=RTOL,
                atol=ATOL, context=None, source="central differences"):
        """Elements ``indices`` of ``given`` (an array of ``shape``) equal
        ``expected`` (one value per index): for gradients measured
        numerically at a few elements."""
        shape = tuple(shape)
        array, problem = _as_real_array(name, given, shape)
        if problem is None and array.shape != shape:
            problem = ("%s has shape %s but should have shape %s"
                       % (name, array.shape, shape))
        if problem:
            return self.record(False, problem, context)
        values = np.array([array[i] for i in indices])
        passed, message = compare(name, values, expected, rtol, atol,
                                  labels=list(indices), source=source)
        return self.record(passed, message, context)

    def equal(self, name, given, expected, context=None, hint=None):
        """``given`` is the integer (or tuple of integers) ``expected``."""
        passed = _same_integers(given, expected)
        if passed:
            message = "%s = %s" % (name, _show(expected))
        else:
            message = "%s: expected %s, given %s" % (name, _show(expected),
                                                     _show(given))
            if (isinstance(given, float) and float(given).is_integer()
                    and isinstance(expected, int)):
                message += (" (a float: a size is a whole number, use // "
                            "for the division)")
            if hint:
                message += "\n" + hint
        return self.record(passed, message, context)

    def that(self, passed, failure, success="ok", context=None):
        """Record a condition the test computed itself."""
        return self.record(passed, success if passed else failure, context)

    @staticmethod
    def unpack(value, names, function):
        """Split a returned tuple into its named parts.

        Raises
        ------
        StudentOutputError
            ``value`` is not a tuple or list of ``len(names)`` items.
        """
        if not isinstance(value, (tuple, list)) or len(value) != len(names):
            raise StudentOutputError(
                "%s must return a tuple (%s), but returned %s"
                % (function, ", ".join(names), _describe(value)
                   if not isinstance(value, (tuple, list))
                   else "%d values" % len(value)))
        return tuple(value)


def _same_integers(given, expected):
    if isinstance(expected, tuple):
        return (isinstance(given, (tuple, list)) and len(given) == len(expected)
                and all(_same_integers(g, e) for g, e in zip(given, expected)))
    if isinstance(given, np.ndarray) and given.ndim == 0:
        given = given[()]
    if isinstance(given, (bool, np.bool_)):
        return False
    return isinstance(given, (int, np.integer)) and int(given) == expected


def _show(value):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (list, tuple)):
        return "(%s)" % ", ".join(_show(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value) if value is None or isinstance(
        value, (numbers.Number, np.generic)) else _describe(value)


def sample_indices(rng, shape, count):
    """``count`` distinct random multi-indices into an array of ``shape``
    (all of them if it has no more than ``count`` elements)."""
    size = int(np.prod(shape))
    flat = rng.permutation(size)[:min(count, size)]
    return [tuple(int(i) for i in np.unravel_index(f, shape)) for f in flat]


def numeric_gradient(f, x, dout, indices, h=1e-5):
    """Central differences of ``L(x) = sum(dout * f(x))`` at ``indices``.

    ``f`` may be the student's forward pass; it is called twice per index
    with ``x`` changed in one element.

    Returns
    -------
    ndarray of shape (len(indices),)

    Raises
    ------
    StudentOutputError
        ``f(x)`` does not have the shape of ``dout``.
    """
    x = np.array(x, dtype=np.float64)
    grads = np.empty(len(indices))
    for k, index in enumerate(indices):
        old = x[index]
        x[index] = old + h
        plus = f(x)
        x[index] = old - h
        minus = f(x)
        x[index] = old
        for value in (plus, minus):
            if not isinstance(value, np.ndarray) or value.shape != dout.shape:
                raise StudentOutputError(
                    "the forward pass returned %s where the gradient check "
                    "needs shape %s: fix the forward pass first"
                    % (_describe(value), dout.shape))
        grads[k] = np.sum(dout * (plus - minus)) / (2 * h)
    return grads
