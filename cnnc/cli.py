"""The ``cnnc`` command (also ``python -m cnnc``).

    cnnc train                  train ShapesNet on the shapes data
    cnnc train --dataset digits train on scikit-learn's 8x8 digits
    cnnc evaluate MODEL         test a saved model again
    cnnc info                   the build: compiler, SIMD path, threads
    cnnc demo                   a convolution on the C core against NumPy
    cnnc assignments list       the course assignments
    cnnc assignments start A1 DIR   copy an assignment's starter files
    cnnc grade A1 DIR           grade a submission (a readable report, or
                                --format json|gradescope|prairielearn)
    cnnc assignments export A1 --to gradescope|prairielearn|otter DIR
                                an autograder for a course platform

``cnnc train`` is the lecture's training loop end to end: it makes or
reads the data, builds the network, trains it with a progress bar, prints
the test accuracy and the confusion matrix, and writes to the output
folder the model (``model.npz``, reloadable with :func:`cnnc.io.load`),
the history of the training (``history.json``) and, when matplotlib is
installed, the loss and accuracy curves (``curves.png``) and the first
layer's learned filters (``filters.png``).

This module is the user interface: unlike the library it prints.
"""
import argparse
import logging
import os
import sys
import time

import numpy as np

import cnnc
from cnnc.grading.report import FORMATS

__all__ = ["main", "build_parser"]

DATASETS = ("shapes", "digits", "mnist", "fashion-mnist", "cifar10")
MODELS = ("shapes", "lenet5", "bench")
OPTIMIZERS = ("sgd", "adam", "adamw")

# The defaults of ``cnnc train``: on 2 cores it reaches >= 95% test
# accuracy on the shapes data in well under two minutes (and >= 97% on
# digits). The numbers measured are in README.md.
DEFAULTS = dict(n_train=4000, n_test=1000, batch_size=64,
                optimizer="adam", momentum=0.9, weight_decay=0.0,
                dropout=0.0, seed=0, val_fraction=0.1, output="cnnc-run")
DEFAULT_LR = {"sgd": 0.05, "adam": 3e-3, "adamw": 3e-3}
DEFAULT_EPOCHS = {"shapes": 6, "digits": 15, "mnist": 5, "fashion-mnist": 5,
                  "cifar10": 10}

# Files that ``cnnc train`` writes in the output folder.
MODEL_FILE = "model.npz"
HISTORY_FILE = "history.json"
CURVES_FILE = "curves.png"
FILTERS_FILE = "filters.png"


class CommandError(Exception):
    """A problem to report in one line (missing data, a bad file, a model
    that does not fit the images), not a bug."""


# -- argument types -------------------------------------------------------------

def _int_at_least(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                "must be an integer, got %r" % text) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                "must be an integer >= %d, got %r" % (minimum, text))
        return value
    return parse


def _float_in(low, high=None, low_open=False):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                "must be a number, got %r" % text) from None
        ok = value > low if low_open else value >= low
        if high is not None:
            ok = ok and value < high
        if not ok or not np.isfinite(value):
            where = "%s %s" % (">" if low_open else ">=", low)
            if high is not None:
                where += " and < %s" % high
            raise argparse.ArgumentTypeError(
                "must be a number %s, got %r" % (where, text))
        return value
    return parse


# -- the parser -----------------------------------------------------------------

def _add_data_arguments(parser, for_training):
    group = parser.add_argument_group("data")
    group.add_argument(
        "--dataset", choices=DATASETS,
        default="shapes" if for_training else None,
        help="the images: the generated shapes (default), scikit-learn's "
        "8x8 digits, or MNIST, Fashion-MNIST and CIFAR-10 from files"
        + ("" if for_training else " (default: the one the model was "
           "trained on)"))
    group.add_argument(
        "--data-path", metavar="DIR",
        help="folder with the mnist, fashion-mnist or cifar10 files "
        "(default: $CNNC_DATA/<name> or ~/.cache/cnnc/<name>)")
    group.add_argument(
        "--download", action="store_true",
        help="download mnist, fashion-mnist or cifar10 when their files "
        "are missing")
    if for_training:
        group.add_argument(
            "--n-train", type=_int_at_least(1), metavar="N",
            help="training images (default: %d shapes; all of the other "
            "datasets); %d%%%% of them are held out for validation"
            % (DEFAULTS["n_train"], 100 * DEFAULTS["val_fraction"]))
    group.add_argument(
        "--n-test", type=_int_at_least(1), metavar="N",
        help="test images (default: %d shapes; all of the other datasets)"
        % DEFAULTS["n_test"])
    group.add_argument(
        "--seed", type=int, default=None if not for_training
        else DEFAULTS["seed"],
        help="seed of the data, the initial weights, the shuffling and "
        "the augmentation (default: %d)" % DEFAULTS["seed"])
    group.add_argument(
        "--threads", type=_int_at_least(1), metavar="N",
        help="threads of the C core (default: $CNNC_NUM_THREADS, or one "
        "per core: %d here)" % cnnc.get_num_threads())


def build_parser():
    """The argument parser of the ``cnnc`` command."""
    parser = argparse.ArgumentParser(
        prog="cnnc",
        description="cnnc: convolutional networks for learning. Train a "
        "CNN on the lecture's shapes with 'cnnc train'.")
    parser.add_argument("--version", action="version",
                        version="cnnc %s" % cnnc.__version__)
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="COMMAND")

    train = sub.add_parser(
        "train", help="train a CNN (default: ShapesNet on the shapes data)",
        description="Train a CNN, print its test accuracy and confusion "
        "matrix, and write the model, history.json, curves.png and "
        "filters.png to the output folder.")
    _add_data_arguments(train, for_training=True)
    net = train.add_argument_group("network and training")
    net.add_argument(
        "--model", choices=MODELS, default="shapes",
        help="ShapesNet (default), LeNet5 (images of at least 12x12) or the "
        "benchmark network")
    net.add_argument("--epochs", type=_int_at_least(1),
                     help="passes over the training images (default: %s)"
                     % ", ".join("%d for %s" % (n, name)
                                 for name, n in DEFAULT_EPOCHS.items()))
    net.add_argument("--batch-size", type=_int_at_least(1),
                     default=DEFAULTS["batch_size"],
                     help="images per mini-batch (default: %(default)s)")
    net.add_argument("--optimizer", choices=OPTIMIZERS,
                     default=DEFAULTS["optimizer"],
                     help="default: %(default)s")
    net.add_argument("--lr", type=_float_in(0.0, low_open=True),
                     help="learning rate, lowered along a cosine over the "
                     "epochs (default: %s)" % ", ".join(
                         "%g for %s" % (lr, name)
                         for name, lr in DEFAULT_LR.items()))
    net.add_argument("--momentum", type=_float_in(0.0, 1.0),
                     default=DEFAULTS["momentum"],
                     help="momentum of sgd (default: %(default)s)")
    net.add_argument("--weight-decay", type=_float_in(0.0),
                     default=DEFAULTS["weight_decay"],
                     help="L2 penalty lambda (default: %(default)s)")
    net.add_argument("--dropout", type=_float_in(0.0, 1.0),
                     default=DEFAULTS["dropout"],
                     help="dropout probability before the last linear "
                     "layer(s) (default: %(default)s)")
    net.add_argument("--augment", action="store_true",
                     help="random shifts (and small rotations, or flips "
                     "and crops on cifar10) of the training images")
    out = train.add_argument_group("output")
    out.add_argument("--output", metavar="DIR", default=DEFAULTS["output"],
                     help="folder for the model, history and figures "
                     "(default: ./%(default)s)")
    out.add_argument("--no-progress", action="store_true",
                     help="no progress bars")

    evaluate = sub.add_parser(
        "evaluate", help="evaluate a saved model on the test set",
        description="Load a model written by 'cnnc train' (or cnnc.io.save) "
        "and print its accuracy and confusion matrix on a test set.")
    evaluate.add_argument("model", metavar="MODEL",
                          help="the model file, e.g. cnnc-run/model.npz")
    _add_data_arguments(evaluate, for_training=False)
    evaluate.add_argument("--batch-size", type=_int_at_least(1), default=256,
                          help="images per forward pass (default: "
                          "%(default)s)")

    sub.add_parser("info", help="print the build configuration",
                   description="Print the version, compiler, SIMD path, "
                   "OpenMP and thread count.")
    sub.add_parser("demo", help="run and check a convolution on the C core",
                   description="Edge filters on a generated image: the C "
                   "core against the NumPy reference.")
    _add_assignment_parsers(sub)
    return parser


def _add_assignment_parsers(sub):
    """``cnnc assignments ...`` and ``cnnc grade``."""
    assignments = sub.add_parser(
        "assignments", help="list, start or export the course assignments",
        description="The course assignments: starter files to fill in, "
        "graded by 'cnnc grade'.")
    action = assignments.add_subparsers(dest="action", required=True,
                                        metavar="ACTION")
    action.add_parser("list", help="the assignments, their points and files")
    start = action.add_parser(
        "start", help="copy an assignment's starter files into a folder",
        description="Copy the starter files of an assignment into DIR "
        "(created if needed). Existing files are not overwritten without "
        "--force.")
    start.add_argument("assignment", metavar="ID", help="e.g. A1")
    start.add_argument("folder", metavar="DIR")
    start.add_argument("--force", action="store_true",
                       help="overwrite starter files already in DIR")
    export = action.add_parser(
        "export", help="write an autograder for a course platform",
        description="Write into DIR what the platform needs to grade the "
        "assignment: Gradescope's autograder.zip, a PrairieLearn question "
        "with external grading, or otter-grader test files.")
    export.add_argument("assignment", metavar="ID", help="e.g. A1")
    export.add_argument("--to", required=True, dest="platform",
                        choices=("gradescope", "prairielearn", "otter"))
    export.add_argument("folder", metavar="DIR")
    export.add_argument("--package", metavar="SPEC",
                        help="what the grader installs: a pip requirement "
                        "or a cnnc wheel/sdist file to ship (default: "
                        "cnnc==%s)" % cnnc.__version__)
    export.add_argument("--image", metavar="NAME",
                        help="prairielearn: the grading image in info.json")

    grade = sub.add_parser(
        "grade", help="grade a submission folder",
        description="Grade the files in DIR: every test runs your code in a "
        "separate process on freshly drawn inputs and compares the results "
        "with cnnc's reference.")
    grade.add_argument("assignment", metavar="ID", help="e.g. A1")
    grade.add_argument("folder", metavar="DIR",
                       help="the folder with your files (e.g. conv.py)")
    grade.add_argument("--format", choices=FORMATS, default="text",
                       help="text (default), json, or the results format "
                       "of gradescope or prairielearn")
    grade.add_argument("--output", metavar="PATH",
                       help="write the report to PATH instead of printing it")
    grade.add_argument("--seed", type=_int_at_least(0),
                       help="draw the inputs of an earlier run again (the "
                       "report gives its seed; default: a new random seed). "
                       "Note that other processes of this machine can read "
                       "a command line")
    grade.add_argument("--test", action="append", metavar="NAME",
                       help="run only this test (a function name such as "
                       "test_forward_basic); may be repeated")
    limits = grade.add_argument_group("limits (defaults: the assignment's)")
    limits.add_argument("--timeout", type=_float_in(0.0, low_open=True),
                        metavar="SECONDS", help="seconds per test")
    limits.add_argument("--memory-mb", type=_int_at_least(16), metavar="MB",
                        help="memory the code may allocate, per test")
    sandbox = grade.add_argument_group("sandbox (for autograders)")
    sandbox.add_argument("--user", metavar="NAME",
                         help="run the student's code as this user when "
                         "grading as root (e.g. nobody)")
    sandbox.add_argument("--python", metavar="PATH",
                         help="the interpreter for the student's code "
                         "(default: this one)")
    sandbox.add_argument("--protect", action="append", default=[],
                         metavar="PATH",
                         help="a path the student's code may not open "
                         "(e.g. /autograder); may be repeated")


# -- data and models ----------------------------------------------------------

def _subset(x, y, n, seed):
    """At most ``n`` samples, a seeded random choice (all when n is None)."""
    if n is None or n >= len(y):
        return x, y
    keep = np.sort(np.random.default_rng(seed).permutation(len(y))[:n])
    return x[keep], y[keep]


def load_dataset(name, data_path=None, n_train=None, n_test=None, seed=0,
                 download=False):
    """``(x_train, y_train), (x_test, y_test), class_names`` of a dataset
    named as on the command line."""
    from cnnc import data
    if name == "shapes":
        train, test = data.shapes(
            DEFAULTS["n_train"] if n_train is None else n_train,
            DEFAULTS["n_test"] if n_test is None else n_test, seed=seed)
        return train, test, list(data.LECTURE_CLASSES)
    if name == "digits":
        train, test = data.digits(seed=seed)
        names = [str(i) for i in range(10)]
    else:
        reader, names = {
            "mnist": (data.mnist, data.MNIST_CLASSES),
            "fashion-mnist": (data.fashion_mnist, data.FASHION_MNIST_CLASSES),
            "cifar10": (data.cifar10, data.CIFAR10_CLASSES),
        }[name]
        try:
            train, test = reader(data_path, download=download)
        except data.DatasetNotFoundError as exc:
            hint = "" if download else " (or add --download)"
            raise CommandError("%s%s" % (" ".join(str(exc).split()),
                                         hint)) from None
    train = _subset(*train, n_train, seed)
    test = _subset(*test, n_test, seed + 1)
    return train, test, list(names)


def build_model(name, x_shape, num_classes, dropout=0.0, seed=0):
    """The network ``name`` for images of shape (C, H, W)."""
    from cnnc import models
    channels, height, width = x_shape
    cls = {"shapes": models.ShapesNet, "lenet5": models.LeNet5,
           "bench": models.BenchNet}[name]
    try:
        return cls(in_channels=channels, num_classes=num_classes,
                   image_size=(height, width), dropout=dropout, rng=seed)
    except ValueError as exc:
        raise CommandError("--model %s does not fit %dx%dx%d images: %s"
                           % (name, channels, height, width, exc)) from None


def _augmentation(dataset, seed):
    """Random perturbations that keep every label true."""
    from cnnc.data import transforms as T
    if dataset == "shapes":
        # The shapes are already turned by up to 15 degrees: 5 more keeps
        # squares and diamonds apart (see cnnc.data.shapes).
        steps = [T.RandomShift(3, rng=seed), T.RandomRotation(5, rng=seed + 1)]
    elif dataset == "digits":
        steps = [T.RandomShift(1, rng=seed)]
    elif dataset == "mnist":
        steps = [T.RandomShift(2, rng=seed)]
    elif dataset == "fashion-mnist":
        steps = [T.RandomShift(2, rng=seed),
                 T.RandomHorizontalFlip(rng=seed + 1)]
    else:
        steps = [T.RandomCrop(32, padding=4, rng=seed),
                 T.RandomHorizontalFlip(rng=seed + 1)]
    return T.Compose(steps)


def _optimizer(args, model):
    from cnnc import optim
    lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr
    params = [p for p in model.parameters() if p.requires_grad]
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=args.momentum,
                         weight_decay=args.weight_decay)
    cls = optim.Adam if args.optimizer == "adam" else optim.AdamW
    return cls(params, lr=lr, weight_decay=args.weight_decay)


# -- printing -------------------------------------------------------------------

def format_confusion_matrix(cm, class_names):
    """The confusion matrix as text: true classes down, predicted across."""
    names = [str(n) for n in class_names]
    label = max(len(n) for n in names)
    width = max(3, len(str(int(cm.max()))), min(8, label))
    lines = [" " * label + "  " + " ".join(n[:width].rjust(width)
                                          for n in names)]
    for name, row in zip(names, cm):
        lines.append(name.rjust(label) + "  " + " ".join(
            str(int(v)).rjust(width) for v in row))
    return "\n".join(lines)


def _report(model, x_test, y_test, class_names, batch_size, out):
    """Print the test accuracy and the confusion matrix; return accuracy."""
    from cnnc.train import confusion_matrix, predict
    predicted = predict(model, x_test, batch_size=batch_size)
    cm = confusion_matrix(y_test, predicted, num_classes=len(class_names))
    accuracy = float(np.trace(cm)) / len(y_test)
    print("test accuracy: %.2f%% (%d of %d images)"
          % (100 * accuracy, np.trace(cm), len(y_test)), file=out)
    print("confusion matrix (rows: true class, columns: predicted):",
          file=out)
    print(format_confusion_matrix(cm, class_names), file=out)
    return accuracy


def _write_figures(model, history, folder, out):
    """curves.png and filters.png, when matplotlib is installed."""
    try:
        import matplotlib
    except ImportError:
        print('no figures: matplotlib is not installed (pip install '
              '"cnnc[viz]")', file=out)
        return []
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt
    from cnnc import viz
    written = []
    for name, draw in ((CURVES_FILE, lambda: viz.plot_history(history)),
                       (FILTERS_FILE, lambda: viz.plot_filters(model))):
        fig = draw()
        path = os.path.join(folder, name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _setup_logging(verbose):
    """Send cnnc's log messages (e.g. epoch summaries without tqdm) to
    standard error."""
    logger = logging.getLogger("cnnc")
    if not any(getattr(h, "_cnnc_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._cnnc_cli = True
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


# -- the commands -----------------------------------------------------------------

def train_command(args, out=sys.stdout):
    """``cnnc train``: returns the exit status."""
    from cnnc import io
    from cnnc.data import DataLoader, ArrayDataset, train_val_split
    from cnnc.losses import CrossEntropyLoss
    from cnnc.optim import CosineAnnealingLR
    from cnnc.train import fit

    start = time.perf_counter()
    if args.threads is not None:
        cnnc.set_num_threads(args.threads)
    if args.epochs is None:
        args.epochs = DEFAULT_EPOCHS[args.dataset]
    _setup_logging(verbose=not args.no_progress)
    (x_train, y_train), (x_test, y_test), class_names = load_dataset(
        args.dataset, args.data_path, args.n_train, args.n_test, args.seed,
        args.download)
    (x_fit, y_fit), (x_val, y_val) = train_val_split(
        x_train, y_train, DEFAULTS["val_fraction"], seed=args.seed)
    model = build_model(args.model, x_train.shape[1:], len(class_names),
                        args.dropout, args.seed)
    optimizer = _optimizer(args, model)
    scheduler = CosineAnnealingLR(optimizer, T_max=args.epochs)
    transform = _augmentation(args.dataset, args.seed) if args.augment \
        else None
    loader = DataLoader(ArrayDataset(x_fit, y_fit), args.batch_size,
                        shuffle=True, transform=transform, rng=args.seed)

    print("cnnc train: %s on %s, %d classes; %d training, %d validation "
          "and %d test images of %s"
          % (type(model).__name__, args.dataset, len(class_names),
             len(y_fit), len(y_val), len(y_test),
             "x".join(map(str, x_train.shape[1:]))), file=out)
    print("%d parameters; %s lr=%g (cosine), batch %d, %d epochs%s; "
          "%d threads" % (
              model.num_parameters(), type(optimizer).__name__,
              optimizer.param_groups[0]["lr"], args.batch_size, args.epochs,
              ", augmented" if args.augment else "",
              cnnc.get_num_threads()), file=out)
    out.flush()
    history = fit(model, CrossEntropyLoss(), optimizer, loader, args.epochs,
                  val_loader=(x_val, y_val), scheduler=scheduler,
                  progress=not args.no_progress, track_grad_norms=True)
    last = history.metrics
    print("after %d epochs: training loss %.4f, validation accuracy %.2f%%"
          % (len(history), last["loss"][-1], 100 * last["val_accuracy"][-1]),
          file=out)

    accuracy = _report(model, x_test, y_test, class_names, 256, out)
    os.makedirs(args.output, exist_ok=True)
    model_path = os.path.join(args.output, MODEL_FILE)
    io.save(model, model_path, metadata=dict(
        dataset=args.dataset, class_names=class_names,
        n_test=len(y_test), seed=args.seed, data_path=args.data_path,
        test_accuracy=accuracy, epochs=len(history)))
    history_path = os.path.join(args.output, HISTORY_FILE)
    history.save(history_path)
    written = [model_path, history_path]
    written += _write_figures(model, history, args.output, out)
    print("wrote %s" % ", ".join(written), file=out)
    print("done in %.1f s" % (time.perf_counter() - start), file=out)
    return 0


def evaluate_command(args, out=sys.stdout):
    """``cnnc evaluate MODEL``: returns the exit status."""
    from cnnc import io
    if not os.path.exists(args.model):
        raise CommandError("no such model file: %s" % args.model)
    if args.threads is not None:
        cnnc.set_num_threads(args.threads)
    try:
        header = io.read_header(args.model)
        model = io.load(args.model)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    saved = header.get("metadata") or {}
    dataset = args.dataset or saved.get("dataset")
    if dataset is None:
        raise CommandError("%s does not say what it was trained on: give "
                           "--dataset" % args.model)
    same = dataset == saved.get("dataset")
    n_test = args.n_test or (saved.get("n_test") if same else None)
    seed = args.seed if args.seed is not None else saved.get("seed", 0)
    data_path = args.data_path or (saved.get("data_path") if same else None)
    _, (x_test, y_test), class_names = load_dataset(
        dataset, data_path, n_train=1, n_test=n_test, seed=seed,
        download=args.download)
    if same and saved.get("class_names"):
        class_names = list(saved["class_names"])
    print("cnnc evaluate: %s (%s, %d parameters) on %d %s test images"
          % (args.model, type(model).__name__, model.num_parameters(),
             len(y_test), dataset), file=out)
    try:
        _report(model, x_test, y_test, class_names, args.batch_size, out)
    except ValueError as exc:
        raise CommandError("the model does not fit the %s images (%s): %s"
                           % (dataset, "x".join(map(str, x_test.shape[1:])),
                              exc)) from None
    return 0


def demo_command(out=sys.stdout):
    """``cnnc demo``: edge filters on a generated image, the C core
    against the NumPy reference; returns the exit status."""
    from cnnc import functional, reference
    rng = np.random.default_rng(0)
    # A batch of images with a bright square on a noisy background.
    x = rng.normal(0.0, 0.05, size=(16, 3, 64, 64)).astype(np.float32)
    x[:, :, 16:48, 16:48] += 1.0
    # Eight 3x3 filters per colour image: Sobel x and y among random ones.
    w = rng.normal(0.0, 0.3, size=(8, 3, 3, 3)).astype(np.float32)
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)
    w[0] = sobel / 3
    w[1] = sobel.T / 3

    start = time.perf_counter()
    y = functional.conv2d(x, w, padding=1)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    y_ref = reference.conv2d(x, w, padding=1)
    slow = time.perf_counter() - start

    err = float(np.max(np.abs(y - y_ref)))
    print("conv2d %s -> %s with %s filters" % (x.shape, y.shape, w.shape),
          file=out)
    print("C core   %8.2f ms  (%s, %d threads)"
          % (fast * 1e3, cnnc.get_simd(), cnnc.get_num_threads()), file=out)
    print("NumPy    %8.2f ms  (cnnc.reference)" % (slow * 1e3), file=out)
    print("largest difference %.2e" % err, file=out)
    edges = np.abs(y[0, 0])
    print("vertical-edge filter: strongest response %.2f at the square's "
          "sides, %.2f in its middle" % (edges[32, 16], edges[32, 32]),
          file=out)
    return 0 if err < 1e-3 else 1


def assignments_command(args, out=sys.stdout):
    """``cnnc assignments list|start|export``: returns the exit status."""
    from cnnc import assignments
    if args.action == "list":
        every = assignments.available()
        print("%-4s %-18s %6s  %-10s %s" % ("id", "title", "points", "files",
                                            "what you write"), file=out)
        for a in every:
            print("%-4s %-18s %6g  %-10s %s" % (
                a.id, a.title, a.points, " ".join(a.files), a.summary),
                file=out)
        print("\nstart one with: cnnc assignments start ID DIR", file=out)
        return 0
    if args.action == "export":
        from cnnc.grading.export import export
        try:
            written = export(args.assignment, args.platform, args.folder,
                             package=args.package, image=args.image)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        print("cnnc assignments export: %s autograder for %s in %s:"
              % (args.platform, args.assignment.upper(), args.folder),
              file=out)
        for path in written:
            print("  " + os.path.relpath(path, args.folder), file=out)
        print("see %s for what to do with them"
              % os.path.join(args.folder, "README.txt"), file=out)
        return 0
    try:
        written = assignments.start(args.assignment, args.folder,
                                    overwrite=args.force)
    except (ValueError, FileExistsError) as exc:
        raise CommandError(str(exc)) from None
    assignment = assignments.get(args.assignment)
    print("cnnc assignments start %s: wrote %s" % (
        assignment.id, ", ".join(written)), file=out)
    print("fill in the regions marked YOUR CODE HERE, then check your work "
          "with:\n  cnnc grade %s %s" % (assignment.id, args.folder),
          file=out)
    return 0


def grade_command(args, out=sys.stdout):
    """``cnnc grade ID DIR``: returns the exit status (0 when the
    submission was graded, whatever its score)."""
    from cnnc import assignments
    from cnnc.grading import SandboxError, format_report, grade, write_report
    try:
        assignment = assignments.get(args.assignment)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if not os.path.isdir(args.folder):
        raise CommandError("no folder %s: the submission is a folder with "
                           "%s" % (args.folder, ", ".join(assignment.files)))
    try:
        report = grade(assignment, args.folder, seed=args.seed,
                       time_limit=args.timeout,
                       memory_limit_mb=args.memory_mb, user=args.user,
                       python=args.python, protect=args.protect,
                       only=args.test)
    except (ValueError, SandboxError) as exc:
        raise CommandError(str(exc)) from None
    if args.output:
        write_report(report, args.format, args.output)
        print("cnnc grade %s: %g / %g points; %s report written to %s"
              % (assignment.id, report.score, report.max_score, args.format,
                 args.output), file=out)
    else:
        out.write(format_report(report, args.format))
    return 0


def main(argv=None):
    """Run the ``cnnc`` command with ``argv`` (default: ``sys.argv[1:]``)
    and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        cnnc.show_config()
        return 0
    if args.command == "demo":
        return demo_command(sys.stdout)
    command = {"train": train_command, "evaluate": evaluate_command,
               "assignments": assignments_command,
               "grade": grade_command}[args.command]
    try:
        return command(args, sys.stdout)
    except (CommandError, ImportError, OSError) as exc:
        # Missing optional packages or files: one line, no traceback.
        message = " ".join(str(exc).split()) or type(exc).__name__
        print("cnnc %s: error: %s" % (args.command, message), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cnnc %s: interrupted" % args.command, file=sys.stderr)
        return 130
