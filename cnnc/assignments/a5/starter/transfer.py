"""Assignment A5: transfer learning and augmentation.

The lecture's answers to having too little labelled data. You write the
augmentations that "randomly perturb the representation" of an image,
flipping, shifting and rotating it, and then fine-tune an encoder that
was trained on other shapes (star, cross, hexagon, ring) to tell the
lecture's square, triangle, circle and diamond apart from only 20
labelled images of each.

Fill in each region between::

    # ---- YOUR CODE HERE ----
    # ---- END OF YOUR CODE ----

and keep the names and arguments of the functions: the grader calls them.
Check your work from this folder with ``cnnc grade A5 .``; it draws new
random images every time and compares your results with cnnc's own.

Images are batches ``x`` of shape (N, C, H, W). A pixel is at ``row``
(0 at the top, growing downwards, as the image is displayed) and ``col``
(0 at the left); positions between pixels have fractional rows and
columns, measured from the pixels' centres.

Rules: you may use NumPy and cnnc's networks and training
(``cnnc.models``, ``cnnc.nn``, ``cnnc.losses``, ``cnnc.optim``,
``cnnc.train``, ``cnnc.data``), but not ``cnnc.data.transforms``,
``cnnc.data.warp``, ``cnnc.functional`` or ``cnnc.reference``: the grader
refuses them, because this assignment asks you to write what they hold.
torch, scipy and the like are refused too.
"""
import numpy as np

from cnnc.losses import CrossEntropyLoss
from cnnc.models import pretrained_encoder
from cnnc.nn import Flatten, Linear, Sequential
from cnnc.optim import SGD


# -- augmentation ------------------------------------------------------------------

def flip_horizontal(x):
    """Mirror every image left to right: column j becomes column W-1-j.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)

    Returns
    -------
    ndarray of shape (N, C, H, W)
        A new array.
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("flip_horizontal: fill in the marked region")
    # ---- END OF YOUR CODE ----


def flip_vertical(x):
    """Mirror every image top to bottom: row i becomes row H-1-i.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)

    Returns
    -------
    ndarray of shape (N, C, H, W)
        A new array.
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("flip_vertical: fill in the marked region")
    # ---- END OF YOUR CODE ----


def shift(x, dx, dy):
    """Move every image ``dx`` pixels right and ``dy`` pixels down.

    What moves out of the image is lost; what comes in is 0 (it does not
    come round from the other side)::

        out[n, c, i, j] = x[n, c, i - dy, j - dx]   where that pixel exists
                          0                         elsewhere

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    dx, dy : int
        Whole pixels, of either sign (negative: left, up), possibly
        larger than the image.

    Returns
    -------
    ndarray of shape (N, C, H, W)
        A new array.
    """
    N, C, H, W = x.shape
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("shift: fill in the marked region")
    # ---- END OF YOUR CODE ----


def rotate(x, degrees):
    """Turn every image about its centre, counter-clockwise as displayed.

    Work backwards: for each pixel (row, col) of the output, find the
    point of the input that lands there, and sample the input at that
    point. With the centre ``(row_c, col_c) = ((H - 1) / 2, (W - 1) / 2)``,
    ``cos = cos(degrees)`` and ``sin = sin(degrees)``, an output pixel
    comes from::

        col_in = col_c + cos * (col - col_c) - sin * (row - row_c)
        row_in = row_c + sin * (col - col_c) + cos * (row - row_c)

    (Rows grow downwards, which is why the signs differ from the rotation
    matrix of a maths book.) That point usually lies between four pixels;
    mix them by bilinear interpolation. With ``r0 = floor(row_in)``,
    ``c0 = floor(col_in)``, ``fr = row_in - r0`` and ``fc = col_in - c0``::

        out = (1 - fr) * ((1 - fc) * I[r0, c0]     + fc * I[r0, c0 + 1])
            +      fr  * ((1 - fc) * I[r0 + 1, c0] + fc * I[r0 + 1, c0 + 1])

    where a pixel I[i, j] outside the image counts as 0: the corners the
    rotation uncovers are black, and the edges fade into them.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    degrees : float
        The angle; positive turns counter-clockwise.

    Returns
    -------
    ndarray of shape (N, C, H, W)

    Notes
    -----
    On the shapes data a square turned by 45 degrees is a diamond, and the
    images are already turned by up to 15 degrees: an augmentation that
    rotates them by more than 5 degrees more can change their class.
    """
    N, C, H, W = x.shape
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("rotate: fill in the marked region")
    # ---- END OF YOUR CODE ----


# -- transfer learning -------------------------------------------------------------

def fine_tune_and_predict(x_train, y_train, x_test, seed):
    """Fine-tune the pre-trained encoder on a few labelled shapes and
    predict the classes of new ones.

    ``cnnc.models.pretrained_encoder()`` is the encoder of a CNN trained on
    star, cross, hexagon and ring images: it turns a grey 32x32 image into
    feature maps of shape (64, 4, 4) that describe edges, corners and
    curves. Here it meets square, triangle, circle and diamond, with only
    80 labelled images. The lecture's recipe:

    - **fine-tuning**: keep the encoder as it is (frozen, and in
      evaluation mode, so its batch normalization keeps the statistics it
      learned) and train only a new classifier on its features;
    - **deep-tuning**: train the encoder too, with a smaller learning rate;
    - **augmentation**: show the network flipped and shifted copies of
      the training images (your functions above), so that it learns what
      does not change a shape's class.

    Below, the encoder is loaded and frozen and a new classifier is made;
    write the training and the prediction. ``classifier(encoder(x))`` gives
    the scores; ``classifier.backward(dscores)`` the gradients of its
    parameters; ``cnnc.optim.SGD`` steps them.

    The grader draws 80 training images (20 per class, the default
    difficulty of ``cnnc.data.make_shapes``) and 400 test images whose
    labels only it knows. Full marks need 80% of the test images right,
    within the time limit of the test (60 seconds; a good solution needs a
    few). In our runs (24 gradings), the same training with an encoder
    learning from scratch got 77% on average, from 46% to 94%, and fell
    short of 80% in 11 of them; fine-tuning the pre-trained encoder with
    flips and shifts got 88% to 96%.

    Parameters
    ----------
    x_train : ndarray of shape (80, 1, 32, 32), float32 in [0, 1]
    y_train : ndarray of shape (80,), int, labels in 0..3 (square,
        triangle, circle, diamond)
    x_test : ndarray of shape (400, 1, 32, 32)
    seed : int
        Everything random must come from it.

    Returns
    -------
    ndarray of shape (400,), int
        The predicted class of every test image.
    """
    rng = np.random.default_rng(seed)
    encoder = pretrained_encoder(freeze=True).eval()
    classifier = Sequential(Flatten(), Linear(64 * 4 * 4, 4, rng=rng))
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("fine_tune_and_predict: fill in the marked region")
    # ---- END OF YOUR CODE ----
