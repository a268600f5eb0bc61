"""Tests of the procedural shapes dataset (cnnc.data.shapes)."""

import numpy as np
import pytest

from cnnc.data import SHAPE_CLASSES, LECTURE_CLASSES, make_shapes, shapes
from cnnc.data.shapes import (
    _BLOCK,
    _SDF,
    MAX_SQUARE_DIAMOND_ROTATION,
    _sdf_star,
)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [8, 32, 33])
def test_shapes_dtypes_and_ranges(channels, size):
    (x, y), (xt, yt) = shapes(40, 12, size=size, channels=channels, seed=3)
    assert x.shape == (40, channels, size, size)
    assert xt.shape == (12, channels, size, size)
    assert x.dtype == np.float32 and xt.dtype == np.float32
    assert y.dtype == np.int64 and yt.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert set(np.unique(y)) <= set(range(len(LECTURE_CLASSES)))


def test_same_seed_same_data_other_seed_other_data():
    a = shapes(30, 10, seed=5)
    b = shapes(30, 10, seed=5)
    c = shapes(30, 10, seed=6)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a[0][0], c[0][0])


def test_generator_seed_is_advanced():
    rng = np.random.default_rng(0)
    first = shapes(8, 2, seed=rng)
    second = shapes(8, 2, seed=rng)
    assert not np.array_equal(first[0][0], second[0][0])


def test_train_set_does_not_depend_on_test_size():
    (x1, y1), _ = shapes(20, 5, seed=1)
    (x2, y2), _ = shapes(20, 50, seed=1)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("n", [0, 1, 7, 40])
def test_labels_are_balanced(n):
    classes = ("circle", "star", "ring")
    x, y = make_shapes(n, classes=classes, rng=0)
    counts = np.bincount(y, minlength=3)
    expected = [n // 3 + (k < n % 3) for k in range(3)]
    assert counts.tolist() == expected
    assert x.shape == (n, 1, 32, 32)


def test_blocks_are_drawn_like_one_batch():
    # More images than one block, so the block loop runs more than once.
    x, y = make_shapes(_BLOCK + 5, rng=2)
    assert np.isfinite(x).all() and x.shape[0] == _BLOCK + 5
    assert np.bincount(y).min() >= (_BLOCK + 5) // 4


def test_every_class_draws_and_edges_are_anti_aliased():
    # Easy difficulty: light filled shapes, no ramp; noise off.
    x, y = make_shapes(64, classes=SHAPE_CLASSES, difficulty="easy",
                       noise=0.0, rng=4)
    for k, name in enumerate(SHAPE_CLASSES):
        imgs = x[y == k][:, 0]
        assert imgs.shape[0] == 8, name
        for img in imgs:
            lo, hi = img.min(), img.max()
            assert hi - lo >= 0.6 - 1e-6, name
            # Anti-aliasing: some pixels lie strictly between the two levels.
            middle = (img > lo + 0.05 * (hi - lo)) & (img < hi - 0.05 * (hi - lo))
            assert middle.sum() >= 4, name
            # Background fills the border (the shape stays inside the image).
            border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
            assert np.all(border <= lo + 0.5 * (hi - lo)), name


def test_shape_areas_match_their_geometry():
    # Filled, unrotated shapes of a known radius: the covered area must be
    # the shape's area to within the soft edge.
    r = 10.0
    coords = np.arange(64, dtype=np.float64) + 0.5 - 32.0
    u, v = np.meshgrid(coords, coords)
    expected = {
        "circle": np.pi * (0.9 * r) ** 2,
        "square": (1.44 * r) ** 2,
        "diamond": (1.44 * r) ** 2,
        "triangle": 3 * np.sqrt(3) / 4 * (1.1 * r) ** 2,
        "hexagon": 3 * np.sqrt(3) / 2 * (0.95 * r) ** 2,
        "ring": np.pi * ((0.95 * r) ** 2 - (0.5 * r) ** 2),
        "cross": 2 * (1.9 * r * 0.6 * r) - (0.6 * r) ** 2,
    }
    for name, area in expected.items():
        cover = np.clip(0.5 - _SDF[name](u, v, r), 0, 1).sum()
        np.testing.assert_allclose(cover, area, rtol=0.02, err_msg=name)


def _polygon_sdf_brute_force(px, py, vertices):
    """Signed distance to a closed polygon: every edge, plus a ray cast."""
    best = np.full(px.shape, np.inf)
    inside = np.zeros(px.shape, dtype=bool)
    for (ax, ay), (bx, by) in zip(vertices, np.roll(vertices, -1, axis=0)):
        ex, ey = bx - ax, by - ay
        t = np.clip(((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey), 0, 1)
        best = np.minimum(best, np.hypot(px - ax - t * ex, py - ay - t * ey))
        crosses = (ay > py) != (by > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = ax + (py - ay) * ex / ey
        inside ^= crosses & (px < x_at)
    return np.where(inside, -best, best)


@pytest.mark.parametrize("points, r_tip, r_notch, tip", [
    (3, 1.0, np.cos(np.pi / 3), -np.pi / 2),     # triangle
    (4, 1.0, np.cos(np.pi / 4), np.pi / 4),      # square
    (6, 1.0, np.cos(np.pi / 6), 0.0),            # hexagon
    (5, 1.0, 0.4, -np.pi / 2),                   # star
])
def test_folded_star_distance_matches_brute_force(points, r_tip, r_notch, tip):
    angles = tip + np.arange(2 * points) * np.pi / points
    radii = np.where(np.arange(2 * points) % 2 == 0, r_tip, r_notch)
    vertices = np.stack([radii * np.cos(angles), radii * np.sin(angles)], 1)
    rng = np.random.default_rng(points)
    px, py = rng.uniform(-1.6, 1.6, (2, 2000))
    got = _sdf_star(px, py, r_tip, r_notch, points, tip)
    want = _polygon_sdf_brute_force(px, py, vertices)
    np.testing.assert_allclose(got, want, atol=1e-9)


def _four_fold_orientation(img):
    """Angle in degrees, within +-45, of a square's sides against the axes.

    The fourth angular harmonic of the shape's mass about its centroid
    points at its corners, which sit at 45 degrees plus the rotation.
    """
    cover = (img - img.min()) / (img.max() - img.min())
    yy, xx = np.mgrid[:img.shape[0], :img.shape[1]] + 0.5
    w = cover / cover.sum()
    z = (xx - (w * xx).sum()) + 1j * (yy - (w * yy).sum())
    m4 = (cover * z**4 / np.maximum(np.abs(z), 1e-9) ** 2).sum()
    return np.degrees(np.angle(-m4)) / 4


def test_square_and_diamond_stay_apart_at_the_largest_rotation():
    # Squares turn by at most 20 degrees and diamonds are squares at 25
    # to 65 degrees: the drawn images must keep that gap.
    x, y = make_shapes(200, classes=("square", "diamond"), difficulty="easy",
                       rotation=MAX_SQUARE_DIAMOND_ROTATION, noise=0.0, rng=7)
    angle = np.abs([_four_fold_orientation(img) for img in x[:, 0]])
    assert angle[y == 0].max() < 21.0
    assert angle[y == 1].min() > 24.0


def test_rotation_limit_for_square_and_diamond():
    with pytest.raises(ValueError, match=r"rotation must be <= 20.0 degrees "
                       r"when classes hold both 'square' and 'diamond'.*got 30"):
        shapes(4, 4, rotation=30)
    # Without the pair, a large rotation is fine.
    (x, _), _ = shapes(4, 0, classes=("square", "circle"), rotation=90, seed=0)
    assert x.shape == (4, 1, 32, 32)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(n_train=-1), ValueError, r"n_train must be >= 0, got -1"),
    (dict(n_test=2.5), TypeError, r"n_test must be an int, got float"),
    (dict(size=4), ValueError, r"size must be >= 8, got 4"),
    (dict(channels=2), ValueError, r"channels must be 1 or 3, got 2"),
    (dict(classes="square"), TypeError,
     r"classes must be a sequence of class names, got the string 'square'"),
    (dict(classes=("square", "blob")), ValueError,
     r"classes must be names from .*got 'blob'"),
    (dict(classes=("ring", "ring")), ValueError,
     r"classes must not repeat a name"),
    (dict(classes=()), ValueError, r"classes must name at least one shape"),
    (dict(difficulty="extreme"), ValueError,
     r"difficulty must be one of \('easy', 'medium', 'hard'\), got 'extreme'"),
    (dict(noise=-0.1), ValueError, r"noise must be >= 0.0, got -0.1"),
    (dict(stroke=1.5), ValueError, r"stroke must be <= 1.0, got 1.5"),
    (dict(scale=(0.5, 0.2)), ValueError, r"scale must have low <= high"),
    (dict(scale=(0.0, 0.2)), ValueError, r"scale must be > 0"),
    (dict(scale=(0.5, 1.2)), ValueError, r"scale must lie within \[0.0, 1.0\]"),
    (dict(contrast=0.0), ValueError, r"contrast must be > 0, got 0.0"),
    (dict(seed="abc"), TypeError,
     r"seed must be None, an int seed or a numpy.random.Generator, got str"),
])
def test_validation_messages(kwargs, error, message):
    args = dict(n_train=4, n_test=4)
    args.update(kwargs)
    with pytest.raises(error, match=message):
        shapes(**args)


def test_difficulty_changes_the_images():
    (easy, _), _ = shapes(200, 0, difficulty="easy", seed=0)
    (hard, _), _ = shapes(200, 0, difficulty="hard", seed=0)
    # Hard images are noisier: neighbouring pixels differ more.
    roughness = [np.abs(np.diff(x, axis=-1)).mean() for x in (easy, hard)]
    assert roughness[1] > 1.5 * roughness[0]


def test_a_small_cnn_learns_the_lecture_shapes(torch):
    # The bar: a small CNN reaches >= 95% test accuracy. PyTorch
    # trains it here (about 7 s on one thread) until cnnc has its own layers.
    nn = torch.nn
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    try:
        (x, y), (xt, yt) = shapes(3000, 500, seed=0)
        net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(512, 4))
        opt = torch.optim.Adam(net.parameters(), 3e-3)
        X, Y = torch.tensor(x), torch.tensor(y)
        order = torch.Generator().manual_seed(0)
        for _ in range(4):
            perm = torch.randperm(len(X), generator=order)
            for i in range(0, len(X), 50):
                idx = perm[i:i + 50]
                loss = nn.functional.cross_entropy(net(X[idx]), Y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        with torch.no_grad():
            accuracy = (net(torch.tensor(xt)).argmax(1).numpy() == yt).mean()
    finally:
        torch.set_num_threads(threads)
    assert accuracy >= 0.95


def test_pixels_alone_do_not_separate_the_shapes():
    # Not trivially separable: a linear classifier on raw pixels (least
    # squares on one-hot targets) stays far from what the CNN reaches.
    (x, y), (xt, yt) = shapes(2000, 500, seed=1)
    design = np.c_[x.reshape(len(x), -1), np.ones(len(x))]
    targets = np.eye(4)[y]
    weights = np.linalg.lstsq(design, targets, rcond=None)[0]
    test = np.c_[xt.reshape(len(xt), -1), np.ones(len(xt))]
    accuracy = np.mean((test @ weights).argmax(1) == yt)
    assert accuracy < 0.6
