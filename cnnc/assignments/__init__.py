"""cnnc.assignments: the course assignments shipped with cnnc.

Each assignment is a folder of this package with an ``assignment.json``,
a ``starter/`` folder copied to the student, and the graded ``tests.py``
(how to write one: :mod:`cnnc.grading`). The instructors' solutions are
not part of the package.

Examples
--------
>>> from cnnc import assignments
>>> [a.id for a in assignments.available()][:1]
['A1']
>>> assignments.get("a1").title
'Convolution'
"""
import os
import shutil

__all__ = ["available", "get", "start"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_cache = {}


def _folders():
    for name in sorted(os.listdir(_HERE)):
        if os.path.isfile(os.path.join(_HERE, name, "assignment.json")):
            yield name


def available():
    """The shipped assignments, in order of their ids."""
    from cnnc.grading.core import Assignment
    found = []
    for name in _folders():
        if name not in _cache:
            _cache[name] = Assignment.from_folder(
                os.path.join(_HERE, name), package="%s.%s" % (__name__, name))
        found.append(_cache[name])
    return sorted(found, key=lambda a: (len(a.id), a.id))


def get(assignment_id):
    """The assignment with this id (``"A1"``; case does not matter).

    Raises
    ------
    ValueError
        No assignment has this id.
    """
    if not isinstance(assignment_id, str):
        raise TypeError("assignment_id must be a string such as 'A1', got %r"
                        % (assignment_id,))
    every = available()
    for a in every:
        if a.id.lower() == assignment_id.strip().lower():
            return a
    raise ValueError("no assignment %r; the assignments are %s"
                     % (assignment_id, ", ".join(a.id for a in every)))


def start(assignment_id, folder, overwrite=False):
    """Copy an assignment's starter files into ``folder`` (created if
    needed) and return the paths written.

    Raises
    ------
    FileExistsError
        A starter file is already in ``folder`` and ``overwrite`` is False
        (nobody's work is overwritten by accident).
    """
    assignment = get(assignment_id)
    os.makedirs(folder, exist_ok=True)
    targets = [os.path.join(folder, name) for name in assignment.files]
    existing = [t for t in targets if os.path.exists(t)]
    if existing and not overwrite:
        raise FileExistsError(
            "%s already exists; not overwriting it (move it away, or pass "
            "overwrite=True / --force)" % ", ".join(existing))
    for name, target in zip(assignment.files, targets):
        shutil.copyfile(os.path.join(assignment.starter_folder, name), target)
    return targets
