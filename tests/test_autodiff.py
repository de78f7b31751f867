import doctest
import warnings

import numpy as np
import pytest

from fromzero import autodiff
from fromzero.autodiff import Tensor
from fromzero.sigmoid_net import net_loss_and_gradients_autodiff
from fromzero.derivatives import finite_difference_gradient
from fromzero.sigmoid_net import loss_and_gradients, sigmoid


def check_against_finite_differences(build, **arrays):
    """Gradient of Σ (build(**tensors) · W), W random, by backward() and by central differences."""
    rng = np.random.default_rng(len(arrays))
    out_shape = build(**{name: Tensor(value) for name, value in arrays.items()}).shape
    weights = rng.normal(size=out_shape)

    def loss(params):
        return float((build(**{name: Tensor(value) for name, value in params.items()}) * weights).sum().data)

    tensors = {name: Tensor(value) for name, value in arrays.items()}
    (build(**tensors) * weights).sum().backward()
    numeric = finite_difference_gradient(loss, arrays)
    for name, tensor in tensors.items():
        assert tensor.grad.shape == np.shape(arrays[name]), name
        np.testing.assert_allclose(tensor.grad, numeric[name], rtol=1e-6, atol=1e-8, err_msg=name)


RNG = np.random.default_rng(1)
A23, B23, C34 = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
V3, V2, V4 = RNG.normal(size=3), RNG.normal(size=2), RNG.normal(size=4)

OPS = {
    "add": (lambda a, b: a + b, {"a": A23, "b": B23}),
    "sub": (lambda a, b: a - b, {"a": A23, "b": B23}),
    "mul": (lambda a, b: a * b, {"a": A23, "b": B23}),
    "neg": (lambda a: -a, {"a": A23}),
    "pow2": (lambda a: a ** 2, {"a": A23}),
    "pow3": (lambda a: a ** 3, {"a": A23}),
    "pow-half": (lambda a: a ** -0.5, {"a": np.abs(A23) + 0.5}),
    "sum": (lambda a: a.sum(), {"a": A23}),
    "sum-axis0": (lambda a: a.sum(axis=0), {"a": A23}),
    "sum-axis1": (lambda a: a.sum(axis=1), {"a": A23}),
    "mean": (lambda a: a.mean(), {"a": A23}),
    "mean-axis0": (lambda a: a.mean(axis=0), {"a": A23}),
    "sigmoid": (lambda a: a.sigmoid(), {"a": 3 * A23}),
    "matmul-2d-2d": (lambda a, b: a @ b, {"a": A23, "b": C34}),
    "matmul-2d-1d": (lambda a, b: a @ b, {"a": A23, "b": V3}),
    "matmul-1d-2d": (lambda a, b: a @ b, {"a": V2, "b": A23}),
    "matmul-1d-1d": (lambda a, b: a @ b, {"a": V3, "b": V3 + 1}),
    "constants": (lambda a: 2.0 - (3.0 * a + 1.0) * 0.5, {"a": A23}),
    "reused": (lambda a: a * a + a, {"a": A23}),  # one value used three times: gradients add up
}


@pytest.mark.parametrize("name", OPS)
def test_each_operations_gradient_matches_finite_differences(name):
    build, arrays = OPS[name]
    check_against_finite_differences(build, **arrays)


BROADCASTS = {
    "row-vector + matrix": ({"a": A23, "b": V3}, lambda a, b: a + b),
    "matrix * column": ({"a": A23, "b": V2[:, np.newaxis]}, lambda a, b: a * b),
    "scalar * matrix": ({"a": A23, "b": np.array(1.7)}, lambda a, b: a * b),
    "(1,3) - (2,1)": ({"a": V3[np.newaxis, :], "b": V2[:, np.newaxis]}, lambda a, b: a - b),
    "vector + scalar": ({"a": V4, "b": np.array(0.3)}, lambda a, b: (a + b).sigmoid()),
}


@pytest.mark.parametrize("name", BROADCASTS)
def test_broadcast_inputs_get_the_sum_of_their_copies_gradients(name):
    arrays, build = BROADCASTS[name]
    check_against_finite_differences(build, **arrays)


def test_a_broadcast_bias_gradient_is_the_column_sum():
    x = Tensor(np.ones((5, 3)))
    bias = Tensor(np.zeros(3))
    (x + bias).sum().backward()
    np.testing.assert_array_equal(bias.grad, [5.0, 5.0, 5.0])


def test_backward_twice_gives_the_same_gradients_not_twice_them():
    w = Tensor([1.0, -2.0])
    loss = ((w * 3.0) ** 2).sum()
    loss.backward()
    first = w.grad.copy()
    loss.backward()
    np.testing.assert_array_equal(w.grad, first)
    np.testing.assert_array_equal(first, [18.0, -36.0])


def test_constants_receive_no_gradient():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=False)
    w = Tensor([0.5, -1.0])
    (x @ w).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((3, 2)))
    np.testing.assert_array_equal(w.grad, [6.0, 9.0])


def test_sigmoid_op_equals_the_nets_sigmoid_and_never_overflows():
    z = np.array([-1e308, -1000.0, -5.0, 0.0, 5.0, 1000.0, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = Tensor(z)
        t.sigmoid().sum().backward()
    np.testing.assert_array_equal(Tensor(z).sigmoid().data, sigmoid(z))
    assert np.all(np.isfinite(t.grad)) and t.grad[0] == 0.0 and t.grad[3] == 0.25


def test_matmul_rejects_3d():
    with pytest.raises(ValueError, match="1-D and 2-D"):
        Tensor(np.ones((2, 2, 2))) @ Tensor(np.ones(2))


def test_module_example_runs():
    assert doctest.testmod(autodiff).failed == 0


@pytest.mark.parametrize("d", [1, 2, 5])
@pytest.mark.parametrize("hidden", [1, 3, 8])
def test_net_gradients_autodiff_equal_hand_written_and_finite_differences(d, hidden):
    rng = np.random.default_rng(10 * d + hidden)
    n = 30
    X = rng.normal(size=(n, d))
    y = np.sin(X @ rng.normal(size=d)) + rng.normal(scale=0.1, size=n)
    params = {"k1": rng.normal(size=(d, hidden)), "b1": rng.normal(size=hidden),
              "k2": rng.normal(size=hidden), "b2": float(rng.normal())}
    loss_auto, auto = net_loss_and_gradients_autodiff(X, y, **params)
    loss_hand, hand = loss_and_gradients(X, y, **params)
    numeric = finite_difference_gradient(lambda p: loss_and_gradients(X, y, **p)[0], params)
    assert loss_auto == pytest.approx(loss_hand, rel=1e-14)
    assert isinstance(auto["b2"], float)
    for name in params:
        assert np.shape(auto[name]) == np.shape(params[name]), name
        np.testing.assert_allclose(auto[name], hand[name], rtol=1e-12, atol=1e-15, err_msg=name)
        np.testing.assert_allclose(auto[name], numeric[name], rtol=1e-5, atol=1e-8, err_msg=name)
