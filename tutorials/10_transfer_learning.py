"""
Transfer learning: a pre-trained encoder
========================================

The lecture's third drawback: a deep network needs many labelled images,
and most data has no labels. Its first answer is transfer learning:
start from an encoder whose weights were already trained on another
task, instead of from random ones. This page uses the encoder that ships
with cnnc on a new task with only a few labelled images. You will learn:

- what the pre-trained encoder is, what it was trained on, and how to
  load it with :func:`cnnc.models.pretrained_encoder`;
- **fine-tuning**: the encoder frozen, only a new classifier learning;
- **deep-tuning**: every layer learning, the encoder with a smaller
  learning rate than the new classifier;
- how both compare with training the same network from scratch, with 5,
  10 and 25 labelled images per class.
"""

# %%
# Two tasks
# ---------
#
# The lecture's running example sorts shapes: square, triangle, circle,
# diamond. cnnc's encoder was pre-trained on four *other* shapes from the
# same generator, :func:`cnnc.data.shapes`: star, cross, hexagon and ring.
# It has never seen a square or a triangle, so reusing it on the
# lecture's classes is a real transfer, from one task to another. The
# figure shows a few images of each task: the same kind of pictures
# (grey, 32 x 32, of varied size, position, rotation, contrast and
# noise, some drawn as outlines, some dark on light), with different
# objects in them.
import time

import matplotlib.pyplot as plt
import numpy as np

import cnnc
from cnnc import io, losses, optim
from cnnc.data import LECTURE_CLASSES, ArrayDataset, DataLoader, shapes
from cnnc.models import PRETRAINED_ENCODER_PATH, ShapesNet, pretrained_encoder
from cnnc.train import fit

start_time = time.perf_counter()
PRETRAINING_CLASSES = ("star", "cross", "hexagon", "ring")
(x_old, y_old), _ = shapes(8, 0, classes=PRETRAINING_CLASSES, seed=5)
(x_new, y_new), _ = shapes(8, 0, classes=LECTURE_CLASSES, seed=5)

fig, axes = plt.subplots(2, 8, figsize=(10, 3.1), layout="constrained")
for row, (x, y, names, task) in enumerate([
        (x_old, y_old, PRETRAINING_CLASSES, "pre-training task"),
        (x_new, y_new, LECTURE_CLASSES, "new task")]):
    for ax, image, label in zip(axes[row], x, y):
        ax.imshow(image[0], cmap="gray", vmin=0, vmax=1)
        ax.set_title(names[label], fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[row, 0].set_ylabel(task, fontsize=9)
plt.show()

# %%
# The shipped encoder
# -------------------
#
# :class:`cnnc.models.ShapesNet` is the lecture's picture of a CNN: an
# encoder of three building blocks (convolution, batch normalization,
# ReLU, max pooling) that turns a 32 x 32 image into 64 feature maps of
# 4 x 4, and a classifier, one fully connected layer from those 1024
# numbers to the class scores. The script ``scripts/pretrain_encoder.py``
# trained one on 8000 images of the pre-training task and saved its
# encoder in the package; :func:`cnnc.io.read_header` shows how, without
# loading the weights.
header = io.read_header(PRETRAINED_ENCODER_PATH)
for key in ("classes", "n_train", "epochs", "test_accuracy"):
    print("%-14s %s" % (key, header["metadata"][key]))
print("(test_accuracy: on the pre-training task's own test images)")
print(cnnc.summary(ShapesNet(num_classes=4, rng=0), (1, 32, 32)))

# %%
# Three ways to train
# -------------------
#
# Each way builds the same network for the lecture's four classes; they
# differ in where the encoder's weights come from and in which weights
# learn. All three use SGD with momentum 0.9 and the same learning rate
# for the new classifier.
#
# - **From scratch**: every weight starts at random and every weight
#   learns.
# - **Fine-tuning**: the encoder's weights are the pre-trained ones and
#   stay fixed: ``pretrained_encoder(freeze=True)`` sets
#   ``requires_grad=False`` on them, and the optimiser gets only the
#   classifier's parameters. Only the lecture's "classifier weights" are
#   learnable. (Freezing stops the weights; in training mode the batch
#   normalization layers still update their running mean and variance to
#   the new images, as in PyTorch.)
# - **Deep-tuning**: the encoder starts from the pre-trained weights but
#   every layer learns. The encoder gets a learning rate ten times
#   smaller than the classifier's, through a parameter group of its own,
#   so that a few labelled images nudge its features rather than
#   overwrite them.
LR = 0.01
ENCODER_LR = 0.001
STRATEGIES = ("from scratch", "fine-tuning", "deep-tuning")


def make_model(strategy, seed):
    """The network for the new task and the optimiser that trains it."""
    model = ShapesNet(num_classes=len(LECTURE_CLASSES), rng=seed)
    if strategy == "from scratch":
        params = model.parameters()
    elif strategy == "fine-tuning":
        model.encoder = pretrained_encoder(freeze=True)
        params = model.classifier.parameters()
    else:
        model.encoder = pretrained_encoder()
        params = [{"params": model.encoder.parameters(), "lr": ENCODER_LR},
                  {"params": model.classifier.parameters()}]
    optimizer = optim.SGD(params, lr=LR, momentum=0.9, weight_decay=5e-4)
    return model, optimizer


for strategy in STRATEGIES:
    model, optimizer = make_model(strategy, seed=0)
    print("%-13s learns %5d of %d parameters, learning rates %s"
          % (strategy, model.num_parameters(trainable_only=True),
             model.num_parameters(),
             [group["lr"] for group in optimizer.param_groups]))

# %%
# A few labels per class
# ----------------------
#
# We draw a pool of 100 labelled images per class and a test set of 300
# other images. Each run takes 5, 10 or 25 images per class from the pool
# and trains for 15 epochs, in mini-batches of 10, with a learning rate
# that a cosine schedule lowers to zero so that the last epochs settle;
# the test set is measured after every epoch. Each setting is run with
# two seeds (which images are picked, the classifier's initial weights,
# the order of the mini-batches), and we average the two.
(x_pool, y_pool), (x_test, y_test) = shapes(400, 300, seed=1)
BUDGETS = (5, 10, 25)
SEEDS = (0, 1)
EPOCHS = 15


def labelled_subset(per_class, seed):
    """per_class images of each class, picked at random from the pool."""
    rng = np.random.default_rng(seed)
    keep = np.concatenate([
        rng.choice(np.flatnonzero(y_pool == label), per_class, replace=False)
        for label in range(len(LECTURE_CLASSES))])
    return x_pool[keep], y_pool[keep]


def run(strategy, per_class, seed):
    """Test accuracy after every epoch of one training run."""
    x, y = labelled_subset(per_class, seed)
    model, optimizer = make_model(strategy, seed)
    history = fit(model, losses.CrossEntropyLoss(), optimizer,
                  DataLoader(ArrayDataset(x, y), batch_size=10, shuffle=True,
                             rng=seed),
                  epochs=EPOCHS, val_loader=(x_test, y_test),
                  scheduler=optim.CosineAnnealingLR(optimizer, T_max=EPOCHS),
                  progress=False)
    return np.array(history["val_accuracy"])


curves = {(strategy, per_class): np.mean(
              [run(strategy, per_class, seed) for seed in SEEDS], axis=0)
          for per_class in BUDGETS for strategy in STRATEGIES}

print("test accuracy after %d epochs, mean of %d seeds" % (EPOCHS, len(SEEDS)))
print("labels per class " + "".join("%15s" % s for s in STRATEGIES))
for per_class in BUDGETS:
    print("%16d " % per_class + "".join(
        "%14.1f%%" % (100 * curves[strategy, per_class][-1])
        for strategy in STRATEGIES))

# %%
# Learning curves
# ---------------
#
# One panel per number of labelled images; each curve is the test
# accuracy after each epoch. With four classes, guessing gets 25%.
COLOURS = {"from scratch": "tab:red", "fine-tuning": "tab:blue",
           "deep-tuning": "tab:green"}
epochs = np.arange(1, EPOCHS + 1)
fig, axes = plt.subplots(1, len(BUDGETS), figsize=(12, 3.8), sharey=True,
                         layout="constrained")
for ax, per_class in zip(axes, BUDGETS):
    for strategy in STRATEGIES:
        ax.plot(epochs, 100 * curves[strategy, per_class], marker="o",
                markersize=3, color=COLOURS[strategy], label=strategy)
    ax.axhline(25, color="0.5", linestyle=":", linewidth=1)
    ax.set_title("%d labelled images per class (%d in all)"
                 % (per_class, per_class * len(LECTURE_CLASSES)))
    ax.set_xlabel("epoch")
    ax.grid(True, alpha=0.3)
axes[0].set_ylabel("test accuracy (%)")
axes[0].set_ylim(0, 100)
axes[0].legend(loc="lower right", fontsize=8)
plt.show()

# %%
# Where the runs end
# ------------------
#
# The same runs, their last epoch only: test accuracy against the number
# of labelled images per class.
fig, ax = plt.subplots(figsize=(7, 3.8), layout="constrained")
positions = np.arange(len(BUDGETS))
for i, strategy in enumerate(STRATEGIES):
    final = [100 * curves[strategy, per_class][-1] for per_class in BUDGETS]
    bars = ax.bar(positions + (i - 1) * 0.27, final, width=0.27,
                  color=COLOURS[strategy], label=strategy)
    ax.bar_label(bars, fmt="%.0f", padding=2, fontsize=8)
ax.axhline(25, color="0.5", linestyle=":", linewidth=1)
ax.set_xticks(positions, ["%d per class" % b for b in BUDGETS])
ax.set_ylabel("test accuracy after %d epochs (%%)" % EPOCHS)
ax.set_ylim(0, 100)
ax.legend(loc="upper left", fontsize=8)
plt.show()
print("this page trained %d networks in %.0f s"
      % (len(curves) * len(SEEDS), time.perf_counter() - start_time))

# %%
# What the runs show
# ------------------
#
# - **From scratch**, 5 images per class are not enough: for all 15
#   epochs the network stays within a few points of a guess (25%) on the
#   test images. With 10 per class it climbs slowly and ends just above
#   50%; with 25 per class it ends just under 75%.
# - **Both uses of the pre-trained encoder** are far ahead with every
#   number of labels, by about 40 points with 5 images per class and still
#   by more than 15 with 25. They are ahead from the first epoch on, too:
#   the encoder's features of stars and rings already tell squares from
#   triangles well enough for a new linear classifier to use them.
# - **Fine-tuning and deep-tuning** end within two points of each other
#   in these runs. With 25 images per class, deep-tuning falls behind
#   fine-tuning in the first epochs, then catches up and ends level or
#   slightly ahead. The likely reason for the early dip: the new
#   classifier starts at random, and its first, large gradients flow back
#   into the encoder and disturb the features before the classifier has
#   learned to use them (the first suggestion below makes the dip
#   deeper). Fine-tuning cannot damage the features it was given: it
#   trains only the classifier's 4100 parameters.
#
# The fewer the labels, the more the pre-trained weights are worth: the
# gap to training from scratch shrinks as labelled images are added,
# which is the lecture's point. The features an encoder learns on one
# task carry over to a similar one.
#
# Try this
# --------
#
# - Deep-tune with the encoder at the classifier's learning rate,
#   ``ENCODER_LR = LR``. How far does the test accuracy fall in the
#   first epochs, and where does it end, compared with the smaller
#   learning rate?
# - Fine-tune first, then deep-tune: train a few epochs with
#   ``pretrained_encoder(freeze=True)``, then call
#   ``model.encoder.unfreeze()`` and go on with a new optimiser that has
#   a parameter group for the encoder. Does the early drop of
#   deep-tuning go away?
# - Add ``100`` to ``BUDGETS`` (the whole pool): does training from
#   scratch catch up with the pre-trained encoder?
