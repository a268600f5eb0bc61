"""
Overfitting: L2 regularisation and dropout
==========================================

The second drawback in the lecture: a large network has many parameters,
and with them the capacity to "learn by heart". Trained on a few images,
it can memorise every one of them and still do badly on images it has
not seen. This page makes that happen on purpose and then tries the
lecture's two fixes. You will learn:

- what overfitting looks like in the training curves: the error on the
  training images keeps falling while the error on held-out validation
  images turns and rises;
- L2 regularisation: a penalty :math:`\\frac{\\lambda}{2}\\|w\\|^2` added to
  the error, which in cnnc is the optimiser's ``weight_decay``;
- dropout: each unit kept with probability :math:`p_{keep}` during
  training (cnnc, like PyTorch, names the other probability,
  ``p = 1 - p_keep``);
- how far each of them, and the two together, close the gap between
  training and validation on a small training set.
"""

# %%
# A small training set
# --------------------
#
# We need a task where a network can learn by heart quickly. scikit-learn's
# handwritten digits are 8 x 8 grey images of 0 to 9, small enough to
# train on in a second. :func:`cnnc.data.digits` splits them into 1347
# training and 450 test images; from the training part we keep only 10
# images per digit, **100 images** in all, and we use the 450 test images
# as a validation set: images the network never trains on, which tell us how
# well it does on new data.
#
# Each experiment below is run with three seeds. A seed picks which 10
# images of each digit are kept, the network's initial weights and the
# order of the mini-batches; with so few images, one run alone says
# little.
import time

import matplotlib.pyplot as plt
import numpy as np

import cnnc
from cnnc import losses, nn, optim
from cnnc.data import ArrayDataset, DataLoader, digits
from cnnc.train import fit
from cnnc.viz import plot_history, show_images

start_time = time.perf_counter()
(x_pool, y_pool), (x_val, y_val) = digits(seed=0)
PER_CLASS = 10
SEEDS = (0, 1, 2)


def small_training_set(seed):
    """PER_CLASS images of each digit, drawn from the training part."""
    rng = np.random.default_rng(seed)
    keep = np.concatenate([
        rng.choice(np.flatnonzero(y_pool == digit), PER_CLASS, replace=False)
        for digit in range(10)])
    return x_pool[keep], y_pool[keep]


x_train, y_train = small_training_set(SEEDS[0])
print("training images:", x_train.shape, " validation images:", x_val.shape)
order = np.argsort(y_train, kind="stable")
show_images(x_train[order][::5], y_train[order][::5], ncols=10)
plt.show()

# %%
# A large network
# ---------------
#
# The network is the lecture's picture, an encoder of two 3 x 3
# convolutions and a max-pooling, then a classifier of two fully connected
# layers, with a :class:`~cnnc.nn.Dropout` layer between them (switched
# off, ``p = 0``, unless we ask for it). It has no batch normalization, so
# that the only regularisation is the one we add. :func:`cnnc.summary`
# counts its parameters: almost 139 thousand, nearly 1400 for each of the
# 100 training images. Most of them are in the first fully connected
# layer.


def make_network(dropout, seed):
    """Two convolutions, a pooling and two fully connected layers."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=rng), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, rng=rng), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 256, rng=rng), nn.ReLU(),
        nn.Dropout(dropout, rng=rng),
        nn.Linear(256, 10, rng=rng))


print(cnnc.summary(make_network(dropout=0.0, seed=0), (1, 8, 8)))

# %%
# Learning by heart
# -----------------
#
# We train with :func:`cnnc.train.fit`: mini-batches of 20, SGD with a
# learning rate of 0.02 and momentum 0.9, for 60 epochs, with the
# validation set measured after every epoch. ``fit`` returns a
# :class:`~cnnc.train.History`, one entry per epoch, which
# :func:`cnnc.viz.plot_history` draws.
EPOCHS = 60


def train(weight_decay, dropout, seed):
    """Train a fresh network on the seed's training set; its History."""
    x, y = small_training_set(seed)
    model = make_network(dropout, seed)
    optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9,
                          weight_decay=weight_decay)
    history = fit(model, losses.CrossEntropyLoss(), optimizer,
                  DataLoader(ArrayDataset(x, y), batch_size=20, shuffle=True,
                             rng=seed),
                  epochs=EPOCHS, val_loader=(x_val, y_val), progress=False)
    return model, history


plain_model, plain_history = train(weight_decay=0.0, dropout=0.0, seed=0)
plot_history(plain_history)
plt.show()

best = plain_history.best_epoch("val_loss")
print("training:   loss %.4f, accuracy %.1f%% after %d epochs"
      % (plain_history["loss"][-1], 100 * plain_history["accuracy"][-1],
         EPOCHS))
print("validation: loss %.3f at its lowest (epoch %d), %.3f at the end; "
      "accuracy %.1f%%" % (plain_history["val_loss"][best - 1], best,
                           plain_history["val_loss"][-1],
                           100 * plain_history["val_accuracy"][-1]))

# %%
# The two curves part ways. On the training images the loss falls almost
# to zero; the accuracy reaches 99% at about epoch 20 and 100% by epoch
# 30: every one of the 100 images is classified right. On the validation
# images the loss stops falling after some 15 epochs, wobbles, and in the
# last 20 epochs climbs slowly but steadily, while the accuracy stays
# level, well below 100%. From then on the network gets better only at
# the 100 images it has seen: it grows ever more sure of its answers,
# right or wrong, and on the validation images the confident wrong ones
# cost more and more loss. That is overfitting.
#
# L2 regularisation
# -----------------
#
# The lecture's first fix changes the error that training minimises: it
# adds a term :math:`f(w)` that grows with the weights, scaled by a
# regularisation strength :math:`\lambda`. With L2 regularisation that
# term is the sum of the squared weights:
#
# .. math::
#
#    E_{reg}(w) = E(w) + \frac{\lambda}{2} \sum_i w_i^2 ,
#    \qquad
#    \frac{\partial E_{reg}}{\partial w_i} = \frac{\partial E}{\partial w_i}
#    + \lambda w_i .
#
# The penalty never has to be computed: its gradient just adds
# :math:`\lambda w` to the gradient of the error, so each SGD step also
# pulls every weight a little towards zero ("weight decay"). That is the
# ``weight_decay`` argument of :class:`cnnc.optim.SGD`. A network with
# small weights changes its output more gently as its input changes, so
# it cannot bend as sharply around each single training image.
#
# Here is one step taken both ways on a weight vector, with the same
# gradient of the error: they agree.
LAMBDA = 0.01
w = nn.Parameter(np.array([1.0, -2.0, 0.5]))
w.grad = np.array([0.3, 0.1, -0.2])          # dE/dw of some mini-batch
w_penalised = nn.Parameter(w.data.copy())
w_penalised.grad = w.grad + LAMBDA * w.data  # dE_reg/dw, written out
optim.SGD([w], lr=0.1, weight_decay=LAMBDA).step()
optim.SGD([w_penalised], lr=0.1).step()
print("weight_decay:", w.data, "  penalty by hand:", w_penalised.data)

# %%
# Dropout
# -------
#
# The second fix changes the network while it trains. In training mode a
# dropout layer sets each of its inputs to zero at random, a new choice
# for every image of every mini-batch, so the layer after it cannot rely
# on any one unit being there: it has to spread what it learns over many.
# The lecture keeps each unit with probability :math:`p_{keep}`; cnnc's
# :class:`~cnnc.nn.Dropout` takes the probability of *dropping* it,
# ``p = 1 - p_keep``. The kept units are scaled by ``1 / (1 - p)``, so
# that each unit's expected value does not change, and in evaluation mode
# (``eval()``, which :func:`~cnnc.train.fit` and
# :func:`~cnnc.train.evaluate` use for the validation set) the layer does
# nothing at all.
dropout = nn.Dropout(p=0.5, rng=1)
units = np.ones((3, 12), np.float32)
print("training mode:\n", dropout(units))
print("evaluation mode:\n", dropout.eval()(units))
kept = dropout.train()(np.ones((1000, 256), np.float32)) > 0
print("fraction kept in a batch of 1000 x 256 units: %.3f" % kept.mean())

# %%
# Four networks, three seeds each
# -------------------------------
#
# We now train the same network four ways: without regularisation, with
# L2 regularisation (:math:`\lambda = 0.01`), with dropout (``p = 0.5``
# before the last layer, :math:`p_{keep} = 0.5`), and with both; each with
# the three seeds. The curves below are the averages over the seeds.
RUNS = {
    "no regularisation": dict(weight_decay=0.0, dropout=0.0),
    "L2, lambda = %g" % LAMBDA: dict(weight_decay=LAMBDA, dropout=0.0),
    "dropout, p = 0.5": dict(weight_decay=0.0, dropout=0.5),
    "L2 and dropout": dict(weight_decay=LAMBDA, dropout=0.5),
}
COLOURS = ["tab:red", "tab:blue", "tab:green", "tab:purple"]

curves, squared_weights = {}, {}
for name, settings in RUNS.items():
    histories, squares = [], []
    for seed in SEEDS:
        if seed == 0 and settings["weight_decay"] == 0 \
                and settings["dropout"] == 0:
            model, history = plain_model, plain_history   # trained above
        else:
            model, history = train(seed=seed, **settings)
        histories.append(history)
        squares.append(sum(float(np.sum(p.data ** 2))
                           for p in model.parameters()))
    curves[name] = {key: np.mean([h[key] for h in histories], axis=0)
                    for key in ("loss", "val_loss", "accuracy",
                                "val_accuracy")}
    squared_weights[name] = np.mean(squares)

print("%-20s %10s %9s %10s %9s %12s" % ("mean of 3 seeds", "train loss",
      "val loss", "train acc", "val acc", "sum of w^2"))
for name, c in curves.items():
    print("%-20s %10.4f %9.3f %9.1f%% %8.1f%% %12.1f"
          % (name, c["loss"][-1], c["val_loss"][-1], 100 * c["accuracy"][-1],
             100 * c["val_accuracy"][-1], squared_weights[name]))

# %%
# The figure shows, for each way of training, the loss on the training
# images (top left, on a logarithmic scale: it spans three orders of
# magnitude), the loss and the accuracy on the validation images (top
# right, bottom left), and the last epoch's accuracy on the training and
# the validation images side by side (bottom right): the space between
# each pair of bars is the overfitting.
epochs = np.arange(1, EPOCHS + 1)
fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), layout="constrained")
panels = [(axes[0, 0], "loss", "training loss (log scale)", 1),
          (axes[0, 1], "val_loss", "validation loss", 1),
          (axes[1, 0], "val_accuracy", "validation accuracy (%)", 100)]
for ax, key, title, scale in panels:
    for (name, c), colour in zip(curves.items(), COLOURS):
        ax.plot(epochs, scale * c[key], color=colour, label=name)
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.grid(True, alpha=0.3)
axes[0, 0].set_yscale("log")
axes[0, 0].legend(fontsize=8)
axes[0, 1].set_ylim(0, 1.5)
axes[1, 0].set_ylim(70, 95)

ax = axes[1, 1]
rows = np.arange(len(curves))
train_acc = [100 * c["accuracy"][-1] for c in curves.values()]
val_acc = [100 * c["val_accuracy"][-1] for c in curves.values()]
ax.barh(rows - 0.2, train_acc, height=0.4, color="0.75", label="training")
bars = ax.barh(rows + 0.2, val_acc, height=0.4, color=COLOURS,
               label="validation")
ax.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)
ax.set_yticks(rows, list(curves), fontsize=8)
ax.invert_yaxis()
ax.set_xlim(70, 101)
ax.set_title("accuracy at epoch %d (%%), training in grey" % EPOCHS)
plt.show()

# %%
# What the runs show
# ------------------
#
# - **Without regularisation** (red) the training loss falls the lowest,
#   to about 0.001, while the validation loss stops improving after some
#   25 epochs and ends the highest of the four: the pattern of the first
#   figure, averaged over three seeds.
# - **L2 regularisation** (blue) keeps the training loss from reaching
#   zero: it levels off near 0.02, where the pull of the penalty towards
#   small weights balances the push of the error. The sum of the squared
#   weights ends at less than half of the unregularised one (see the
#   table). The validation loss keeps falling after the red one has
#   stopped, and the validation accuracy ends a little higher, by less
#   than a point.
# - **Dropout** (green) makes the training loss noisy, since every
#   mini-batch trains a different thinned network, and gives the highest
#   validation accuracy, about two points above the unregularised
#   network, with its weights no smaller: a classifier that cannot count
#   on any one unit learns features that carry over better to new digits.
# - **Both together** (purple) end with the lowest validation loss, and a
#   validation accuracy close to dropout's; they are the only run that
#   does not quite get every training image right.
#
# The gaps shrink, but none of them closes: with 100 images to learn ten
# digits from, every network still does best on the images it has seen,
# and the accuracy gains are of a point or two. Regularisation makes the
# most of few labels; it does not make up for them. The lecture's answers
# to too little labelled data come next: :ref:`a pre-trained encoder
# <sphx_glr_auto_tutorials_10_transfer_learning.py>` and :ref:`augmented
# data <sphx_glr_auto_tutorials_11_augmentation.py>`.
print("this page trained %d networks in %.0f s"
      % (len(RUNS) * len(SEEDS), time.perf_counter() - start_time))

# %%
# Try this
# --------
#
# - Make the penalty ten times stronger, ``LAMBDA = 0.1``, and look at
#   the sum of the squared weights and the training accuracy. When the
#   weights are pulled towards zero faster than the error can push them
#   away, the network ends up predicting the same scores for every image
#   (a loss of ln 10 = 2.30, an accuracy of 10%): too much regularisation
#   underfits.
# - Give the network more data, ``PER_CLASS = 50``, and run the page
#   again: how much of the gap is left without any regularisation?
