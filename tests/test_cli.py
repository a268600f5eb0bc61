"""The ``cnnc`` command: every subcommand run in-process through
cnnc.cli.main, the files it writes, and its error messages."""
import contextlib
import io
import json
import logging
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import cnnc
from cnnc import cli
from cnnc.data import LECTURE_CLASSES, shapes
from cnnc.nn import Flatten, Linear, Sequential
from cnnc.train import History, confusion_matrix, predict

# Small enough that a training run takes about a second on one thread.
FAST = ["--n-train", "400", "--n-test", "100", "--epochs", "1",
        "--no-progress", "--threads", "1"]

# The folder holding the cnnc package these tests import.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(cnnc.__file__)))


def run(*argv):
    """``(exit status, stdout, stderr)`` of ``cnnc argv...`` run in-process;
    argparse's exits come back as their status."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main([str(a) for a in argv])
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def parse_report(text, class_names):
    """The accuracy line and the confusion matrix that cnnc prints."""
    match = re.search(r"test accuracy: ([\d.]+)% \((\d+) of (\d+) images\)",
                      text)
    assert match, text
    lines = text.splitlines()
    top = lines.index("confusion matrix (rows: true class, columns: "
                      "predicted):")
    header = lines[top + 1].split()
    assert header == [n[:8] for n in class_names]
    rows = [lines[top + 2 + i].split() for i in range(len(class_names))]
    assert [row[0] for row in rows] == list(class_names)
    cm = np.array([[int(v) for v in row[1:]] for row in rows])
    return float(match[1]), int(match[2]), int(match[3]), cm


def run_python(*args):
    """A fresh interpreter that imports the same cnnc as this one."""
    env = dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg",
               CNNC_NUM_THREADS="1")
    return subprocess.run([sys.executable, *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


@pytest.fixture(autouse=True)
def _in_a_temporary_folder(tmp_path, monkeypatch):
    """A run that falls back on the default --output writes nothing into
    the repository."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One ``cnnc train`` run: its folder, exit status and output."""
    folder = tmp_path_factory.mktemp("run")
    status, out, err = run("train", *FAST, "--output", folder)
    return folder, status, out, err


# -- cnnc train ---------------------------------------------------------------

def test_train_prints_accuracy_and_confusion_matrix(trained):
    _, status, out, err = trained
    assert status == 0, err
    assert out.startswith("cnnc train: ShapesNet on shapes, 4 classes; "
                          "360 training, 40 validation and 100 test images "
                          "of 1x32x32\n")
    assert "Adam lr=0.003 (cosine), batch 64, 1 epoch; 1 thread" in out
    assert re.search(r"after 1 epoch: training loss [\d.]+, validation "
                     r"accuracy [\d.]+%", out)
    percent, correct, total, cm = parse_report(out, LECTURE_CLASSES)
    assert total == 100 and cm.sum() == 100 and np.trace(cm) == correct
    assert percent == pytest.approx(correct, abs=0.005)
    # 25 test images of each class.
    assert cm.sum(axis=1).tolist() == [25, 25, 25, 25]
    assert "Traceback" not in err


def test_train_writes_a_model_that_predicts_as_printed(trained):
    folder, _, out, _ = trained
    model = cnnc.io.load(folder / cli.MODEL_FILE)
    _, (x_test, y_test) = shapes(400, 100, seed=0)
    cm = confusion_matrix(y_test, predict(model, x_test), num_classes=4)
    np.testing.assert_array_equal(cm, parse_report(out, LECTURE_CLASSES)[3])

    meta = cnnc.io.read_header(folder / cli.MODEL_FILE)["metadata"]
    assert meta["dataset"] == "shapes" and meta["n_test"] == 100
    assert meta["class_names"] == list(LECTURE_CLASSES)
    assert meta["seed"] == 0 and meta["epochs"] == 1
    assert meta["test_accuracy"] == pytest.approx(np.trace(cm) / 100)


def test_train_writes_history_json(trained):
    folder, _, out, _ = trained
    with open(folder / cli.HISTORY_FILE) as f:
        data = json.load(f)
    assert data["epoch"] == [1]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert len(data[key]) == 1 and np.isfinite(data[key][0]), key
    assert data["lr"] == [0.003]
    # track_grad_norms: one finite norm per layer with parameters.
    assert data["grad_norms"] and all(
        len(v) == 1 and v[0] > 0 for v in data["grad_norms"].values())
    val = re.search(r"validation accuracy ([\d.]+)%", out)[1]
    assert float(val) == pytest.approx(100 * data["val_accuracy"][0],
                                       abs=0.005)
    assert len(History.load(folder / cli.HISTORY_FILE)) == 1


def test_train_writes_figures(trained):
    pytest.importorskip("matplotlib")
    folder, _, out, _ = trained
    for name in (cli.CURVES_FILE, cli.FILTERS_FILE):
        with open(folder / name, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        assert str(folder / name) in out


def test_train_with_every_option(tmp_path):
    status, out, err = run(
        "train", "--n-train", "120", "--n-test", "40", "--epochs", "2",
        "--model", "lenet5", "--optimizer", "sgd", "--lr", "0.01",
        "--momentum", "0.5", "--weight-decay", "1e-4", "--dropout", "0.25",
        "--augment", "--seed", "3", "--batch-size", "32", "--threads", "1",
        "--no-progress", "--output", tmp_path)
    assert status == 0, err
    assert "LeNet5 on shapes" in out
    assert ("SGD lr=0.01 (cosine), batch 32, 2 epochs, augmented; 1 thread"
            in out)
    assert parse_report(out, LECTURE_CLASSES)[2] == 40
    assert cnnc.io.read_header(tmp_path / cli.MODEL_FILE)["metadata"][
        "seed"] == 3


def test_train_on_digits(tmp_path):
    pytest.importorskip("sklearn")
    status, out, err = run("train", "--dataset", "digits", "--n-train", "200",
                           "--n-test", "50", "--epochs", "1", "--no-progress",
                           "--optimizer", "adamw", "--output", tmp_path)
    assert status == 0, err
    assert "ShapesNet on digits, 10 classes" in out
    assert "of 1x8x8" in out
    _, _, total, cm = parse_report(out, [str(i) for i in range(10)])
    assert total == 50 and cm.shape == (10, 10)


def test_train_without_validation_images_shows_progress(tmp_path):
    # 3 images per class: 10% of each rounds to none for validation.
    status, out, err = run("train", "--n-train", "12", "--n-test", "8",
                           "--epochs", "1", "--output", tmp_path)
    assert status == 0, err
    assert "12 training, 0 validation and 8 test images" in out
    assert re.search(r"after 1 epoch: training loss [\d.]+, training "
                     r"accuracy [\d.]+%", out)
    assert "epoch 1/1" in err  # the progress bar, or its log line
    with open(tmp_path / cli.HISTORY_FILE) as f:
        assert json.load(f)["val_accuracy"] == [None]


def test_train_without_matplotlib_and_tqdm(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    status, out, err = run("train", "--n-train", "40", "--n-test", "8",
                           "--epochs", "2", "--threads", "1",
                           "--output", tmp_path)
    assert status == 0, err
    assert ('no figures: matplotlib is not installed (pip install '
            '"cnnc[viz]")') in out
    assert sorted(os.listdir(tmp_path)) == [cli.HISTORY_FILE, cli.MODEL_FILE]
    # Without a progress bar each epoch is a log line on standard error.
    lines = err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2",
                                                      "epoch 2/2"]
    assert "val_acc=" in lines[0]


def test_main_leaves_threads_and_logging_as_they_were(tmp_path):
    logger = logging.getLogger("cnnc")
    before = (cnnc.get_num_threads(), logger.level, list(logger.handlers))
    other = 2 if before[0] == 1 else 1
    status, _, err = run("train", "--n-train", "12", "--n-test", "4",
                         "--epochs", "1", "--threads", other,
                         "--output", tmp_path)
    assert status == 0, err
    after = (cnnc.get_num_threads(), logger.level, list(logger.handlers))
    assert after == before


# -- cnnc evaluate ------------------------------------------------------------

def test_evaluate_gives_the_numbers_of_train(trained):
    folder, _, train_out, _ = trained
    status, out, err = run("evaluate", folder / cli.MODEL_FILE)
    assert status == 0, err
    assert out.startswith("cnnc evaluate: %s (ShapesNet, "
                          % (folder / cli.MODEL_FILE))
    assert "on 100 shapes test images" in out
    assert (parse_report(out, LECTURE_CLASSES)[:3]
            == parse_report(train_out, LECTURE_CLASSES)[:3])
    np.testing.assert_array_equal(parse_report(out, LECTURE_CLASSES)[3],
                                  parse_report(train_out, LECTURE_CLASSES)[3])


def test_evaluate_with_other_data(trained):
    folder, _, _, _ = trained
    status, out, err = run("evaluate", folder / cli.MODEL_FILE, "--n-test",
                           "12", "--seed", "5", "--batch-size", "5",
                           "--threads", "1")
    assert status == 0, err
    model = cnnc.io.load(folder / cli.MODEL_FILE)
    _, (x, y) = shapes(1, 12, seed=5)
    cm = confusion_matrix(y, predict(model, x), num_classes=4)
    np.testing.assert_array_equal(parse_report(out, LECTURE_CLASSES)[3], cm)


def test_evaluate_a_model_without_metadata(tmp_path):
    path = tmp_path / "plain.npz"
    cnnc.io.save(Sequential(Flatten(), Linear(1024, 4, rng=0)), path)
    status, _, err = run("evaluate", path)
    assert status == 1
    assert err == ("cnnc evaluate: error: %s does not say what it was "
                   "trained on: give --dataset\n" % path)
    status, out, err = run("evaluate", path, "--dataset", "shapes",
                           "--n-test", "8")
    assert status == 0, err
    assert parse_report(out, LECTURE_CLASSES)[2] == 8


def test_evaluate_ignores_malformed_metadata(tmp_path):
    path = tmp_path / "odd.npz"
    cnnc.io.save(Sequential(Flatten(), Linear(1024, 4, rng=0)), path,
                 metadata=dict(dataset="imagenet", n_test="many", seed=-4,
                               class_names=[1, 2, 3, 4]))
    status, out, err = run("evaluate", path, "--dataset", "shapes",
                           "--n-test", "8")
    assert status == 0, err
    for text in ("dataset='imagenet' of %s (expected one of shapes, "
                 "digits, mnist, fashion-mnist, cifar10)" % path,
                 "n_test='many' of %s (expected an int >= 1)" % path,
                 "seed=-4 of %s (expected an int >= 0)" % path,
                 "class_names=[1, 2, 3, 4] of %s (expected a list of str)"
                 % path):
        assert "cnnc evaluate: warning: ignoring the metadata " + text in err
    assert parse_report(out, LECTURE_CLASSES)[2] == 8


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such model file: {path}"),
    (lambda p: os.mkdir(p), "{path} is not a cnnc file"),
    (lambda p: p.write_bytes(b"PK\x03\x04 truncated"),
     "{path} is not a cnnc file"),
    (lambda p: np.savez(p, a=np.ones(3)),
     "{path} is not a cnnc file: the .npz archive has no '__cnnc__' header"),
], ids=["missing", "folder", "truncated", "plain-npz"])
def test_evaluate_bad_model_files(tmp_path, make, message):
    path = tmp_path / "model.npz"
    make(path)
    status, out, err = run("evaluate", path, "--dataset", "shapes")
    assert status == 1 and out == ""
    assert err.startswith("cnnc evaluate: error: "
                          + message.format(path=path))
    assert "Traceback" not in err and err.count("\n") == 1


def test_evaluate_a_model_that_does_not_fit(trained, tmp_path):
    pytest.importorskip("sklearn")
    folder, _, _, _ = trained
    status, _, err = run("evaluate", folder / cli.MODEL_FILE, "--dataset",
                         "digits")
    assert status == 1
    assert ("cnnc evaluate: error: the model does not fit the digits images "
            "(1x8x8): Linear expects 1024 input features but receives 64"
            in err)

    path = tmp_path / "ten.npz"
    cnnc.io.save(Sequential(Flatten(), Linear(1024, 10, rng=0)), path,
                 metadata=dict(dataset="shapes"))
    status, _, err = run("evaluate", path, "--n-test", "8")
    assert status == 1
    assert err.endswith("cnnc evaluate: error: the model gives scores of "
                        "shape (8, 10) but the test images have 4 classes: "
                        "expected shape (8, 4)\n")


# -- errors of cnnc train -----------------------------------------------------

@pytest.mark.parametrize("argv, message", [
    (["train", "--epochs", "0"],
     "argument --epochs: must be an integer >= 1, got '0'"),
    (["train", "--epochs", "2.5"],
     "argument --epochs: must be an integer, got '2.5'"),
    (["train", "--batch-size", "-8"],
     "argument --batch-size: must be an integer >= 1, got '-8'"),
    (["train", "--n-train", "0"],
     "argument --n-train: must be an integer >= 1, got '0'"),
    (["train", "--n-test", "lots"],
     "argument --n-test: must be an integer, got 'lots'"),
    (["train", "--seed", "-1"],
     "argument --seed: must be an integer >= 0, got '-1'"),
    (["train", "--threads", "0"],
     "argument --threads: must be an integer >= 1, got '0'"),
    (["train", "--threads", "100000"],
     "argument --threads: must be an integer from 1 to 1024, got '100000'"),
    (["train", "--lr", "0"], "argument --lr: must be a number > 0.0, got '0'"),
    (["train", "--lr", "nan"],
     "argument --lr: must be a number > 0.0, got 'nan'"),
    (["train", "--lr", "fast"], "argument --lr: must be a number, got 'fast'"),
    (["train", "--momentum", "1"],
     "argument --momentum: must be a number >= 0.0 and < 1.0, got '1'"),
    (["train", "--dropout", "-0.1"],
     "argument --dropout: must be a number >= 0.0 and < 1.0, got '-0.1'"),
    (["train", "--weight-decay", "inf"],
     "argument --weight-decay: must be a number >= 0.0, got 'inf'"),
    (["train", "--dataset", "imagenet"],
     "argument --dataset: invalid choice: 'imagenet' (choose from 'shapes', "
     "'digits', 'mnist', 'fashion-mnist', 'cifar10')"),
    (["train", "--model", "resnet"],
     "argument --model: invalid choice: 'resnet'"),
    (["train", "--optimizer", "lbfgs"],
     "argument --optimizer: invalid choice: 'lbfgs'"),
    (["train", "--learning-rate", "3"],
     "unrecognized arguments: --learning-rate 3"),
    (["evaluate"], "the following arguments are required: MODEL"),
    (["evaluate", "m.npz", "--n-test", "0"],
     "argument --n-test: must be an integer >= 1, got '0'"),
    (["evaluate", "m.npz", "--epochs", "2"],
     "unrecognized arguments: --epochs 2"),
    ([], "the following arguments are required: COMMAND"),
    (["fit"], "argument COMMAND: invalid choice: 'fit'"),
])
def test_bad_arguments_exit_2_with_the_reason(argv, message):
    status, out, err = run(*argv)
    assert status == 2 and out == ""
    assert err.startswith("usage: cnnc")
    assert "error: " + message in err
    assert "Traceback" not in err


def test_train_errors_are_one_line(tmp_path):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("")
    for argv, message in [
        (["--output", not_a_folder],
         "--output must be a folder, got the file %s" % not_a_folder),
        (["--output", not_a_folder / "run"],
         "--output %s: cannot create the folder (Not a directory)"
         % (not_a_folder / "run")),
        (["--dataset", "mnist", "--data-path", tmp_path],
         "MNIST is not on this machine and download=False was given. Put "
         "these files there (gzipped or not): %s"
         % (tmp_path / "train-images-idx3-ubyte.gz")),
    ]:
        status, out, err = run("train", *argv)
        assert status == 1 and out == ""
        assert err.startswith("cnnc train: error: " + message), err
        assert err.count("\n") == 1
    assert "(or add --download)" in err


def test_a_model_too_big_for_the_images_is_an_error(tmp_path):
    pytest.importorskip("sklearn")
    status, _, err = run("train", "--dataset", "digits", "--model", "lenet5",
                         "--output", tmp_path)
    assert status == 1
    assert err == ("cnnc train: error: --model lenet5 does not fit 1x8x8 "
                   "images: LeNet5 needs images of at least 12x12, got "
                   "image_size=(8, 8)\n")
    assert os.listdir(tmp_path) == []


# -- cnnc info, demo, --version, python -m cnnc -------------------------------

def test_info_prints_the_configuration():
    status, out, _ = run("info")
    assert status == 0
    for key in ("version", "compiler", "simd", "openmp", "threads"):
        assert re.search(r"^%s:\s+\S" % key, out, re.M), key
    assert cnnc.__version__ in out


def test_demo_checks_the_c_core():
    status, out, _ = run("demo")
    assert status == 0
    difference = float(re.search(r"largest difference (\S+)", out)[1])
    assert difference < 1e-3
    assert "vertical-edge filter: strongest response" in out


def test_version():
    status, out, _ = run("--version")
    assert status == 0 and out == "cnnc %s\n" % cnnc.__version__


def test_python_m_cnnc_train_help():
    result = run_python("-m", "cnnc", "train", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: cnnc train")
    for flag in ("--dataset", "--n-train", "--epochs", "--lr", "--output",
                 "--no-progress"):
        assert flag in result.stdout


def test_importing_cnnc_needs_only_numpy():
    # matplotlib and tqdm are optional extras: imported only when used.
    code = ("import sys, cnnc, cnnc.cli, cnnc.viz, cnnc.train; "
            "extras = [m for m in ('matplotlib', 'tqdm', 'sklearn', 'scipy', "
            "'torch') if m in sys.modules]; "
            "assert not extras, extras")
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
