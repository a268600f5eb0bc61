"""The autograders written by ``cnnc assignments export`` follow the
formats of Gradescope, PrairieLearn and otter-grader, and grade."""
import inspect
import json
import os
import shutil
import stat
import subprocess
import sys
import types
import uuid
import zipfile

import pytest

import cnnc
from cnnc import assignments
from cnnc.cli import main
from cnnc.grading.export import export

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLUTION = os.path.join(REPO, "assignments_solutions", "A1", "conv.py")
needs_solution = pytest.mark.skipif(
    not os.path.exists(SOLUTION),
    reason="the instructor solutions are not in this copy of cnnc")

GRADESCOPE_VISIBILITIES = {"hidden", "after_due_date", "after_published",
                           "visible"}


def environment(**extra):
    """The environment of a grading subprocess: the cnnc these tests
    import (installed, or built in place in the source tree) first on the
    path, no sandbox user (this test may run as root without a Python
    that 'nobody' can run)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(cnnc.__file__)))]
        + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["CNNC_SANDBOX_USER"] = ""
    env.update(extra)
    return env


def check_gradescope_results(data, max_score):
    """The fields Gradescope's autograder specification names."""
    assert isinstance(data["score"], (int, float))
    assert data["visibility"] in GRADESCOPE_VISIBILITIES
    assert isinstance(data["output"], str)
    assert data["tests"], "no tests in the results"
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status",
                             "output", "visibility"}
        assert isinstance(test["name"], str) and test["name"]
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in {"passed", "failed"}
        assert (test["status"] == "passed") == (
            test["score"] == test["max_score"])
        assert isinstance(test["output"], str)
        assert test["visibility"] in GRADESCOPE_VISIBILITIES
    assert data["score"] == pytest.approx(sum(t["score"]
                                              for t in data["tests"]))
    assert sum(t["max_score"] for t in data["tests"]) == max_score


def check_prairielearn_results(data):
    """The fields of PrairieLearn's external grader results."""
    assert data["gradable"] is True
    assert 0.0 <= data["score"] <= 1.0
    assert isinstance(data["message"], str)
    points = max_points = 0.0
    for test in data["tests"]:
        assert set(test) >= {"name", "points", "max_points", "message"}
        assert 0 <= test["points"] <= test["max_points"]
        assert isinstance(test["message"], str)
        points += test["points"]
        max_points += test["max_points"]
    assert data["score"] == pytest.approx(points / max_points)


# -- Gradescope ---------------------------------------------------------------------

@needs_solution
def test_gradescope_zip_has_the_two_scripts_and_grades(tmp_path):
    folder = tmp_path / "export"
    assert main(["assignments", "export", "A1", "--to", "gradescope",
                 str(folder)]) == 0
    with zipfile.ZipFile(folder / "autograder.zip") as z:
        names = sorted(z.namelist())
        assert names == ["run_autograder", "setup.sh"]
        for info in z.infolist():
            mode = info.external_attr >> 16
            assert mode & stat.S_IXUSR, "%s is not executable" % info.filename
        z.extractall(tmp_path / "source")
    setup = (tmp_path / "source" / "setup.sh").read_text()
    assert setup.startswith("#!/usr/bin/env bash")
    assert "pip install \"cnnc==%s\"" % cnnc.__version__ in setup
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(tmp_path / "source" / script)],
                       check=True)
    run = (tmp_path / "source" / "run_autograder").read_text()
    assert "--user \"$SANDBOX_USER\"" in run and "nobody" in run
    assert "results/results.json" in run

    # Run it as Gradescope would, with the root moved to a temporary folder.
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(SOLUTION, root / "submission" / "conv.py")
    done = subprocess.run(
        ["bash", str(tmp_path / "source" / "run_autograder")],
        env=environment(AUTOGRADER_ROOT=str(root),
                        CNNC_PYTHON=sys.executable),
        cwd=str(root), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    check_gradescope_results(data, 20)
    assert data["score"] == 20
    visibility = {t["name"].split(". ", 1)[1]: t["visibility"]
                  for t in data["tests"]}
    for test in assignments.get("A1").tests:
        assert visibility[test.grading.name] == test.grading.visibility


def test_gradescope_export_ships_a_given_wheel(tmp_path):
    wheel = tmp_path / "cnnc-0.1.0-cp311-cp311-linux_x86_64.whl"
    wheel.write_bytes(b"not really a wheel, only copied")
    written = export("A1", "gradescope", str(tmp_path / "out"),
                     package=str(wheel))
    with zipfile.ZipFile(tmp_path / "out" / "autograder.zip") as z:
        assert wheel.name in z.namelist()
        setup = z.read("setup.sh").decode()
    assert 'pip install "./%s"' % wheel.name in setup
    assert any(p.endswith(wheel.name) for p in written)


# -- PrairieLearn -------------------------------------------------------------------

def test_prairielearn_question_grades_the_starter_to_zero(tmp_path):
    folder = tmp_path / "question"
    assert main(["assignments", "export", "A1", "--to", "prairielearn",
                 str(folder)]) == 0
    info = json.loads((folder / "info.json").read_text())
    uuid.UUID(info["uuid"])
    assert info["type"] == "v3"
    assert info["gradingMethod"] == "External"
    options = info["externalGradingOptions"]
    assert options["enabled"] is True
    assert options["image"]
    assert options["entrypoint"] == "python3 /grade/tests/test.py"
    assert 0 < options["timeout"] <= 600
    html = (folder / "question.html").read_text()
    assert '<pl-file-upload file-names="conv.py">' in html
    assert "<pl-external-grader-results>" in html
    assert (folder / "clientFilesQuestion" / "conv.py").read_text() == open(
        os.path.join(assignments.get("A1").starter_folder, "conv.py")).read()
    assert "FROM prairielearn/grader-python" in (folder / "Dockerfile"
                                                 ).read_text()

    # PrairieLearn's layout: the upload in student/, the tests in tests/.
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    assignments.start("A1", str(root / "student"))
    shutil.copytree(folder / "tests", root / "tests")
    subprocess.run([sys.executable, str(root / "tests" / "test.py")],
                   env=environment(CNNC_GRADE_ROOT=str(root)), check=True,
                   cwd=str(root), timeout=300)
    data = json.loads((root / "results" / "results.json").read_text())
    check_prairielearn_results(data)
    assert data["score"] == 0.0
    messages = {t["name"]: t for t in data["tests"]}
    first = messages["1. Output size"]
    assert "NotImplementedError" in first["output"]
    hidden = [t for t in data["tests"] if "stride and padding" in t["name"]]
    assert hidden and hidden[0]["output"] == ""
    assert "hidden" in hidden[0]["message"]


def test_prairielearn_entry_point_marks_an_ungradable_job(tmp_path):
    export("A1", "prairielearn", str(tmp_path / "q"))
    root = tmp_path / "grade"
    shutil.copytree(tmp_path / "q" / "tests", root / "tests")
    # No student/ folder: the grader cannot run, which costs no attempt.
    subprocess.run([sys.executable, str(root / "tests" / "test.py")],
                   env=environment(CNNC_GRADE_ROOT=str(root)), check=True,
                   cwd=str(root), timeout=120)
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["gradable"] is False
    assert "submission must be a folder" in data["format_errors"][0]


# -- otter ---------------------------------------------------------------------------

def fake_otter():
    """A stand-in for ``otter.test_files`` with the documented contract of
    its exception-format decorator: ``test_case(name=None, points=None,
    hidden=False, success_message=None, failure_message=None)`` wraps a
    function whose parameters are looked up in the notebook's global
    environment, ``env`` being that environment itself."""

    class test_case:
        def __init__(self, name=None, points=None, hidden=False,
                     success_message=None, failure_message=None):
            self.name, self.points, self.hidden = name, points, hidden

        def __call__(self, function):
            self.test_func = function
            return self

        def call_func(self, env):
            names = inspect.signature(self.test_func).parameters
            return self.test_func(**{n: env if n == "env" else env.get(n)
                                     for n in names})

    otter = types.ModuleType("otter")
    test_files = types.ModuleType("otter.test_files")
    test_files.test_case = test_case
    otter.test_files = test_files
    return {"otter": otter, "otter.test_files": test_files}, test_case


def namespace_of(path):
    env = {}
    exec(compile(open(path).read(), path, "exec"), env)
    return env


@needs_solution
def test_otter_test_files_pass_the_solution_and_fail_the_starter(
        tmp_path, monkeypatch):
    folder = tmp_path / "otter"
    assert main(["assignments", "export", "A1", "--to", "otter",
                 str(folder)]) == 0
    modules, test_case = fake_otter()
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    assert (folder / "requirements.txt").read_text().strip() == \
        "cnnc==%s" % cnnc.__version__

    assignment = assignments.get("A1")
    files = sorted((folder / "tests").glob("*.py"))
    assert len(files) == len(assignment.tests)
    solution = namespace_of(SOLUTION)
    starter = namespace_of(str(folder / "conv.py"))
    total = 0.0
    for path, test in zip(files, assignment.tests):
        env = {}
        exec(compile(path.read_text(), str(path), "exec"), env)
        assert env["OK_FORMAT"] is False
        assert isinstance(env["name"], str)
        cases = [v for v in env.values() if isinstance(v, test_case)]
        assert len(cases) == 1
        case = cases[0]
        assert list(inspect.signature(case.test_func).parameters) == ["env"]
        assert case.points == env["points"] == test.grading.points
        assert case.hidden == (test.grading.visibility != "visible")
        total += case.points

        case.call_func(solution)
        with pytest.raises(AssertionError, match=r"0 / "):
            case.call_func(starter)
    assert total == assignment.points
