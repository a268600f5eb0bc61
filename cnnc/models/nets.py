"""Ready-made networks: an encoder of learnable layers, then a classifier.

Each model is the lecture's picture: an ``encoder`` (a Sequential of
convolution, normalization, activation and pooling blocks) that turns an
image into feature maps, and a ``classifier`` (a Sequential starting with
``Flatten``) that turns the feature maps into class scores. Both are
ordinary attributes: transfer learning replaces or freezes one of them.

The layer indices, and so the state dict keys (``encoder.0.weight``,
``encoder.1.running_mean``, ``classifier.2.bias``), are those of the
same network written with ``torch.nn.Sequential``; a state dict moves
between the two unchanged.
"""
import numpy as np

from cnnc.nn.activation import ReLU
from cnnc.nn.batchnorm import BatchNorm2d
from cnnc.nn.container import Sequential
from cnnc.nn.conv import Conv2d
from cnnc.nn.dropout import Dropout
from cnnc.nn.flatten import Flatten
from cnnc.nn.linear import Linear
from cnnc.nn.module import Module
from cnnc.nn.pool import MaxPool2d

__all__ = ["EncoderClassifier", "ShapesNet", "LeNet5", "BenchNet"]


class EncoderClassifier(Module):
    """A model made of an ``encoder`` followed by a ``classifier``.

    ``forward(x)`` is ``classifier(encoder(x))`` and ``backward`` runs the
    two in reverse. The models of :mod:`cnnc.models` derive from it;
    it also wraps any pair of modules.

    Parameters
    ----------
    encoder, classifier : Module, optional
        Empty Sequentials when not given.

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.models import EncoderClassifier
    >>> from cnnc.nn import Conv2d, Flatten, Linear, ReLU, Sequential
    >>> model = EncoderClassifier(
    ...     Sequential(Conv2d(1, 4, 3, rng=0), ReLU()),
    ...     Sequential(Flatten(), Linear(4 * 6 * 6, 3, rng=0)))
    >>> model(np.zeros((2, 1, 8, 8), np.float32)).shape
    (2, 3)
    >>> model.features(np.zeros((2, 1, 8, 8), np.float32)).shape
    (2, 4, 6, 6)
    """

    # Rebuilt from the configuration's "children", not from arguments.
    _config_skip = ("encoder", "classifier")

    def __init__(self, encoder=None, classifier=None):
        super().__init__()
        self.encoder = Sequential() if encoder is None else encoder
        self.classifier = Sequential() if classifier is None else classifier

    def forward(self, x):
        """Class scores of shape (N, num_classes) for images ``x``."""
        return self.classifier(self.encoder(x))

    def backward(self, grad_out):
        """dL/dx from dL/dscores, through the classifier then the encoder."""
        return self.encoder.backward(self.classifier.backward(grad_out))

    def features(self, x):
        """The encoder's output: the feature maps the classifier reads."""
        return self.encoder(x)


def _image_size(value, name="image_size"):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError("%s must be an int or a pair (height, width), "
                             "got %r" % (name, value))
        pair = tuple(value)
    else:
        pair = (value, value)
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) \
                or v < 1:
            raise ValueError("%s must hold positive ints, got %r"
                             % (name, value))
    return int(pair[0]), int(pair[1])


def _conv_bn_relu(in_channels, out_channels, rng, dtype):
    """conv3x3 (padding 1, no bias: batch norm's shift is the bias) - BN
    - ReLU."""
    return [Conv2d(in_channels, out_channels, 3, padding=1, bias=False,
                   rng=rng, dtype=dtype),
            BatchNorm2d(out_channels, dtype=dtype),
            ReLU()]


class ShapesNet(EncoderClassifier):
    """A small CNN for the 32x32 shapes images; trains in seconds.

    Three of the lecture's building blocks, then one fully connected
    layer::

        encoder     conv3x3(16)-BN-ReLU-maxpool2     32x32 -> 16x16
                    conv3x3(32)-BN-ReLU-maxpool2     16x16 ->  8x8
                    conv3x3(64)-BN-ReLU-maxpool2      8x8  ->  4x4
        classifier  flatten - dropout(p) - linear(num_classes)

    The convolutions have no bias: the batch norm right after each adds
    its own shift (beta). About 24 thousand parameters in the encoder;
    :func:`cnnc.models.pretrained_encoder` loads one trained on shapes.

    Parameters
    ----------
    in_channels : int, default 1
        1 for grey images, 3 for colour.
    num_classes : int, default 4
        The lecture's square, triangle, circle and diamond.
    image_size : int or (int, int), default 32
        At least 8; sizes that are not multiples of 8 lose the last rows
        and columns at each pooling.
    dropout : float, default 0.0
        Probability of dropping a feature before the linear layer.
    channels : (int, int, int), default (16, 32, 64)
        Filters of the three convolutions.
    rng : numpy.random.Generator or int, optional
    dtype : float32 or float64, default float32

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.models import ShapesNet
    >>> model = ShapesNet(rng=0)
    >>> model(np.zeros((2, 1, 32, 32), np.float32)).shape
    (2, 4)
    >>> model.features(np.zeros((2, 1, 32, 32), np.float32)).shape
    (2, 64, 4, 4)
    >>> model.encoder.num_parameters(), model.classifier.num_parameters()
    (23408, 4100)
    """

    def __init__(self, in_channels=1, num_classes=4, image_size=32,
                 dropout=0.0, channels=(16, 32, 64), rng=None,
                 dtype=np.float32):
        height, width = _image_size(image_size)
        if min(height, width) < 8:
            raise ValueError("ShapesNet needs images of at least 8x8 (three "
                             "2x2 poolings), got image_size=%r"
                             % (image_size,))
        if not isinstance(channels, (tuple, list)) or len(channels) != 3:
            raise ValueError("channels must be three ints, got %r"
                             % (channels,))
        rng = np.random.default_rng(rng)
        layers = []
        previous = in_channels
        for width_out in channels:
            layers += _conv_bn_relu(previous, width_out, rng, dtype)
            layers.append(MaxPool2d(2))
            previous = width_out
        features = channels[-1] * (height // 8) * (width // 8)
        super().__init__(
            Sequential(*layers),
            Sequential(Flatten(), Dropout(dropout, rng=rng),
                       Linear(features, num_classes, rng=rng, dtype=dtype)))


class LeNet5(EncoderClassifier):
    """LeCun's LeNet-5 (1998), with ReLU and max pooling.

    ::

        encoder     conv5x5(6)-ReLU-maxpool2 - conv5x5(16)-ReLU-maxpool2
        classifier  flatten - linear(120)-ReLU-dropout(p)
                    - linear(84)-ReLU-dropout(p) - linear(num_classes)

    Made for 32x32 images, where the encoder gives 16 maps of 5x5. Images
    smaller than 32 (MNIST's 28x28) are padded by 2 in the first
    convolution, the usual way, which also gives 16x5x5 for 28x28.

    Parameters
    ----------
    in_channels : int, default 1
    num_classes : int, default 10
    image_size : int or (int, int), default 32
        At least 12.
    dropout : float, default 0.0
    rng : numpy.random.Generator or int, optional
    dtype : float32 or float64, default float32

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.models import LeNet5
    >>> model = LeNet5(image_size=28, rng=0)
    >>> model.features(np.zeros((1, 1, 28, 28), np.float32)).shape
    (1, 16, 5, 5)
    >>> model.num_parameters()
    61706
    """

    def __init__(self, in_channels=1, num_classes=10, image_size=32,
                 dropout=0.0, rng=None, dtype=np.float32):
        height, width = _image_size(image_size)
        padding = 2 if min(height, width) < 32 else 0
        size = [((s + 2 * padding - 4) // 2 - 4) // 2 for s in (height, width)]
        if min(size) < 1:
            raise ValueError("LeNet5 needs images of at least 12x12, got "
                             "image_size=%r" % (image_size,))
        rng = np.random.default_rng(rng)
        encoder = Sequential(
            Conv2d(in_channels, 6, 5, padding=padding, rng=rng, dtype=dtype),
            ReLU(),
            MaxPool2d(2),
            Conv2d(6, 16, 5, rng=rng, dtype=dtype),
            ReLU(),
            MaxPool2d(2))
        classifier = Sequential(
            Flatten(),
            Linear(16 * size[0] * size[1], 120, rng=rng, dtype=dtype),
            ReLU(),
            Dropout(dropout, rng=rng),
            Linear(120, 84, rng=rng, dtype=dtype),
            ReLU(),
            Dropout(dropout, rng=rng),
            Linear(84, num_classes, rng=rng, dtype=dtype))
        super().__init__(encoder, classifier)


class BenchNet(EncoderClassifier):
    """The benchmark network: two double-convolution blocks on 3x32x32.

    ::

        encoder     conv3x3(32)-BN-ReLU-conv3x3(32)-BN-ReLU-maxpool2
                    conv3x3(64)-BN-ReLU-conv3x3(64)-BN-ReLU-maxpool2
        classifier  flatten - dropout(p) - linear(num_classes)

    The convolutions pad by 1 and have no bias (batch norm's shift takes
    its place). It is the network whose training step
    ``benchmarks/`` times against PyTorch.

    Parameters
    ----------
    in_channels : int, default 3
    num_classes : int, default 10
    image_size : int or (int, int), default 32
        At least 4.
    dropout : float, default 0.0
    rng : numpy.random.Generator or int, optional
    dtype : float32 or float64, default float32

    Examples
    --------
    >>> import numpy as np
    >>> from cnnc.models import BenchNet
    >>> model = BenchNet(rng=0)
    >>> model(np.zeros((2, 3, 32, 32), np.float32)).shape
    (2, 10)
    >>> model.num_parameters()
    106730
    """

    def __init__(self, in_channels=3, num_classes=10, image_size=32,
                 dropout=0.0, rng=None, dtype=np.float32):
        height, width = _image_size(image_size)
        if min(height, width) < 4:
            raise ValueError("BenchNet needs images of at least 4x4 (two 2x2 "
                             "poolings), got image_size=%r" % (image_size,))
        rng = np.random.default_rng(rng)
        layers = (_conv_bn_relu(in_channels, 32, rng, dtype)
                  + _conv_bn_relu(32, 32, rng, dtype) + [MaxPool2d(2)]
                  + _conv_bn_relu(32, 64, rng, dtype)
                  + _conv_bn_relu(64, 64, rng, dtype) + [MaxPool2d(2)])
        features = 64 * (height // 4) * (width // 4)
        super().__init__(
            Sequential(*layers),
            Sequential(Flatten(), Dropout(dropout, rng=rng),
                       Linear(features, num_classes, rng=rng, dtype=dtype)))
