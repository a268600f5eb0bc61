"""Data for cnnc: the shapes dataset, classic datasets, loaders, augmentation.

The lecture's running example, :func:`shapes`, is computed on the spot and
needs no network; :func:`digits` comes from scikit-learn's own files;
:func:`mnist`, :func:`fashion_mnist` and :func:`cifar10` read the standard
files from a cache folder, downloading them when they are missing.
:class:`DataLoader` cuts a dataset into shuffled mini-batches and
:mod:`cnnc.data.transforms` augments them.
"""

from cnnc.data.datasets import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    ChecksumError,
    DatasetNotFoundError,
    cifar10,
    data_home,
    digits,
    fashion_mnist,
    mnist,
    read_cifar10_binary,
    read_cifar10_python,
    read_idx,
)
from cnnc.data.loader import ArrayDataset, DataLoader, Dataset
from cnnc.data.preprocessing import channel_stats, normalize, train_val_split
from cnnc.data.shapes import (
    DIFFICULTIES,
    LECTURE_CLASSES,
    MAX_SQUARE_DIAMOND_ROTATION,
    SHAPE_CLASSES,
    make_shapes,
    shapes,
)

from cnnc.data import transforms

__all__ = [
    "ArrayDataset",
    "DataLoader",
    "Dataset",
    "transforms",
    "CIFAR10_CLASSES",
    "ChecksumError",
    "DIFFICULTIES",
    "DatasetNotFoundError",
    "FASHION_MNIST_CLASSES",
    "LECTURE_CLASSES",
    "MAX_SQUARE_DIAMOND_ROTATION",
    "MNIST_CLASSES",
    "SHAPE_CLASSES",
    "channel_stats",
    "cifar10",
    "data_home",
    "digits",
    "fashion_mnist",
    "make_shapes",
    "mnist",
    "normalize",
    "read_cifar10_binary",
    "read_cifar10_python",
    "read_idx",
    "shapes",
    "train_val_split",
]
