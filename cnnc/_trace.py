"""Watching a model's leaf layers during one forward pass.

:func:`trace_leaves` temporarily replaces the ``forward`` of every leaf
module (a module without children) by a wrapper that calls back before
and after it, so that :func:`cnnc.summary`, :func:`cnnc.gradcheck` and the
plotting helpers see each layer's input and output in the order the model
really runs them, whatever its own ``forward`` does.
"""
import contextlib

__all__ = ["trace_leaves", "leaf_name"]


def leaf_name(path, module):
    """``"encoder.0 (Conv2d)"``: how messages name a layer."""
    return "%s (%s)" % (path, type(module).__name__) if path \
        else type(module).__name__


@contextlib.contextmanager
def trace_leaves(model, before=None, after=None):
    """Call ``before(path, module, x)`` and ``after(path, module, x, y)``
    around the forward of every leaf of ``model`` inside the block.

    ``path`` is the dotted name of the leaf (``""`` when ``model`` is
    itself a leaf). The original methods are restored on leaving the
    block, even after an exception.
    """
    leaves = [(path, module) for path, module in model.named_modules()
              if not any(True for _ in module.children())]
    saved = []
    for path, module in leaves:
        had_own = "forward" in module.__dict__
        previous = module.__dict__.get("forward")
        original = module.forward
        object.__setattr__(module, "forward",
                           _wrap(path, module, original, before, after))
        saved.append((module, had_own, previous))
    try:
        yield leaves
    finally:
        for module, had_own, previous in saved:
            if had_own:
                object.__setattr__(module, "forward", previous)
            else:
                del module.__dict__["forward"]


def _wrap(path, module, original, before, after):
    def forward(x, *args, **kwargs):
        if before is not None:
            before(path, module, x)
        y = original(x, *args, **kwargs)
        if after is not None:
            after(path, module, x, y)
        return y
    return forward
