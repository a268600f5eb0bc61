"""Data for cnnc: the shapes dataset, classic datasets, loaders, augmentation."""

from cnnc.data.shapes import (
    DIFFICULTIES,
    LECTURE_CLASSES,
    MAX_SQUARE_DIAMOND_ROTATION,
    SHAPE_CLASSES,
    make_shapes,
    shapes,
)

__all__ = [
    "DIFFICULTIES",
    "LECTURE_CLASSES",
    "MAX_SQUARE_DIAMOND_ROTATION",
    "SHAPE_CLASSES",
    "make_shapes",
    "shapes",
]
