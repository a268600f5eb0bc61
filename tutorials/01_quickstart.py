"""
Quickstart: a CNN that tells shapes apart
=========================================

The lecture's running example is a network that looks at an image and
says which shape it holds: square, triangle, circle or diamond. This page
builds that network with cnnc, trains it on this computer in well under a
minute and looks at what it learned. You will learn:

- how to make the shapes dataset, which cnnc draws on the spot (nothing is
  downloaded);
- how a ready-made CNN, :class:`cnnc.models.ShapesNet`, is put together
  from the lecture's building blocks: an encoder, then a fully connected
  classifier;
- how to train it with :func:`cnnc.train.fit` and read its curves;
- how to measure its accuracy on images it never saw, which classes it
  confuses, and what its first layer learned to look for.

Every later page takes one of these steps apart.
"""

# %%
# The data: shapes drawn on the spot
# ----------------------------------
#
# :func:`cnnc.data.shapes` draws grey 32 x 32 images, each holding one
# shape at a random position, size and small rotation, filled or drawn as
# an outline, light on dark or dark on light, with a soft background
# gradient and some noise. It returns a training set and a test set; the
# labels index :data:`cnnc.data.LECTURE_CLASSES`. We keep 10% of the
# training images aside as a validation set, to watch during training;
# the test set is used once, at the end.
import time

import matplotlib.pyplot as plt
import numpy as np

import cnnc
from cnnc import losses, optim, viz
from cnnc.data import (LECTURE_CLASSES, ArrayDataset, DataLoader, shapes,
                       train_val_split)
from cnnc.models import ShapesNet
from cnnc.train import confusion_matrix, evaluate, fit, predict

(x_train, y_train), (x_test, y_test) = shapes(n_train=2000, n_test=1000,
                                              seed=0)
(x_fit, y_fit), (x_val, y_val) = train_val_split(x_train, y_train,
                                                 val_fraction=0.1, seed=0)
print("training images:", x_fit.shape, " validation:", x_val.shape,
      " test:", x_test.shape)
print("classes:", LECTURE_CLASSES)
print("images per class in training:", np.bincount(y_fit))

viz.show_images(x_fit[:16], y_fit[:16], LECTURE_CLASSES, ncols=8)
plt.show()

# %%
# The network: an encoder and a classifier
# ----------------------------------------
#
# The lecture draws a CNN as an **encoder** of learnable layers that turns
# the image into feature maps, followed by a fully connected (FC)
# **classifier** that turns the features into one score per class.
# ``ShapesNet`` repeats the lecture's building block three times in its
# encoder (convolution, normalization, activation, pooling; here the
# normalization comes before the activation, a common order), and its
# classifier is a single linear layer. :func:`cnnc.summary` lists every
# layer with its output shape for one image, in cnnc's (C, H, W) order:
# 32 x 32 pixels become 64 feature maps of 4 x 4, which the classifier
# reads as 1024 numbers.
#
# ``rng=0`` fixes the random initial weights, so the page gives the same
# numbers every time it runs.
model = ShapesNet(num_classes=len(LECTURE_CLASSES), rng=0)
print(cnnc.summary(model, input_shape=(1, 32, 32)))

# %%
# Training
# --------
#
# :func:`cnnc.train.fit` runs the lecture's training loop: it feeds the
# training images forward in shuffled mini-batches of 64, measures the
# error with the cross-entropy loss, propagates its gradient back through
# every layer, and lets the optimiser adjust the weights. One pass over the
# training set is an *epoch*; after each one, ``fit`` measures the loss
# and the accuracy on the validation images.
# :ref:`sphx_glr_auto_tutorials_08_training_loop.py` writes the same loop
# out by hand.
#
# The optimiser is Adam, a form of stochastic gradient descent that
# adapts the step of every weight to the size of its recent gradients. A
# scheduler lowers the learning rate along a cosine curve, from 0.003 in
# the first epoch towards zero after the last, so that the weights settle
# at the end instead of still jumping from batch to batch.
epochs = 5
loader = DataLoader(ArrayDataset(x_fit, y_fit), batch_size=64, shuffle=True,
                    rng=0)
optimizer = optim.Adam(model.parameters(), lr=3e-3)
scheduler = optim.CosineAnnealingLR(optimizer, T_max=epochs)

start = time.perf_counter()
history = fit(model, losses.CrossEntropyLoss(), optimizer, loader, epochs,
              val_loader=(x_val, y_val), scheduler=scheduler, progress=False)
print("trained for %d epochs in %.1f s" % (len(history),
                                          time.perf_counter() - start))
for epoch, loss, val_accuracy in zip(history["epoch"], history["loss"],
                                     history["val_accuracy"]):
    print("epoch %d: training loss %.3f, validation accuracy %.1f%%"
          % (epoch, loss, 100 * val_accuracy))

# %%
# :func:`cnnc.viz.plot_history` draws the same numbers. The training
# values (solid) are averages over the batches of each epoch, measured
# while the weights were still changing; the validation values (dashed)
# are measured after the epoch, with the network in evaluation mode.
#
# In the first epochs the validation accuracy can trail far behind the
# training accuracy. In evaluation mode, batch normalization divides by
# running averages of the statistics it saw on training batches, and
# while the weights still change fast those averages lag behind them.
# As the learning rate falls, the two curves meet.
viz.plot_history(history)
plt.show()

# %%
# Accuracy on the test set
# ------------------------
#
# The test images played no part in training or in choosing the settings
# above, so the accuracy on them estimates how the network does on new
# shapes. :func:`cnnc.train.evaluate` runs the model in evaluation mode
# over a dataset; :func:`cnnc.train.predict` returns the predicted
# classes.
test_loss, test_accuracy = evaluate(model, (x_test, y_test),
                                    losses.CrossEntropyLoss())
print("test loss %.3f, test accuracy %.1f%%" % (test_loss,
                                               100 * test_accuracy))
predicted = predict(model, x_test)

# %%
# Which shapes does it confuse?
# -----------------------------
#
# A confusion matrix counts, for every true class (rows), how often each
# class was predicted (columns); the correct answers lie on the diagonal.
# After five epochs almost every test image lies on it. Off the
# diagonal, the largest count is the network's most frequent mistake,
# printed below.
cm = confusion_matrix(y_test, predicted, num_classes=len(LECTURE_CLASSES))
viz.plot_confusion_matrix(cm, LECTURE_CLASSES)
plt.show()

off_diagonal = cm - np.diag(np.diag(cm))
true_class, predicted_class = np.unravel_index(off_diagonal.argmax(), cm.shape)
print("most frequent mistake: %s predicted as %s (%d test images)"
      % (LECTURE_CLASSES[true_class], LECTURE_CLASSES[predicted_class],
         off_diagonal.max()))

# %%
# Here are the test images it got wrong (at most 16), titled "predicted
# (true)". Looking at the mistakes tells more than the accuracy alone:
# are they images that a person would find hard too, such as faint
# shapes, small ones or thin outlines, or clear shapes that the network
# has simply not learned yet?
wrong = np.flatnonzero(predicted != y_test)
print("%d of %d test images are misclassified" % (len(wrong), len(y_test)))
if len(wrong):
    viz.show_images(x_test[wrong[:16]], y_test[wrong[:16]], LECTURE_CLASSES,
                    predictions=predicted[wrong[:16]], ncols=8)
    plt.show()

# %%
# What the first layer learned
# ----------------------------
#
# The first convolution has 16 filters of 3 x 3 weights, one input
# channel each. They started as random numbers; training shaped them into
# small patterns that respond to what separates the classes.
# :func:`cnnc.viz.plot_filters` draws them, mid-grey for 0, white for
# positive weights and black for negative ones. Nine weights do not make
# much of a picture, but several filters have a light side and a dark
# side: the pattern of an edge detector, which answers strongly where
# the image changes from dark to light in that direction.
viz.plot_filters(model)
plt.show()

# %%
# Each filter produces one feature map. :func:`cnnc.viz.feature_maps`
# runs the model on a batch and keeps every layer's output by name; we
# give it the first test image, a dark circle on a light background.
maps = viz.feature_maps(model, x_test[:1])
print("layers recorded:", list(maps))

fig, ax = plt.subplots(figsize=(2.4, 2.4), layout="constrained")
ax.imshow(x_test[0, 0], cmap="gray", vmin=0, vmax=1)
ax.set_title("test image 0: %s" % LECTURE_CLASSES[y_test[0]])
ax.set_axis_off()
plt.show()

# %%
# Below are the 16 maps of the first block after its activation
# (``encoder.2``, the ReLU), bright where a filter answered. Some maps
# light up the whole disc, others the background; others again answer
# only on one stretch of the circle's outline, where it runs in one
# direction: edge detectors, each tuned to its own orientation. The deeper
# layers combine these maps into features of whole shapes (see
# :ref:`sphx_glr_auto_tutorials_12_what_layers_learn.py`).
viz.plot_feature_maps(maps["encoder.2"], max_channels=16, ncols=8)
plt.show()

# %%
# Try this
# --------
#
# - Make the task harder: ``shapes(..., difficulty="hard")`` draws smaller,
#   fainter and noisier shapes. How much does the test accuracy drop, and
#   which classes does the confusion matrix mix up now?
# - Train on fewer images, ``n_train=400``, or for one epoch only. What
#   happens to the gap between the training and validation curves?
