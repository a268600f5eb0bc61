"""
Activation functions
====================

The activation is the second part of the lecture's building block
(convolution, activation, pooling, normalization): a function applied to
every value of a feature map on its own. It is also where the lecture's
first drawback of deep networks comes from: "standard backpropagation with
sigmoid activation function does not scale well with multiple layers".
You will learn:

- why a network needs a non-linearity at all;
- the curves of the activations cnnc offers (sigmoid, tanh, ReLU, leaky
  ReLU, ELU) and of their derivatives, which backpropagation multiplies
  together;
- how the gradient shrinks layer after layer in a deep sigmoid stack
  (vanishing gradients) and grows when the weights are too large
  (exploding gradients), measured layer by layer;
- the lecture's two fixes, another activation (ReLU) and gradient
  clipping, and what each does to a training run.
"""

# %%
# Why a non-linearity
# -------------------
#
# A fully connected layer computes ``W x + b``, a linear function of its
# input. Two of them in a row, ``W2 (W1 x + b1) + b2``, are again one
# linear layer, with weight ``W2 W1`` and bias ``W2 b1 + b2``: however many
# we stack, the network can only draw straight boundaries between classes.
# The check below builds two cnnc layers and the single layer they
# collapse into.
import matplotlib.pyplot as plt
import numpy as np

from cnnc import functional, init, losses, nn, optim, train, viz
from cnnc.data import ArrayDataset, DataLoader, shapes

rng = np.random.default_rng(0)
first, second = nn.Linear(8, 16, rng=0), nn.Linear(16, 4, rng=1)
merged = nn.Linear(8, 4)
merged.weight.data[...] = second.weight.data @ first.weight.data
merged.bias.data[...] = second.weight.data @ first.bias.data + second.bias.data

x = rng.standard_normal((5, 8)).astype(np.float32)
print("two linear layers against one: largest difference %.1e"
      % np.abs(second(first(x)) - merged(x)).max())

# %%
# An activation between them breaks this: ``W2 f(W1 x + b1) + b2`` is not
# linear any more, and a deep stack of such layers can bend its decision
# boundaries as much as the data needs.
print("with a ReLU in between: largest difference %.1e"
      % np.abs(second(nn.ReLU()(first(x))) - merged(x)).max())

# %%
# The curves and their derivatives
# --------------------------------
#
# cnnc's activations live in :mod:`cnnc.functional` (and as layers in
# :mod:`cnnc.nn`). Each has a forward function and a backward one; the
# backward multiplies the incoming gradient by the derivative, so feeding
# it a gradient of ones returns the derivative itself:
#
# - sigmoid, :math:`\sigma(x) = 1 / (1 + e^{-x})`, squashes everything into
#   (0, 1); :math:`\sigma'(x) = \sigma(x)(1 - \sigma(x))`;
# - tanh squashes into (-1, 1) and is centred on 0;
#   :math:`\tanh'(x) = 1 - \tanh^2(x)`;
# - ReLU, :math:`\max(x, 0)`, lets positive values through unchanged; its
#   derivative is 1 for positive inputs and 0 otherwise;
# - leaky ReLU keeps a small slope (here 0.1) for negative inputs, so its
#   derivative there is 0.1 instead of 0;
# - ELU bends smoothly to -1 for negative inputs, :math:`e^x - 1`.
#
# The backward functions are checked against central differences
# :math:`(f(x + h) - f(x - h)) / 2h` on the same grid (the grid avoids 0,
# where ReLU has a kink).
xs = np.linspace(-6, 6, 1200, dtype=np.float64)
ones = np.ones_like(xs)
activations = {
    "sigmoid": (functional.sigmoid,
                lambda x, y: functional.sigmoid_backward(ones, y)),
    "tanh": (functional.tanh,
             lambda x, y: functional.tanh_backward(ones, y)),
    "ReLU": (functional.relu,
             lambda x, y: functional.relu_backward(ones, y)),
    "leaky ReLU (0.1)": (lambda x: functional.leaky_relu(x, 0.1),
                         lambda x, y: functional.leaky_relu_backward(
                             ones, x, 0.1)),
    "ELU": (functional.elu,
            lambda x, y: functional.elu_backward(ones, x)),
}

h = 1e-5
curves = {}
for name, (forward, backward) in activations.items():
    y = forward(xs)
    dy = backward(xs, y)
    numeric = (forward(xs + h) - forward(xs - h)) / (2 * h)
    curves[name] = (y, dy)
    print("%-17s largest derivative %.3f, differs from central "
          "differences by %.1e" % (name, dy.max(), np.abs(dy - numeric).max()))

styles = {"sigmoid": "-", "tanh": "-", "ReLU": "-", "leaky ReLU (0.1)": "--",
          "ELU": ":"}
fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
for name, (y, dy) in curves.items():
    width = 3.5 if name == "ReLU" else 1.8
    ax_f.plot(xs, y, styles[name], linewidth=width, label=name)
    ax_d.plot(xs, dy, styles[name], linewidth=width, label=name)
ax_f.set_title("f(x)")
ax_f.set_ylim(-1.5, 3)
ax_d.set_title("f'(x), what backpropagation multiplies by")
ax_d.set_ylim(-0.05, 1.1)
for ax in (ax_f, ax_d):
    ax.axhline(0, color="0.7", linewidth=0.8)
    ax.axvline(0, color="0.7", linewidth=0.8)
    ax.set_xlabel("x")
    ax.grid(alpha=0.3)
ax_f.legend(fontsize=8)
plt.show()

# %%
# Two things stand out in the right-hand panel. The sigmoid's derivative is
# never larger than 0.25 (at x = 0), and it is close to 0 as soon as
# :math:`|x|` passes 4 or 5: there the sigmoid is *saturated*, flat, and
# hardly any gradient gets through. tanh reaches 1 at 0 but saturates in
# the same way. ReLU's derivative is exactly 1 for every positive input,
# however large.
sigmoid_slope = curves["sigmoid"][1]
print("sigmoid: largest derivative %.4f; derivative below 0.01 for "
      "|x| > %.1f" % (sigmoid_slope.max(),
                      np.abs(xs[sigmoid_slope < 0.01]).min()))

# %%
# Multiplying gradients, layer after layer
# ----------------------------------------
#
# Backpropagation goes through the network from the output to the input.
# At each fully connected layer followed by an activation,
# ``h = f(W x + b)``, the chain rule turns the gradient that arrives at the
# layer's output into the one that leaves at its input:
#
# .. math::
#
#    \frac{\partial L}{\partial x} = W^T \left( f'(W x + b) \odot
#    \frac{\partial L}{\partial h} \right)
#
# Every layer multiplies the gradient by its derivatives and its weights.
# In a stack of 20 layers that is 20 factors: when each one is smaller
# than 1 the product shrinks exponentially (the lecture's *vanishing
# gradient*), when each is larger than 1 it grows exponentially (the
# *exploding gradient*).
#
# We build stacks of 20 layers of 64 units, ``Linear -> activation``
# repeated, then a last ``Linear`` to the four classes, and feed them 256
# images of the lecture's shapes (square, triangle, circle, diamond),
# flattened to vectors of 32 x 32 = 1024 pixels. To be fair to each
# activation, its weights are drawn with the scale made for it,
# ``std = gain / sqrt(fan_in)`` with the gain of
# :func:`cnnc.init.calculate_gain` (1 for sigmoid, 5/3 for tanh,
# :math:`\sqrt 2` for ReLU). A fourth stack uses ReLU with weights about
# twice too large (gain 3).
(x_train, y_train), (x_val, y_val) = shapes(1000, 500, difficulty="easy",
                                            seed=0)
print("shapes:", x_train.shape, "training images,", x_val.shape[0],
      "validation images")


def deep_stack(activation, gain, depth=20, width=64, seed=0):
    """Flatten, then `depth` times Linear -> activation, then Linear(4)."""
    rng = np.random.default_rng(seed)
    layers = [nn.Flatten()]
    fan_in = 32 * 32
    for _ in range(depth):
        linear = nn.Linear(fan_in, width, rng=rng)
        init.normal_(linear.weight, 0.0, gain / np.sqrt(fan_in), rng=rng)
        init.zeros_(linear.bias)
        layers += [linear, activation()]
        fan_in = width
    layers.append(nn.Linear(fan_in, 4, rng=rng))
    return nn.Sequential(*layers)


stacks = {
    "sigmoid": (nn.Sigmoid, init.calculate_gain("sigmoid")),
    "tanh": (nn.Tanh, init.calculate_gain("tanh")),
    "ReLU": (nn.ReLU, init.calculate_gain("relu")),
    "ReLU, weights too large": (nn.ReLU, 3.0),
}

# %%
# For each stack we run one forward pass and the cross-entropy loss, then
# the backward pass by hand, layer by layer, so that we can keep the norm
# of the gradient that reaches each of the 20 blocks (the gradient with
# respect to the block's output, :math:`\partial L / \partial h`) and of
# the gradient of each block's weights (:math:`\partial L / \partial W`,
# what the optimiser steps with).
loss_fn = losses.CrossEntropyLoss()
x_probe, y_probe = x_train[:256], y_train[:256]
measured = {}
for name, (activation, gain) in stacks.items():
    net = deep_stack(activation, gain)
    loss = loss_fn(net(x_probe), y_probe)
    grad = loss_fn.backward()
    signal, weight_grad = [], []
    for layer in reversed(list(net)):
        if isinstance(layer, activation):
            signal.append(np.linalg.norm(grad))
        grad = layer.backward(grad)
        if isinstance(layer, nn.Linear) and len(signal) > 0:
            weight_grad.append(np.linalg.norm(layer.weight.grad))
    # Collected from the output backwards: reverse to count from the input.
    measured[name] = (signal[::-1], weight_grad[::-1])
    print("%-24s loss %10.4g   dL/dh: block 20 %.1e, block 1 %.1e "
          "(ratio %.0e)" % (name, loss, signal[0], signal[-1],
                            signal[-1] / signal[0]))

fig, (ax_s, ax_w) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
blocks = np.arange(1, 21)
for name, (signal, weight_grad) in measured.items():
    ax_s.semilogy(blocks, signal, marker="o", markersize=3, label=name)
    ax_w.semilogy(blocks, weight_grad, marker="o", markersize=3, label=name)
ax_s.set_title("gradient reaching each block, ||dL/dh||")
ax_w.set_title("gradient of each block's weights, ||dL/dW||")
for ax in (ax_s, ax_w):
    ax.set_xlabel("block (1 = next to the input)")
    ax.set_xticks([1, 5, 10, 15, 20])
    ax.grid(True, which="both", alpha=0.3)
ax_s.legend(fontsize=8)
plt.show()

# %%
# Read the left panel from right to left, the way the gradient travels.
# Through the sigmoid stack the gradient loses a factor of about 4 at every
# block (the sigmoid's derivative is at most 0.25), and the first block
# receives about :math:`10^{-12}` of what the last one does. With tanh and
# ReLU, each scaled with its own gain, the gradient keeps the same order
# of magnitude from block 20 to block 1 (within a factor of 10). The ReLU
# stack whose weights are too large does the opposite of the sigmoid's:
# its gradient grows by about 2x per block, a factor near :math:`10^6`
# over the stack.
#
# The right panel is what learning sees. In the sigmoid stack the weights
# of the first blocks get gradients more than ten orders of magnitude
# smaller than those of the last: "weights of early layers change very
# slowly". In the stack with large weights every block's weight gradient
# is between :math:`10^5` and :math:`10^6` at once: the activations grow
# block after block on the way forward, the gradient on the way back, and
# a weight's gradient is the product of the two.
#
# What vanishing gradients do to training
# ---------------------------------------
#
# Now train two stacks of 10 blocks, one with sigmoid and one with ReLU,
# on the 1000 shapes images: the same data, the same SGD (learning rate
# 0.01, momentum 0.9, batches of 50), 8 epochs. :func:`cnnc.train.fit` can
# record each layer's mean gradient norm per epoch
# (``track_grad_norms=True``).


def train_stack(net, lr, epochs=8, clip=None):
    """SGD with momentum on the shapes images; returns the History."""
    loader = DataLoader(ArrayDataset(x_train, y_train), batch_size=50,
                        shuffle=True, rng=0)
    optimizer = optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    return train.fit(net, losses.CrossEntropyLoss(), optimizer, loader,
                     epochs, val_loader=(x_val, y_val), clip_grad_norm=clip,
                     progress=False, track_grad_norms=True)


histories, first_layer_change = {}, {}
for name in ("sigmoid", "ReLU"):
    activation, gain = stacks[name]
    net = deep_stack(activation, gain, depth=10)
    before = net[1].weight.data.copy()
    histories[name] = train_stack(net, lr=0.01)
    first_layer_change[name] = (np.linalg.norm(net[1].weight.data - before)
                                / np.linalg.norm(before))
    print("%-8s loss per epoch %s" % (name, " ".join(
        "%.3f" % v for v in histories[name]["loss"])))
    print("%-8s validation accuracy %.0f%%, first layer's weights moved by "
          "%.1e of their size"
          % ("", 100 * histories[name]["val_accuracy"][-1],
             first_layer_change[name]))

fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
for name, history in histories.items():
    ax_l.plot(history["epoch"], history["loss"], marker="o", label=name)
    ax_a.plot(history["epoch"], 100 * np.array(history["val_accuracy"]),
              marker="o", label=name)
ax_l.axhline(np.log(4), color="0.5", linestyle=":",
             label="ln 4, guessing among 4 classes")
ax_l.set_title("training loss, 10 blocks")
ax_a.set_title("validation accuracy (%)")
for ax in (ax_l, ax_a):
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.show()

# %%
# The sigmoid stack's loss stays at :math:`\ln 4 \approx 1.386`, the loss
# of a network that gives every class the same probability, and its
# validation accuracy stays at 25%, chance among four classes. The ReLU
# stack with the same data, optimiser and number of layers learns: its
# loss falls to about 0.7 and its validation accuracy climbs to about 75%
# in 8 epochs (a plain stack of fully connected layers is no CNN; it would
# need more epochs to do better). The printed changes of the first
# layer's weights say why: the ReLU stack's moved by a fifth of their
# size, the sigmoid stack's by less than a millionth.
#
# :func:`cnnc.viz.plot_gradient_flow` draws what ``fit`` recorded for the
# sigmoid stack: each layer's gradient norm at the first, middle and last
# epoch (left), and over the epochs (right). The layer names are their
# positions in the Sequential (``1`` is the first Linear, ``21`` the
# classifier).
fig = viz.plot_gradient_flow(histories["sigmoid"])
fig.axes[0].set_title("sigmoid stack: gradient norm per layer")
plt.show()

# %%
# The gradient still drops by more than five orders of magnitude from the
# last layer to the first in every epoch: training does not repair it.
#
# Exploding gradients
# -------------------
#
# Back to the ReLU stack whose weights are too large, now with 10 blocks.
# Its first gradient is huge, so the first SGD step (even with a small
# learning rate, 0.01) throws the weights far away; the next forward pass
# gives even larger values and gradients, and so on. Below, the first
# steps of the training loop written out: the loss goes from hundreds to
# :math:`10^{32}` in three steps, and at the fourth the values overflow
# float32 and the loss is NaN, as the lecture warns.
net = deep_stack(nn.ReLU, 3.0, depth=10)
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
batches = iter(DataLoader(ArrayDataset(x_train, y_train), batch_size=50,
                          shuffle=True, rng=0))


def gradient_norm(net):
    """The norm of all the parameters' gradients as one long vector."""
    return np.sqrt(sum(np.sum(p.grad.astype(np.float64) ** 2)
                       for p in net.parameters()))


with np.errstate(over="ignore", invalid="ignore"):
    for step in range(1, 7):
        x, y = next(batches)
        loss = loss_fn(net(x), y)
        net.zero_grad()
        net.backward(loss_fn.backward())
        print("step %d: loss %.3g, gradient norm %.3g"
              % (step, loss, gradient_norm(net)))
        if not np.isfinite(loss):
            break
        optimizer.step()

# %%
# :func:`cnnc.train.fit` stops such a run at once: it raises a
# ``FloatingPointError`` as soon as the loss is not a finite number.
try:
    train_stack(deep_stack(nn.ReLU, 3.0, depth=10), lr=0.01)
except FloatingPointError as error:
    print("FloatingPointError:", error)

# %%
# Gradient clipping
# -----------------
#
# The lecture's other fix is to "set bounds on the gradients".
# :mod:`cnnc.optim` has both usual forms, applied between ``backward`` and
# the optimiser's ``step``:
#
# - :func:`cnnc.optim.clip_grad_norm_` treats all the gradients as one long
#   vector and, when its norm is above ``max_norm``, scales them all down
#   by the same factor: the step keeps its direction, its length is
#   bounded;
# - :func:`cnnc.optim.clip_grad_value_` clamps every gradient element into
#   ``[-clip_value, clip_value]`` on its own, which can change the
#   direction.
#
# On the large-weight stack's first batch:
net = deep_stack(nn.ReLU, 3.0, depth=10)
for clip, setting in [(optim.clip_grad_norm_, 1.0),
                      (optim.clip_grad_value_, 0.01)]:
    loss_fn(net(x_probe), y_probe)
    net.zero_grad()
    net.backward(loss_fn.backward())
    raw = np.concatenate([p.grad.ravel() for p in net.parameters()])
    clip(net.parameters(), setting)
    clipped = np.concatenate([p.grad.ravel() for p in net.parameters()])
    cosine = raw @ clipped / (np.linalg.norm(raw) * np.linalg.norm(clipped))
    print("%s(%g): norm %.3g -> %.3g, largest element %.3g -> %.3g, "
          "cosine with the unclipped gradient %.3f"
          % (clip.__name__, setting, np.linalg.norm(raw),
             np.linalg.norm(clipped), np.abs(raw).max(),
             np.abs(clipped).max(), cosine))

# %%
# Clipping the norm to 1 shrinks the gradient by three orders of magnitude
# and leaves its direction alone (cosine 1). Clipping each value to 0.01
# bounds every element; about four in five of them were larger and are
# cut to exactly 0.01, so the clipped gradient points elsewhere (cosine
# about 0.35).
#
# ``fit(..., clip_grad_norm=1.0)`` clips the norm before every step. The
# same large-weight stack, the same learning rate, now trains without
# overflowing. Beside it, the ReLU stack with well-scaled weights trained
# above, with the same learning rate and no clipping.
clipped_runs = {
    "ReLU, weights too large, clipped to norm 1":
        train_stack(deep_stack(nn.ReLU, 3.0, depth=10), lr=0.01, clip=1.0),
    "ReLU, well-scaled weights": histories["ReLU"],
}
for name, history in clipped_runs.items():
    print("%s\n    loss per epoch %s\n    validation accuracy %.0f%%"
          % (name, " ".join("%.3g" % v for v in history["loss"]),
             100 * history["val_accuracy"][-1]))

fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
for name, history in clipped_runs.items():
    ax.semilogy(history["epoch"], history["loss"], marker="o", label=name)
ax.axhline(np.log(4), color="0.5", linestyle=":", label="ln 4")
ax.set_xlabel("epoch")
ax.set_title("training loss (log scale), 10 blocks, lr 0.01")
ax.grid(True, which="both", alpha=0.3)
ax.legend(fontsize=8)
plt.show()

# %%
# With clipping the large-weight stack no longer diverges: its loss starts
# near 150 and comes down to about 3 in 8 epochs. Clipping bounds each
# step; it does not change the scale of the weights, so the clipped stack
# starts from a much worse place than the one whose weights were scaled
# for ReLU from the start, and after 8 epochs it is still behind (about
# 50% validation accuracy against about 75%). The lecture's two fixes
# work together: an activation whose derivative does not shrink the
# gradient, with weights scaled for it, and clipping as a guard against
# the steps that still blow up.
#
# Try this
# --------
#
# - Give the sigmoid stack a larger gain in ``deep_stack`` (say 4, to make
#   up for the derivative's 0.25): does the gradient reach the first block
#   now? Look at how many sigmoid outputs are close to 0 or 1.
# - Train the well-scaled ReLU stack with a learning rate of 0.2, with and
#   without ``clip=1.0``, and count the ReLU units that are 0 for every
#   image afterwards (``(net[:3](x_val) > 0).sum(axis=0) == 0`` for the
#   first block).
