"""Datasets and mini-batches: step 2 and 3 of the lecture's training loop.

"Preprocess the training images and randomly shuffle them, then feed them
forward in mini-batches." A :class:`Dataset` is anything with a length and
an item per index; a :class:`DataLoader` cuts one into shuffled batches,
a new order every epoch.
"""

from typing import Protocol, runtime_checkable

import numpy as np

from cnnc.data._checks import as_generator, check_int, check_labels

__all__ = ["Dataset", "ArrayDataset", "DataLoader"]


@runtime_checkable
class Dataset(Protocol):
    """What a :class:`DataLoader` needs: a length and indexed samples.

    ``dataset[i]`` returns one sample ``(x, y)`` with ``x`` an array of
    shape (C, H, W) and ``y`` an integer label. A dataset may also define
    ``get_batch(indices)`` returning ``(x, y)`` for many indices at once,
    with ``x`` of shape (len(indices), C, H, W); the loader then uses it
    instead of stacking samples one by one.
    """

    def __len__(self):
        ...

    def __getitem__(self, index):
        ...


class ArrayDataset:
    """A dataset held in two arrays: images and labels.

    Parameters
    ----------
    x : ndarray of shape (N, ...)
        The samples, usually images of shape (N, C, H, W).
    y : array_like of shape (N,)
        Integer labels.
    transform : callable, optional
        Applied to every batch of images taken out, for example a
        :class:`cnnc.data.transforms.Compose` of augmentations. It receives
        ``x[indices]`` of shape (n, C, H, W) and returns an array of the
        same length; a single item is passed as a batch of one.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data import ArrayDataset
    >>> ds = ArrayDataset(np.zeros((5, 1, 4, 4), np.float32), [0, 1, 0, 1, 0])
    >>> len(ds), ds[1][0].shape, int(ds[1][1])
    (5, (1, 4, 4), 1)
    """

    def __init__(self, x, y, transform=None):
        if not isinstance(x, np.ndarray) or x.ndim < 1:
            raise TypeError(
                f"x must be a numpy.ndarray with the sample axis first, "
                f"got {type(x).__name__}"
            )
        if transform is not None and not callable(transform):
            raise TypeError(
                f"transform must be callable or None, got "
                f"{type(transform).__name__}"
            )
        self.x = x
        self.y = check_labels(y, x.shape[0])
        self.transform = transform

    def __len__(self):
        return self.x.shape[0]

    def __getitem__(self, index):
        x, y = self.get_batch(np.array([index]))
        return x[0], y[0]

    def get_batch(self, indices):
        """Images and labels of ``indices``, the transform applied.

        Parameters
        ----------
        indices : array_like of int
            Positions in the dataset (negative ones count from the end).

        Returns
        -------
        x : ndarray of shape (len(indices), ...)
        y : ndarray of shape (len(indices),), int64
        """
        indices = np.asarray(indices)
        n = len(self)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(
                f"index out of range for a dataset of {n} samples: "
                f"got indices from {indices.min()} to {indices.max()}"
            )
        x = self.x[indices]
        if self.transform is not None:
            x = self.transform(x)
        return x, self.y[indices]

    def __repr__(self):
        return (f"ArrayDataset(x={self.x.shape}, dtype={self.x.dtype}, "
                f"transform={self.transform!r})")


class DataLoader:
    """Iterate over a dataset in mini-batches of NumPy arrays.

    Parameters
    ----------
    dataset : Dataset
        Has ``__len__`` and ``__getitem__`` (and possibly ``get_batch``).
    batch_size : int
        Samples per batch, >= 1.
    shuffle : bool, default False
        Visit the samples in a new random order at every epoch (every
        ``for batch in loader``); otherwise in their stored order.
    drop_last : bool, default False
        Leave out the last batch when it is smaller than ``batch_size``.
    transform : callable, optional
        Applied to each batch of images after the dataset's own transform,
        e.g. augmentation that should see whole batches.
    rng : int or numpy.random.Generator or None
        Source of the shuffling; the same seed gives the same sequence of
        epochs.

    Yields
    ------
    x : ndarray of shape (B, C, H, W)
    y : ndarray of shape (B,), int64

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.data import ArrayDataset, DataLoader
    >>> ds = ArrayDataset(np.arange(10.0).reshape(10, 1, 1, 1), np.arange(10))
    >>> loader = DataLoader(ds, batch_size=4, shuffle=True, rng=0)
    >>> len(loader)
    3
    >>> [y.tolist() for _, y in loader]  # one epoch: 4 + 4 + 2 samples
    [[4, 6, 2, 7], [3, 5, 9, 0], [8, 1]]
    """

    def __init__(self, dataset, batch_size, shuffle=False, drop_last=False,
                 transform=None, rng=None):
        # Tuples, lists and arrays have a length and items too, but their
        # items are not (x, y) samples: ask for an ArrayDataset instead.
        plain = isinstance(dataset, (tuple, list, np.ndarray))
        if plain or not isinstance(dataset, Dataset):
            hint = " (wrap arrays as ArrayDataset(x, y))" if plain else ""
            raise TypeError(
                f"dataset must be a Dataset, with __len__ and a __getitem__ "
                f"that returns (x, y) samples, got {type(dataset).__name__}"
                f"{hint}"
            )
        self.dataset = dataset
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be a bool, got {type(shuffle).__name__}")
        if not isinstance(drop_last, (bool, np.bool_)):
            raise TypeError(
                f"drop_last must be a bool, got {type(drop_last).__name__}"
            )
        if transform is not None and not callable(transform):
            raise TypeError(
                f"transform must be callable or None, got "
                f"{type(transform).__name__}"
            )
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.transform = transform
        self.rng = as_generator(rng)

    def __len__(self):
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        stop = len(self) * self.batch_size
        for start in range(0, min(stop, n), self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def _batch(self, indices):
        if hasattr(self.dataset, "get_batch"):
            x, y = self.dataset.get_batch(indices)
        else:
            samples = [self.dataset[int(i)] for i in indices]
            x = np.stack([np.asarray(s[0]) for s in samples])
            y = np.array([s[1] for s in samples], dtype=np.int64)
        if self.transform is not None:
            x = self.transform(x)
        return x, np.asarray(y, dtype=np.int64)

    def __repr__(self):
        return (f"DataLoader(batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, "
                f"n_samples={len(self.dataset)})")
