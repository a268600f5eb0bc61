"""Saving and loading models and training checkpoints.

A cnnc file is an ordinary ``.npz`` archive (NumPy's zip of arrays) with:

- ``__cnnc__``: a header, UTF-8 JSON stored as a uint8 array, holding the
  file kind (``"cnnc.model"`` or ``"cnnc.checkpoint"``), the format
  version, the architecture from :meth:`cnnc.nn.Module.get_config`, the
  names of frozen parameters and, for checkpoints, the epoch, the
  optimiser's state and any extra values;
- ``state/<key>``: one array per entry of the model's state dict, under
  PyTorch's key names (``state/encoder.0.weight``);
- ``optimizer/<n>`` and ``extra/<n>``: the arrays found inside the
  optimiser's state dict and the extra values, referred to from the JSON.

Files are read with ``allow_pickle=False`` and the header can only name
Module classes that are already defined, so loading a file never runs code
from it. Files are written to a temporary file in the destination folder
and renamed over the destination, so a crash never leaves half a file.
"""
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from cnnc.nn.module import Module

__all__ = ["FORMAT_VERSION", "save", "load", "save_checkpoint",
           "load_checkpoint", "read_header"]

FORMAT_VERSION = 1
"""int: the version of the file layout that this cnnc writes and reads."""

_HEADER = "__cnnc__"
_MODEL = "cnnc.model"
_CHECKPOINT = "cnnc.checkpoint"
_ERRORS = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile,
           zlib.error, UnicodeDecodeError)


# -- writing ------------------------------------------------------------------

def save(model, path, metadata=None):
    """Write ``model`` (architecture and weights) to the ``.npz`` file ``path``.

    Parameters
    ----------
    model : Module
    path : str or path-like
        Written exactly as given (no suffix is added); ``.npz`` is usual.
    metadata : dict, optional
        JSON-safe values (and arrays) kept with the model, returned by
        :func:`read_header`; e.g. what it was trained on.

    Examples
    --------
    >>> import os, tempfile
    >>> from cnnc.nn import Conv2d, Sequential
    >>> from cnnc import io
    >>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
    >>> io.save(Sequential(Conv2d(1, 4, 3)), path)
    >>> io.load(path)
    Sequential(
      (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1))
    )
    """
    arrays = {}
    header = _model_header(model, _MODEL, arrays)
    header["metadata"] = _encode(metadata, arrays, "extra/", "metadata")
    _write(path, header, arrays)


def save_checkpoint(path, model, optimizer=None, epoch=None, extra=None):
    """Write the model, the optimiser's state and the epoch, for resuming.

    Parameters
    ----------
    path : str or path-like
    model : Module
    optimizer : object with ``state_dict()``, optional
        Its state dict (parameter groups, per-parameter state such as
        momentum buffers) may hold numbers, strings, lists, tuples, dicts
        and arrays.
    epoch : int, optional
        The number of epochs completed.
    extra : dict, optional
        Anything else to keep (history, random state), JSON-safe values
        and arrays.

    Examples
    --------
    >>> import os, tempfile
    >>> from cnnc.nn import Conv2d
    >>> from cnnc import io
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> io.save_checkpoint(path, Conv2d(1, 2, 3), epoch=4,
    ...                    extra={"best_accuracy": 0.9})
    >>> ckpt = io.load_checkpoint(path)
    >>> ckpt["epoch"], ckpt["extra"]
    (4, {'best_accuracy': 0.9})
    """
    if epoch is not None and (isinstance(epoch, bool) or
                              not isinstance(epoch, (int, np.integer))):
        raise TypeError("epoch must be an int or None, got %r" % (epoch,))
    arrays = {}
    header = _model_header(model, _CHECKPOINT, arrays)
    header["epoch"] = None if epoch is None else int(epoch)
    header["optimizer"] = None
    if optimizer is not None:
        header["optimizer"] = _encode(optimizer.state_dict(), arrays,
                                      "optimizer/", "optimizer.state_dict()")
    header["extra"] = _encode(extra, arrays, "extra/", "extra")
    _write(path, header, arrays)


def _model_header(model, kind, arrays):
    if not isinstance(model, Module):
        raise TypeError("model must be a cnnc Module, got %s"
                        % type(model).__name__)
    from cnnc import __version__
    for key, value in model.state_dict().items():
        arrays["state/" + key] = np.asarray(value)
    return {
        "format": kind,
        "version": FORMAT_VERSION,
        "cnnc_version": __version__,
        "config": model.get_config(),
        "frozen": [name for name, p in model.named_parameters()
                   if not p.requires_grad],
    }


def _write(path, header, arrays):
    """Write the archive to a temporary file beside ``path``, then rename."""
    path = os.fspath(path)
    text = json.dumps(header).encode("utf-8")
    entries = {_HEADER: np.frombuffer(text, dtype=np.uint8)}
    entries.update(arrays)
    folder = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(
        prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **entries)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _file_mode())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _file_mode():
    """The permissions a newly created file gets (mkstemp's are 0600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _encode(value, arrays, prefix, where):
    """JSON-safe form of a nest of dicts, lists, numbers and arrays.

    Arrays are moved into ``arrays`` and replaced by ``{"__array__":
    name}``; tuples become ``{"__tuple__": [...]}`` and dicts whose keys
    are not all plain strings ``{"__items__": [[key, value], ...]}``, so
    that the optimiser gets back exactly what it gave.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":
            raise TypeError("%s is an array of dtype %s; only numeric arrays "
                            "can be saved" % (where, value.dtype))
        name = "%s%d" % (prefix, sum(k.startswith(prefix) for k in arrays))
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, np.generic):
        return _encode(value.item() if value.dtype.kind in "biuf"
                       else np.asarray(value), arrays, prefix, where)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, prefix, "%s[%d]" % (where, i))
                              for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, arrays, prefix, "%s[%d]" % (where, i))
                for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: _encode(v, arrays, prefix, "%s[%r]" % (where, k))
                    for k, v in value.items()}
        return {"__items__": [
            [_encode(k, arrays, prefix, "a key of " + where),
             _encode(v, arrays, prefix, "%s[%r]" % (where, k))]
            for k, v in value.items()]}
    raise TypeError("%s is a %s, which cannot be saved; use numbers, "
                    "strings, lists, tuples, dicts and arrays"
                    % (where, type(value).__name__))


def _decode(value, arrays, path):
    """Undo :func:`_encode`."""
    if isinstance(value, list):
        return [_decode(v, arrays, path) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"__array__"}:
        name = value["__array__"]
        if name not in arrays:
            raise ValueError("%s is corrupted: the header refers to an array "
                             "%r that the file does not hold" % (path, name))
        return arrays[name]
    if set(value) == {"__tuple__"}:
        return tuple(_decode(v, arrays, path) for v in value["__tuple__"])
    if set(value) == {"__items__"}:
        return {_hashable(_decode(k, arrays, path)): _decode(v, arrays, path)
                for k, v in value["__items__"]}
    return {k: _decode(v, arrays, path) for k, v in value.items()}


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


# -- reading ------------------------------------------------------------------

def read_header(path):
    """The JSON header of a cnnc file, without building the model.

    Returns
    -------
    dict
        ``format``, ``version``, ``cnnc_version``, ``config`` (the
        architecture), ``frozen``, and ``metadata`` for models or
        ``epoch`` for checkpoints. Arrays inside metadata are not loaded
        (they appear as ``{"__array__": name}``).

    Raises
    ------
    ValueError
        When the file is truncated, corrupted, of another format version
        or not a cnnc file; the message names the path.
    """
    header, _ = _read(path, read_arrays=False)
    return header


def load(path):
    """Rebuild the model saved in ``path`` by :func:`save` (or a checkpoint).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Module
        A new model in training mode, with the saved weights, buffers and
        frozen parameters.

    Raises
    ------
    ValueError
        When the file is truncated, corrupted, of an unknown format version,
        not a cnnc file, or describes a module class that is not defined
        (import the module that defines a custom class first).
    FileNotFoundError
        When there is no such file.
    """
    header, arrays = _read(path)
    return _build_model(header, arrays, path, None)


def load_checkpoint(path, model=None, optimizer=None):
    """Read a checkpoint written by :func:`save_checkpoint`.

    Parameters
    ----------
    path : str or path-like
    model : Module, optional
        Receives the saved weights; without it the model is rebuilt from
        the saved architecture.
    optimizer : object with ``load_state_dict()``, optional
        Receives the saved optimiser state (build it on ``model``'s
        parameters first).

    Returns
    -------
    dict
        ``"model"`` (the Module), ``"epoch"`` (int or None),
        ``"optimizer_state"`` (the optimiser's state dict or None) and
        ``"extra"``.

    Raises
    ------
    ValueError
        As :func:`load`, and when ``optimizer`` is given but the file holds
        no optimiser state, or the weights do not fit ``model``.
    """
    header, arrays = _read(path)
    model = _build_model(header, arrays, path, model)
    state = _decode(header.get("optimizer"), arrays, path)
    if optimizer is not None:
        if state is None:
            raise ValueError("%s holds no optimizer state (it was saved "
                             "without an optimizer)" % os.fspath(path))
        optimizer.load_state_dict(state)
    return {"model": model, "epoch": header.get("epoch"),
            "optimizer_state": state,
            "extra": _decode(header.get("extra"), arrays, path)}


def _read(path, read_arrays=True):
    """The checked header and (optionally) every array of a cnnc file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError("no such file: %r" % path)
    try:
        archive = np.load(path, allow_pickle=False)
    except _ERRORS as exc:
        raise ValueError("%s is not a cnnc file: it cannot be read as an "
                         ".npz archive (%s: %s); it may be truncated or "
                         "corrupted" % (path, type(exc).__name__, exc)) from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError("%s is not a cnnc file: it holds a single NumPy "
                         "array, not an .npz archive" % path)
    with archive:
        if _HEADER not in archive.files:
            raise ValueError("%s is not a cnnc file: the .npz archive has no "
                             "%r header entry" % (path, _HEADER))
        names = archive.files if read_arrays else [_HEADER]
        arrays = {}
        for name in names:
            try:
                arrays[name] = archive[name]
            except _ERRORS as exc:
                raise ValueError(
                    "%s is corrupted: entry %r cannot be read (%s: %s)"
                    % (path, name, type(exc).__name__, exc)) from exc
    header = _parse_header(arrays.pop(_HEADER), path)
    return header, arrays


def _parse_header(raw, path):
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError("%s is corrupted: the header is not a byte string"
                         % path)
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError("%s is corrupted: the header is not valid JSON (%s)"
                         % (path, exc)) from exc
    if not isinstance(header, dict) or header.get("format") not in (
            _MODEL, _CHECKPOINT):
        raise ValueError("%s is not a cnnc file: its header does not name a "
                         "cnnc model or checkpoint" % path)
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or \
            version < 1:
        raise ValueError("%s has an invalid format version %r"
                         % (path, version))
    if version > FORMAT_VERSION:
        raise ValueError(
            "%s has format version %d, written by a newer cnnc (%s); this "
            "cnnc reads format version %d: upgrade cnnc to load it"
            % (path, version, header.get("cnnc_version", "unknown"),
               FORMAT_VERSION))
    if not isinstance(header.get("config"), dict):
        raise ValueError("%s is corrupted: the header has no architecture"
                         % path)
    return header


def _build_model(header, arrays, path, model):
    # Every built-in class must be registered before the lookup.
    import cnnc.models  # noqa: F401
    import cnnc.nn  # noqa: F401

    path = os.fspath(path)
    rebuilt = model is None
    if rebuilt:
        try:
            model = Module.from_config(header["config"])
        except (ValueError, TypeError) as exc:
            raise ValueError("%s: cannot rebuild the model from its saved "
                             "architecture: %s" % (path, exc)) from exc
    state = {name[len("state/"):]: value for name, value in arrays.items()
             if name.startswith("state/")}
    for key, value in state.items():
        if value.dtype.kind not in "biuf":
            raise ValueError("%s is corrupted: state entry %r has dtype %s"
                             % (path, key, value.dtype))
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else exc
        raise ValueError("%s: the saved weights do not fit the model: %s"
                         % (path, message)) from exc
    if rebuilt:
        frozen = set(header.get("frozen") or ())
        for name, param in model.named_parameters():
            param.requires_grad = name not in frozen
    return model
