"""cnnc.summary: shapes, parameters, FLOPs and receptive fields per layer,
the lecture's worked examples, and shape mismatches named with their
arithmetic."""
import numpy as np
import pytest

import cnnc
from cnnc import nn
from cnnc.models import BenchNet, LeNet5, ShapesNet
from cnnc.nn import Conv2d, Linear, Sequential


def test_lecture_convolution_stride_1_and_2():
    # 56x56x64 -> 56x56x128 with a 3x3 kernel, padding 1, stride 1 ...
    s = cnnc.summary(Conv2d(64, 128, 3, padding=1), (64, 56, 56))
    (row,) = s.rows
    assert row.output_shape == (128, 56, 56) == s.output_shape
    assert row.params == 3 * 3 * 64 * 128 + 128 == s.total_params
    assert row.flops == 2 * 56 * 56 * 128 * (3 * 3 * 64)
    assert row.receptive_field == (3, 3) and row.jump == (1, 1)
    # ... and -> 28x28x128 with stride 2.
    s2 = cnnc.summary(Conv2d(64, 128, 3, stride=2, padding=1), (64, 56, 56))
    assert s2.rows[0].output_shape == (128, 28, 28)
    assert s2.rows[0].flops == row.flops // 4
    assert s2.rows[0].jump == (2, 2)


def test_lecture_224x224x3_input_through_the_building_blocks():
    # Convolution -> Activation -> Pooling -> Normalization, five times:
    # 224x224x3 down to the 7x7x512 feature maps of the lecture's picture.
    layers, c_in = [], 3
    for c_out in (8, 16, 32, 64, 512):
        layers += [Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                   nn.MaxPool2d(2), nn.BatchNorm2d(c_out)]
        c_in = c_out
    s = cnnc.summary(Sequential(*layers), (3, 224, 224))
    assert s.rows[0].output_shape == (8, 224, 224)
    assert s.rows[2].output_shape == (8, 112, 112)
    assert s.output_shape == (512, 7, 7)
    assert s.rows[-1].jump == (32, 32)
    # r grows by 2 * jump at each conv and by jump at each pool.
    assert s.rows[-1].receptive_field == (94, 94)
    assert s.total_params == sum(r.params for r in s.rows)


def test_benchnet_rows_names_fields_and_totals():
    model = BenchNet()
    s = cnnc.summary(model, (3, 32, 32))
    names = [r.name for r in s.rows]
    assert names[:3] == ["encoder.0", "encoder.1", "encoder.2"]
    assert names[-3:] == ["classifier.0", "classifier.1", "classifier.2"]
    assert [r.type for r in s.rows[:3]] == ["Conv2d", "BatchNorm2d", "ReLU"]
    fields = {r.name: (r.receptive_field, r.jump) for r in s.rows}
    assert fields["encoder.3"] == ((5, 5), (1, 1))
    assert fields["encoder.6"] == ((6, 6), (2, 2))
    assert fields["encoder.10"] == ((14, 14), (2, 2))
    assert fields["encoder.13"] == ((16, 16), (4, 4))
    assert fields["classifier.0"] == (None, None)  # flatten: everything
    assert s.rows[-1].output_shape == (10,)
    assert s.total_params == model.num_parameters()
    assert s.trainable_params == s.total_params
    conv_flops = 2 * 32 * 32 * (3 * 9 * 32 + 32 * 9 * 32) + \
        2 * 16 * 16 * (32 * 9 * 64 + 64 * 9 * 64)
    assert sum(r.flops for r in s.rows if r.type == "Conv2d") == conv_flops
    assert s.rows[-1].flops == 2 * 4096 * 10
    assert s.total_flops == sum(r.flops for r in s.rows)
    assert s.to_dicts()[0]["name"] == "encoder.0"


def test_table_text():
    model = ShapesNet()
    model.encoder.freeze()
    text = str(cnnc.summary(model, (1, 32, 32)))
    lines = text.splitlines()
    assert lines[0].split() == ["Layer", "(type)", "Output", "shape",
                                "Param", "#", "FLOPs", "RF", "Jump"]
    assert lines[2].split()[:4] == ["input", "(1,", "32,", "32)"]
    assert "encoder.0 (Conv2d)" in lines[3] and "(16, 32, 32)" in lines[3]
    assert "classifier.2 (Linear)" in text and "all" in lines[-6]
    assert "Total params: 27,508" in text
    assert "Trainable params: 4,100" in text
    assert "Non-trainable params: 23,408" in text


def test_summary_leaves_the_model_as_it_was():
    model = ShapesNet()
    before = model.state_dict()
    cnnc.summary(model, (1, 32, 32))
    assert model.training and all(m.training for m in model.modules())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    assert "forward" not in model.encoder[0].__dict__
    model.eval()
    cnnc.summary(model, (1, 32, 32))
    assert not any(m.training for m in model.modules())


def test_other_models_and_layers():
    s = cnnc.summary(LeNet5(image_size=28), (1, 28, 28))
    assert s.rows[5].output_shape == (16, 5, 5)
    assert s.total_params == 61706
    s = cnnc.summary(Sequential(Linear(8, 4), nn.ReLU()), (8,))
    assert [r.flops for r in s.rows] == [64, 4]
    s = cnnc.summary(Sequential(Conv2d(1, 2, 3), nn.AdaptiveAvgPool2d(2)),
                     (1, 10, 10))
    assert s.rows[1].receptive_field == (6, 6) and s.rows[1].jump == (4, 4)
    s = cnnc.summary(nn.AvgPool2d(3, stride=2), (2, 9, 9))
    assert s.rows[0].flops == 2 * 4 * 4 * 9
    assert s.rows[0].name == "AvgPool2d" and "AvgPool2d" in str(s)


# -- mismatches -------------------------------------------------------------------

def _mnist_like(features):
    return Sequential(Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.MaxPool2d(2), nn.Flatten(), Linear(features, 10))


def test_linear_mismatch_names_the_layer_and_shows_the_product():
    with pytest.raises(ValueError, match=r"^5 \(Linear\) expects 4096 input "
                       r"features but receives 1568 = 32 x 7 x 7 \(the output "
                       r"of 3 \(MaxPool2d\)\)"):
        cnnc.summary(_mnist_like(4096), (1, 28, 28))
    model = ShapesNet(image_size=32)
    with pytest.raises(ValueError, match=r"classifier.2 \(Linear\) expects "
                       r"1024 input features but receives 2304 = 64 x 6 x 6 "
                       r"\(the output of encoder.11 \(MaxPool2d\)\)"):
        cnnc.summary(model, (1, 48, 48))


def test_missing_flatten_and_wrong_channels():
    model = Sequential(Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(4),
                       Linear(1568, 10))
    with pytest.raises(ValueError, match=r"2 \(Linear\) expects input "
                       r"\(N, 1568\) but receives shape \(N, 32, 7, 7\): "
                       r"flatten it first \(32 x 7 x 7 = 1568 features\)"):
        cnnc.summary(model, (1, 28, 28))
    with pytest.raises(ValueError, match=r"encoder.0 \(Conv2d\) expects 1 "
                       r"input channels but receives 3 \(input shape "
                       r"\(N, 3, 32, 32\)\)"):
        cnnc.summary(ShapesNet(), (3, 32, 32))
    bad_bn = Sequential(Conv2d(1, 4, 1), nn.BatchNorm2d(8))
    with pytest.raises(ValueError, match=r"1 \(BatchNorm2d\) expects 8 "
                       r"channels \(num_features\) but receives 4"):
        cnnc.summary(bad_bn, (1, 5, 5))
    with pytest.raises(ValueError, match=r"Conv2d expects feature maps "
                       r"\(N, C, H, W\) but receives shape \(N, 10\)"):
        cnnc.summary(Conv2d(1, 1, 1), (10,))


def test_window_larger_than_the_input_shows_the_formula():
    model = Sequential(Conv2d(1, 4, 3), nn.MaxPool2d(2), Conv2d(4, 4, 5))
    with pytest.raises(ValueError, match=r"2 \(Conv2d\) cannot fit its 5x5 "
                       r"window in a 3x3 input: output height = \(height \+ "
                       r"2\*padding - dilation\*\(kernel-1\) - 1\) // stride "
                       r"\+ 1 = \(3 \+ 0 - 4 - 1\) // 1 \+ 1 = -1"):
        cnnc.summary(model, (1, 8, 8))
    with pytest.raises(ValueError, match=r"1 \(MaxPool2d\) cannot fit its "
                       r"2x2 window in a 1x1 input"):
        cnnc.summary(Sequential(Conv2d(1, 1, 3), nn.MaxPool2d(2)), (1, 3, 3))


def test_a_layers_own_error_is_prefixed_with_its_name():
    model = Sequential(nn.Flatten(), nn.Softmax(dim=3))
    with pytest.raises(ValueError, match=r"^1 \(Softmax\): "):
        cnnc.summary(model, (2, 3))


def test_input_shape_and_model_validation():
    with pytest.raises(ValueError, match="input_shape must be the shape of "
                       "one sample without the batch axis"):
        cnnc.summary(Conv2d(1, 1, 1), (1, 0, 4))
    with pytest.raises(ValueError, match="input_shape must be"):
        cnnc.summary(Conv2d(1, 1, 1), "1x4x4")
    with pytest.raises(TypeError, match="model must be a cnnc Module"):
        cnnc.summary(lambda x: x, (1, 4, 4))
