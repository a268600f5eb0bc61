"""
Batch normalization
===================

Batch normalization is the last part of the lecture's building block
(convolution, activation, pooling, normalization). It standardises every
channel of a feature map with the mean and variance of the current
mini-batch, then lets the network scale and shift the result as it needs.
You will learn:

- the batch statistics and the formula, in plain NumPy and with
  :class:`cnnc.nn.BatchNorm2d`, and a check that they agree;
- what the learnable scale gamma and shift beta are for;
- why training and evaluation differ: the running statistics used at
  inference, and what goes wrong without them;
- what batch normalization does for a deeper network: its loss and
  accuracy trained with and without it, and the mean and spread of every
  layer's activations during training.
"""

# %%
# Batch statistics
# ----------------
#
# Feed a mini-batch of B images to a convolution layer and each of its
# output channels holds B x H x W values, one feature map per image. Those
# values have some mean and some spread, and both differ from channel to
# channel and change whenever the layers before them learn. Here are 64
# images of the lecture's shapes (square, triangle, circle, diamond)
# through a convolution with four filters.
import matplotlib.pyplot as plt
import numpy as np

from cnnc import init, losses, nn, optim, train
from cnnc.data import ArrayDataset, DataLoader, shapes

(x_train, y_train), (x_val, y_val) = shapes(1500, 500, seed=0)
conv = nn.Conv2d(1, 4, kernel_size=3, padding=1, rng=0)
F = conv(x_train[:64])                                   # (B, C, H, W)
print("feature maps:", F.shape)
for c in range(F.shape[1]):
    print("channel %d: mean %+.3f, standard deviation %.3f"
          % (c, F[:, c].mean(), F[:, c].std()))

# %%
# Batch normalization standardises each channel with its own statistics
# over the batch and the positions, the mean :math:`\hat\mu` and the
# variance :math:`\hat\sigma^2` of its :math:`M = B \cdot H \cdot W`
# values, then scales by a learnable :math:`\gamma` and shifts by a
# learnable :math:`\beta`:
#
# .. math::
#
#    \hat\mu = \frac{1}{M} \sum_{k=1}^{M} F_k, \qquad
#    \hat\sigma^2 = \frac{1}{M} \sum_{k=1}^{M} (F_k - \hat\mu)^2, \qquad
#    \hat F = \gamma \, \frac{F - \hat\mu}{\sqrt{\hat\sigma^2 + \epsilon}}
#    + \beta
#
# The small :math:`\epsilon` (``eps``, 1e-5 by default) keeps the division
# safe when a channel is constant. For fully connected layers
# (:class:`cnnc.nn.BatchNorm1d`) the sums run over the B samples only. In
# plain NumPy, for images:
eps = 1e-5
mean = F.mean(axis=(0, 2, 3), keepdims=True)             # (1, C, 1, 1)
var = F.var(axis=(0, 2, 3), keepdims=True)               # 1/M, not 1/(M-1)
F_hat = (F - mean) / np.sqrt(var + eps)                  # gamma 1, beta 0

bn = nn.BatchNorm2d(4)
print(bn)
print("gamma (bn.weight) starts at", bn.weight.data, "and beta (bn.bias) at",
      bn.bias.data)
out = bn(F)
np.testing.assert_allclose(out, F_hat, rtol=1e-4, atol=1e-4)
print("largest difference between BatchNorm2d and the NumPy formula: %.1e"
      % np.abs(out - F_hat).max())

# %%
# The histograms show the four channels' values before and after: four
# different distributions become four with mean 0 and standard deviation
# 1. Their shapes do not change; batch normalization only shifts and
# rescales each channel.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
for c in range(4):
    axes[0].hist(F[:, c].ravel(), bins=80, histtype="step", linewidth=1.5,
                 label="channel %d" % c)
    axes[1].hist(out[:, c].ravel(), bins=80, histtype="step", linewidth=1.5,
                 label="channel %d" % c)
axes[0].set_title("convolution output F")
axes[1].set_title("after BatchNorm2d (gamma 1, beta 0)")
for ax in axes:
    ax.set_xlabel("value")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
axes[0].legend(fontsize=8)
plt.show()

# %%
# Gamma and beta
# --------------
#
# Forcing every channel to mean 0 and standard deviation 1 would limit what
# the network can express: a ReLU after it, for instance, would always
# zero about half of every channel's values. So the layer learns a scale
# :math:`\gamma` and a shift :math:`\beta` per channel (``bn.weight`` and
# ``bn.bias``, trained like any other parameter), which set the output's
# standard deviation and mean. With
# :math:`\gamma = \sqrt{\hat\sigma^2 + \epsilon}` and
# :math:`\beta = \hat\mu` the layer would even give its input back
# unchanged: batch normalization can always be undone if that is what the
# loss asks for.
bn.weight.data[...] = [0.5, 1.0, 2.0, 3.0]
bn.bias.data[...] = [1.0, 0.0, -1.0, 2.0]
out = bn(F)
for c in range(4):
    print("channel %d: gamma %.1f, beta %+.1f -> output mean %+.3f, "
          "standard deviation %.3f" % (c, bn.weight.data[c], bn.bias.data[c],
                                       out[:, c].mean(), out[:, c].std()))

bn.weight.data[...] = np.sqrt(var + eps).ravel()
bn.bias.data[...] = mean.ravel()
print("gamma = sqrt(var + eps), beta = mean: largest difference from the "
      "input %.1e" % np.abs(bn(F) - F).max())

# %%
# Training against evaluation: running statistics
# -----------------------------------------------
#
# In training mode, the statistics come from the mini-batch, which adds a
# little noise: an image is normalised slightly differently depending on
# the other images in its batch. At inference that is not wanted (and
# there may be a single image), so the layer also keeps *running*
# estimates of each channel's mean and variance, updated after every
# training batch:
#
# .. math::
#
#    \mu_{run} \leftarrow (1 - m) \, \mu_{run} + m \, \hat\mu
#
# with the momentum :math:`m = 0.1` by default (and the same for the
# variance, using the unbiased estimate). cnnc follows PyTorch here; some
# course materials write the rule with :math:`1 - m` where this has
# :math:`m` (see :class:`cnnc.nn.BatchNorm2d`). In evaluation mode,
# ``bn.eval()``, the running statistics replace the batch's.
#
# Below, a fresh layer sees 60 training batches of 25 images (one pass
# over the 1500 training images), and we follow its running mean against
# the mean of each channel over the whole training set.
bn = nn.BatchNorm2d(4)
loader = DataLoader(ArrayDataset(x_train, y_train), batch_size=25,
                    shuffle=True, rng=0)
running = [bn.running_mean.copy()]
for x, _ in loader:
    bn(conv(x))
    running.append(bn.running_mean.copy())
running = np.array(running)
all_maps = conv(x_train)
true_mean = all_maps.mean(axis=(0, 2, 3))
true_var = all_maps.var(axis=(0, 2, 3))
print("batches seen:", int(bn.num_batches_tracked))
print("running mean ", np.round(bn.running_mean, 3))
print("training set ", np.round(true_mean, 3))
print("running var  ", np.round(bn.running_var, 3))
print("training set ", np.round(true_var, 3))

fig, ax = plt.subplots(figsize=(6.5, 3.4), layout="constrained")
for c in range(4):
    line, = ax.plot(running[:, c], label="channel %d" % c)
    ax.axhline(true_mean[c], color=line.get_color(), linestyle=":")
ax.set_xlabel("training batches seen")
ax.set_ylabel("running mean")
ax.set_title("running means (solid) and training-set means (dotted)")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
plt.show()

# %%
# The running means start at 0 and move a tenth of the way towards each
# batch's mean, so after about 30 batches they have forgotten their start
# and follow the training-set means, jittering a little from batch to
# batch. The running variances are still a little too large: they start
# at 1, and after 60 batches :math:`0.9^{60} \approx 0.002` of that start
# remains, which is not negligible next to variances of 0.007 to 0.03.
#
# The difference between the modes shows on a single image: put the same
# image in two different batches. In training mode its output depends on
# its batch-mates; in evaluation mode it does not.
image = x_train[:1]
batch_a = np.concatenate([image, x_train[100:131]])
batch_b = np.concatenate([image, x_train[500:531]])
for mode in ("train", "eval"):
    bn.train(mode == "train")
    in_a, in_b = bn(conv(batch_a))[0], bn(conv(batch_b))[0]
    print("%-5s mode: the image's output in two batches differs by up to "
          "%.3f" % (mode, np.abs(in_a - in_b).max()))

# %%
# (The layer is in training mode again after :func:`cnnc.train.fit`, and
# :func:`cnnc.train.evaluate` and :func:`cnnc.train.predict` switch a model
# to evaluation mode for you. Forgetting ``model.eval()`` in a loop of
# your own means your predictions depend on the batch they come in.)
#
# A deeper network, with and without batch normalization
# ------------------------------------------------------
#
# Now the lecture's building block in a deeper network: six 3 x 3
# convolutions with ReLU, a 2 x 2 max pooling after every second one,
# then a fully connected classifier, trained on the 1500 shapes images.
# We build it three ways:
#
# - **plain**: convolution -> ReLU, with cnnc's default initialisation
#   (PyTorch's, weights uniform in :math:`\pm 1/\sqrt{\mathrm{fan\_in}}`);
# - **plain, He init**: the same, with the weights drawn by
#   :func:`cnnc.init.kaiming_normal_`, scaled for ReLU;
# - **batch norm**: convolution -> batch normalization -> ReLU, default
#   initialisation (the convolutions have no bias; beta takes its place).
#
# To see the activations during training, every ReLU is followed by a
# ``Watch`` layer that passes its input through unchanged and, in training
# mode, notes the mean and standard deviation of every batch: what the
# next layer receives.


class Watch(nn.Module):
    """An identity layer that records the statistics of what it sees."""

    def __init__(self):
        super().__init__()
        self.means, self.stds = [], []

    def forward(self, x):
        if self.training:
            self.means.append(float(x.mean()))
            self.stds.append(float(x.std()))
        return x

    def backward(self, grad_out):
        return grad_out


def deep_cnn(kind, widths=(8, 8, 16, 16, 16, 16), seed=0):
    """Six conv blocks (max pooling after every second one), then Linear."""
    rng = np.random.default_rng(seed)
    layers, channels = [], 1
    for i, width in enumerate(widths):
        layer = nn.Conv2d(channels, width, 3, padding=1,
                          bias=kind != "batch norm", rng=rng)
        if kind == "plain, He init":
            init.kaiming_normal_(layer.weight, nonlinearity="relu", rng=rng)
            init.zeros_(layer.bias)
        layers.append(layer)
        if kind == "batch norm":
            layers.append(nn.BatchNorm2d(width))
        layers += [nn.ReLU(), Watch()]
        if i % 2 == 1:
            layers.append(nn.MaxPool2d(2))
        channels = width
    layers += [nn.Flatten(), nn.Linear(channels * 4 * 4, 4, rng=rng)]
    return nn.Sequential(*layers)


# %%
# All three train with the same SGD (learning rate 0.05, momentum 0.9,
# batches of 32) for 6 epochs, evaluated on 500 validation images after
# each epoch.
kinds = ["plain", "plain, He init", "batch norm"]
histories, watches = {}, {}
for kind in kinds:
    model = deep_cnn(kind)
    loader = DataLoader(ArrayDataset(x_train, y_train), batch_size=32,
                        shuffle=True, rng=0)
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    histories[kind] = train.fit(model, losses.CrossEntropyLoss(), optimizer,
                                loader, epochs=6, val_loader=(x_val, y_val),
                                progress=False, track_grad_norms=True)
    watches[kind] = [layer for layer in model if isinstance(layer, Watch)]
    print("%-15s loss %s | validation accuracy %s" % (
        kind, " ".join("%.3f" % v for v in histories[kind]["loss"]),
        " ".join("%.0f%%" % (100 * v)
                 for v in histories[kind]["val_accuracy"])))

fig, (ax_l, ax_a) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
for kind, history in histories.items():
    ax_l.plot(history["epoch"], history["loss"], marker="o", label=kind)
    ax_a.plot(history["epoch"], 100 * np.array(history["val_accuracy"]),
              marker="o", label=kind)
ax_l.axhline(np.log(4), color="0.5", linestyle=":", label="ln 4 (chance)")
ax_l.set_title("training loss")
ax_a.set_title("validation accuracy (%)")
for ax in (ax_l, ax_a):
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
plt.show()

# %%
# The plain network does not learn at all: its loss stays at
# :math:`\ln 4`, chance among four classes. With batch normalization the
# same network, with the same initialisation and learning rate, learns
# from the first epoch: its validation accuracy passes 90% in the fourth.
# With He initialisation the plain network learns too, but more slowly
# and less steadily at this learning rate: after 6 epochs its training
# loss is between the batch norm network's after 2 and after 3 epochs,
# and its validation accuracy went down once on the way.
#
# Activation statistics during training
# -------------------------------------
#
# The ``Watch`` layers say why. Each curve below is one layer's input,
# the output of its ReLU, batch after batch (1 = after the first
# convolution); the top row its standard deviation (log scale), the
# bottom row its mean.
fig, axes = plt.subplots(2, 3, figsize=(11, 5.6), sharex=True, sharey="row",
                         layout="constrained")
colours = plt.get_cmap("viridis")
for col, kind in enumerate(kinds):
    for i, watch in enumerate(watches[kind]):
        colour = colours(i / (len(watches[kind]) - 1))
        axes[0, col].semilogy(watch.stds, color=colour, linewidth=1,
                              label="ReLU %d" % (i + 1))
        axes[1, col].plot(watch.means, color=colour, linewidth=1)
    axes[0, col].set_title(kind)
    axes[1, col].set_xlabel("training batch")
    for ax in axes[:, col]:
        ax.grid(True, which="both", alpha=0.3)
axes[0, 0].set_ylabel("standard deviation")
axes[1, 0].set_ylabel("mean")
axes[0, 2].legend(fontsize=7, ncol=2)
plt.show()

for kind in kinds:
    first = [w.stds[0] for w in watches[kind]]
    last = [w.stds[-1] for w in watches[kind]]
    print("%-15s std per layer, first batch: %s\n%-15s            last batch:"
          "  %s" % (kind, " ".join("%.3f" % v for v in first), "",
                    " ".join("%.3f" % v for v in last)))

# %%
# ``fit(..., track_grad_norms=True)`` also kept each layer's gradient
# norm. Here are those of the six convolutions in the first epoch, from
# the input side:
for kind in kinds:
    norms, types = histories[kind].grad_norms, histories[kind].layer_types
    convs = [name for name in norms if types[name] == "Conv2d"]
    print("%-15s %s" % (kind, " ".join("%.1e" % norms[name][0]
                                       for name in convs)))

# %%
# In the plain network (left) the signal shrinks from layer to layer:
# with weights of the default scale, the standard deviation falls from
# about 0.18 after the first ReLU to 0.03 after the fourth, losing
# between a third and a half of it at each of these layers, and the
# gradient shrinks on its way back: in the first epoch the first
# convolution's gradient is about 30 times smaller than the sixth's, and
# some 300 times smaller than in the batch norm network. The curves stay
# flat because almost nothing learns, except that within the first
# hundred batches the sixth ReLU's output dies: its standard deviation
# and mean fall to 0 (the curve leaves the log-scale plot), so the
# classifier receives only zeros and can do no better than chance.
#
# With He initialisation (middle) the spreads start at the same scale in
# every layer, but training moves them: within the first 20 batches those
# of layers 2 to 6 collapse by a factor of 10 or more, then recover, and
# for the rest of training they keep wandering between about 0.04 and
# 1.4, while the first layer's mean swings between about 0.1 and 0.8. Each
# layer's input distribution keeps changing as the layers before it
# learn; this is what the lecture calls *internal covariate shift*, and
# every layer has to keep adapting to it.
#
# With batch normalization (right) the inputs of layers 1 to 5 keep
# nearly the same spread, between 0.5 and 0.75, and mean, between 0.25
# and 0.45, from the first batch to the last: each channel is re-standardised
# on every batch, so only gamma and beta, which are learned, can move
# them. (A standard normal variable through a ReLU has mean 0.40 and
# standard deviation 0.58.) The exception is the sixth layer: in the
# first 25 batches its gamma shrinks (from 1 to about 0.65 on average)
# and its beta turns negative (to about -0.3), so the ReLU after it cuts
# more of its values; its spread dips to about 0.1, then climbs back to
# about 0.6 by the end, with a mean that stays lower than the others'.
# Put next to the middle column, this is the lecture's summary, "BN
# reduces the internal covariate shift", and with it a deeper network
# trains with plain SGD from the default initialisation.
#
# Try this
# --------
#
# - Train the He-initialised plain network with a learning rate of 0.02
#   instead of 0.05, and the batch norm network with 0.2: which of the two
#   copes with a change of learning rate better?
# - Train the batch norm network with batches of 4 images
#   (``batch_size=4``): the batch statistics get noisy. Compare its
#   accuracy in training mode (``history["accuracy"]``) with the
#   validation accuracy, measured in evaluation mode.
