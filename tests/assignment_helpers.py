"""What the tests of the assignments A2, A4 and A5 share: the instructor's
solution, submissions written to a folder, planted bugs (one change to
the solution), and the comparison of scores with the expected ones."""
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTIONS = os.path.join(REPO, "assignments_solutions")
BEGIN, END = "# ---- YOUR CODE HERE ----", "# ---- END OF YOUR CODE ----"


def solution_path(assignment_id, filename):
    return os.path.join(SOLUTIONS, assignment_id, filename)


def needs_solution(assignment_id, filename):
    """Skip a module's tests in a copy of cnnc without the solutions."""
    return pytest.mark.skipif(
        not os.path.exists(solution_path(assignment_id, filename)),
        reason="the instructor solutions are not in this copy of cnnc")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def submit(folder, filename, source):
    """Write ``source`` as the submission's ``filename`` in ``folder``."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, filename), "w", encoding="utf-8") as f:
        f.write(source)
    return str(folder)


def in_function(source, function, old, new):
    """``source`` with ``old`` replaced by ``new`` inside ``def
    function`` only (every occurrence there; there must be one)."""
    start = source.index("\ndef %s(" % function)
    end = source.find("\ndef ", start + 1)
    end = len(source) if end < 0 else end
    body = source[start:end]
    assert old in body, "%r is not in %s" % (old, function)
    return source[:start] + body.replace(old, new) + source[end:]


def outside_regions(text):
    """The text with every marked region collapsed, without its first
    line (the solution's title says it is the solution)."""
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), "REGION", text,
                  flags=re.S)
    return text.split("\n", 1)[1]


def assert_scores(report, points, expected):
    """Every test scores ``expected[id]`` if given, else full points; an
    expected value of None means the test depends on the random cases
    drawn, and is not compared."""
    scores = {t.id: t.score for t in report.tests
              if expected.get(t.id, 0) is not None}
    wanted = {test_id: expected.get(test_id, full)
              for test_id, full in points.items() if test_id in scores}
    assert scores == pytest.approx(wanted), "\n".join(
        "%s: %s expected %s\n%s" % (t.id, t.score, wanted[t.id], t.output)
        for t in report.tests if t.score != pytest.approx(wanted[t.id]))


def assert_feedback(report, expected, words):
    """Each phrase of ``words`` is in the feedback of the tests that lost
    points."""
    feedback = "\n".join(t.output for t in report.tests if t.id in expected)
    for phrase in words:
        assert phrase in feedback, feedback
