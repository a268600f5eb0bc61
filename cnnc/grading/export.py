"""Autograders for Gradescope, PrairieLearn and otter-grader.

``cnnc assignments export A1 --to PLATFORM DIR`` writes what the platform
needs to grade the assignment with cnnc, and nothing else has to be
written by hand:

gradescope
    ``autograder.zip`` with ``setup.sh`` (installs cnnc when Gradescope
    builds the image) and ``run_autograder`` (grades
    ``/autograder/submission`` into ``/autograder/results/results.json``,
    running the student's code as ``nobody`` and closing ``/autograder``
    to it), and the same files unzipped beside it.
prairielearn
    a question folder: ``info.json`` (external grading on), a
    ``question.html`` with a file upload, the starter under
    ``clientFilesQuestion/``, ``tests/test.py`` (the entry point, which
    writes ``/grade/results/results.json``) and a ``Dockerfile`` for the
    grading image (PrairieLearn's python grader plus cnnc).
otter
    one exception-format test file per graded test under ``tests/``, for
    ``otter assign`` or ``otter generate``; each runs the cnnc test on the
    functions the student's notebook defines. otter runs the student's
    code in its own container, so nothing is sandboxed here, and each test
    is all or nothing (the format has no partial credit).

cnnc must be installable where the grader runs: by default the scripts
install ``cnnc==<this version>`` from the package index; ``package=`` (or
``--package``) names a wheel or sdist file to ship and install instead.
"""
import json
import os
import shutil
import stat
import uuid
import zipfile

import cnnc
from cnnc.grading.core import Assignment, grade_in_process

__all__ = ["PLATFORMS", "export", "otter_check"]

PLATFORMS = ("gradescope", "prairielearn", "otter")

# Seconds for starting Python and loading cnnc, beyond the tests' limits.
STARTUP_SECONDS = 30


def _requirement(package):
    """(pip argument, file to ship or None) for the cnnc to install."""
    if package is None:
        return "cnnc==%s" % cnnc.__version__, None
    if os.path.isfile(package):
        name = os.path.basename(package)
        return "./" + name, package
    return package, None


def _write(path, text, executable=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    if executable:
        mode = os.stat(path).st_mode
        os.chmod(path, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _time_budget(assignment):
    """Seconds the whole grading may take: every test at its limit."""
    per_test = [t.grading.timeout or assignment.time_limit
                for t in assignment.tests]
    return int(sum(per_test) + STARTUP_SECONDS)


# -- Gradescope -------------------------------------------------------------------

GRADESCOPE_SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# for {id} ({title}). It installs cnnc and the compiler its C core needs.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends python3 python3-pip python3-dev \\
    build-essential
cd /autograder/source
python3 -m pip install --upgrade pip
python3 -m pip install "{requirement}"
python3 -m cnnc assignments list
"""

GRADESCOPE_RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission of {id} ({title}). The
# student's files are in /autograder/submission; cnnc grades a copy of
# them, one test at a time, in processes running as the user 'nobody'
# that may not open anything under /autograder, and writes the results
# that Gradescope reads. Nothing the student's code prints or writes
# reaches that file.
#
# AUTOGRADER_ROOT, CNNC_PYTHON and CNNC_SANDBOX_USER exist to try this
# script outside Gradescope; leave them unset there.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{CNNC_PYTHON:-python3}}"
SANDBOX_USER="${{CNNC_SANDBOX_USER-nobody}}"
USER_ARGS=()
if [ -n "$SANDBOX_USER" ]; then
    USER_ARGS=(--user "$SANDBOX_USER")
fi
mkdir -p "$ROOT/results"
exec "$PYTHON" -m cnnc grade {id} "$ROOT/submission" \\
    --format gradescope --output "$ROOT/results/results.json" \\
    --protect "$ROOT" "${{USER_ARGS[@]}}"
"""

GRADESCOPE_README = """\
Gradescope autograder for cnnc assignment {id}: {title}
{underline}

1. Create a "Programming Assignment" on Gradescope worth {points:g} points.
2. Upload autograder.zip as its autograder ("Zip file upload"). The base
   image may be any Ubuntu one; setup.sh installs Python, a compiler and
   {requirement}.
3. Students submit {files} (the file(s) that 'cnnc assignments start {id}
   DIR' gives them), filled in.

Each submission is graded with fresh random inputs by run_autograder; the
results have one entry per test with its score, feedback and visibility
(hidden tests: "{hidden}"). Grading takes at most about {budget} s.

Try it on a machine of your own (as root, with cnnc installed):

    mkdir -p /tmp/ag/submission && cp {files} /tmp/ag/submission/
    AUTOGRADER_ROOT=/tmp/ag ./run_autograder && cat /tmp/ag/results/results.json
"""


def _export_gradescope(assignment, folder, package):
    requirement, shipped = _requirement(package)
    fields = dict(id=assignment.id, title=assignment.title,
                  requirement=requirement, points=assignment.points,
                  files=", ".join(assignment.files),
                  budget=_time_budget(assignment),
                  underline="=" * (42 + len(assignment.id + assignment.title)),
                  hidden=", ".join(t.grading.name for t in assignment.tests
                                   if t.grading.visibility != "visible")
                  or "none")
    source = os.path.join(folder, "autograder")
    written = [
        _write(os.path.join(source, "setup.sh"),
               GRADESCOPE_SETUP.format(**fields), executable=True),
        _write(os.path.join(source, "run_autograder"),
               GRADESCOPE_RUN.format(**fields), executable=True),
    ]
    if shipped:
        target = os.path.join(source, os.path.basename(shipped))
        shutil.copyfile(shipped, target)
        written.append(target)
    archive = os.path.join(folder, "autograder.zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in written:
            info = zipfile.ZipInfo(os.path.basename(path))
            info.external_attr = (os.stat(path).st_mode & 0o777 |
                                  stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as f:
                z.writestr(info, f.read())
    readme = _write(os.path.join(folder, "README.txt"),
                    GRADESCOPE_README.format(**fields))
    return [archive] + written + [readme]


# -- PrairieLearn -------------------------------------------------------------------

PRAIRIELEARN_TEST = '''\
"""PrairieLearn's entry point for cnnc assignment {id} ({title}).

PrairieLearn copies the student's upload to /grade/student and this
file to /grade/tests, runs it in the grading image, and reads
/grade/results/results.json. cnnc grades a copy of the upload, one test
at a time, in processes running as 'nobody' that may not open anything
under /grade. If the grader itself cannot run, the submission is marked
not gradable (no points lost, no attempt used) with the reason.

CNNC_GRADE_ROOT and CNNC_SANDBOX_USER exist to try this outside
PrairieLearn; leave them unset there.
"""
import json
import os
import sys
import traceback

ROOT = os.environ.get("CNNC_GRADE_ROOT", "/grade")
SANDBOX_USER = os.environ.get("CNNC_SANDBOX_USER", "nobody")
RESULTS = os.path.join(ROOT, "results", "results.json")


def main():
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    try:
        from cnnc.grading import grade, write_report
        report = grade("{id}", os.path.join(ROOT, "student"),
                       user=SANDBOX_USER or None, protect=[ROOT])
        write_report(report, "prairielearn", RESULTS)
    except Exception:
        problem = traceback.format_exc()
        print(problem, file=sys.stderr)
        with open(RESULTS, "w") as f:
            json.dump({{"gradable": False,
                       "format_errors": ["the cnnc grader could not run: "
                                         + problem.strip().splitlines()[-1]]
                       }}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

PRAIRIELEARN_QUESTION = """\
<pl-question-panel>
  <p>
    <strong>cnnc assignment {id}: {title}.</strong>
    Write {summary}.
  </p>
  <p>
    Download the starter{plural}
    {downloads},
    fill in the regions marked <code>YOUR CODE HERE</code>, check your work
    with <code>cnnc grade {id} DIR</code>, and upload the file{plural} here.
    Every submission is graded on new random inputs.
  </p>
</pl-question-panel>

<pl-file-upload file-names="{file_names}"></pl-file-upload>

<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""

PRAIRIELEARN_DOCKERFILE = """\
# The grading image of cnnc assignment {id}: PrairieLearn's Python grader
# with cnnc installed. Build it, push it to Docker Hub under your account
# and put its name in info.json ("image"), e.g.
#     docker build -t {image} . && docker push {image}
FROM prairielearn/grader-python
{copy}RUN python3 -m pip install --no-cache-dir "{requirement}"
"""

PRAIRIELEARN_README = """\
PrairieLearn question for cnnc assignment {id}: {title}
{underline}

Copy this folder into your course's questions/ folder. Before it can
grade, build the grading image from the Dockerfile, push it to Docker Hub,
and set "image" in info.json to its name (now "{image}").

The question has external grading on (timeout {budget} s): PrairieLearn
runs tests/test.py in that image, which runs 'cnnc grade {id}' on the
upload and writes /grade/results/results.json: score in [0, 1] and one
entry per test with points, max_points, message and output. Tests that
are not visible on other platforms show their points but not their
feedback.
"""


def _export_prairielearn(assignment, folder, package, image):
    requirement, shipped = _requirement(package)
    image = image or "cnnc-grader:%s" % cnnc.__version__
    budget = min(600, _time_budget(assignment))
    info = {
        "uuid": str(uuid.uuid4()),
        "title": "%s: %s" % (assignment.id, assignment.title),
        "topic": "Convolutional networks",
        "tags": ["cnnc", assignment.id],
        "type": "v3",
        "singleVariant": True,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": True,
            "image": image,
            "entrypoint": "python3 /grade/tests/test.py",
            "timeout": budget,
        },
    }
    plural = "s" if len(assignment.files) > 1 else ""
    downloads = ", ".join(
        '<a href="{{ options.client_files_question_url }}/%s" download>'
        '<code>%s</code></a>' % (f, f) for f in assignment.files)
    fields = dict(id=assignment.id, title=assignment.title,
                  summary=assignment.summary, plural=plural,
                  downloads=downloads, file_names=", ".join(assignment.files),
                  requirement=requirement, image=image, budget=budget,
                  underline="=" * (41 + len(assignment.id + assignment.title)),
                  copy="")
    written = [_write(os.path.join(folder, "info.json"),
                      json.dumps(info, indent=2) + "\n")]
    written.append(_write(os.path.join(folder, "question.html"),
                          PRAIRIELEARN_QUESTION.format(**fields)))
    written.append(_write(os.path.join(folder, "tests", "test.py"),
                          PRAIRIELEARN_TEST.format(**fields)))
    for name in assignment.files:
        target = os.path.join(folder, "clientFilesQuestion", name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(assignment.starter_folder, name), target)
        written.append(target)
    if shipped:
        target = os.path.join(folder, os.path.basename(shipped))
        shutil.copyfile(shipped, target)
        written.append(target)
        fields["copy"] = "COPY %s /tmp/\n" % os.path.basename(shipped)
        fields["requirement"] = "/tmp/" + os.path.basename(shipped)
    written.append(_write(os.path.join(folder, "Dockerfile"),
                          PRAIRIELEARN_DOCKERFILE.format(**fields)))
    written.append(_write(os.path.join(folder, "README.txt"),
                          PRAIRIELEARN_README.format(**fields)))
    return written


# -- otter ---------------------------------------------------------------------------

OTTER_TEST = '''\
"""cnnc assignment {id}, test {number} of {count}: {name}.

Generated by 'cnnc assignments export {id} --to otter'. The test draws
new random inputs each time, runs the functions the student's notebook
defines ({functions}) and compares them with cnnc's reference.
"""
from otter.test_files import test_case

OK_FORMAT = False

name = "{test_name}"
points = {points!r}


@test_case(points={points!r}, hidden={hidden!r})
def {function}(env):
    from cnnc.grading.export import otter_check
    otter_check("{id}", "{function}", env)
'''

OTTER_README = """\
otter-grader tests for cnnc assignment {id}: {title}
{underline}

tests/ holds one exception-format test file per graded test ({count}
files, {points:g} points). Use them with 'otter assign' (put them in the
assignment's tests folder) or 'otter generate'; requirements.txt installs
cnnc in otter's grading image.

The student's notebook defines the functions of {files} (or imports them
from that file). Each test runs them on new random inputs in the notebook's
own process: otter's container is the sandbox here. A test is all or
nothing; its failure message lists every sub-check.
"""


def _export_otter(assignment, folder, package):
    requirement, shipped = _requirement(package)
    written = []
    count = len(assignment.tests)
    for number, test in enumerate(assignment.tests, 1):
        spec = test.grading
        test_name = "%s-%02d-%s" % (assignment.id, number,
                                    test.__name__.removeprefix("test_"))
        text = OTTER_TEST.format(
            id=assignment.id, number=number, count=count, name=spec.name,
            test_name=test_name, points=spec.points,
            hidden=spec.visibility != "visible", function=test.__name__,
            functions=", ".join(assignment.files))
        written.append(_write(os.path.join(folder, "tests",
                                           test_name + ".py"), text))
    if shipped:
        target = os.path.join(folder, os.path.basename(shipped))
        shutil.copyfile(shipped, target)
        written.append(target)
    written.append(_write(os.path.join(folder, "requirements.txt"),
                          requirement + "\n"))
    for name in assignment.files:
        target = os.path.join(folder, name)
        shutil.copyfile(os.path.join(assignment.starter_folder, name), target)
        written.append(target)
    written.append(_write(os.path.join(folder, "README.txt"), OTTER_README.format(
        id=assignment.id, title=assignment.title, count=count,
        points=assignment.points, files=", ".join(assignment.files),
        underline="=" * (38 + len(assignment.id + assignment.title)))))
    return written


def otter_check(assignment_id, test_name, env):
    """Run one cnnc test on the functions in ``env`` (a notebook's global
    namespace); raise AssertionError with the feedback unless it scores
    full points. Called by the test files of the otter export."""
    import secrets
    from cnnc import assignments
    assignment = assignments.get(assignment_id)
    tests = {t.__name__: t for t in assignment.tests}
    if test_name not in tests:
        raise ValueError("no test %r in %s" % (test_name, assignment_id))
    result = grade_in_process(tests[test_name], dict(env),
                              secrets.randbits(63))
    if result.score < result.max_score:
        raise AssertionError("%s: %g / %g\n%s" % (
            result.name, result.score, result.max_score, result.output))


def export(assignment, platform, folder, package=None, image=None):
    """Write an autograder for ``platform`` into ``folder``.

    Parameters
    ----------
    assignment : Assignment or str
    platform : {"gradescope", "prairielearn", "otter"}
    folder : str
        Created if needed; files of the same names are replaced.
    package : str, optional
        What the grader installs: a pip requirement, or the path of a cnnc
        wheel or sdist to ship with the autograder (default
        ``cnnc==<this version>``).
    image : str, optional
        PrairieLearn only: the grading image's name in ``info.json``.

    Returns
    -------
    list of str
        The files written.
    """
    if isinstance(assignment, str):
        from cnnc import assignments
        assignment = assignments.get(assignment)
    if not isinstance(assignment, Assignment):
        raise TypeError("assignment must be an Assignment or an id such as "
                        "'A1', got %r" % (assignment,))
    if platform not in PLATFORMS:
        raise ValueError("platform must be one of %s, got %r"
                         % (", ".join(PLATFORMS), platform))
    os.makedirs(folder, exist_ok=True)
    if platform == "gradescope":
        return _export_gradescope(assignment, folder, package)
    if platform == "prairielearn":
        return _export_prairielearn(assignment, folder, package, image)
    return _export_otter(assignment, folder, package)
