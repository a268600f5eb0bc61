"""Ready-made models and the pre-trained shapes encoder.

Every model is an :class:`EncoderClassifier`: an ``encoder`` of learnable
convolution blocks and a fully connected ``classifier``, the lecture's
picture of a CNN. Their state dicts use the layer names of the same
networks written with ``torch.nn.Sequential``.
"""
from cnnc.models.nets import BenchNet, EncoderClassifier, LeNet5, ShapesNet
from cnnc.models.pretrained import (PRETRAINED_ENCODER_PATH,
                                    pretrained_encoder)

__all__ = ["EncoderClassifier", "ShapesNet", "LeNet5", "BenchNet",
           "pretrained_encoder", "PRETRAINED_ENCODER_PATH"]
