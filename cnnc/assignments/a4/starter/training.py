"""Assignment A4: training.

You write the pieces of the lecture's training loop that fight its
drawbacks, then the loop itself:

- a step of stochastic gradient descent with momentum and L2
  regularisation (weight decay);
- inverted dropout, forward and backward;
- gradient clipping by the global norm;
- a training loop that takes a small CNN built from cnnc's layers to a
  stated accuracy on the shapes data.

Fill in each region between::

    # ---- YOUR CODE HERE ----
    # ---- END OF YOUR CODE ----

and keep the names and arguments of the functions: the grader calls them.
Check your work from this folder with ``cnnc grade A4 .``; it draws new
random inputs (and new shapes) every time.

Rules: you may use NumPy and cnnc's layers, losses and data
(``cnnc.nn``, ``cnnc.losses``, ``cnnc.data``, ``cnnc.models``), but not
``cnnc.optim``, ``cnnc.train``, ``cnnc.functional`` or ``cnnc.reference``:
the grader refuses them, because this assignment asks you to write what
they hold. torch, scipy and the like are refused too.
"""
import numpy as np

from cnnc.losses import CrossEntropyLoss
from cnnc.nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential


# -- the optimiser: SGD with momentum and L2 -----------------------------------

def sgd_step(w, dw, velocity, lr, momentum=0.0, weight_decay=0.0):
    """One step of stochastic gradient descent on one parameter array.

    **L2 regularisation** (the lecture's penalty on large weights, with
    strength lambda = ``weight_decay``) adds ``lambda / 2 * ||w||^2`` to
    the loss. Its gradient is ``lambda * w``, so the direction of the step
    is::

        d = dw + weight_decay * w

    **Momentum** keeps a velocity, a running sum of past directions in
    which each older direction counts ``momentum`` times less, and steps
    along it::

        velocity <- momentum * velocity + d
        w        <- w - lr * velocity

    With ``momentum = 0`` this is plain SGD, ``w <- w - lr * d``. (These
    are the formulas of ``torch.optim.SGD`` and ``cnnc.optim.SGD``; the
    velocity starts at zero.)

    Parameters
    ----------
    w : ndarray
        The parameter.
    dw : ndarray of the shape of w
        dL/dw for the current mini-batch.
    velocity : ndarray of the shape of w
        What this function returned at the previous step (zeros at the
        first).
    lr : float
        The learning rate, > 0.
    momentum : float
        In [0, 1).
    weight_decay : float
        lambda, >= 0.

    Returns
    -------
    w : ndarray
        The parameter after the step (a new array).
    velocity : ndarray
        The velocity to pass to the next step.

    Notes
    -----
    The grader calls this several times in a row, passing back the
    velocity you returned, and checks ``w`` after every step.
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("sgd_step: fill in the marked region")
    # ---- END OF YOUR CODE ----


# -- dropout --------------------------------------------------------------------

def dropout_forward(x, p, seed, training=True):
    """Inverted dropout.

    In training, every unit is dropped (set to 0) with probability ``p``
    and kept otherwise, each independently of the others; the kept units
    are scaled by ``1 / (1 - p)`` so that every unit's expected value is
    unchanged::

        mask = 1 with probability 1 - p, else 0     (one draw per unit)
        out  = x * mask / (1 - p)

    Careful: the lecture's p is the probability to *keep* a unit; here, as
    in PyTorch and cnnc, ``p`` is the probability to *drop* one. When not
    training, dropout does nothing: ``out = x`` and the mask is all ones.

    Parameters
    ----------
    x : ndarray of any shape
    p : float
        Probability of dropping a unit, in [0, 1).
    seed : int
        Draw the mask from ``np.random.default_rng(seed)``: the same seed
        must give the same mask.
    training : bool

    Returns
    -------
    out : ndarray of the shape of x
    mask : ndarray of the shape of x
        1 (or True) where the unit was kept, 0 (False) where dropped.
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("dropout_forward: fill in the marked region")
    # ---- END OF YOUR CODE ----


def dropout_backward(dout, mask, p):
    """The backward pass of :func:`dropout_forward` in training.

    ``out = x * mask / (1 - p)`` is linear in x, so::

        dx = dout * mask / (1 - p)

    Parameters
    ----------
    dout : ndarray
        dL/dout.
    mask : ndarray of bool, of the shape of dout
        The mask of the forward pass.
    p : float
        As in the forward pass.

    Returns
    -------
    dx : ndarray of the shape of dout
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("dropout_backward: fill in the marked region")
    # ---- END OF YOUR CODE ----


# -- gradient clipping ----------------------------------------------------------

def clip_grad_norm(grads, max_norm):
    """Scale all the gradients down together when their norm is too large.

    The lecture's fix for exploding gradients: "set bounds on the
    gradients". The gradients of all the parameters are seen as one long
    vector g, whose norm is::

        total_norm = sqrt(sum over every array and element of g**2)

    When ``total_norm > max_norm``, every array is multiplied by the same
    factor ``max_norm / total_norm``, so the step keeps its direction but
    its length is ``max_norm``; otherwise nothing changes. (Clipping each
    element, or each array on its own, would turn the step.)

    Parameters
    ----------
    grads : list of ndarray
        One gradient per parameter, of any shapes.
    max_norm : float
        > 0.

    Returns
    -------
    clipped : list of ndarray
        The gradients after clipping, in the same order and shapes.
    total_norm : float
        The norm of all the gradients before clipping.
    """
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("clip_grad_norm: fill in the marked region")
    # ---- END OF YOUR CODE ----


# -- the training loop ------------------------------------------------------------

def make_model(rng):
    """A small CNN for grey 32x32 images of 4 classes::

        conv3x3(8)-ReLU-maxpool2      32x32 -> 16x16
        conv3x3(16)-ReLU-maxpool2     16x16 ->  8x8
        flatten - linear(4)

    You may change it (any of cnnc's layers will do), as long as training
    stays within the time limit.
    """
    return Sequential(
        Conv2d(1, 8, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Conv2d(8, 16, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Flatten(), Linear(16 * 8 * 8, 4, rng=rng))


def train_and_predict(x_train, y_train, x_test, seed):
    """Train a network on the shapes and predict the classes of new ones.

    The lecture's loop: (1) initialise the parameters at random (done
    below); (2) shuffle the training images; (3) feed a mini-batch
    forward; (4) measure the error with the cross-entropy loss; (5)
    propagate its gradient back and step every parameter with your
    :func:`sgd_step` (with momentum and a little weight decay, and
    :func:`clip_grad_norm` if a step could be too large); (6) repeat for
    a few epochs. Then predict x_test with the model in evaluation mode.

    The grader draws 1000 training images of square, triangle, circle and
    diamond (``cnnc.data.make_shapes(difficulty="easy")``) and 400 test
    images whose labels only it knows. Full marks need 90% of the test
    images right, within the time limit of the test (60 seconds; a good
    loop needs a few). Everything random must come from ``seed``.

    How cnnc's layers work: ``scores = model(x)`` runs the forward pass;
    ``loss = loss_fn(scores, y)`` the loss, ``loss_fn.backward()`` its
    gradient for the scores, and ``model.backward(that)`` the backward
    pass, which adds each parameter's gradient to ``p.grad`` (so call
    ``model.zero_grad()`` before each batch). ``model.parameters()``
    yields the parameters (take ``list()`` of it to keep them); ``p.data``
    is the array to update, in place (``p.data[...] = new``).
    ``model.eval()`` switches to evaluation mode.

    Parameters
    ----------
    x_train : ndarray of shape (1000, 1, 32, 32), float32 in [0, 1]
    y_train : ndarray of shape (1000,), int, labels in 0..3
    x_test : ndarray of shape (400, 1, 32, 32)
    seed : int

    Returns
    -------
    ndarray of shape (400,), int
        The predicted class of every test image.
    """
    rng = np.random.default_rng(seed)
    model = make_model(rng)
    loss_fn = CrossEntropyLoss()
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("train_and_predict: fill in the marked region")
    # ---- END OF YOUR CODE ----
