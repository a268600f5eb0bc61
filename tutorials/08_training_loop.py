"""
The training loop by hand
=========================

The lecture trains a network with a short recipe: initialise, shuffle,
feed mini-batches forward, measure the error, propagate its gradient back
and step, repeat. This page writes every step out with cnnc's layers, in
plain Python, and then lets :func:`cnnc.train.fit` do the same. You will
learn:

- what each step of the recipe is in code: random initialisation,
  preprocessing and shuffling, the forward pass, the error, the backward
  pass and the stochastic gradient descent (SGD) step;
- why the loss of single mini-batches jumps around while its average over
  an epoch falls;
- that :func:`cnnc.train.fit` is this same loop: from the same start, it
  gives the same curves.
"""

# %%
# The recipe
# ----------
#
# The lecture's slide "Encoder: Overall Training", step by step:
#
# 1. Initialise all learnable parameters, e.g. by random sampling.
# 2. Preprocess the training images and shuffle them at random.
# 3. Feed the images forward in mini-batches and compute the predictions.
# 4. Calculate the error between the target labels and the predictions.
# 5. Propagate the error's gradient back and adjust the weights with an
#    optimisation method, e.g. stochastic gradient descent.
# 6. Repeat until the error stops falling.
#
# The data are the lecture's shapes: grey 32 x 32 images of squares,
# triangles, circles and diamonds. We keep 200 of the 2000 training
# images aside to validate on.
import matplotlib.pyplot as plt
import numpy as np

from cnnc import functional, losses, optim
from cnnc.data import (LECTURE_CLASSES, ArrayDataset, DataLoader,
                       channel_stats, normalize, shapes, train_val_split)
from cnnc.nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from cnnc.train import fit

(x_all, y_all), _ = shapes(n_train=2000, n_test=0, seed=0)
(x_train, y_train), (x_val, y_val) = train_val_split(x_all, y_all,
                                                     val_fraction=0.1, seed=0)
print("training:", x_train.shape, " validation:", x_val.shape)

# %%
# Step 1: initialise the parameters at random
# -------------------------------------------
#
# A small CNN: two blocks of convolution, activation and pooling as the
# encoder, and one fully connected layer as the classifier. Each layer
# draws its initial weights from the random generator it is given,
# uniformly in :math:`\pm 1/\sqrt{\text{fan-in}}`, where the fan-in is the
# number of inputs that each output adds up (9 for the first convolution:
# one channel times 3 x 3). A fixed seed gives the same network every
# time, which is what lets us compare two trainings below.


def make_model(seed):
    """The network of this page with random weights from ``seed``."""
    rng = np.random.default_rng(seed)
    return Sequential(
        Conv2d(1, 8, kernel_size=3, padding=1, rng=rng),    # 8 x 32 x 32
        ReLU(),
        MaxPool2d(2),                                       # 8 x 16 x 16
        Conv2d(8, 16, kernel_size=3, padding=1, rng=rng),   # 16 x 16 x 16
        ReLU(),
        MaxPool2d(2),                                       # 16 x 8 x 8
        Flatten(),                                          # 1024
        Linear(16 * 8 * 8, len(LECTURE_CLASSES), rng=rng),  # 4 scores
    )


model = make_model(seed=0)
print(model)
first = model[0].weight.data
print("first convolution: weight %s, values in [%.3f, %.3f], bound 1/3"
      % (first.shape, first.min(), first.max()))

# %%
# Step 2: preprocess and shuffle
# ------------------------------
#
# Preprocessing here is standardisation: subtract the mean brightness of
# the training images and divide by their standard deviation, so that the
# inputs are centred on 0 with a spread of 1. The statistics come from
# the training images only and are applied unchanged to the validation
# images (:func:`cnnc.data.channel_stats`, :func:`cnnc.data.normalize`).
#
# Shuffling means a new random order of the training images for every
# pass over them (every *epoch*): each mini-batch is then a fair sample of
# all classes, and no two epochs see the same batches.
mean, std = channel_stats(x_train)
x_train = normalize(x_train, mean, std)
x_val = normalize(x_val, mean, std)
print("mean %.3f and std %.3f before; %.3f and %.3f after"
      % (mean[0], std[0], x_train.mean(), x_train.std()))

rng = np.random.default_rng(1)
order = rng.permutation(len(x_train))
print("the first ten images of this epoch's order:", order[:10])

# %%
# Steps 3 and 4: a mini-batch forward, and its error
# --------------------------------------------------
#
# A mini-batch of 32 images goes through the network, layer after layer,
# and comes out as 4 scores per image. Softmax turns the scores into
# predicted probabilities. The lecture measures the error as
# ``Abs(target labels - predictions)``: with each label written as a
# one-hot vector (1 for the true class, 0 for the others), that is the
# mean absolute difference between two tables of the same shape.
#
# Classifiers are usually trained on another error, the cross-entropy:
# minus the log of the probability given to the true class. It is 0 for a
# sure and right answer and grows without bound for a sure and wrong
# one, so its gradient stays large exactly where the network is most
# wrong. Both errors are close to their values for random guessing now:
# an untrained network gives each class about 1/4, so the cross-entropy
# is near ln 4 = 1.386.
batch_size = 32
batch = order[:batch_size]
x_batch, y_batch = x_train[batch], y_train[batch]

scores = model(x_batch)                                 # step 3: forward
probabilities = functional.softmax(scores)
one_hot = np.eye(len(LECTURE_CLASSES), dtype=np.float32)[y_batch]

lecture_error = np.abs(one_hot - probabilities).mean()  # step 4: error
loss_fn = losses.CrossEntropyLoss()
loss = loss_fn(scores, y_batch)
print("images %s -> scores %s" % (x_batch.shape, scores.shape))
print("probabilities of the first image:", probabilities[0].round(3),
      " its label:", LECTURE_CLASSES[y_batch[0]])
print("Abs(labels - predictions), averaged: %.3f" % lecture_error)
print("cross-entropy: %.3f (ln 4 = %.3f)" % (loss, np.log(4)))

# %%
# Step 5: propagate the gradient back and take a step
# ---------------------------------------------------
#
# ``loss_fn.backward()`` gives the gradient of the error with respect to
# the scores; ``model.backward`` carries it back through every layer, in
# reverse order, and each layer adds the gradient of the error with
# respect to its own weights to their ``.grad``. ``zero_grad`` clears the
# gradients of the previous batch first, since they add up.
#
# Stochastic gradient descent then moves every weight a small step
# against its gradient: ``w <- w - lr * dL/dw``, with the learning rate
# ``lr`` setting the step size. Taken on the same batch again, the error
# is now a little lower.
lr = 0.05

model.zero_grad()
model.backward(loss_fn.backward())                      # step 5: backward
print("dL/dw of the first convolution:", model[0].weight.grad.shape)
for parameter in model.parameters():                    # step 5: SGD step
    parameter.data -= lr * parameter.grad

print("cross-entropy on the same batch: %.4f before the step, %.4f after"
      % (loss, loss_fn(model(x_batch), y_batch)))

# %%
# Step 6: repeat
# --------------
#
# Put together, the recipe is two loops: over epochs, and within each
# epoch over the mini-batches of a fresh random order. After every epoch
# we measure the accuracy on the validation images, which the network
# never trains on. The function records the error of every mini-batch, so
# that we can see what "stochastic" means.


def train_by_hand(model, epochs, lr, batch_size, seed):
    """The lecture's recipe, steps 2 to 6, with plain SGD."""
    rng = np.random.default_rng(seed)
    batch_losses, epoch_losses, val_accuracies = [], [], []
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))           # step 2: shuffle
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            scores = model(x_train[batch])              # step 3: forward
            loss = loss_fn(scores, y_train[batch])      # step 4: error
            model.zero_grad()
            model.backward(loss_fn.backward())          # step 5: backward
            for parameter in model.parameters():        #         and step
                parameter.data -= lr * parameter.grad
            batch_losses.append(loss)
            total += loss * len(batch)
        epoch_losses.append(total / len(order))
        predicted = model(x_val).argmax(axis=1)
        val_accuracies.append(np.mean(predicted == y_val))
        print("epoch %2d: training loss %.3f, validation accuracy %.1f%%"
              % (epoch + 1, epoch_losses[-1], 100 * val_accuracies[-1]))
    return batch_losses, epoch_losses, val_accuracies


epochs = 12
model = make_model(seed=0)                              # step 1, again
batch_losses, hand_losses, hand_accuracies = train_by_hand(
    model, epochs, lr=lr, batch_size=batch_size, seed=1)

# %%
# The left panel shows the error of each of the 57 mini-batches per epoch
# (grey) and its average over each epoch (blue). For most of the first
# epoch the error stays near ln 4: the network is still guessing. Then it
# falls, fast at first and more slowly later. Single batches jump up and
# down around the average, with a spike now and then: each holds only 32
# images, some harder than others, and each step follows that batch's
# gradient alone. That noise is the "stochastic" in stochastic gradient
# descent; the epoch averages smooth it out. The right panel shows the
# validation accuracy climbing from near chance (25%) as the error falls,
# not upwards at every epoch.
batches_per_epoch = len(batch_losses) // epochs
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8),
                                  layout="constrained")
left.plot(np.arange(1, len(batch_losses) + 1) / batches_per_epoch,
          batch_losses, color="0.7", linewidth=0.8, label="one mini-batch")
left.plot(np.arange(1, epochs + 1), hand_losses, "o-", color="tab:blue",
          label="average over the epoch")
left.set_xlabel("epoch")
left.set_ylabel("cross-entropy")
left.set_title("training error")
left.legend()
right.plot(np.arange(1, epochs + 1), 100 * np.array(hand_accuracies), "o-",
           color="tab:blue")
right.axhline(25, color="0.5", linestyle=":", label="chance")
right.set_xlabel("epoch")
right.set_ylabel("accuracy (%)")
right.set_title("validation accuracy")
right.legend()
for ax in (left, right):
    ax.grid(alpha=0.3)
plt.show()

# %%
# The same with ``fit``
# ---------------------
#
# :func:`cnnc.train.fit` runs steps 3 to 6 for us; the pieces it is given
# supply the rest. The model is built with the same seed, so it starts
# from the same random weights (step 1). A :class:`cnnc.data.DataLoader`
# with ``shuffle=True`` draws a new order every epoch, from a generator
# seeded like ours, so it cuts the same mini-batches (step 2).
# :class:`cnnc.optim.SGD` makes the step ``w <- w - lr * dL/dw`` (step
# 5). And ``fit`` measures the validation accuracy after every epoch.
model = make_model(seed=0)
loader = DataLoader(ArrayDataset(x_train, y_train), batch_size=batch_size,
                    shuffle=True, rng=1)
optimizer = optim.SGD(model.parameters(), lr=lr)
history = fit(model, loss_fn, optimizer, loader, epochs,
              val_loader=(x_val, y_val), progress=False)

print("largest difference in the training loss per epoch: %.2g"
      % np.max(np.abs(np.array(history["loss"]) - hand_losses)))
print("largest difference in the validation accuracy:     %.2g"
      % np.max(np.abs(np.array(history["val_accuracy"]) - hand_accuracies)))

# %%
# The two runs give the same curves: the points of ``fit`` (crosses) sit
# on those of the hand-written loop (circles), epoch after epoch. The
# numbers printed above say by how much they differ: both runs did the
# same arithmetic in the same order.
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8),
                                  layout="constrained")
epoch_axis = np.arange(1, epochs + 1)
left.plot(epoch_axis, hand_losses, "o-", color="tab:blue", markersize=8,
          label="by hand")
left.plot(history["epoch"], history["loss"], "x--", color="tab:orange",
          markersize=8, label="cnnc.train.fit")
right.plot(epoch_axis, 100 * np.array(hand_accuracies), "o-",
           color="tab:blue", markersize=8, label="by hand")
right.plot(history["epoch"], 100 * np.array(history["val_accuracy"]), "x--",
           color="tab:orange", markersize=8, label="cnnc.train.fit")
left.set_ylabel("training cross-entropy (epoch average)")
right.set_ylabel("validation accuracy (%)")
for ax in (left, right):
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    ax.legend()
plt.show()

# %%
# What ``fit`` adds
# -----------------
#
# The loop itself is the same; ``fit`` adds what a longer training needs:
# a progress bar, a :class:`cnnc.train.History` of every metric, the
# model switched between training and evaluation mode (which matters for
# batch normalization and dropout), learning-rate schedulers, gradient
# clipping, and callbacks such as :class:`cnnc.train.EarlyStopping`,
# which stops when the validation error has not fallen for a number of
# epochs: step 6's "until the error stops falling", made precise.
#
# Try this
# --------
#
# - Turn the shuffling off: sort the training images by class
#   (``order = np.argsort(y_train, kind="stable")``) and use that order in
#   every epoch of ``train_by_hand``. Each mini-batch now holds a single
#   class. What happens to the batch errors, and to the validation
#   accuracy?
# - Train on the lecture's own error: add :class:`cnnc.nn.Softmax` as the
#   last layer, and use :class:`cnnc.losses.L1Loss` between its output
#   and the one-hot labels. With ``lr = 0.05`` it learns far more slowly
#   than the cross-entropy; try a learning rate ten times larger. Why is
#   its gradient so much smaller?
