"""Classic image datasets: digits, MNIST, Fashion-MNIST and CIFAR-10.

``digits`` comes from scikit-learn's own files and needs no network. The
others read the datasets' standard files from a folder; when the files are
not there they are downloaded into a cache folder, checked against their
published checksums, and written atomically (a temporary file renamed into
place), so an interrupted download never leaves a half file behind.

The cache folder is ``$CNNC_DATA`` when that variable is set, otherwise
``~/.cache/cnnc``; each dataset has its own sub-folder (``mnist``,
``fashion-mnist``, ``cifar10``). Every loader also takes ``path=``, a
folder that already holds the files, for machines without a network.

NOTE: the dataset authors publish MD5 sums, not SHA-256 ones, so the
downloads are checked against those MD5 sums (which the torchvision
project and the dataset pages list). MD5 guards against corrupt or
truncated files, not against a forger; pass ``sha256=`` with your own
trusted SHA-256 sums to check those too.

File formats
------------
MNIST and Fashion-MNIST use the IDX format: a 4-byte magic number (two
zero bytes, a type code, the number of dimensions), one big-endian uint32
per dimension, then the values in C order. Files may be gzipped or not.

CIFAR-10 comes in two versions, and both are read:

* the *binary* version (``cifar-10-batches-bin``), records of one label
  byte followed by 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each
  a row-major 32x32 plane). This is what gets downloaded: reading it needs
  no pickle at all.
* the *python* version (``cifar-10-batches-py``), pickled dictionaries.
  They are read with a restricted unpickler that can rebuild only the
  builtin containers and NumPy arrays: any other global named in the file
  (the way a malicious pickle runs code) is refused.
"""

import codecs
import gzip
import hashlib
import io
import logging
import numbers
import os
import pickle
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # NumPy 1.x
    from numpy.core.multiarray import _reconstruct

from cnnc.data._checks import as_generator
from cnnc.data.preprocessing import stratified_indices

__all__ = [
    "DatasetNotFoundError",
    "ChecksumError",
    "data_home",
    "digits",
    "mnist",
    "fashion_mnist",
    "cifar10",
    "read_idx",
    "read_cifar10_binary",
    "read_cifar10_python",
    "MNIST_CLASSES",
    "FASHION_MNIST_CLASSES",
    "CIFAR10_CLASSES",
]

logger = logging.getLogger("cnnc")

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)

_IDX_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

# Where each file can be fetched, first mirror first, and its published MD5.
_SOURCES = {
    "mnist": {
        "mirrors": (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        "md5": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
    "fashion-mnist": {
        "mirrors": (
            "https://raw.githubusercontent.com/zalandoresearch/"
            "fashion-mnist/master/data/fashion/",
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        ),
        "md5": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    },
    "cifar10": {
        "mirrors": ("https://www.cs.toronto.edu/~kriz/",),
        "md5": {
            "cifar-10-binary.tar.gz": "c32a1d4ab5d03f1284b67883e8d87530",
        },
    },
}

_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST = ("test_batch",)


class DatasetNotFoundError(FileNotFoundError):
    """The files of a dataset are neither on disk nor downloadable."""


class ChecksumError(OSError):
    """A downloaded file does not match its expected checksum."""


def data_home(path=None):
    """The folder where datasets are cached.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Returned as a ``Path`` when given.

    Returns
    -------
    pathlib.Path
        ``path``, else ``$CNNC_DATA`` if set, else ``~/.cache/cnnc``.
        The folder is not created.

    Examples
    --------
    >>> from cnnc.data import data_home
    >>> data_home("/tmp/my-data").as_posix()
    '/tmp/my-data'
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get("CNNC_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "cnnc"


# ----------------------------------------------------------------------
# digits (scikit-learn)


def digits(test_fraction=0.25, *, seed=0):
    """scikit-learn's 8x8 handwritten digits, as NCHW images.

    1797 grey images of the digits 0-9, 8x8 pixels, shipped inside
    scikit-learn, so nothing is downloaded.

    Parameters
    ----------
    test_fraction : float, default 0.25
        Fraction of each class that goes to the test set, in (0, 1).
    seed : int or numpy.random.Generator or None, default 0
        The same seed gives the same split.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x`` is float32 of shape (N, 1, 8, 8) with values in [0, 1]
        (the original 0-16 levels divided by 16); ``y`` is int64.

    Raises
    ------
    ImportError
        If scikit-learn is not installed.

    Examples
    --------
    >>> from cnnc.data import digits
    >>> (x_train, y_train), (x_test, y_test) = digits()  # doctest: +SKIP
    >>> x_train.shape, x_test.shape  # doctest: +SKIP
    ((1348, 1, 8, 8), (449, 1, 8, 8))
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "cnnc.data.digits() needs scikit-learn, an optional extra: "
            'pip install "cnnc[datasets]" (or pip install scikit-learn)'
        ) from exc
    if (isinstance(test_fraction, bool)
            or not isinstance(test_fraction, numbers.Real)
            or not 0.0 < test_fraction < 1.0):
        raise ValueError(
            f"test_fraction must be a number in (0, 1), got {test_fraction!r}"
        )
    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]
    y = bunch.target.astype(np.int64)
    rng = as_generator(seed, "seed")
    test_idx, train_idx = stratified_indices(y, test_fraction, rng)
    return (x[train_idx], y[train_idx]), (x[test_idx], y[test_idx])


# ----------------------------------------------------------------------
# MNIST and Fashion-MNIST (IDX files)


def mnist(path=None, *, download=True, sha256=None, timeout=60.0):
    """The MNIST handwritten digits: 60000 training and 10000 test images.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder holding the four IDX files (gzipped or not). Default:
        ``data_home() / "mnist"``.
    download : bool, default True
        Download the missing files into the folder.
    sha256 : dict of str to str, optional
        Trusted SHA-256 sums by file name, checked on download on top of
        the published MD5 sums.
    timeout : float, default 60.0
        Seconds to wait for the server at each request.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x`` is float32 of shape (N, 1, 28, 28) in [0, 1]; ``y`` int64.
        Class names are in :data:`MNIST_CLASSES`.

    Raises
    ------
    DatasetNotFoundError
        If files are missing and cannot be downloaded; the message lists
        them and the folder to put them in.
    ChecksumError
        If a downloaded file does not match its checksum.
    ValueError
        If a file is not a valid IDX file.

    Examples
    --------
    >>> from cnnc.data import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist()  # doctest: +SKIP
    >>> x_train.shape  # doctest: +SKIP
    (60000, 1, 28, 28)
    """
    return _load_idx_dataset("mnist", "MNIST", path, download, sha256,
                             timeout)


def fashion_mnist(path=None, *, download=True, sha256=None, timeout=60.0):
    """Fashion-MNIST: 28x28 grey images of ten kinds of clothing.

    Same files, format and arguments as :func:`mnist`; the default folder
    is ``data_home() / "fashion-mnist"`` and the class names are in
    :data:`FASHION_MNIST_CLASSES`.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder holding the four IDX files.
    download : bool, default True
        Download the missing files into the folder.
    sha256 : dict of str to str, optional
        Trusted SHA-256 sums by file name.
    timeout : float, default 60.0
        Seconds to wait for the server at each request.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x`` is float32 of shape (N, 1, 28, 28) in [0, 1]; ``y`` int64.

    Raises
    ------
    DatasetNotFoundError, ChecksumError, ValueError
        As in :func:`mnist`.

    Examples
    --------
    >>> from cnnc.data import fashion_mnist
    >>> (x_train, y_train), _ = fashion_mnist()  # doctest: +SKIP
    """
    return _load_idx_dataset("fashion-mnist", "Fashion-MNIST", path,
                             download, sha256, timeout)


def _load_idx_dataset(key, title, path, download, sha256, timeout):
    folder = data_home(path) if path is not None else data_home() / key
    files = {}
    missing = []
    for role, name in _IDX_FILES.items():
        found = _first_existing(folder, (name, name[:-3]))
        if found is None:
            missing.append(name)
        files[role] = found
    if missing:
        _obtain(key, title, folder, missing, download, sha256, timeout)
        for role, name in _IDX_FILES.items():
            files[role] = files[role] or folder / name

    images = {}
    for split in ("train", "test"):
        x = read_idx(files[f"{split}_images"])
        y = read_idx(files[f"{split}_labels"])
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(
                f"{title} {split} files do not match: images of shape "
                f"{x.shape} and labels of shape {y.shape} (expected (N, H, W) "
                f"and (N,))"
            )
        images[split] = (_to_float_images(x[:, None]), y.astype(np.int64))
    return images["train"], images["test"]


_IDX_TYPES = {
    0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def read_idx(path):
    """Read an IDX file (gzipped or not) into an array.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Gzip is recognised by its magic bytes, not its name.

    Returns
    -------
    ndarray
        Shape and dtype as stored in the file, in native byte order.

    Raises
    ------
    ValueError
        If the header is malformed or the data has the wrong length.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from cnnc.data import read_idx
    >>> raw = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = os.path.join(d, "tiny-idx2-ubyte")
    ...     _ = open(f, "wb").write(raw)
    ...     read_idx(f).tolist()
    [[0, 1, 2], [3, 4, 5]]
    """
    data = _read_maybe_gzip(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path} is not an IDX file: expected two zero bytes then a type "
            f"code, got the header bytes {data[:4]!r}"
        )
    code, ndim = data[2], data[3]
    if code not in _IDX_TYPES:
        raise ValueError(
            f"{path} has the unknown IDX type code 0x{code:02x} (expected "
            f"one of {', '.join(f'0x{c:02x}' for c in _IDX_TYPES)})"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} ends inside its IDX header ({len(data)} bytes)")
    shape = tuple(int(v) for v in np.frombuffer(data, ">u4", ndim, offset=4))
    dtype = _IDX_TYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"{path} should hold {expected} bytes for an IDX array of shape "
            f"{shape} and dtype {dtype}, but holds {len(data)}"
        )
    values = np.frombuffer(data, dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def _read_maybe_gzip(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def _to_float_images(x):
    return (x.astype(np.float32) / np.float32(255.0))


# ----------------------------------------------------------------------
# CIFAR-10


def cifar10(path=None, *, download=True, sha256=None, timeout=60.0):
    """CIFAR-10: 32x32 colour photos in ten classes (50000 + 10000).

    The folder may hold either version of the dataset, extracted or as its
    ``.tar.gz`` archive: the binary one (``cifar-10-batches-bin`` or its
    ``.bin`` files directly) or the python one (``cifar-10-batches-py``,
    read with a restricted unpickler that cannot run code). When none is
    found, the binary archive is downloaded.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A folder holding the dataset. Default: ``data_home() / "cifar10"``.
    download : bool, default True
        Download ``cifar-10-binary.tar.gz`` when nothing is found.
    sha256 : dict of str to str, optional
        Trusted SHA-256 sums by file name, checked on download on top of
        the published MD5 sum.
    timeout : float, default 60.0
        Seconds to wait for the server at each request.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x`` is float32 of shape (N, 3, 32, 32) in [0, 1]; ``y`` int64.
        Class names are in :data:`CIFAR10_CLASSES`.

    Raises
    ------
    DatasetNotFoundError, ChecksumError, ValueError
        As in :func:`mnist`.

    Examples
    --------
    >>> from cnnc.data import cifar10
    >>> (x_train, y_train), (x_test, y_test) = cifar10()  # doctest: +SKIP
    >>> x_train.shape  # doctest: +SKIP
    (50000, 3, 32, 32)
    """
    folder = data_home(path) if path is not None else data_home() / "cifar10"
    source = _find_cifar(folder)
    if source is None:
        _obtain("cifar10", "CIFAR-10", folder, ["cifar-10-binary.tar.gz"],
                download, sha256, timeout)
        source = _find_cifar(folder)
    kind, read_member = source
    reader = read_cifar10_binary if kind == "binary" else read_cifar10_python
    suffix = ".bin" if kind == "binary" else ""

    out = []
    for names in (_CIFAR_TRAIN, _CIFAR_TEST):
        parts = [reader(io.BytesIO(read_member(n + suffix))) for n in names]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        out.append((_to_float_images(x), y))
    return out[0], out[1]


def _find_cifar(folder):
    """Find a CIFAR-10 copy in ``folder``: ``(kind, read_member)`` or None.

    ``read_member(name)`` returns the bytes of one batch file, read from a
    folder or straight out of a ``.tar.gz`` archive without extracting it.
    """
    folder = Path(folder)
    layouts = (("binary", "cifar-10-batches-bin", "data_batch_1.bin"),
               ("python", "cifar-10-batches-py", "data_batch_1"))
    for kind, sub, first in layouts:
        for place in (folder / sub, folder):
            if (place / first).is_file():
                return kind, (lambda name, place=place:
                              (place / name).read_bytes())
    for kind, archive in (("binary", "cifar-10-binary.tar.gz"),
                          ("python", "cifar-10-python.tar.gz")):
        if (folder / archive).is_file():
            return kind, _tar_reader(folder / archive)
    return None


def _tar_reader(archive):
    wanted = {name + suffix for name in _CIFAR_TRAIN + _CIFAR_TEST
              for suffix in ("", ".bin")}
    members = {}

    def read_member(name):
        if not members:
            # One pass over the compressed archive reads every batch into
            # memory. Members are matched by base name and nothing is
            # written to disk, so paths inside the archive do not matter.
            with tarfile.open(archive, "r:*") as tar:
                for member in tar:
                    base = Path(member.name).name
                    if member.isfile() and base in wanted:
                        members[base] = tar.extractfile(member).read()
        if name not in members:
            raise ValueError(f"{archive} holds no file named {name!r}")
        return members[name]
    return read_member


def read_cifar10_binary(file):
    """Read one batch of the CIFAR-10 binary version.

    Parameters
    ----------
    file : str, os.PathLike or binary file object
        A ``.bin`` batch: records of 1 label byte and 3072 pixel bytes.

    Returns
    -------
    x : ndarray of shape (N, 3, 32, 32), uint8
    y : ndarray of shape (N,), int64

    Raises
    ------
    ValueError
        If the length is not a whole number of records or a label is not
        in 0-9.

    Examples
    --------
    >>> import io, numpy as np
    >>> from cnnc.data import read_cifar10_binary
    >>> record = bytes([7]) + bytes(3072)
    >>> x, y = read_cifar10_binary(io.BytesIO(record * 2))
    >>> x.shape, y.tolist()
    ((2, 3, 32, 32), [7, 7])
    """
    data = _read_bytes(file)
    record = 1 + 3 * 32 * 32
    if len(data) == 0 or len(data) % record:
        raise ValueError(
            f"a CIFAR-10 binary batch holds records of {record} bytes, but "
            f"this one has {len(data)} bytes"
        )
    rows = np.frombuffer(data, np.uint8).reshape(-1, record)
    y = rows[:, 0].astype(np.int64)
    _check_cifar_labels(y)
    return rows[:, 1:].reshape(-1, 3, 32, 32).copy(), y


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds builtin containers and NumPy arrays only.

    A pickle runs code by naming a global (say ``os.system``) and calling
    it. Here every global is refused except those that NumPy needs to
    rebuild an array and ``_codecs.encode``, with which Python 3 writes
    bytes into protocol-2 pickles; none of them can run anything else.
    """

    _allowed = {
        ("_codecs", "encode"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._allowed:
            raise pickle.UnpicklingError(
                f"refusing to load the global {module}.{name}: a CIFAR-10 "
                f"batch holds only lists, bytes and NumPy arrays"
            )
        if name == "_reconstruct":
            return _reconstruct
        if name == "encode":
            return codecs.encode
        return getattr(np, name)


def read_cifar10_python(file):
    """Read one batch of the CIFAR-10 python version, safely.

    The batch is a pickled dictionary with a ``data`` array of shape
    (N, 3072) and a ``labels`` list. It is read with an unpickler that
    refuses every global except NumPy's array reconstruction, so a
    tampered file raises instead of running code.

    Parameters
    ----------
    file : str, os.PathLike or binary file object
        A batch such as ``data_batch_1``.

    Returns
    -------
    x : ndarray of shape (N, 3, 32, 32), uint8
    y : ndarray of shape (N,), int64

    Raises
    ------
    ValueError
        If the batch cannot be unpickled safely or lacks its keys.

    Examples
    --------
    >>> import io, pickle, numpy as np
    >>> from cnnc.data import read_cifar10_python
    >>> batch = {"data": np.zeros((2, 3072), np.uint8), "labels": [3, 5]}
    >>> x, y = read_cifar10_python(io.BytesIO(pickle.dumps(batch, 2)))
    >>> x.shape, y.tolist()
    ((2, 3, 32, 32), [3, 5])
    """
    data = _read_bytes(file)
    try:
        batch = _ArrayOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError,
            AttributeError, IndexError) as exc:
        raise ValueError(f"cannot read this CIFAR-10 python batch: {exc}") from exc
    if not isinstance(batch, dict):
        raise ValueError(
            f"a CIFAR-10 python batch is a dict, got {type(batch).__name__}"
        )
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v
             for k, v in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise ValueError(
            f"a CIFAR-10 python batch needs the keys 'data' and 'labels', "
            f"got {sorted(map(str, batch))}"
        )
    x = np.asarray(batch["data"])
    y = np.asarray(batch["labels"])
    if x.dtype != np.uint8 or x.ndim != 2 or x.shape[1] != 3072:
        raise ValueError(
            f"CIFAR-10 'data' must be uint8 of shape (N, 3072), got "
            f"{x.dtype} of shape {x.shape}"
        )
    if y.shape != (x.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"CIFAR-10 'labels' must be {x.shape[0]} integers, got "
            f"{y.dtype} of shape {y.shape}"
        )
    y = y.astype(np.int64)
    _check_cifar_labels(y)
    return x.reshape(-1, 3, 32, 32).copy(), y


def _check_cifar_labels(y):
    if y.size and (y.min() < 0 or y.max() > 9):
        raise ValueError(
            f"CIFAR-10 labels must lie in 0-9, got values from {y.min()} "
            f"to {y.max()}"
        )


def _read_bytes(file):
    if hasattr(file, "read"):
        return file.read()
    return Path(file).read_bytes()


# ----------------------------------------------------------------------
# Finding and downloading files


def _first_existing(folder, names):
    for name in names:
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    return None


def _obtain(key, title, folder, names, download, sha256, timeout):
    """Download ``names`` into ``folder``, or explain where to put them."""
    mirrors = _SOURCES[key]["mirrors"]
    reason = "download=False was given"
    if download:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name in names:
                _download_from_mirrors(name, mirrors, folder, key, sha256,
                                       timeout)
            return
        except (urllib.error.URLError, OSError) as exc:
            if isinstance(exc, ChecksumError):
                raise
            reason = f"the download failed: {exc}"
    listing = "\n".join(f"  {folder / name}" for name in names)
    urls = "\n".join(f"  {mirrors[0]}{name}" for name in names)
    raise DatasetNotFoundError(
        f"{title} is not on this machine and {reason}.\n"
        f"Put these files there (gzipped or not):\n{listing}\n"
        f"They can be downloaded from:\n{urls}\n"
        f"Or pass path= to a folder that holds them, or set CNNC_DATA to "
        f"change the cache folder."
    )


def _download_from_mirrors(name, mirrors, folder, key, sha256, timeout):
    errors = []
    for base in mirrors:
        try:
            _download(base + name, folder / name,
                      md5=_SOURCES[key]["md5"].get(name),
                      sha256=(sha256 or {}).get(name), timeout=timeout)
            return
        except ChecksumError:
            raise
        except (urllib.error.URLError, OSError) as exc:
            logger.info("cnnc: could not download %s%s: %s", base, name, exc)
            errors.append(f"{base}{name}: {exc}")
    raise OSError("; ".join(errors))


def _download(url, dest, md5=None, sha256=None, timeout=60.0):
    """Fetch ``url`` into ``dest`` atomically, checking its checksums.

    The bytes go to a temporary file in the same folder, which is renamed
    to ``dest`` only once both sums match; on any failure it is removed.
    """
    dest = Path(dest)
    digests = {"md5": hashlib.md5(), "sha256": hashlib.sha256()}
    logger.info("cnnc: downloading %s to %s", url, dest)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part",
                               dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, \
                urllib.request.urlopen(url, timeout=timeout) as response:
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
                for digest in digests.values():
                    digest.update(chunk)
        for kind, expected in (("md5", md5), ("sha256", sha256)):
            got = digests[kind].hexdigest()
            if expected is not None and got != expected.lower():
                raise ChecksumError(
                    f"{url} has {kind} {got} but {expected} was expected; "
                    f"the file was not saved (a corrupt or changed download)"
                )
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest
