"""Tests of the dataset readers, downloads and preprocessing helpers.

Every file here is written by the tests in the real formats (IDX, the
CIFAR-10 binary and python batches, their archives); no network is used:
``urllib.request.urlopen`` is replaced wherever a download is attempted.
"""

import gzip
import hashlib
import io
import os
import pickle
import sys
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest

from cnnc.data import (
    ChecksumError,
    DatasetNotFoundError,
    channel_stats,
    cifar10,
    data_home,
    digits,
    fashion_mnist,
    mnist,
    normalize,
    read_cifar10_binary,
    read_cifar10_python,
    read_idx,
    train_val_split,
)
from cnnc.data import datasets

IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(array):
    """Encode an array as an IDX file."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09,
             np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
             np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    dims = np.array(array.shape, dtype=">u4").tobytes()
    return header + dims + array.tobytes()


def make_idx_dataset(folder, n_train=5, n_test=3, gz=True, seed=0):
    """Write the four MNIST files; return the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28),
                                                dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28),
                                               dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        raw = idx_bytes(array)
        if gz:
            (folder / (name + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / name).write_bytes(raw)
    return arrays


def cifar_batches(n_per_batch=2, seed=0):
    """Six small CIFAR-10 batches: {name: (uint8 (n, 3072), labels)}."""
    rng = np.random.default_rng(seed)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {name: (rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
                   rng.integers(0, 10, n_per_batch).tolist())
            for name in names}


def binary_batch(data, labels):
    rows = np.concatenate([np.array(labels, np.uint8)[:, None], data], axis=1)
    return rows.tobytes()


def python_batch(data, labels):
    # Protocol 2, as the original files (written by Python 2) use.
    return pickle.dumps({"batch_label": "testing", "labels": labels,
                         "data": data, "filenames": ["a.png"] * len(labels)},
                        protocol=2)


def write_cifar(folder, batches, kind):
    if kind == "binary":
        sub = folder / "cifar-10-batches-bin"
        sub.mkdir(parents=True)
        for name, (data, labels) in batches.items():
            (sub / (name + ".bin")).write_bytes(binary_batch(data, labels))
    else:
        sub = folder / "cifar-10-batches-py"
        sub.mkdir(parents=True)
        for name, (data, labels) in batches.items():
            (sub / name).write_bytes(python_batch(data, labels))
    return sub


def expected_cifar(batches):
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    x_train = np.concatenate([d for d, _ in train]).reshape(-1, 3, 32, 32)
    y_train = np.concatenate([l for _, l in train])
    x_test = batches["test_batch"][0].reshape(-1, 3, 32, 32)
    y_test = np.array(batches["test_batch"][1])
    return (x_train / np.float32(255), y_train), (x_test / np.float32(255), y_test)


@pytest.fixture
def no_network(monkeypatch):
    """Make every download fail as it does on a machine without network."""
    calls = []

    def refuse(url, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name "
                                    "resolution")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return calls


def serve(monkeypatch, files):
    """Serve ``files`` ({url ending: bytes}) through a fake urlopen."""
    calls = []

    def fake_urlopen(url, timeout=None):
        calls.append(url)
        for ending, payload in files.items():
            if url.endswith(ending):
                return io.BytesIO(payload)
        raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return calls


# ----------------------------------------------------------------------
# IDX


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("loader", [mnist, fashion_mnist])
def test_idx_datasets_read_local_files(tmp_path, gz, loader, no_network):
    arrays = make_idx_dataset(tmp_path, gz=gz)
    (x, y), (xt, yt) = loader(path=tmp_path)
    assert x.shape == (5, 1, 28, 28) and xt.shape == (3, 1, 28, 28)
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0] * 255,
                                  arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(xt[:, 0] * 255,
                                  arrays["t10k-images-idx3-ubyte"])
    np.testing.assert_array_equal(yt, arrays["t10k-labels-idx1-ubyte"])
    assert no_network == []


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, ">i2", ">i4", ">f4", ">f8"])
def test_read_idx_every_type(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = tmp_path / "a.idx"
    path.write_bytes(idx_bytes(array))
    got = read_idx(path)
    np.testing.assert_array_equal(got, array)
    assert got.dtype.isnative


@pytest.mark.parametrize("payload, message", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x07",
     r"is not an IDX file: expected two zero bytes"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x07", r"unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x03\x00\x00", r"ends inside its IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x07",
     r"should hold 11 bytes for an IDX array of shape \(3,\).*holds 9"),
])
def test_read_idx_rejects_broken_files(tmp_path, payload, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


def test_idx_images_and_labels_must_match(tmp_path):
    make_idx_dataset(tmp_path)
    labels = np.zeros(4, np.uint8)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(labels)))
    with pytest.raises(ValueError, match=r"MNIST train files do not match: "
                       r"images of shape \(5, 28, 28\) and labels of shape \(4,\)"):
        mnist(path=tmp_path)


# ----------------------------------------------------------------------
# CIFAR-10


@pytest.mark.parametrize("kind", ["binary", "python"])
def test_cifar10_reads_both_versions(tmp_path, kind, no_network):
    batches = cifar_batches()
    write_cifar(tmp_path, batches, kind)
    (x, y), (xt, yt) = cifar10(path=tmp_path)
    (ex, ey), (ext, eyt) = expected_cifar(batches)
    assert x.shape == (10, 3, 32, 32) and xt.shape == (2, 3, 32, 32)
    assert x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_array_equal(y, ey)
    np.testing.assert_array_equal(xt, ext)
    np.testing.assert_array_equal(yt, eyt)


@pytest.mark.parametrize("kind", ["binary", "python"])
def test_cifar10_reads_the_archives_without_extracting(tmp_path, kind,
                                                       no_network):
    batches = cifar_batches(seed=1)
    staging = tmp_path / "staging"
    sub = write_cifar(staging, batches, kind)
    archive = tmp_path / f"cifar-10-{kind}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(sub, arcname=sub.name)
    (store := tmp_path / "store").mkdir()
    os.replace(archive, store / archive.name)
    (x, y), (xt, yt) = cifar10(path=store)
    (ex, ey), (ext, eyt) = expected_cifar(batches)
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_array_equal(yt, eyt)
    assert sorted(p.name for p in store.iterdir()) == [archive.name]


def test_cifar10_binary_channel_order():
    # Red plane first, then green, then blue; each plane row-major.
    pixels = np.zeros((3, 32, 32), np.uint8)
    pixels[0, 0, 1] = 10
    pixels[1, 2, 0] = 20
    pixels[2, 31, 31] = 30
    record = bytes([4]) + pixels.tobytes()
    x, y = read_cifar10_binary(io.BytesIO(record))
    assert y.tolist() == [4]
    assert (x[0, 0, 0, 1], x[0, 1, 2, 0], x[0, 2, 31, 31]) == (10, 20, 30)


def test_cifar10_binary_rejects_bad_lengths_and_labels():
    with pytest.raises(ValueError, match=r"records of 3073 bytes, but this "
                       r"one has 3074 bytes"):
        read_cifar10_binary(io.BytesIO(bytes(3074)))
    with pytest.raises(ValueError, match=r"labels must lie in 0-9, got values "
                       r"from 0 to 12"):
        read_cifar10_binary(io.BytesIO(bytes(3073) + bytes([12]) + bytes(3072)))


class _Payload:
    """A pickle that would create a folder if it were allowed to run."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (self.target,))


def test_cifar10_python_refuses_code_in_pickles(tmp_path):
    target = str(tmp_path / "pwned")
    evil = pickle.dumps({"data": _Payload(target), "labels": [1]}, protocol=2)
    with pytest.raises(ValueError, match=r"refusing to load the global "
                       r"(posix|nt|os)\.mkdir"):
        read_cifar10_python(io.BytesIO(evil))
    assert not os.path.exists(target)


@pytest.mark.parametrize("batch, message", [
    ([1, 2], r"a CIFAR-10 python batch is a dict, got list"),
    ({"labels": [1]}, r"needs the keys 'data' and 'labels', got \['labels'\]"),
    ({"data": np.zeros((1, 3072), np.float32), "labels": [1]},
     r"'data' must be uint8 of shape \(N, 3072\), got float32"),
    ({"data": np.zeros((2, 3072), np.uint8), "labels": [1]},
     r"'labels' must be 2 integers, got int64 of shape \(1,\)"),
])
def test_cifar10_python_validation(batch, message):
    with pytest.raises(ValueError, match=message):
        read_cifar10_python(io.BytesIO(pickle.dumps(batch, protocol=2)))


def test_cifar10_python_reads_byte_keys():
    data = np.arange(3072, dtype=np.uint32).astype(np.uint8)[None]
    raw = pickle.dumps({b"data": data, b"labels": [9]}, protocol=2)
    x, y = read_cifar10_python(io.BytesIO(raw))
    np.testing.assert_array_equal(x.reshape(1, -1), data)
    assert y.tolist() == [9]


# ----------------------------------------------------------------------
# Downloads: no network, checksums, mirrors, atomic writes


def test_no_network_message_says_what_to_put_where(tmp_path, monkeypatch,
                                                   no_network):
    monkeypatch.setenv("CNNC_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError) as info:
        mnist()
    text = str(info.value)
    assert "MNIST is not on this machine and the download failed" in text
    assert "Temporary failure in name resolution" in text
    for name in IDX_NAMES:
        assert str(tmp_path / "mnist" / (name + ".gz")) in text
    assert "pass path=" in text and "CNNC_DATA" in text
    # Both mirrors were tried for the first file.
    assert len(no_network) == 2
    assert os.listdir(tmp_path / "mnist") == []


def test_no_network_message_for_cifar10(tmp_path, no_network):
    with pytest.raises(DatasetNotFoundError,
                       match=r"CIFAR-10 is not on this machine.*\n.*\n  .*"
                       r"cifar-10-binary\.tar\.gz"):
        cifar10(path=tmp_path)


def test_download_false_never_touches_the_network(tmp_path, no_network):
    with pytest.raises(DatasetNotFoundError, match=r"download=False was given"):
        fashion_mnist(path=tmp_path, download=False)
    assert no_network == []


def test_download_checks_md5_and_keeps_no_partial_file(tmp_path, monkeypatch):
    serve(monkeypatch, {name + ".gz": b"not the real file" for name in IDX_NAMES})
    with pytest.raises(ChecksumError, match=r"has md5 [0-9a-f]{32} but "
                       r"f68b3c2dcbeaaa9fbdd348bbdeb94873 was expected"):
        mnist(path=tmp_path)
    assert os.listdir(tmp_path) == []


def fake_sources(monkeypatch, payloads, mirrors=("https://a.test/",)):
    md5 = {name: hashlib.md5(data).hexdigest() for name, data in payloads.items()}
    monkeypatch.setitem(datasets._SOURCES, "mnist",
                        {"mirrors": mirrors, "md5": md5})


def idx_payloads(tmp_path):
    arrays = make_idx_dataset(tmp_path / "src")
    return arrays, {name + ".gz": (tmp_path / "src" / (name + ".gz")).read_bytes()
                    for name in IDX_NAMES}


def test_download_then_cache(tmp_path, monkeypatch):
    arrays, payloads = idx_payloads(tmp_path)
    fake_sources(monkeypatch, payloads)
    calls = serve(monkeypatch, payloads)
    monkeypatch.setenv("CNNC_DATA", str(tmp_path / "cache"))
    (x, y), _ = mnist()
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    assert len(calls) == 4
    assert sorted(os.listdir(tmp_path / "cache" / "mnist")) == sorted(payloads)
    # The second call reads the cache and downloads nothing.
    (x2, _), _ = mnist()
    np.testing.assert_array_equal(x, x2)
    assert len(calls) == 4


def test_download_falls_back_to_the_next_mirror(tmp_path, monkeypatch):
    _, payloads = idx_payloads(tmp_path)
    fake_sources(monkeypatch, payloads,
                 mirrors=("https://down.test/", "https://up.test/"))
    served = {"https://up.test/" + name: data for name, data in payloads.items()}
    serve(monkeypatch, served)
    (x, _), _ = mnist(path=tmp_path / "dl")
    assert x.shape == (5, 1, 28, 28)


def test_download_checks_a_given_sha256(tmp_path, monkeypatch):
    _, payloads = idx_payloads(tmp_path)
    fake_sources(monkeypatch, payloads)
    serve(monkeypatch, payloads)
    wrong = {"train-images-idx3-ubyte.gz": "0" * 64}
    with pytest.raises(ChecksumError, match=r"has sha256 [0-9a-f]{64} but "
                       r"0{64} was expected"):
        mnist(path=tmp_path / "dl", sha256=wrong)
    right = {name: hashlib.sha256(data).hexdigest()
             for name, data in payloads.items()}
    (x, _), _ = mnist(path=tmp_path / "dl2", sha256=right)
    assert x.shape[0] == 5


def test_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNC_DATA", str(tmp_path))
    assert data_home() == tmp_path
    assert data_home("~/x") == data_home("~/x").expanduser()
    monkeypatch.delenv("CNNC_DATA")
    assert data_home().parts[-2:] == (".cache", "cnnc")


# ----------------------------------------------------------------------
# digits


def test_digits_split():
    pytest.importorskip("sklearn")
    (x, y), (xt, yt) = digits(seed=0)
    assert x.shape[1:] == (1, 8, 8) and x.dtype == np.float32
    assert x.shape[0] + xt.shape[0] == 1797
    assert 0.0 <= x.min() and x.max() <= 1.0
    counts = np.bincount(yt, minlength=10) / np.bincount(np.r_[y, yt])
    np.testing.assert_allclose(counts, 0.25, atol=0.01)
    (x2, _), _ = digits(seed=0)
    np.testing.assert_array_equal(x, x2)


def test_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "cnnc\[datasets\]"'):
        digits()


def test_digits_validation():
    pytest.importorskip("sklearn")
    with pytest.raises(ValueError, match=r"test_fraction must be a number in "
                       r"\(0, 1\), got 1.5"):
        digits(test_fraction=1.5)


# ----------------------------------------------------------------------
# Preprocessing


def test_channel_stats_and_normalize():
    rng = np.random.default_rng(0)
    x = (rng.random((16, 3, 6, 6)) * [[[2.0]], [[5.0]], [[0.5]]] + 1).astype(
        np.float32)
    mean, std = channel_stats(x)
    np.testing.assert_allclose(mean, x.transpose(1, 0, 2, 3).reshape(3, -1)
                               .mean(axis=1), rtol=1e-6)
    z = normalize(x, mean, std)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, rtol=1e-4)


@pytest.mark.parametrize("call, error, message", [
    (lambda: channel_stats(np.zeros((2, 3, 4))), ValueError,
     r"x must have 4 dimensions \(N, C, H, W\), got shape \(2, 3, 4\)"),
    (lambda: channel_stats(np.zeros((0, 3, 4, 4))), ValueError,
     r"x must hold at least one image"),
    (lambda: channel_stats(np.zeros((1, 1, 2, 2), np.uint8)), TypeError,
     r"x must be float32 or float64, got dtype uint8"),
    (lambda: normalize(np.zeros((1, 3, 2, 2)), [0, 0], [1, 1, 1]), ValueError,
     r"mean must hold one value per channel, shape \(3,\), got shape \(2,\)"),
    (lambda: normalize(np.zeros((1, 1, 2, 2)), 0, -1), ValueError,
     r"std must be >= 0 in every channel"),
    (lambda: normalize(np.zeros((1, 1, 2, 2)), np.nan, 1), ValueError,
     r"mean must be finite"),
    (lambda: train_val_split(np.zeros((4, 2)), [0, 1, 0], 0.5), ValueError,
     r"y must have shape \(4,\) to match the images, got \(3,\)"),
    (lambda: train_val_split(np.zeros((4, 2)), [0, 1, 0, 1], 1.0), ValueError,
     r"val_fraction must be a number in \(0, 1\), got 1.0"),
    (lambda: train_val_split(np.zeros((2, 2)), [0.5, 1.0], 0.5), TypeError,
     r"y must hold integer labels, got dtype float64"),
])
def test_preprocessing_validation(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("stratify", [True, False])
def test_train_val_split(stratify):
    x = np.arange(100)[:, None] * np.ones((1, 3))
    y = np.repeat(np.arange(4), 25)
    (xt, yt), (xv, yv) = train_val_split(x, y, 0.2, stratify=stratify, seed=1)
    assert len(yv) == 20 and len(yt) == 80
    # A partition: every sample lands in exactly one part, with its label.
    ids = np.concatenate([xt[:, 0], xv[:, 0]]).astype(int)
    assert sorted(ids.tolist()) == list(range(100))
    np.testing.assert_array_equal(np.r_[yt, yv], y[ids])
    if stratify:
        assert np.bincount(yv).tolist() == [5, 5, 5, 5]
    again = train_val_split(x, y, 0.2, stratify=stratify, seed=1)
    np.testing.assert_array_equal(again[1][0], xv)


def test_cifar10_archive_missing_a_batch(tmp_path):
    batches = cifar_batches()
    del batches["test_batch"]
    sub = write_cifar(tmp_path / "staging", batches, "binary")
    with tarfile.open(tmp_path / "cifar-10-binary.tar.gz", "w:gz") as tar:
        tar.add(sub, arcname=sub.name)
    with pytest.raises(ValueError, match=r"cifar-10-binary.tar.gz holds no "
                       r"file named 'test_batch.bin'"):
        cifar10(path=tmp_path)
