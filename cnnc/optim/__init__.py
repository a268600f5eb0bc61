"""cnnc.optim: optimisers, learning-rate schedules and gradient clipping.

Step 5 of the lecture's training loop: "adjust weights using an
optimization method (e.g. stochastic gradient descent)". Every optimiser
gives the same numbers as its PyTorch namesake, step for step.

Examples
--------
>>> import numpy as np
>>> from cnnc.nn import Parameter
>>> from cnnc import optim
>>> w = Parameter(np.array([1.0, 2.0]))
>>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
>>> scheduler = optim.lr_scheduler.StepLR(opt, step_size=10)
>>> w.grad = 2 * w.data                 # gradient of ||w||^2
>>> optim.clip_grad_norm_([w], max_norm=1.0) > 1.0
True
>>> opt.step(); opt.zero_grad(); scheduler.step()
>>> w.grad is None
True
"""
from cnnc.optim import lr_scheduler
from cnnc.optim.adam import Adam, AdamW
from cnnc.optim.clip import clip_grad_norm_, clip_grad_value_
from cnnc.optim.lr_scheduler import CosineAnnealingLR, StepLR
from cnnc.optim.optimizer import Optimizer
from cnnc.optim.sgd import SGD

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler", "StepLR",
    "CosineAnnealingLR", "clip_grad_norm_", "clip_grad_value_",
]
