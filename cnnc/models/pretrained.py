"""The shapes encoder shipped with cnnc, for transfer learning."""
import os

import numpy as np

__all__ = ["PRETRAINED_ENCODER_PATH", "pretrained_encoder"]

PRETRAINED_ENCODER_PATH = os.path.join(os.path.dirname(__file__), "weights",
                                       "shapes_encoder.npz")
"""str: where the weights of :func:`pretrained_encoder` live."""


def pretrained_encoder(freeze=False, dtype=np.float32):
    """The encoder of a :class:`~cnnc.models.ShapesNet` trained on shapes.

    It was trained by ``scripts/pretrain_encoder.py`` (rerun it to get the
    same file) on grey 32x32 images of star, cross, hexagon and ring at
    medium difficulty: classes that the lecture's square, triangle, circle
    and diamond do not include, so that reusing it on them is transfer
    learning. :func:`cnnc.io.read_header` on
    :data:`PRETRAINED_ENCODER_PATH` shows how it was trained.

    Parameters
    ----------
    freeze : bool, default False
        Freeze its parameters (``requires_grad=False``): fine-tuning, where
        only a new classifier learns. Leave it False for deep-tuning, and
        give the encoder a smaller learning rate than the classifier.
    dtype : float32 or float64, default float32

    Returns
    -------
    Sequential
        ``encoder`` of ``ShapesNet(in_channels=1)``: images (N, 1, 32, 32)
        to feature maps (N, 64, 4, 4).

    Examples
    --------
    Fine-tuning on the lecture's four shapes:

    >>> from cnnc.models import ShapesNet, pretrained_encoder
    >>> model = ShapesNet(num_classes=4, rng=0)
    >>> model.encoder = pretrained_encoder(freeze=True)
    >>> model.num_parameters(trainable_only=True)  # only the classifier
    4100
    """
    from cnnc import io

    encoder = io.load(PRETRAINED_ENCODER_PATH).astype(dtype)
    if freeze:
        encoder.freeze()
    return encoder
