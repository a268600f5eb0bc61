"""A grading report as text, as JSON, and in the results formats of
Gradescope and PrairieLearn.

Gradescope reads ``/autograder/results/results.json``::

    {"score": 17.5, "output": "...", "visibility": "visible",
     "stdout_visibility": "hidden", "execution_time": 3.2,
     "tests": [{"name": "...", "number": "1", "score": 2.0,
                "max_score": 2.0, "status": "passed", "output": "...",
                "visibility": "visible"}, ...]}

``status`` is "passed" or "failed" (a test with part of its points is
"failed"); ``visibility`` is one of "visible", "hidden", "after_due_date",
"after_published", the test's own.

PrairieLearn reads ``/grade/results/results.json``::

    {"gradable": true, "score": 0.875, "message": "...", "output": "",
     "tests": [{"name": "...", "description": "...", "points": 2.0,
                "max_points": 2.0, "message": "...", "output": "..."}]}

with ``score`` the fraction in [0, 1]. PrairieLearn has no per-test
visibility: a test that is not "visible" shows its name and points, and
its feedback is replaced by a line saying it is hidden.

The text report is for a student's own check; it shows every test, marks
the hidden ones, and gives the seed to draw the same inputs again.
"""
import json
import os
import tempfile

__all__ = ["FORMATS", "format_report", "to_text", "to_json",
           "to_gradescope", "to_prairielearn", "write_report"]

FORMATS = ("text", "json", "gradescope", "prairielearn")

HIDDEN_FEEDBACK = ("The feedback of this test is hidden; its points count "
                   "in the score.")


def _points(value):
    return ("%.2f" % value).rstrip("0").rstrip(".")


def to_text(report):
    """The report as the student reads it in a terminal."""
    lines = ["cnnc grade %s (%s): %s" % (report.assignment, report.title,
                                         report.submission), ""]
    for warning in report.warnings:
        lines.append("WARNING " + warning)
    if report.warnings:
        lines.append("")
    mark = {"passed": "PASS", "partial": "PART", "failed": "FAIL",
            "error": "ERR ", "grader_error": "BUG "}
    for t in report.tests:
        tag = "" if t.visibility == "visible" else \
            "  [%s on the course platform]" % t.visibility.replace("_", " ")
        lines.append("%s %5s/%-3s %d. %s%s" % (
            mark.get(t.status, t.status), _points(t.score),
            _points(t.max_score), t.number, t.name, tag))
        if t.status != "passed" or t.checks_total > 1:
            for line in t.output.splitlines():
                lines.append("            " + line)
    lines += ["", "score: %s / %s" % (_points(report.score),
                                      _points(report.max_score)),
              "seed %d (cnnc grade %s DIR --seed %d draws the same inputs)"
              % (report.seed, report.assignment, report.seed)]
    return "\n".join(lines) + "\n"


def to_json(report):
    """Everything in the report, as a dict (written as JSON)."""
    return report.to_dict()


def _summary(report):
    lines = ["%s (%s): %s / %s points" % (
        report.assignment, report.title, _points(report.score),
        _points(report.max_score))]
    lines += ["WARNING " + w for w in report.warnings]
    return "\n".join(lines)


def to_gradescope(report):
    """The report in Gradescope's results.json format."""
    tests = []
    for t in report.tests:
        tests.append({
            "name": "%d. %s" % (t.number, t.name),
            "number": str(t.number),
            "score": t.score,
            "max_score": t.max_score,
            "status": "passed" if t.score >= t.max_score else "failed",
            "output": t.output,
            "visibility": t.visibility,
        })
    return {
        "score": report.score,
        "output": _summary(report),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "execution_time": report.duration,
        "tests": tests,
    }


def _status_message(t):
    if t.status == "passed":
        return "passed"
    if t.status in ("partial", "failed"):
        return "%d of %d checks passed" % (t.checks_passed, t.checks_total)
    if t.status == "error":
        return "your code failed while this test ran: see the output"
    return "the test itself failed: please tell your instructor"


def to_prairielearn(report):
    """The report in PrairieLearn's external-grader results format."""
    tests = []
    for t in report.tests:
        shown = t.visibility == "visible"
        tests.append({
            "name": "%d. %s" % (t.number, t.name),
            "description": t.description.split("\n\n")[0] if shown else "",
            "points": t.score,
            "max_points": t.max_score,
            "message": _status_message(t) if shown else HIDDEN_FEEDBACK,
            "output": t.output if shown else "",
        })
    fraction = report.score / report.max_score if report.max_score else 0.0
    return {
        "gradable": True,
        "score": min(1.0, max(0.0, round(fraction, 6))),
        "message": _summary(report),
        "output": "",
        "tests": tests,
    }


def format_report(report, fmt):
    """The report as a string in one of :data:`FORMATS`."""
    if fmt not in FORMATS:
        raise ValueError("format must be one of %s, got %r"
                         % (", ".join(FORMATS), fmt))
    if fmt == "text":
        return to_text(report)
    data = {"json": to_json, "gradescope": to_gradescope,
            "prairielearn": to_prairielearn}[fmt](report)
    return json.dumps(data, indent=2) + "\n"


def write_report(report, fmt, path):
    """Write the report to ``path`` through a temporary file and a rename,
    so a reader never sees half a file (and whatever was at ``path``
    before is replaced)."""
    text = format_report(report, fmt)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".results-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
