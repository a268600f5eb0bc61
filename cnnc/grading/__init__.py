"""cnnc.grading: graded tests for the course assignments, run safely.

An assignment is a starter module the student fills in and a set of
graded tests. ``cnnc grade A1 DIR`` grades the student's copy: each test
runs the student's functions in a separate, limited process on inputs
drawn at grading time, and compares what comes back with
:mod:`cnnc.reference` in the grader's own process. The same results go to
a terminal, to JSON, or to Gradescope's and PrairieLearn's formats
(:mod:`cnnc.grading.report`), and ``cnnc assignments export`` writes the
files each platform needs (:mod:`cnnc.grading.export`).

Writing an assignment
---------------------
An assignment is a folder; the shipped ones are under
``cnnc/assignments/`` (``a1/`` is the example to copy)::

    a1/
        assignment.json     what it is
        starter/conv.py     what the student starts from
        tests.py            the graded tests
        __init__.py         (empty: makes tests.py importable)

and, outside the package so that it is never installed, the instructor's
solution in ``assignments_solutions/A1/conv.py``.

``assignment.json``::

    {
      "id": "A1",                      the name on the command line
      "title": "Convolution",
      "summary": "one line for 'cnnc assignments list'",
      "module": "conv",                the student's module, imported by name
      "files": ["conv.py"],            copied by 'start'; required to grade
      "time_limit": 10,                seconds per test (default 10)
      "memory_limit_mb": 1024,         what the student's code may allocate
      "forbidden_modules": [...]       optional; the default refuses cnnc,
                                       torch, tensorflow, jax, keras, scipy,
                                       sklearn, skimage, cv2 and numba
    }

A ``forbidden_modules`` without ``"cnnc"`` lets the submission use cnnc
except the parts it names, such as ``"cnnc.optim"``: A4's training loop
builds its network from cnnc's layers but steps with the student's own
SGD. Those parts are refused on import and on use (the student's process
loads cnnc whole, then puts stand-ins in their place).

The starter is an ordinary module with the functions' signatures and
numpydoc docstrings (shapes and formulas), and each region to fill marked
``# ---- YOUR CODE HERE ----`` ... ``# ---- END OF YOUR CODE ----``,
holding a ``raise NotImplementedError`` or a ``None`` so that an untouched
starter scores zero with a clear message.

``tests.py`` holds plain functions named ``test_*``, run in the order
they are written, each marked with :func:`graded`. A test asks for what
it needs by parameter name, as pytest fixtures:

``student``
    the submission: ``student.conv2d_forward(x, w, b, stride=2)`` runs the
    student's function in the student's process and returns its result.
    Arguments and results are copies (arrays, numbers, strings, None, and
    tuples, lists and dicts of them).
``rng``
    a ``numpy.random.Generator`` seeded from the grading seed and the
    test's name. Draw every input from it: the seed changes at every
    grading, so an answer fixed in advance cannot pass.
``check``
    a :class:`Check`. Each call is one sub-check: ``check.close(name,
    given, expected)`` for arrays (float64, ``RTOL``/``ATOL`` unless
    given), ``check.equal`` for integers, ``check.sampled`` for gradients
    measured at a few elements, ``check.that`` for anything else. Each
    writes its own feedback line (which output, expected and given shape,
    worst element with both values, relative error and tolerance); give
    ``context=`` (the case) and ``hint=`` (said when the shape is wrong,
    e.g. the output-size arithmetic).

A complete test::

    import numpy as np
    from cnnc import reference
    from cnnc.grading import graded

    @graded(points=2, name="ReLU forward", visibility="visible")
    def test_relu_forward(student, rng, check):
        \"\"\"The first paragraph is the test's description.\"\"\"
        for shape in [(4, 3), (2, 3, 5, 5)]:
            x = rng.standard_normal(shape)
            check.close("out", student.relu_forward(x), reference.relu(x),
                        context="x of shape %s" % (shape,))

Scoring: ``points`` times the fraction of sub-checks passed (``partial=
False`` makes a test all or nothing); a test that makes no sub-check and
raises nothing gets its points. The test scores zero, with the reason, if
the student's code raises, crashes, runs out of time (``timeout=``, or
the assignment's ``time_limit``) or memory, or returns something the test
cannot use (:meth:`Check.unpack` explains a wrong tuple; raise
:class:`StudentOutputError` for other cases). A plain ``assert`` in a test
fails it with its message. ``visibility`` is one of "visible", "hidden",
"after_due_date" and "after_published" (Gradescope's meanings); it hides
results on the platforms but not the test code, which ships in the
package: keep nothing secret in it except what the seed draws.

Compare in the grader, never in the student's process: compute the
expected values with :mod:`cnnc.reference` (or NumPy) inside the test.
Keep inputs small (a few hundred elements): every test starts a process
(about 0.2 s) and the whole suite of an assignment should grade in a few
seconds.

Checking an assignment: put the solution in
``assignments_solutions/<ID>/``; the test suite grades it and must get
full marks, grades the untouched starter and must get zero, and grades
planted bugs (one line of the solution changed each), each of which must
lose exactly the points of the tests about it (see
``tests/test_grading_a1.py``).

What the grader defends against is listed in :mod:`cnnc.grading.sandbox`.
"""
from cnnc.grading.checks import (ATOL, GRAD_ATOL, GRAD_RTOL, RTOL, Check,
                                 StudentOutputError, numeric_gradient,
                                 sample_indices)
from cnnc.grading.core import (Assignment, GradingReport, Student,
                               TestResult, TestSpec, grade, graded)
from cnnc.grading.report import FORMATS, format_report, write_report
from cnnc.grading.sandbox import SandboxError, StudentError

__all__ = [
    # writing tests
    "graded", "Check", "Student", "StudentOutputError", "numeric_gradient",
    "sample_indices", "RTOL", "ATOL", "GRAD_RTOL", "GRAD_ATOL", "TestSpec",
    # grading
    "Assignment", "grade", "GradingReport", "TestResult", "StudentError",
    "SandboxError",
    # reports
    "FORMATS", "format_report", "write_report",
]
