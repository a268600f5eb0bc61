"""Tests of ArrayDataset and DataLoader (cnnc.data.loader)."""

import numpy as np
import pytest

from cnnc.data import ArrayDataset, DataLoader, Dataset


def make_dataset(n=10, transform=None):
    x = np.arange(n, dtype=np.float32).reshape(n, 1, 1, 1) * np.ones(
        (1, 2, 3, 3), np.float32)
    return ArrayDataset(x, np.arange(n) % 3, transform=transform)


class ItemOnly:
    """A dataset with only __len__ and __getitem__ (no get_batch)."""

    def __init__(self, inner):
        self.inner = inner

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, i):
        return self.inner[i]


@pytest.mark.parametrize("n, batch, drop_last, expected", [
    (10, 4, False, 3), (10, 4, True, 2), (8, 4, False, 2), (8, 4, True, 2),
    (3, 5, False, 1), (3, 5, True, 0), (0, 2, False, 0),
])
def test_len_and_batch_sizes(n, batch, drop_last, expected):
    loader = DataLoader(make_dataset(n), batch, drop_last=drop_last)
    sizes = [x.shape[0] for x, _ in loader]
    assert len(loader) == expected == len(sizes)
    assert all(s == batch for s in sizes[:-1])
    if drop_last:
        assert all(s == batch for s in sizes)
    assert sum(sizes) == (n // batch * batch if drop_last else n)


def test_no_shuffle_keeps_the_stored_order():
    ds = make_dataset(7)
    batches = list(DataLoader(ds, 3))
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(x, ds.x)
    np.testing.assert_array_equal(y, ds.y)
    assert y.dtype == np.int64 and x.dtype == np.float32


def epoch_ids(loader):
    return np.concatenate([x[:, 0, 0, 0] for x, _ in loader]).astype(int)


def test_shuffle_visits_everything_and_reshuffles_every_epoch():
    loader = DataLoader(make_dataset(50), 8, shuffle=True, rng=3)
    first, second = epoch_ids(loader), epoch_ids(loader)
    assert sorted(first.tolist()) == list(range(50))
    assert sorted(second.tolist()) == list(range(50))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))


def test_same_seed_same_epochs():
    a = DataLoader(make_dataset(30), 4, shuffle=True, rng=11)
    b = DataLoader(make_dataset(30), 4, shuffle=True,
                   rng=np.random.default_rng(11))
    for _ in range(3):
        np.testing.assert_array_equal(epoch_ids(a), epoch_ids(b))


def test_drop_last_with_shuffle_leaves_out_different_samples():
    loader = DataLoader(make_dataset(10), 4, shuffle=True, drop_last=True,
                        rng=0)
    seen = [set(epoch_ids(loader).tolist()) for _ in range(5)]
    assert all(len(s) == 8 for s in seen)
    assert len(set().union(*seen)) == 10


def test_labels_follow_their_images():
    ds = make_dataset(20)
    for x, y in DataLoader(ds, 6, shuffle=True, rng=1):
        np.testing.assert_array_equal(y, x[:, 0, 0, 0].astype(int) % 3)


def test_item_only_dataset_gives_the_same_batches():
    ds = make_dataset(9)
    plain = ItemOnly(ds)
    assert isinstance(plain, Dataset)
    for (xa, ya), (xb, yb) in zip(DataLoader(ds, 4, shuffle=True, rng=2),
                                  DataLoader(plain, 4, shuffle=True, rng=2)):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
        assert yb.dtype == np.int64


def test_transforms_are_applied_to_batches():
    calls = []

    def double(x):
        calls.append(x.shape)
        return x * 2

    ds = make_dataset(5, transform=double)
    loader = DataLoader(ds, 2, transform=lambda x: x + 1)
    x = np.concatenate([b[0] for b in loader])
    np.testing.assert_array_equal(x, make_dataset(5).x * 2 + 1)
    assert calls == [(2, 2, 3, 3), (2, 2, 3, 3), (1, 2, 3, 3)]
    # A single item goes through the transform as a batch of one.
    xi, yi = ds[4]
    assert xi.shape == (2, 3, 3) and xi[0, 0, 0] == 8.0 and yi == 1


def test_negative_index_and_out_of_range():
    ds = make_dataset(4)
    assert ds[-1][0][0, 0, 0] == 3.0
    with pytest.raises(IndexError, match=r"index out of range for a dataset "
                       r"of 4 samples: got indices from 4 to 4"):
        ds[4]


@pytest.mark.parametrize("call, error, message", [
    (lambda: DataLoader((np.zeros((2, 1, 1, 1)), [0, 1]), 1), TypeError,
     r"dataset must be a Dataset, with __len__ and a __getitem__ that "
     r"returns \(x, y\) samples, got tuple \(wrap arrays as "
     r"ArrayDataset\(x, y\)\)"),
    (lambda: DataLoader(object(), 1), TypeError,
     r"dataset must be a Dataset.*got object$"),
    (lambda: DataLoader(make_dataset(), 0), ValueError,
     r"batch_size must be >= 1, got 0"),
    (lambda: DataLoader(make_dataset(), 2.0), TypeError,
     r"batch_size must be an int, got float"),
    (lambda: DataLoader(make_dataset(), 2, shuffle="yes"), TypeError,
     r"shuffle must be a bool, got str"),
    (lambda: DataLoader(make_dataset(), 2, drop_last=1), TypeError,
     r"drop_last must be a bool, got int"),
    (lambda: DataLoader(make_dataset(), 2, transform=3), TypeError,
     r"transform must be callable or None, got int"),
    (lambda: DataLoader(make_dataset(), 2, rng=1.5), TypeError,
     r"rng must be None, an int seed or a numpy.random.Generator, got float"),
    (lambda: ArrayDataset(np.zeros((3, 1, 2, 2)), [0, 1]), ValueError,
     r"y must have shape \(3,\) to match the images, got \(2,\)"),
    (lambda: ArrayDataset([[1, 2]], [0]), TypeError,
     r"x must be a numpy.ndarray with the sample axis first, got list"),
    (lambda: ArrayDataset(np.zeros((2, 1)), [0, 1], transform="flip"),
     TypeError, r"transform must be callable or None, got str"),
])
def test_validation_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()
